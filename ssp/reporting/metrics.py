"""Every number of a report, computed with aggregate SQL, for any run of whole months.

Nothing here loads visits into Python: each figure is a COUNT, COUNT DISTINCT or SUM with
GROUP BY, and only the grouped results come back. Month boundaries are midnights in the
program's time zone. Voided visits never count. Anonymous walk-ins count as visits,
never as people. Nothing here selects a participant code, a note or a username.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, func, select

from ssp.extensions import db
from ssp.participants.models import Participant
from ssp.referrals.models import (
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralCategory,
    ReferralStatus,
)
from ssp.reporting.periods import Month, Period
from ssp.staff.models import Site
from ssp.supplies.models import CATEGORY_ORDER, SupplyCategory, SupplyItem
from ssp.visits.models import Service, Visit, VisitItem, VisitKind, VisitService

TREND_MONTHS = 12
AGE_BANDS = [
    (0, 17, "Under 18"),
    (18, 24, "18 to 24"),
    (25, 34, "25 to 34"),
    (35, 44, "35 to 44"),
    (45, 54, "45 to 54"),
    (55, 64, "55 to 64"),
    (65, 200, "65 and over"),
]
NOT_RECORDED = "Not recorded"


def _counted_visits(period: Period, zone: ZoneInfo):
    """The condition for visits that count in the period."""
    return and_(
        Visit.voided_at.is_(None),
        Visit.occurred_at >= period.start(zone),
        Visit.occurred_at < period.end(zone),
    )


def _scalar(query) -> int:
    return int(db.session.scalar(query) or 0)


# --- the sections ----------------------------------------------------------------------


@dataclass
class Summary:
    """Program summary: people, visits, sites, kinds, secondary reach."""

    participants_served: int
    new_enrolments: int
    new_people_served: int  # served in the period and enrolled in it; the rest returned
    visits: int
    participant_visits: int
    walk_in_visits: int
    secondary_reach: int
    visits_by_site: dict[str, int]
    people_by_site: dict[str, int]
    visits_by_kind: dict[str, int]
    people_by_kind: dict[str, int]


def summary(period: Period, zone: ZoneInfo) -> Summary:
    """Unduplicated people served, new enrolments, visits by site and by kind."""
    window = _counted_visits(period, zone)
    totals = db.session.execute(
        select(
            func.count(Visit.id),
            func.count(Visit.participant_id),
            func.count(distinct(Visit.participant_id)),
            func.coalesce(func.sum(Visit.secondary_reach), 0),
        ).where(window)
    ).one()
    visits, participant_visits, people, reach = (int(v or 0) for v in totals)
    by_site = db.session.execute(
        select(Site.name, func.count(Visit.id), func.count(distinct(Visit.participant_id)))
        .join(Site, Site.id == Visit.site_id)
        .where(window)
        .group_by(Site.name)
    ).all()
    by_kind_rows = db.session.execute(
        select(Visit.kind, func.count(Visit.id), func.count(distinct(Visit.participant_id)))
        .where(window)
        .group_by(Visit.kind)
    ).all()
    by_kind = {kind: int(n) for kind, n, _ in by_kind_rows}
    people_by_kind = {kind: int(p) for kind, _, p in by_kind_rows}
    enrolled_in_period = and_(
        Participant.created_at >= period.start(zone), Participant.created_at < period.end(zone)
    )
    new = _scalar(select(func.count(Participant.id)).where(enrolled_in_period))
    new_served = _scalar(
        select(func.count(distinct(Visit.participant_id)))
        .join(Participant, Participant.id == Visit.participant_id)
        .where(window, enrolled_in_period)
    )
    return Summary(
        participants_served=people,
        new_enrolments=new,
        new_people_served=new_served,
        visits=visits,
        participant_visits=participant_visits,
        walk_in_visits=visits - participant_visits,
        secondary_reach=int(reach),
        visits_by_site={name: int(n) for name, n, _ in sorted(by_site)},
        people_by_site={name: int(p) for name, _, p in sorted(by_site)},
        visits_by_kind={k.label: int(by_kind.get(k, 0)) for k in VisitKind},
        people_by_kind={k.label: people_by_kind.get(k, 0) for k in VisitKind},
    )


@dataclass
class ItemLine:
    """One item handed out in the month."""

    category: SupplyCategory
    name: str
    unit: str
    units: int
    people: int


@dataclass
class Supplies:
    """Supplies handed out, and syringes out versus in."""

    items: list[ItemLine]
    syringes_distributed: int
    syringes_collected: int
    people_receiving_syringes: int
    sharps_containers: int


def supplies(period: Period, zone: ZoneInfo) -> Supplies:
    """Units handed out per item (and people receiving), syringes distributed and collected."""
    window = _counted_visits(period, zone)
    rows = db.session.execute(
        select(
            SupplyItem.category,
            SupplyItem.name,
            SupplyItem.unit,
            func.sum(VisitItem.quantity),
            func.count(distinct(Visit.participant_id)),
        )
        .join(Visit, Visit.id == VisitItem.visit_id)
        .join(SupplyItem, SupplyItem.id == VisitItem.supply_item_id)
        .where(window)
        .group_by(SupplyItem.category, SupplyItem.name, SupplyItem.unit)
    ).all()
    items = sorted(
        (ItemLine(c, n, u, int(q), int(p)) for c, n, u, q, p in rows),
        key=lambda line: (CATEGORY_ORDER[line.category], line.name.lower()),
    )
    syringe_people = _scalar(
        select(func.count(distinct(Visit.participant_id)))
        .join(VisitItem, VisitItem.visit_id == Visit.id)
        .join(SupplyItem, SupplyItem.id == VisitItem.supply_item_id)
        .where(window, SupplyItem.category == SupplyCategory.SYRINGE)
    )
    collected = _scalar(select(func.coalesce(func.sum(Visit.syringes_collected), 0)).where(window))
    return Supplies(
        items=items,
        syringes_distributed=sum(i.units for i in items if i.category == SupplyCategory.SYRINGE),
        syringes_collected=collected,
        people_receiving_syringes=syringe_people,
        sharps_containers=sum(i.units for i in items if i.category == SupplyCategory.DISPOSAL),
    )


@dataclass
class Overdose:
    """Naloxone out, why, to how many people; reversals reported."""

    kits: int
    kits_by_reason: dict[str, int]
    # Per naloxone item, (category value, name, unit) -> (units, doses in one unit).
    units_and_doses: dict[tuple[str, str, str], tuple[int, int]]
    people_receiving_kits: int
    reversals_reported: int
    people_trained: int


def overdose(period: Period, zone: ZoneInfo) -> Overdose:
    """Naloxone kits by reason, people receiving kits, overdose reversals reported."""
    from ssp.visits.models import NaloxoneReason

    window = _counted_visits(period, zone)
    naloxone = and_(window, SupplyItem.category == SupplyCategory.NALOXONE)
    base = (
        select(VisitItem.reason, func.sum(VisitItem.quantity))
        .join(Visit, Visit.id == VisitItem.visit_id)
        .join(SupplyItem, SupplyItem.id == VisitItem.supply_item_id)
        .where(naloxone)
        .group_by(VisitItem.reason)
    )
    by_reason = {reason: int(n) for reason, n in db.session.execute(base)}
    people = _scalar(
        select(func.count(distinct(Visit.participant_id)))
        .join(VisitItem, VisitItem.visit_id == Visit.id)
        .join(SupplyItem, SupplyItem.id == VisitItem.supply_item_id)
        .where(naloxone)
    )
    by_item = db.session.execute(
        select(
            SupplyItem.name,
            SupplyItem.unit,
            SupplyItem.doses_per_unit,
            func.sum(VisitItem.quantity),
        )
        .join(Visit, Visit.id == VisitItem.visit_id)
        .join(SupplyItem, SupplyItem.id == VisitItem.supply_item_id)
        .where(naloxone)
        .group_by(SupplyItem.name, SupplyItem.unit, SupplyItem.doses_per_unit)
    ).all()
    services = _service_counts(period, zone)
    return Overdose(
        kits=sum(by_reason.values()),
        # Kits without a reason (an item that became naloxone later) keep the rows adding
        # up to the same total as every other table.
        kits_by_reason={r.label: by_reason.get(r, 0) for r in NaloxoneReason}
        | {"Reason not recorded": by_reason.get(None, 0)},
        units_and_doses={
            (SupplyCategory.NALOXONE.value, name, unit): (int(units), int(doses or 1))
            for name, unit, doses, units in by_item
        },
        people_receiving_kits=people,
        reversals_reported=services[Service.OVERDOSE_REVERSAL_REPORTED][0],
        people_trained=services[Service.NALOXONE_TRAINING][1],
    )


def _service_counts(period: Period, zone: ZoneInfo) -> dict[Service, tuple[int, int]]:
    """Per service: (times given, unduplicated people)."""
    rows = db.session.execute(
        select(
            VisitService.service,
            func.sum(VisitService.count),
            func.count(distinct(Visit.participant_id)),
        )
        .join(Visit, Visit.id == VisitService.visit_id)
        .where(_counted_visits(period, zone))
        .group_by(VisitService.service)
    ).all()
    found = {service: (int(n), int(p)) for service, n, p in rows}
    return {service: found.get(service, (0, 0)) for service in Service}


def services(period: Period, zone: ZoneInfo) -> dict[str, tuple[int, int]]:
    """Testing and services: per service, (times given, unduplicated people)."""
    counts = _service_counts(period, zone)
    return {s.label: counts[s] for s in Service if s != Service.OVERDOSE_REVERSAL_REPORTED}


@dataclass
class Referrals:
    """Referrals made and completed by category, and follow-up work."""

    made: dict[str, int]
    completed: dict[str, int]
    made_and_completed: dict[str, int]
    follow_ups_done: int
    follow_ups_unreachable: int
    follow_ups_overdue_at_month_end: int


def referrals(period: Period, zone: ZoneInfo) -> Referrals:
    """Per category: made this month, completed this month, and of those made this month
    how many were completed by its end; follow-ups done and overdue at the month's end."""
    start, end = period.start(zone), period.end(zone)
    made_in_month = and_(Referral.made_at >= start, Referral.made_at < end)
    completed_by = and_(Referral.status == ReferralStatus.COMPLETED, Referral.closed_at < end)
    rows = db.session.execute(
        select(
            Referral.category,
            func.sum(case((made_in_month, 1), else_=0)),
            func.sum(case((and_(completed_by, Referral.closed_at >= start), 1), else_=0)),
            func.sum(case((and_(made_in_month, completed_by), 1), else_=0)),
        )
        # A referral recorded on a visit that was later voided counts nowhere either.
        .outerjoin(Visit, Visit.id == Referral.visit_id)
        .where(Visit.voided_at.is_(None))
        .group_by(Referral.category)
    ).all()
    found = {c: (int(m or 0), int(done or 0), int(both or 0)) for c, m, done, both in rows}
    closed_in_month = and_(FollowUp.done_at >= start, FollowUp.done_at < end)
    done, unreachable = (
        _scalar(select(func.count(FollowUp.id)).where(closed_in_month, FollowUp.status == status))
        for status in (FollowUpStatus.DONE, FollowUpStatus.UNREACHABLE)
    )
    overdue = _scalar(
        select(func.count(FollowUp.id)).where(
            FollowUp.created_at < end,
            FollowUp.due_on < period.end_day,
            (FollowUp.done_at.is_(None)) | (FollowUp.done_at >= end),
        )
    )
    return Referrals(
        made={c.label: found.get(c, (0, 0, 0))[0] for c in ReferralCategory},
        completed={c.label: found.get(c, (0, 0, 0))[1] for c in ReferralCategory},
        made_and_completed={c.label: found.get(c, (0, 0, 0))[2] for c in ReferralCategory},
        follow_ups_done=done,
        follow_ups_unreachable=unreachable,
        follow_ups_overdue_at_month_end=overdue,
    )


