"""The ``funder_profiles``, ``reports`` and ``report_narratives`` tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssp.extensions import db
from ssp.staff.models import User
from ssp.timeutil import utcnow


class FunderProfile(db.Model):
    """What one funder receives: which sections, under which name, suppressed how."""

    __tablename__ = "funder_profiles"
    __table_args__ = (
        CheckConstraint("threshold >= 2 AND threshold <= 100", name="threshold_range"),
        CheckConstraint(
            "fiscal_year_start >= 1 AND fiscal_year_start <= 12", name="fiscal_year_start_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short name used on the command line and in file names (letters, digits, dashes).
    name: Mapped[str] = mapped_column(String(40), unique=True)
    funder_name: Mapped[str] = mapped_column(String(120))
    grant_number: Mapped[str | None] = mapped_column(String(80))
    program_name: Mapped[str | None] = mapped_column(String(120))
    sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    threshold: Mapped[int] = mapped_column(Integer, default=11)
    # The fiscal year's first month (7: July, as many states; 10: federal; 1: calendar).
    fiscal_year_start: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    # Who to contact about the report (a line on its cover), e.g. a role and a phone.
    contact: Mapped[str | None] = mapped_column(String(200))
    # The language the report is written in; None: that of whoever makes it.
    language: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Report(db.Model):
    """One generated report, archived as a file with its sha256."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    funder: Mapped[str] = mapped_column(String(40), index=True)
    # The period's key (2026-10, 2026-Q3, 2026, FY2027, 2026-10-YTD) and its months.
    period: Mapped[str] = mapped_column(String(16), index=True)
    first_month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    last_month: Mapped[str] = mapped_column(String(7), index=True)
    # The Generate form's one-time key: a second press of the button makes no second row.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    generated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    path: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The release as the disclosure audit saw it (cells, what was printed, relations),
    # so later releases are audited together with this one; never printed or exported.
    release: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The audit's record: cells, small, hidden, withheld tables, solver time.
    audit: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship()


class ReportNarrative(db.Model):
    """What the manager writes for a period (activities, barriers, community events),
    printed in every report of that period. Checked for participant codes when saved."""

    __tablename__ = "report_narratives"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(16), unique=True)
    activities: Mapped[str] = mapped_column(Text, default="")
    barriers: Mapped[str] = mapped_column(Text, default="")
    events: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
