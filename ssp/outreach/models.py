"""The ``zones``, ``sealing_keys`` and ``held_contacts`` tables.

Zones are named areas an admin keeps (never a GPS coordinate). Sealing keys are the
program's key pairs for the sealed outbox. A held contact is one a phone sent that the
visit rules refused (a quantity over the limit, a retired item): kept for a manager to
resolve, never dropped.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssp.database import enum_column
from ssp.extensions import db
from ssp.i18n import _l
from ssp.staff.models import Site, User
from ssp.timeutil import utcnow


class Zone(db.Model):
    """A named area outreach teams work in ("Riverside camp", "Downtown north")."""

    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SealingKey(db.Model):
    """One key pair of the sealed outbox; the newest unretired one is published."""

    __tablename__ = "sealing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(32), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class HeldStatus(enum.StrEnum):
    """Where a held contact stands."""

    HELD = "held"
    SAVED = "saved"  # a manager fixed it and it was recorded as a visit
    DISCARDED = "discarded"

    @property
    def label(self) -> str:
        return str(
            {
                "held": _l("Waiting for review"),
                "saved": _l("Saved"),
                "discarded": _l("Discarded"),
            }[self.value]
        )


class HeldContact(db.Model):
    """An outreach contact the visit rules refused, kept for a manager."""

    __tablename__ = "held_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str] = mapped_column(String(300))
    contact: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[HeldStatus] = mapped_column(
        enum_column(HeldStatus, "held_status"), default=HeldStatus.HELD, index=True
    )
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    site: Mapped[Site | None] = relationship()