@dataclass
class Demographics:
    """Unduplicated people served, by age band, gender and race/ethnicity."""

    age: dict[str, int]
    gender: dict[str, int]
    race_ethnicity: dict[str, int]


def demographics(period: Period, zone: ZoneInfo) -> Demographics:
    """People served in the month by age band (age reached this year), gender, race."""
    from ssp.participants.models import Gender, RaceEthnicity

    served = (
        select(Visit.participant_id)
        .where(_counted_visits(period, zone), Visit.participant_id.is_not(None))
        .distinct()
        .subquery()
    )

    def grouped(column):
        query = (
            select(column, func.count(Participant.id))
            .join(served, served.c.participant_id == Participant.id)
            .group_by(column)
        )
        return {key: int(n) for key, n in db.session.execute(query)}

    by_year = grouped(Participant.birth_year)
    age: dict[str, int] = {label: 0 for _, _, label in AGE_BANDS} | {NOT_RECORDED: 0}
    for year, n in by_year.items():
        label = NOT_RECORDED
        if year is not None:
            years = period.year - year
            label = next(
                (lbl for low, high, lbl in AGE_BANDS if low <= years <= high), NOT_RECORDED
            )
        age[label] += n
    by_gender = grouped(Participant.gender)
    by_race = grouped(Participant.race_ethnicity)
    return Demographics(
        age=age,
        gender={g.label: by_gender.get(g, 0) for g in Gender}
        | {NOT_RECORDED: by_gender.get(None, 0)},
        race_ethnicity={r.label: by_race.get(r, 0) for r in RaceEthnicity}
        | {NOT_RECORDED: by_race.get(None, 0)},
    )


