"""Producing a report: check the request, compute, build, render, archive.

``generate_report`` ends the read transaction before rendering the PDF, so the slow part
holds no database lock (on SQLite every transaction takes the write lock).

A report is written in its funder profile's language, else in the language of whoever
makes it (the page's, or the command's): :func:`report_language`. The web pages and the
``ssp report`` command both build through :func:`build_report`, which builds the document
in that language; the writers (PDF, HTML, CSV) print in the document's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _, current_language, program_name, supported
from ssp.reporting.archive import archive_context, archive_report
from ssp.reporting.builder import ArchiveContext, ProfileSettings, build_document
from ssp.reporting.csv_export import render_csv
from ssp.reporting.document import ReportDocument
from ssp.reporting.funders import profile_by_name
from ssp.reporting.metrics import (
    Glance,
    MonthMetrics,
    compute,
    compute_with_months,
    glance,
    glance_with_months,
)
from ssp.reporting.models import FunderProfile, Report
from ssp.reporting.narratives import printed_parts
from ssp.reporting.pdf import render_pdf
from ssp.reporting.periods import Month, Period, parse_period
from ssp.reporting.wording import written_in
from ssp.timeutil import program_today, program_zone


class ReportError(RuleError):
    """A report that cannot be made as asked."""


def last_month(now: dt.datetime | None = None) -> Month:
    """The month before the current one (in the program's time zone)."""
    today = program_today(now)
    return Month(today.year, today.month).shifted(-1)


def check_period(text: str, fiscal_start: int = 1, now: dt.datetime | None = None) -> Period:
    """The period asked for (a month, quarter, year, fiscal year or year to date),
    refusing malformed periods and periods that have not ended yet (the current month
    may be reported as it stands, as before)."""
    try:
        period = parse_period(text, fiscal_start)
    except ValueError as error:
        raise ReportError(str(error), "period") from None
    today = program_today(now)
    current = Month(today.year, today.month)
    if period.first > current:
        raise ReportError(_("%(period)s has not happened yet.", period=period.label), "period")
    if period.last > current:
        raise ReportError(
            _(
                "%(period)s has not ended yet: report it after %(month)s, or choose the year "
                "to date.",
                period=period.label,
                month=period.last.label,
            ),
            "period",
        )
    return period


def find_profile(name: str) -> FunderProfile:
    """The active funder profile with that short name."""
    profile = profile_by_name(name)
    if profile is None or not profile.active:
        if not db.session.scalar(select(func.count()).select_from(FunderProfile)):
            raise ReportError(
                _(
                    "There are no funder profiles yet: run `ssp quickstart --no-serve`, or an "
                    "admin creates the three standard ones on the Funders page."
                ),
                "funder",
            )
        raise ReportError(
            _("There is no funder profile called %(name)s.", name=repr(name)), "funder"
        )
    return profile


def settings_for(profile: FunderProfile) -> ProfileSettings:
    """A profile's values, detached from the database session."""
    return ProfileSettings(
        name=profile.name,
        funder_name=profile.funder_name,
        grant_number=profile.grant_number,
        program_name=profile.program_name or program_name(),
        sections=tuple(profile.sections),
        threshold=profile.threshold,
        fiscal_year_start=profile.fiscal_year_start or 7,
        contact=profile.contact,
        language=profile.language,
    )


def report_language(settings: ProfileSettings) -> str:
    """The language a report is written in: its profile's (if ssp still speaks it), else
    that of whoever makes it."""
    return supported(settings.language) or current_language()


def build_report(
    period: Period, settings: ProfileSettings, now: dt.datetime | None = None
) -> ReportDocument:
    """The report document of a period for a profile (reads the database), written in
    the profile's language (:func:`report_language`)."""
    with written_in(report_language(settings)):
        return _build_report(period, settings, now)


def _build_report(
    period: Period, settings: ProfileSettings, now: dt.datetime | None
) -> ReportDocument:
    zone = program_zone()
    sections = list(settings.sections)
    # A longer period's figures come from its months' (and its trends read them).
    if period.length > 1:
        metrics, parts = compute_with_months(period, zone, sections)
    else:
        metrics, parts = compute(period, zone, sections), []
    archive = archive_context(period, settings.name)
    compared = _compared(period, settings, archive)
    return build_document(
        metrics,
        settings,
        generated_on=program_today(now),
        time_zone=zone.key,
        archive=archive,
        months=parts,
        compared=compared,
        narrative=printed_parts(period.key),
    )


GLANCE_SECTIONS = ("summary", "supplies", "overdose", "referrals")


def _compared(
    period: Period, settings: ProfileSettings, archive: ArchiveContext
) -> list[tuple[Glance, list[MonthMetrics]]]:
    """The periods the glance compares with: their glance figures (nothing else of
    theirs is printed), and, for a longer period not archived yet, its months (so the
    audit ties the glance's figures to the monthly reports; an archived period's release
    already does). Its glance's figures then come from those months."""
    zone = program_zone()
    glance_sections = [s for s in GLANCE_SECTIONS if s in settings.sections]
    archived_periods = {release.period for release in archive.releases}
    compared = []
    for other in comparison_periods(period, settings.fiscal_year_start):
        if other.length > 1 and other.key not in archived_periods:
            compared.append(glance_with_months(other, zone, glance_sections))
        else:
            compared.append((glance(other, zone, glance_sections), []))
    return compared


def comparison_periods(period: Period, fiscal_start: int) -> list[Period]:
    """The period before and the same period a year earlier (one, for a year)."""
    if period.length == 1:
        found = [period.previous(), period.a_year_earlier()]
    else:
        found = [period.previous(fiscal_start), period.a_year_earlier(fiscal_start)]
    return list(dict.fromkeys(found))


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
    *,
    period: str | None = None,
    funder: str,
    user_id: int | None,
    now: dt.datetime | None = None,
    month: str | None = None,
    request_key: str | None = None,
) -> GeneratedReport:
    """Make and archive a report (flushed, not committed; the caller commits).
    ``month`` is the older name of ``period``; ``request_key`` the Generate form's
    one-time key (a second report with the same key fails on the unique constraint).
    Built and rendered in the profile's language (:func:`report_language`); the PDF's
    appendix and the CSV's metadata name it."""
    settings = settings_for(find_profile(funder))
    period = check_period(
        period if period is not None else (month or ""), settings.fiscal_year_start, now
    )
    document = build_report(period, settings, now)
    db.session.rollback()  # end the read transaction: rendering holds no lock
    pdf = render_pdf(document)
    parameters = {**document.parameters, "figures_sha256": document.figures_sha256()}
    report = archive_report(
        folder=Path(current_app.config["REPORTS_DIR"]),
        period=period,
        funder=settings.name,
        pdf=pdf,
        parameters=parameters,
        user_id=user_id,
        release=document.release_snapshot,
        audit=document.audit.as_json(),
        request_key=request_key,
    )
    return GeneratedReport(report, document, pdf)


def report_for_request(request_key: str | None) -> Report | None:
    """The report a Generate form already made, if any."""
    if not request_key:
        return None
    return db.session.scalar(select(Report).where(Report.request_key == request_key))
