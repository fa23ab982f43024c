"""The ``partners``, ``referrals``, ``referral_status_changes`` and ``follow_ups`` tables."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssp.database import enum_column
from ssp.extensions import db
from ssp.i18n import _, _l, lazy_pgettext
from ssp.participants.models import Participant
from ssp.staff.models import Site, User
from ssp.timeutil import local_time, utcnow

#: Labels looked up when shown (choices built at import time use these dicts).
CATEGORY_LABELS = {
    "moud": _l("MOUD (buprenorphine, methadone)"),
    "sud_treatment": _l("Substance use treatment"),
    "hiv_care": _l("HIV care"),
    "hcv_treatment": _l("HCV treatment"),
    "prep": _l("PrEP"),
    "mental_health": _l("Mental health"),
    "housing": _l("Housing"),
    "primary_care": _l("Primary care"),
    "wound_care": _l("Wound care"),
    "benefits": _l("Benefits or ID"),
    "other": _l("Other"),
}
_CATEGORY_SHORT = {
    "moud": _l("MOUD"),
    "sud_treatment": _l("SUD treatment"),
    "hcv_treatment": _l("HCV treatment"),
}


class ReferralCategory(enum.StrEnum):
    """What a participant is referred for."""

    MOUD = "moud"
    SUD_TREATMENT = "sud_treatment"
    HIV_CARE = "hiv_care"
    HCV_TREATMENT = "hcv_treatment"
    PREP = "prep"
    MENTAL_HEALTH = "mental_health"
    HOUSING = "housing"
    PRIMARY_CARE = "primary_care"
    WOUND_CARE = "wound_care"
    BENEFITS = "benefits"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The category as staff and funders read it, in the language spoken now."""
        return str(CATEGORY_LABELS[self.value])

    @property
    def short(self) -> str:
        """A short name for banners and tables, in the language spoken now."""
        return str(_CATEGORY_SHORT.get(self.value, CATEGORY_LABELS[self.value]))

    @property
    def follow_up_prompt(self) -> str:
        """What to ask the person when they come back (ends a sentence of the banner)."""
        if self in (ReferralCategory.MOUD, ReferralCategory.SUD_TREATMENT):
            return _("ask whether they got in")
        if self in (ReferralCategory.HOUSING, ReferralCategory.BENEFITS):
            return _("ask how the appointment went")
        if self == ReferralCategory.OTHER:
            return _("ask how it went")
        return _("ask whether they were seen")


REFERRAL_STATUS_LABELS = {
    "made": _l("Made"),
    "accepted": _l("Accepted by the partner"),
    "completed": _l("Completed (linked to care)"),
    "declined": _l("Declined"),
    "lost": _l("Lost to follow-up"),
}


class ReferralStatus(enum.StrEnum):
    """Where a referral stands: made → accepted → completed, or declined / lost."""

    MADE = "made"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    DECLINED = "declined"
    LOST = "lost"

    @property
    def label(self) -> str:
        """The status as staff read it, in the language spoken now."""
        return str(REFERRAL_STATUS_LABELS[self.value])

    @property
    def closed(self) -> bool:
        """Whether the referral has ended."""
        return self in (ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.LOST)


FOLLOW_UP_STATUS_LABELS = {
    # "Open" is also a link's word (open the record): the status has a context of its own.
    "open": lazy_pgettext("follow-up status", "Open"),
    "done": _l("Done"),
    "unreachable": _l("Could not reach"),
    "cancelled": _l("Cancelled"),
}


class FollowUpStatus(enum.StrEnum):
    """Where a follow-up stands."""

    OPEN = "open"
    DONE = "done"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """The status as staff read it, in the language spoken now."""
        return str(FOLLOW_UP_STATUS_LABELS[self.value])


OUTCOME_LABELS = {
    "linked": _l("Linked: they got in or were seen"),
    "waiting": _l("Still waiting: ask again later"),
    "declined": _l("Declined: no longer wants it"),
    "unreachable": _l("Could not reach them"),
    "other": _l("Other outcome"),
}
_OUTCOME_RECORDED = {
    "linked": _l("Follow-up recorded: linked."),
    "waiting": _l("Follow-up recorded: still waiting."),
    "declined": _l("Follow-up recorded: declined."),
    "unreachable": _l("Follow-up recorded: could not reach them."),
    "other": _l("Follow-up recorded: other outcome."),
}


