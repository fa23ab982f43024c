"""The ``supply_items`` catalogue and the ``stock_movements`` ledger."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssp.database import enum_column
from ssp.extensions import db
from ssp.i18n import _l, lazy_pgettext
from ssp.staff.models import Site, User
from ssp.timeutil import utcnow

#: Category labels, looked up when shown (choices built at import time use these).
CATEGORY_LABELS = {
    "syringe": _l("Syringes (needle-and-syringe units)"),
    "injection": _l("Safer injection supplies"),
    "naloxone": _l("Naloxone"),
    "test_strip": _l("Drug checking test strips"),
    "smoking": _l("Safer smoking supplies"),
    "wound_care": _l("Wound care"),
    "hygiene": _l("Hygiene"),
    "sexual_health": _l("Sexual health"),
    "disposal": _l("Sharps disposal"),
    "other": lazy_pgettext("supply category", "Other"),
}


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
        """The category as staff and funders read it, in the language spoken now."""
        return str(CATEGORY_LABELS[self.value])


#: Categories in the order the visit form, the stock page and reports show them.
CATEGORY_ORDER = {category: index for index, category in enumerate(SupplyCategory)}


class SupplyItem(db.Model):
    """Something the program hands out, counted in ``unit`` (one syringe, one kit...)."""

    __tablename__ = "supply_items"
    __table_args__ = (
        CheckConstraint("units_per_pack >= 1", name="units_per_pack_positive"),
        CheckConstraint("reorder_level >= 0", name="reorder_level_not_negative"),
        CheckConstraint(
            "max_per_visit IS NULL OR max_per_visit >= 1", name="max_per_visit_positive"
        ),
        CheckConstraint("doses_per_unit >= 1", name="doses_per_unit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[SupplyCategory] = mapped_column(enum_column(SupplyCategory, "supply_category"))
    unit: Mapped[str] = mapped_column(String(32))
    units_per_pack: Mapped[int] = mapped_column(Integer, default=1)
    # No longer used: low stock comes from each site's own use (stock.ReorderRule), not
    # from one number per item for every site. Kept until a migration drops it.
    reorder_level: Mapped[int] = mapped_column(Integer, default=0)
    # Most units one visit may hand out; None means the configured VISIT_ITEM_MAX.
    max_per_visit: Mapped[int | None] = mapped_column(Integer)
    # Doses in one unit (a two-dose naloxone kit: 2); reports count naloxone doses too.
    doses_per_unit: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<SupplyItem {self.id} {self.name!r}>"


class MovementReason(enum.StrEnum):
    """Why stock moved."""

    RECEIPT = "receipt"
    DISTRIBUTION = "distribution"
    ADJUSTMENT = "adjustment"
    TRANSFER = "transfer"

    @property
    def label(self) -> str:
        """The reason as staff read it, in the language spoken now."""
        return str(MOVEMENT_LABELS[self.value])


MOVEMENT_LABELS = {
    "receipt": _l("Receipt"),
    "distribution": _l("Distribution"),
    "adjustment": _l("Adjustment"),
    "transfer": _l("Transfer"),
}


class AdjustmentReason(enum.StrEnum):
    """Why a physical count differed from the books, or stock left the shelf otherwise."""

    COUNT = "count"
    EXPIRED = "expired"
    DAMAGED = "damaged"
    LOST = "lost"

    @property
    def label(self) -> str:
        """The reason as staff read it, in the language spoken now."""
        return str(ADJUSTMENT_LABELS[self.value])


ADJUSTMENT_LABELS = {
    "count": _l("Count difference"),
    "expired": _l("Expired"),
    "damaged": _l("Damaged"),
    "lost": _l("Lost or stolen"),
}


class StockMovement(db.Model):
    """A change in stock at a site. Stock on hand is the sum of ``delta``, never stored."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        Index("ix_stock_movements_site_id_supply_item_id", "site_id", "supply_item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    supply_item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"), index=True)
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[MovementReason] = mapped_column(enum_column(MovementReason, "movement_reason"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    note: Mapped[str | None] = mapped_column(String(200))
    # Receipts: who supplied or paid for the stock, and for naloxone its lot and expiry.
    source: Mapped[str | None] = mapped_column(String(120))
    lot: Mapped[str | None] = mapped_column(String(40))
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    # Adjustments: why the shelf differs from the books.
    adjustment_reason: Mapped[AdjustmentReason | None] = mapped_column(
        enum_column(AdjustmentReason, "adjustment_reason")
    )
    # Transfers: the other site of the pair (each transfer is two movements).
    counterpart_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=utcnow)

    site: Mapped[Site] = relationship(foreign_keys=[site_id])
    counterpart_site: Mapped[Site | None] = relationship(foreign_keys=[counterpart_site_id])
    supply_item: Mapped[SupplyItem] = relationship()
    user: Mapped[User | None] = relationship()
