"""The drug-checking tables: what samples were sold as, the tests the program runs, each
sample's result and findings, and community alerts.

A result never names a person: it holds no participant code unless the program turns
that on (``DRUG_CHECK_LINK_PARTICIPANTS``), and no free text at all. Where is a site or
an outreach zone, never an address.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from flask_babel import LazyString
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
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
from ssp.staff.models import Site, User
from ssp.timeutil import utcnow


class SampleForm(enum.StrEnum):
    """What the sample looked like."""

    POWDER = "powder"
    PILL = "pill"
    CRYSTAL = "crystal"
    LIQUID = "liquid"
    OTHER = "other"

    @property
    def label(self) -> LazyString:
        """The form as staff read it."""
        return {
            "powder": _l("Powder"),
            "pill": _l("Pill"),
            "crystal": _l("Crystal or rock"),
            "liquid": _l("Liquid"),
            "other": _l("Other"),
        }[self.value]


class Outcome(enum.StrEnum):
    """What one test showed."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    UNCLEAR = "unclear"

    @property
    def label(self) -> LazyString:
        """The outcome as staff read it."""
        return {
            "positive": _l("Positive"),
            "negative": _l("Negative"),
            "unclear": _l("Unclear"),
        }[self.value]


class Reaction(enum.StrEnum):
    """Whether the person had, or knew of, a bad reaction to what the sample came from."""

    YES = "yes"
    NO = "no"
    NOT_ASKED = "not_asked"

    @property
    def label(self) -> LazyString:
        """The answer as staff read it."""
        return {
            "yes": _l("Yes: had or knew of a bad reaction"),
            "no": _l("No"),
            "not_asked": _l("Not asked or did not say"),
        }[self.value]


class SoldAs(db.Model):
    """What a sample was sold or bought as (a short list the program keeps)."""

    __tablename__ = "drug_check_substances"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CheckTest(db.Model):
    """A test the program runs on samples (a fentanyl strip...), and what it finds."""

    __tablename__ = "drug_check_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    # What a positive means was found, as an alert says it ("Xylazine").
    finds: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DrugCheck(db.Model):
    """One sample checked: when, where, what it was sold as, its form, the tests' results."""

    __tablename__ = "drug_checks"
    __table_args__ = (Index("ix_drug_checks_checked_at_voided_at", "checked_at", "voided_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    sold_as_id: Mapped[int] = mapped_column(ForeignKey("drug_check_substances.id"))
    form: Mapped[SampleForm] = mapped_column(enum_column(SampleForm, "sample_form"))
    reaction: Mapped[Reaction] = mapped_column(
        enum_column(Reaction, "reaction_report"), default=Reaction.NOT_ASKED
    )
    # Only when the program links results to people (DRUG_CHECK_LINK_PARTICIPANTS).
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    sold_as: Mapped[SoldAs] = relationship()
    site: Mapped[Site | None] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    findings: Mapped[list[Finding]] = relationship(
        back_populates="check", cascade="all, delete-orphan", order_by="Finding.id"
    )


class Finding(db.Model):
    """What one test showed on one sample."""

    __tablename__ = "drug_check_findings"
    __table_args__ = (
        UniqueConstraint("check_id", "test_id", name="uq_drug_check_findings_check_id_test_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("drug_checks.id"), index=True)
    test_id: Mapped[int] = mapped_column(ForeignKey("drug_check_tests.id"))
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome, "test_outcome"))

    check: Mapped[DrugCheck] = relationship(back_populates="findings")
    test: Mapped[CheckTest] = relationship()


class AlertStatus(enum.StrEnum):
    """Where an alert stands: drafted, approved by a second manager (then shown and
    printed until it expires), or withdrawn."""

    DRAFT = "draft"
    APPROVED = "approved"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> LazyString:
        """The status as staff read it."""
        return {
            "draft": _l("Draft"),
            "approved": _l("Approved"),
            "withdrawn": _l("Withdrawn"),
        }[self.value]


class Alert(db.Model):
    """A community alert: what was found, in what, where, since when, what to do."""

    __tablename__ = "drug_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[AlertStatus] = mapped_column(
        enum_column(AlertStatus, "alert_status"), default=AlertStatus.DRAFT, index=True
    )
    test_id: Mapped[int | None] = mapped_column(ForeignKey("drug_check_tests.id"))
    found: Mapped[str] = mapped_column(String(60))  # "Xylazine"
    sold_as: Mapped[str] = mapped_column(String(60))  # "fentanyl"
    area: Mapped[str] = mapped_column(String(120))  # a zone's or site's name, or "all areas"
    since: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    # Keys of the program's standard advice (ALERT_ADVICE), in the order printed.
    advice: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The figures behind it when drafted from a signal (week, positives, samples...).
    signal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    drafted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    drafted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    drafter: Mapped[User] = relationship(foreign_keys=[drafted_by])
    approver: Mapped[User | None] = relationship(foreign_keys=[approved_by])
