"""Producing a report: check the request, compute, build, render, archive.

``generate_report`` ends the read transaction before rendering the PDF, so the slow part
holds no database lock (on SQLite every transaction takes the write lock).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ssp.errors import RuleError
from ssp.extensions import db
from ssp.reporting.archive import archive_context, archive_report
from ssp.reporting.builder import ProfileSettings, build_document
from ssp.reporting.csv_export import render_csv
from ssp.reporting.document import ReportDocument
from ssp.reporting.funders import profile_by_name
from ssp.reporting.metrics import Period, compute
from ssp.reporting.models import FunderProfile, Report
from ssp.reporting.pdf import render_pdf
from ssp.timeutil import program_today, program_zone


class ReportError(RuleError):
    """A report that cannot be made as asked."""


def last_month(now: dt.datetime | None = None) -> Period:
    """The month before the current one (in the program's time zone)."""
    today = program_today(now)
    return Period(today.year, today.month).shifted(-1)


def check_period(text: str, now: dt.datetime | None = None) -> Period:
    """The month asked for, refusing malformed and future months."""
    try:
        period = Period.parse(text)
    except ValueError as error:
        raise ReportError(str(error), "month") from None
    today = program_today(now)
    if period > Period(today.year, today.month):
        raise ReportError(f"{period.label} has not happened yet.", "month")
    return period


def find_profile(name: str) -> FunderProfile:
    """The active funder profile with that short name."""
    profile = profile_by_name(name)
    if profile is None or not profile.active:
        raise ReportError(f"There is no funder profile called {name!r}.", "funder")
    return profile


def settings_for(profile: FunderProfile) -> ProfileSettings:
    """A profile's values, detached from the database session."""
    return ProfileSettings(
        name=profile.name,
        funder_name=profile.funder_name,
        grant_number=profile.grant_number,
        program_name=profile.program_name or current_app.config["PROGRAM_NAME"],
        sections=tuple(profile.sections),
        threshold=profile.threshold,
    )


def build_report(
    period: Period, settings: ProfileSettings, now: dt.datetime | None = None
) -> ReportDocument:
    """The report document of a month for a profile (reads the database)."""
    zone = program_zone()
    metrics = compute(period, zone, list(settings.sections))
    return build_document(
        metrics,
        settings,
        generated_on=program_today(now),
        time_zone=zone.key,
        archive=archive_context(period.key),
    )


@dataclass
class GeneratedReport:
    """A report just made: its archive row, the document and the files' contents."""

    report: Report
    document: ReportDocument
    pdf: bytes

    @property
    def csv(self) -> str:
        """The same tables as CSV."""
        return render_csv(self.document)


def generate_report(
    *, month: str, funder: str, user_id: int | None, now: dt.datetime | None = None
) -> GeneratedReport:
    """Make and archive a report (flushed, not committed; the caller commits)."""
    period = check_period(month, now)
    settings = settings_for(find_profile(funder))
    document = build_report(period, settings, now)
    db.session.rollback()  # end the read transaction: rendering holds no lock
    pdf = render_pdf(document)
    parameters = {**document.parameters, "figures_sha256": document.figures_sha256()}
    report = archive_report(
        folder=Path(current_app.config["REPORTS_DIR"]),
        period=period.key,
        funder=settings.name,
        pdf=pdf,
        parameters=parameters,
        user_id=user_id,
        release=document.release_snapshot,
        audit=document.audit.as_json(),
    )
    return GeneratedReport(report, document, pdf)
