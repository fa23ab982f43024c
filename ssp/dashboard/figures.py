"""The manager's home: this month so far against the same point last month, and the
funder reports that are due.

These are the program's own working figures for staff who may see the visits
themselves; they are not a funder release and are not suppressed. Voided visits count
nowhere, as in reports.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import distinct, func, select

from ssp.extensions import db
from ssp.i18n import _, _l, format_number
from ssp.referrals.models import Referral
from ssp.reporting.models import FunderProfile, Report
from ssp.reporting.periods import Month
from ssp.supplies.models import SupplyCategory, SupplyItem
from ssp.timeutil import day_start, program_zone, utcnow
from ssp.visits.models import Service, Visit, VisitItem, VisitService


@dataclass(frozen=True)
class Figure:
    """One figure of the month so far, with the same point last month."""

    label: str
    now: int
    before: int

    @property
    def change(self) -> str:
        """ "+12", "−3" or "same" against last month."""
        difference = self.now - self.before
        if difference == 0:
            return _("same")
        return (
            f"+{format_number(difference)}" if difference > 0 else f"−{format_number(-difference)}"
        )


def _same_point_last_month(now_local: dt.datetime) -> dt.datetime:
    """The same day and time a month earlier (the 31st becomes the month's last day)."""
    year, month = now_local.year, now_local.month - 1
    if month == 0:
        year, month = year - 1, 12
    day = min(now_local.day, calendar.monthrange(year, month)[1])
    return now_local.replace(year=year, month=month, day=day)


def _window_figures(start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    counted = (Visit.voided_at.is_(None), Visit.occurred_at >= start, Visit.occurred_at < end)
    visits, people, collected = db.session.execute(
        select(
            func.count(Visit.id),
            func.count(distinct(Visit.participant_id)),
            func.coalesce(func.sum(Visit.syringes_collected), 0),
        ).where(*counted)
    ).one()
    by_category = dict(
        db.session.execute(
            select(SupplyItem.category, func.coalesce(func.sum(VisitItem.quantity), 0))
            .join(VisitItem, VisitItem.supply_item_id == SupplyItem.id)
            .join(Visit, Visit.id == VisitItem.visit_id)
            .where(*counted)
            .group_by(SupplyItem.category)
        ).all()
    )
    reversals = db.session.scalar(
        select(func.coalesce(func.sum(VisitService.count), 0))
        .join(Visit, Visit.id == VisitService.visit_id)
        .where(*counted, VisitService.service == Service.OVERDOSE_REVERSAL_REPORTED)
    )
    referrals = db.session.scalar(
        select(func.count(Referral.id))
        .outerjoin(Visit, Visit.id == Referral.visit_id)
        .where(Referral.made_at >= start, Referral.made_at < end, Visit.voided_at.is_(None))
    )
    return {
        "people": int(people),
        "visits": int(visits),
        "syringes_out": int(by_category.get(SupplyCategory.SYRINGE, 0)),
        "syringes_in": int(collected),
        "naloxone": int(by_category.get(SupplyCategory.NALOXONE, 0)),
        "reversals": int(reversals),
        "referrals": int(referrals),
    }


LABELS = {
    "people": _l("People served (with a code)"),
    "visits": _l("Visits"),
    "syringes_out": _l("Syringes handed out"),
    "syringes_in": _l("Used syringes collected"),
    "naloxone": _l("Naloxone kits"),
    "reversals": _l("Overdose reversals reported"),
    "referrals": _l("Referrals made"),
}


def month_so_far(now: dt.datetime | None = None) -> list[Figure]:
    """Each figure from the first of this month to now, against the first of last month
    to the same day and time last month."""
    zone = program_zone()
    now_local = (now or utcnow()).astimezone(zone)
    before_end = _same_point_last_month(now_local)
    this = _window_figures(
        day_start(now_local.date().replace(day=1), zone), now_local.astimezone(dt.UTC)
    )
    last = _window_figures(
        day_start(before_end.date().replace(day=1), zone), before_end.astimezone(dt.UTC)
    )
    return [Figure(str(LABELS[key]), this[key], last[key]) for key in LABELS]


@dataclass(frozen=True)
class ReportDue:
    """A complete month an active funder profile has no archived report for."""

    month: Month
    profile_name: str
    funder_name: str


def reports_due(today: dt.date, months_back: int = 3) -> list[ReportDue]:
    """The last ``months_back`` complete months, for each active profile, that have no
    archived monthly report yet, latest first."""
    this_month = Month(today.year, today.month)
    months = [this_month.shifted(-n) for n in range(1, months_back + 1)]
    archived = set(
        db.session.execute(
            select(Report.funder, Report.period).where(
                Report.period.in_([month.key for month in months])
            )
        ).all()
    )
    profiles = _active_profiles()
    return [
        ReportDue(month, profile.name, profile.funder_name)
        for month in months
        for profile in profiles
        if (profile.name, month.key) not in archived
    ]


def _active_profiles() -> list[FunderProfile]:
    return list(
        db.session.scalars(
            select(FunderProfile).where(FunderProfile.active).order_by(FunderProfile.name)
        )
    )