@dataclass
class Trends:
    """The period's last month and the months before it, oldest first."""

    periods: list[Month]
    participants_served: list[int] = field(default_factory=list)
    visits: list[int] = field(default_factory=list)
    syringes_distributed: list[int] = field(default_factory=list)
    naloxone_kits: list[int] = field(default_factory=list)


def trends(period: Period, zone: ZoneInfo, months: int = TREND_MONTHS) -> Trends:
    """Monthly series for the charts, the ``months`` months ending with the period's last:
    one grouped query per series, months as buckets."""
    periods = [period.last.shifted(-n) for n in range(months - 1, -1, -1)]
    bounds = [p.start(zone) for p in periods] + [period.last.end(zone)]
    bucket = case(
        *((Visit.occurred_at < bounds[i + 1], i) for i in range(len(periods))),
        else_=None,
    )
    in_range = and_(
        Visit.voided_at.is_(None), Visit.occurred_at >= bounds[0], Visit.occurred_at < bounds[-1]
    )

    visits_people = db.session.execute(
        select(bucket, func.count(Visit.id), func.count(distinct(Visit.participant_id)))
        .where(in_range)
        .group_by(bucket)
    ).all()
    visit_counts = {int(i): (int(v), int(p)) for i, v, p in visits_people if i is not None}

    # Syringes and naloxone in one pass over the year's items. The item ids are looked up
    # first, so the big join does not need the catalogue table.
    units: dict[SupplyCategory, list[int]] = {
        SupplyCategory.SYRINGE: [0] * len(periods),
        SupplyCategory.NALOXONE: [0] * len(periods),
    }
    category_of = dict(
        db.session.execute(
            select(SupplyItem.id, SupplyItem.category).where(SupplyItem.category.in_(list(units)))
        ).all()
    )
    if category_of:
        for index, item_id, quantity in db.session.execute(
            select(bucket, VisitItem.supply_item_id, func.sum(VisitItem.quantity))
            .join(VisitItem, VisitItem.visit_id == Visit.id)
            .where(in_range, VisitItem.supply_item_id.in_(list(category_of)))
            .group_by(bucket, VisitItem.supply_item_id)
        ):
            if index is not None:
                units[category_of[item_id]][int(index)] += int(quantity or 0)

    return Trends(
        periods=periods,
        participants_served=[visit_counts.get(i, (0, 0))[1] for i in range(len(periods))],
        visits=[visit_counts.get(i, (0, 0))[0] for i in range(len(periods))],
        syringes_distributed=units[SupplyCategory.SYRINGE],
        naloxone_kits=units[SupplyCategory.NALOXONE],
    )


@dataclass
class MonthMetrics:
    """Everything a report of one period may show (each section computed on request)."""

    period: Period
    summary: Summary | None = None
    supplies: Supplies | None = None
    overdose: Overdose | None = None
    services: dict[str, tuple[int, int]] | None = None
    referrals: Referrals | None = None
    demographics: Demographics | None = None
    trends: Trends | None = None


SECTION_FUNCTIONS = {
    "summary": summary,
    "supplies": supplies,
    "overdose": overdose,
    "services": services,
    "referrals": referrals,
    "demographics": demographics,
    "trends": trends,
}


PART_SECTIONS = ("summary", "supplies", "overdose", "services", "referrals")


def compute(
    period: Period, zone: ZoneInfo, sections: list[str], *, parts_only: bool = False
) -> MonthMetrics:
    """The metrics of the period for the sections asked for (the summary always).
    ``parts_only``: only the sections whose figures combine across months (no trends,
    no demographics), for the months inside a longer period and for comparisons."""
    metrics = MonthMetrics(period=period)
    for name in ["summary", *[s for s in sections if s != "summary"]]:
        if parts_only and name not in PART_SECTIONS:
            continue
        setattr(metrics, name, SECTION_FUNCTIONS[name](period, zone))
    return metrics
