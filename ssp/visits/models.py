"""The ``visits``, ``visit_items`` and ``visit_services`` tables."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssp.database import enum_column
from ssp.extensions import db
from ssp.i18n import _l
from ssp.participants.models import Participant
from ssp.staff.models import Site, User
from ssp.supplies.models import SupplyItem
from ssp.timeutil import utcnow


class VisitKind(enum.StrEnum):
    """How the participant was reached."""

    FIXED = "fixed"
    MOBILE = "mobile"
    OUTREACH = "outreach"
    DELIVERY = "delivery"

    @property
    def label(self) -> str:
        """The kind as staff read it, in the current language."""
        return str(self.lazy_label)

    @property
    def lazy_label(self):
        """The label looked up when shown (form choices built at import time)."""
        return _VISIT_KIND_LABELS[self.value]


_VISIT_KIND_LABELS = {
    "fixed": _l("Fixed site"),
    "mobile": _l("Mobile unit"),
    "outreach": _l("Outreach"),
    "delivery": _l("Delivery"),
}


class NaloxoneReason(enum.StrEnum):
    """Why a naloxone kit was handed out."""

    FIRST_KIT = "first_kit"
    USED = "used"
    LOST = "lost"
    EXPIRED = "expired"
    CONFISCATED = "confiscated"
    GAVE_AWAY = "gave_away"

    @property
    def label(self) -> str:
        """The reason as staff read it, in the current language."""
        return str(self.lazy_label)

    @property
    def lazy_label(self):
        """The label looked up when shown (form choices built at import time)."""
        return _NALOXONE_REASON_LABELS[self.value]


_NALOXONE_REASON_LABELS = {
    "first_kit": _l("First kit"),
    "used": _l("Used on someone (overdose reversal)"),
    "lost": _l("Lost or stolen"),
    "expired": _l("Expired"),
    "confiscated": _l("Taken by police or others"),
    "gave_away": _l("Gave it to someone"),
}


class Service(enum.StrEnum):
    """A service given during a visit, counted."""

    HIV_TEST = "hiv_test"
    HCV_TEST = "hcv_test"
    NALOXONE_TRAINING = "naloxone_training"
    WOUND_CARE = "wound_care"
    OVERDOSE_REVERSAL_REPORTED = "overdose_reversal_reported"
    DRUG_CHECKING = "drug_checking"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The service as staff read it, in the current language."""
        return str(self.lazy_label)

    @property
    def lazy_label(self):
        """The label looked up when shown (form fields built once, kept per catalogue)."""
        return _SERVICE_LABELS[self.value]


_SERVICE_LABELS = {
    "hiv_test": _l("HIV test"),
    "hcv_test": _l("HCV test"),
    "naloxone_training": _l("Naloxone training"),
    "wound_care": _l("Wound care"),
    "overdose_reversal_reported": _l("Overdose reversal reported"),
    "drug_checking": _l("Drug checking"),
    "other": _l("Other service"),
}


class Visit(db.Model):
    """One contact with a participant (or an anonymous walk-in) and what it involved."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint("secondary_reach >= 0", name="secondary_reach_not_negative"),
        CheckConstraint("syringes_collected >= 0", name="syringes_collected_not_negative"),
        CheckConstraint("people_count >= 1", name="people_count_positive"),
        Index("ix_visits_participant_id_occurred_at", "participant_id", "occurred_at"),
        # Reports scan months of visits: this index holds every column their aggregates
        # read, so they never touch the table itself.
        Index(
            "ix_visits_month_scan",
            "occurred_at",
            "voided_at",
            "participant_id",
            "site_id",
            "kind",
            "secondary_reach",
            "syringes_collected",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[VisitKind] = mapped_column(enum_column(VisitKind, "visit_kind"))
    secondary_reach: Mapped[int] = mapped_column(Integer, default=0)
    syringes_collected: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(String(200))
    # A random key the visit form carries, so a double submit writes one visit, not two.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Outreach: the named area of the contact, when it reached the server (a phone may
    # have held it offline), and how many people an anonymous group contact counted.
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"))
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    people_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Imported from a spreadsheet (ssp.imports): the batch, and the row's key, which
    # makes a second import of the same row add nothing.
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    participant: Mapped[Participant | None] = relationship()
    site: Mapped[Site] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    items: Mapped[list[VisitItem]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitItem.id"
    )
    services: Mapped[list[VisitService]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitService.id"
    )

    @property
    def voided(self) -> bool:
        """Whether the visit was voided (it then counts nowhere)."""
        return self.voided_at is not None


class VisitItem(db.Model):
    """A supply handed out during a visit, in the item's unit."""

    __tablename__ = "visit_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # Covers the report's sums per item, so they never read the table itself.
        Index(
            "ix_visit_items_visit_id_supply_item_id_quantity",
            "visit_id",
            "supply_item_id",
            "quantity",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    supply_item_id: Mapped[int] = mapped_column(ForeignKey("supply_items.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[NaloxoneReason | None] = mapped_column(
        enum_column(NaloxoneReason, "naloxone_reason")
    )

    visit: Mapped[Visit] = relationship(back_populates="items")
    supply_item: Mapped[SupplyItem] = relationship()


class VisitService(db.Model):
    """A service given during a visit, with how many times."""

    __tablename__ = "visit_services"
    __table_args__ = (
        CheckConstraint("count > 0", name="count_positive"),
        UniqueConstraint("visit_id", "service", name="uq_visit_services_visit_id_service"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    service: Mapped[Service] = mapped_column(enum_column(Service, "visit_service"))
    count: Mapped[int] = mapped_column(Integer, default=1)

    visit: Mapped[Visit] = relationship(back_populates="services")
