"""The ``supply_items`` table: the catalogue."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ssp.database import enum_column
from ssp.extensions import db


class SupplyCategory(enum.StrEnum):
    """How supplies are grouped on the visit form and in reports."""

    SYRINGE = "syringe"
    INJECTION = "injection"
    NALOXONE = "naloxone"
    TEST_STRIP = "test_strip"
    SMOKING = "smoking"
    WOUND_CARE = "wound_care"
    HYGIENE = "hygiene"
    SEXUAL_HEALTH = "sexual_health"
    DISPOSAL = "disposal"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The category as staff and funders read it."""
        return {
            "syringe": "Syringes (needle-and-syringe units)",
            "injection": "Safer injection supplies",
            "naloxone": "Naloxone",
            "test_strip": "Drug checking test strips",
            "smoking": "Safer smoking supplies",
            "wound_care": "Wound care",
            "hygiene": "Hygiene",
            "sexual_health": "Sexual health",
            "disposal": "Sharps disposal",
            "other": "Other",
        }[self.value]


class SupplyItem(db.Model):
    """Something the program hands out, counted in ``unit`` (one syringe, one kit...)."""

    __tablename__ = "supply_items"
    __table_args__ = (
        CheckConstraint("units_per_pack >= 1", name="units_per_pack_positive"),
        CheckConstraint("reorder_level >= 0", name="reorder_level_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[SupplyCategory] = mapped_column(enum_column(SupplyCategory, "supply_category"))
    unit: Mapped[str] = mapped_column(String(32))
    units_per_pack: Mapped[int] = mapped_column(Integer, default=1)
    reorder_level: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<SupplyItem {self.id} {self.name!r}>"