class FollowUpOutcome(enum.StrEnum):
    """What staff learned when following up (a short, structured answer)."""

    LINKED = "linked"
    WAITING = "waiting"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The outcome as staff read it, in the language spoken now."""
        return str(OUTCOME_LABELS[self.value])

    @property
    def recorded(self) -> str:
        """The message that says this outcome was recorded."""
        return str(_OUTCOME_RECORDED[self.value])


class Partner(db.Model):
    """An agency the program refers people to."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # The ReferralCategory values the partner serves, as a JSON list.
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def serves(self, category: ReferralCategory | str) -> bool:
        """Whether the partner takes referrals of that category."""
        return str(category) in (self.categories or [])

    @property
    def category_labels(self) -> list[str]:
        """The categories served, as staff read them (in the language spoken now)."""
        return [
            ReferralCategory(c).label
            for c in self.categories or []
            if c in ReferralCategory._value2member_map_
        ]


class Referral(db.Model):
    """A participant referred to a service, and how far it got."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_participant_id_status", "participant_id", "status"),
        {"sqlite_autoincrement": True},  # ids never reused after a purge
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    category: Mapped[ReferralCategory] = mapped_column(
        enum_column(ReferralCategory, "referral_category")
    )
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    status: Mapped[ReferralStatus] = mapped_column(
        enum_column(ReferralStatus, "referral_status"), default=ReferralStatus.MADE
    )
    made_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    note: Mapped[str | None] = mapped_column(String(200))

    participant: Mapped[Participant] = relationship()
    partner: Mapped[Partner | None] = relationship()
    user: Mapped[User] = relationship()
    site: Mapped[Site | None] = relationship()
    changes: Mapped[list[ReferralStatusChange]] = relationship(
        back_populates="referral",
        order_by="ReferralStatusChange.id",
        cascade="all, delete-orphan",
    )

    @property
    def made_on(self) -> dt.date:
        """The day the referral was made, in the program's time zone."""
        return local_time(self.made_at).date()

    def age_days(self, today: dt.date) -> int:
        """Days since the referral was made (0 on the day itself)."""
        return (today - self.made_on).days


class ReferralStatusChange(db.Model):
    """One step in a referral's history: from which status to which, when, by whom."""

    __tablename__ = "referral_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    from_status: Mapped[ReferralStatus | None] = mapped_column(
        enum_column(ReferralStatus, "referral_change_from")
    )
    to_status: Mapped[ReferralStatus] = mapped_column(
        enum_column(ReferralStatus, "referral_change_to")
    )
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    correction: Mapped[bool] = mapped_column(Boolean, default=False)

    referral: Mapped[Referral] = relationship(back_populates="changes")
    user: Mapped[User] = relationship()


class FollowUp(db.Model):
    """Something to ask a participant about, due on a day, usually when they come back."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_status_due_on", "status", "due_on"),
        Index("ix_follow_ups_participant_id_status", "participant_id", "status"),
        {"sqlite_autoincrement": True},  # ids never reused after a purge
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[FollowUpStatus] = mapped_column(
        enum_column(FollowUpStatus, "follow_up_status"), default=FollowUpStatus.OPEN
    )
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[FollowUpOutcome | None] = mapped_column(
        enum_column(FollowUpOutcome, "follow_up_outcome")
    )
    reason: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Closed as could not reach by ssp itself (FOLLOW_UP_CLOSE_AFTER_DAYS without
    # contact), not by someone who tried.
    closed_automatically: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    participant: Mapped[Participant] = relationship()
    referral: Mapped[Referral | None] = relationship()
    site: Mapped[Site | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assigned_user_id])

    def describe(self) -> str:
        """What the follow-up is about, for banners and lists."""
        if self.referral is not None:
            return _("%(category)s referral", category=self.referral.category.short)
        return self.reason or _("Follow-up")

    def made_today(self, today: dt.date) -> bool:
        """Whether its referral was made on ``today``: nothing to ask about yet."""
        return self.referral is not None and self.referral.made_on == today

    def summary(self) -> dict[str, Any]:
        """The fields an audit event keeps (no free text)."""
        return {
            "status": self.status.value,
            "due_on": self.due_on.isoformat(),
            "assigned_user_id": self.assigned_user_id,
            "outcome": self.outcome.value if self.outcome else None,
        }
