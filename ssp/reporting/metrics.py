"""Every number of a report, computed with aggregate SQL, for any run of whole months.

Nothing here loads visits into Python: each figure is a COUNT, COUNT DISTINCT or SUM with
GROUP BY, and only the grouped results come back. Month boundaries are midnights in the
program's time zone. Voided visits never count. Anonymous walk-ins count as visits,
never as people. Nothing here selects a participant code, a note or a username.

What the time goes on (SQLite): a GROUP BY sorts every row it reads, and a COUNT
DISTINCT adds an index per group, so each query here groups by small integers (supply
item ids, not the catalogue's names) and reads one month or one period through the
time index. One range query per month is cheaper than one query bucketed by month
(``CASE`` over the month boundaries): the sorts are smaller and no row evaluates the
boundaries. Figures that add up over months (the trends, a longer period's glance
column) are summed from the months' metrics when those are computed anyway; counts of
people never add up and always get their own query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, exists, func, literal, or_, select

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


# The service models of contacts made away from a site's desk (the outreach screen's).
FIELD_KINDS = (VisitKind.OUTREACH, VisitKind.MOBILE)


@dataclass(frozen=True)
class FieldContacts:
    """Outreach and mobile unit contacts, counted the way funders separate them: contacts
    (every one), group contacts (one anonymous contact that counted several people),
    people counted at anonymous contacts (a head count at each contact, so one person
    met twice counts twice), and unduplicated people with a code."""

    contacts: int
    code_contacts: int
    group_contacts: int
    anonymous_people: int  # the people counted at anonymous contacts, summed
    people: int  # unduplicated people with a code

    @property
    def anonymous_contacts(self) -> int:
        return self.contacts - self.code_contacts


def field_contacts(window) -> FieldContacts:
    """:class:`FieldContacts` of the visits ``window`` selects."""
    anonymous = Visit.participant_id.is_(None)
    row = db.session.execute(
        select(
            func.count(Visit.id),
            func.count(Visit.participant_id),
            func.coalesce(func.sum(case((and_(anonymous, Visit.people_count > 1), 1), else_=0)), 0),
            func.coalesce(func.sum(case((anonymous, Visit.people_count), else_=0)), 0),
            func.count(distinct(Visit.participant_id)),
        ).where(window, Visit.kind.in_(FIELD_KINDS))
    ).one()
    return FieldContacts(*(int(v or 0) for v in row))


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
    outreach: FieldContacts  # outreach and mobile unit contacts


def summary(period: Period, zone: ZoneInfo, enrolments: tuple[int, int] | None = None) -> Summary:
    """Unduplicated people served, new enrolments, visits by site and by kind.
    ``enrolments``: (new enrolments, new people served), when already counted."""
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
    # Site names are unique: grouping by the id groups by the name, without the join.
    site_names = dict(db.session.execute(select(Site.id, Site.name)).all())
    by_site = [
        (site_names[site_id], n, p)
        for site_id, n, p in db.session.execute(
            select(Visit.site_id, func.count(Visit.id), func.count(distinct(Visit.participant_id)))
            .where(window)
            .group_by(Visit.site_id)
        )
    ]
    by_kind_rows = db.session.execute(
        select(Visit.kind, func.count(Visit.id), func.count(distinct(Visit.participant_id)))
        .where(window)
        .group_by(Visit.kind)
    ).all()
    by_kind = {kind: int(n) for kind, n, _ in by_kind_rows}
    people_by_kind = {kind: int(p) for kind, _, p in by_kind_rows}
    new, new_served = enrolments or (
        _new_enrolments(period, zone),
        _new_people_served(period, zone),
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
        outreach=field_contacts(window),
    )


def _enrolled_in(period: Period, zone: ZoneInfo):
    return and_(
        Participant.created_at >= period.start(zone), Participant.created_at < period.end(zone)
    )


def _new_enrolments(period: Period, zone: ZoneInfo) -> int:
    """People enrolled in the period."""
    return _scalar(select(func.count(Participant.id)).where(_enrolled_in(period, zone)))


def _new_people_served(period: Period, zone: ZoneInfo) -> int:
    """People enrolled in the period with a counted visit in it: asked of the people
    enrolled then, each through the participant-and-time index, not of every visit."""
    return _scalar(
        select(func.count(Participant.id)).where(
            _enrolled_in(period, zone),
            exists().where(Visit.participant_id == Participant.id, _counted_visits(period, zone)),
        )
    )


def _people_served(period: Period, zone: ZoneInfo) -> int:
    """Unduplicated people with a counted visit in the period."""
    return _scalar(
        select(func.count(distinct(Visit.participant_id))).where(_counted_visits(period, zone))
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
    catalogue = _Catalogue.load()
    rows = db.session.execute(
        _over_items(
            select(
                VisitItem.supply_item_id,
                func.sum(VisitItem.quantity),
                func.count(distinct(Visit.participant_id)),
            ),
            period,
            zone,
        ).group_by(VisitItem.supply_item_id)
    ).all()
    # Ordered by category, name and unit first, as grouping by them did: lines that tie
    # on the printed order keep the order they always had.
    lines = sorted((*catalogue.lines[item_id], units, people) for item_id, units, people in rows)
    items = sorted(
        (ItemLine(c, n, u, int(q), int(p)) for c, n, u, q, p in lines),
        key=lambda line: (CATEGORY_ORDER[line.category], line.name.lower()),
    )
    return Supplies(
        items=items,
        syringes_distributed=sum(i.units for i in items if i.category == SupplyCategory.SYRINGE),
        syringes_collected=_syringes_collected(period, zone),
        people_receiving_syringes=_people_receiving(
            period, zone, catalogue.ids(SupplyCategory.SYRINGE)
        ),
        sharps_containers=sum(i.units for i in items if i.category == SupplyCategory.DISPOSAL),
    )


@dataclass(frozen=True)
class _Catalogue:
    """The supply items, read once per section: the big joins then group and filter by
    item id instead of joining the catalogue and grouping by its names (item names are
    unique, so an item is a report line)."""

    lines: dict[int, tuple[SupplyCategory, str, str]]  # id -> (category, name, unit)
    doses: dict[int, int]

    @classmethod
    def load(cls) -> _Catalogue:
        rows = db.session.execute(
            select(
                SupplyItem.id,
                SupplyItem.category,
                SupplyItem.name,
                SupplyItem.unit,
                SupplyItem.doses_per_unit,
            )
        ).all()
        return cls(
            lines={item_id: (c, name, unit) for item_id, c, name, unit, _ in rows},
            doses={item_id: doses for item_id, _, _, _, doses in rows},
        )

    def ids(self, *categories: SupplyCategory) -> list[int]:
        """The items of these categories."""
        return sorted(i for i, (c, _, _) in self.lines.items() if c in categories)


def _over_items(query, period: Period, zone: ZoneInfo, item_ids: list[int] | None = None):
    """``query`` over the period's counted visit items (only these items, when given)."""
    query = query.select_from(VisitItem).join(Visit, Visit.id == VisitItem.visit_id)
    query = query.where(_counted_visits(period, zone))
    if item_ids is not None:
        # "+ 0" keeps the list out of the index search: SQLite would otherwise seek the
        # items index once per visit and listed item (five seeks a visit for five
        # syringes) instead of once per visit, and take twice as long.
        query = query.where((VisitItem.supply_item_id + 0).in_(item_ids))
    return query


def _people_receiving(period: Period, zone: ZoneInfo, item_ids: list[int]) -> int:
    """Unduplicated people given any of these items in the period."""
    if not item_ids:
        return 0
    return _scalar(
        _over_items(select(func.count(distinct(Visit.participant_id))), period, zone, item_ids)
    )


def _units_by_item(period: Period, zone: ZoneInfo, item_ids: list[int]) -> dict[int, int]:
    """Units of these items handed out in the period, per item."""
    if not item_ids:
        return {}
    rows = db.session.execute(
        _over_items(
            select(VisitItem.supply_item_id, func.sum(VisitItem.quantity)), period, zone, item_ids
        ).group_by(VisitItem.supply_item_id)
    )
    return {item_id: int(units or 0) for item_id, units in rows}


def _syringes_collected(period: Period, zone: ZoneInfo) -> int:
    """Used syringes collected at the period's counted visits."""
    return _scalar(
        select(func.coalesce(func.sum(Visit.syringes_collected), 0)).where(
            _counted_visits(period, zone)
        )
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


def overdose(
    period: Period,
    zone: ZoneInfo,
    service_counts: dict[Service, tuple[int, int]] | None = None,
    months: list[MonthMetrics] | None = None,
) -> Overdose:
    """Naloxone kits by reason, people receiving kits, overdose reversals reported.
    ``service_counts``: :func:`_service_counts` of the period, when already computed;
    ``months``: the overdose figures of each of the period's months, when computed:
    kits by reason and units per item are their sums."""
    naloxone = _Catalogue.load().ids(SupplyCategory.NALOXONE)
    kits_by_reason, units_and_doses = (
        _naloxone_of_months(months) if months else _naloxone_handed_out(period, zone)
    )
    services = service_counts or _service_counts(period, zone)
    return Overdose(
        kits=sum(kits_by_reason.values()),
        kits_by_reason=kits_by_reason,
        units_and_doses=units_and_doses,
        people_receiving_kits=_people_receiving(period, zone, naloxone),
        reversals_reported=services[Service.OVERDOSE_REVERSAL_REPORTED][0],
        people_trained=services[Service.NALOXONE_TRAINING][1],
    )


def _naloxone_handed_out(period: Period, zone: ZoneInfo) -> tuple[dict, dict]:
    """The naloxone kits of the period by reason, and per item (units, doses in one)."""
    from ssp.visits.models import NaloxoneReason

    catalogue = _Catalogue.load()
    by_reason: dict[NaloxoneReason | None, int] = {}
    by_item: dict[tuple[str, str, int], int] = {}
    for reason, item_id, units in _naloxone_units(
        period, zone, catalogue.ids(SupplyCategory.NALOXONE)
    ):
        _, name, unit = catalogue.lines[item_id]
        by_reason[reason] = by_reason.get(reason, 0) + units
        key = (name, unit, catalogue.doses[item_id])
        by_item[key] = by_item.get(key, 0) + units
    # Kits without a reason (an item that became naloxone later) keep the rows adding up
    # to the same total as every other table.
    kits_by_reason = {r.label: by_reason.get(r, 0) for r in NaloxoneReason} | {
        "Reason not recorded": by_reason.get(None, 0)
    }
    units_and_doses = {
        (SupplyCategory.NALOXONE.value, name, unit): (units, int(doses or 1))
        for (name, unit, doses), units in sorted(by_item.items())
    }
    return kits_by_reason, units_and_doses


def _naloxone_of_months(months: list[MonthMetrics]) -> tuple[dict, dict]:
    """:func:`_naloxone_handed_out` of a period, from its months' (item names are unique,
    so an item's doses are the same in every month)."""
    kits_by_reason = dict.fromkeys(months[0].overdose.kits_by_reason, 0)
    units: dict[tuple[str, str, str], int] = {}
    doses: dict[tuple[str, str, str], int] = {}
    for month in months:
        for reason, kits in month.overdose.kits_by_reason.items():
            kits_by_reason[reason] += kits
        for key, (n, per_unit) in month.overdose.units_and_doses.items():
            units[key] = units.get(key, 0) + n
            doses[key] = per_unit
    return kits_by_reason, {key: (units[key], doses[key]) for key in sorted(units)}


def _naloxone_units(period: Period, zone: ZoneInfo, naloxone: list[int]) -> list[tuple]:
    """(reason, item id, units) of the naloxone handed out in the period."""
    if not naloxone:
        return []
    rows = db.session.execute(
        _over_items(
            select(VisitItem.reason, VisitItem.supply_item_id, func.sum(VisitItem.quantity)),
            period,
            zone,
            naloxone,
        ).group_by(VisitItem.reason, VisitItem.supply_item_id)
    )
    return [(reason, item_id, int(units or 0)) for reason, item_id, units in rows]


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


def services(
    period: Period,
    zone: ZoneInfo,
    service_counts: dict[Service, tuple[int, int]] | None = None,
) -> dict[str, tuple[int, int]]:
    """Testing and services: per service, (times given, unduplicated people)."""
    counts = service_counts or _service_counts(period, zone)
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
    closed_in_month = and_(Referral.closed_at >= start, Referral.closed_at < end)
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
        # Referrals neither made nor closed in the period count nowhere: left out before
        # the join.
        .where(Visit.voided_at.is_(None), or_(made_in_month, closed_in_month))
        .group_by(Referral.category)
    ).all()
    found = {c: (int(m or 0), int(done or 0), int(both or 0)) for c, m, done, both in rows}
    done_in_month = and_(FollowUp.done_at >= start, FollowUp.done_at < end)
    done, unreachable = (
        _scalar(select(func.count(FollowUp.id)).where(done_in_month, FollowUp.status == status))
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


def _referrals_made(period: Period, zone: ZoneInfo) -> int:
    """Referrals made in the period (not on a visit later voided)."""
    return _scalar(
        select(func.count(Referral.id))
        .outerjoin(Visit, Visit.id == Referral.visit_id)
        .where(
            Visit.voided_at.is_(None),
            Referral.made_at >= period.start(zone),
            Referral.made_at < period.end(zone),
        )
    )


@dataclass
class Demographics:
    """Unduplicated people served, by age band, gender and race/ethnicity."""

    age: dict[str, int]
    gender: dict[str, int]
    race_ethnicity: dict[str, int]


def demographics(period: Period, zone: ZoneInfo) -> Demographics:
    """People served in the month by age band (age reached this year), gender, race:
    one pass over the people served, grouped by all three, then added up per table."""
    from ssp.participants.models import Gender, RaceEthnicity

    served = (
        select(Visit.participant_id)
        .where(_counted_visits(period, zone), Visit.participant_id.is_not(None))
        .distinct()
        .subquery()
    )
    rows = db.session.execute(
        select(
            Participant.birth_year,
            Participant.gender,
            Participant.race_ethnicity,
            func.count(Participant.id),
        )
        .join(served, served.c.participant_id == Participant.id)
        .group_by(Participant.birth_year, Participant.gender, Participant.race_ethnicity)
    ).all()
    age: dict[str, int] = {label: 0 for _, _, label in AGE_BANDS} | {NOT_RECORDED: 0}
    by_gender: dict = {}
    by_race: dict = {}
    for year, gender, race, n in rows:
        age[_age_band(period.year - year if year is not None else None)] += int(n)
        by_gender[gender] = by_gender.get(gender, 0) + int(n)
        by_race[race] = by_race.get(race, 0) + int(n)
    return Demographics(
        age=age,
        gender={g.label: by_gender.get(g, 0) for g in Gender}
        | {NOT_RECORDED: by_gender.get(None, 0)},
        race_ethnicity={r.label: by_race.get(r, 0) for r in RaceEthnicity}
        | {NOT_RECORDED: by_race.get(None, 0)},
    )


def _age_band(years: int | None) -> str:
    if years is None:
        return NOT_RECORDED
    return next((lbl for low, high, lbl in AGE_BANDS if low <= years <= high), NOT_RECORDED)


@dataclass
class Trends:
    """The period's last month and the months before it, oldest first."""

    periods: list[Month]
    participants_served: list[int] = field(default_factory=list)
    visits: list[int] = field(default_factory=list)
    syringes_distributed: list[int] = field(default_factory=list)
    naloxone_kits: list[int] = field(default_factory=list)


def trends(
    period: Period,
    zone: ZoneInfo,
    months: int = TREND_MONTHS,
    known: dict[Month, MonthMetrics] | None = None,
) -> Trends:
    """Monthly series for the charts, the ``months`` months ending with the period's last.

    ``known``: metrics already computed for some of those months (with the summary,
    supplies and overdose): their figures are the same and are read from there. The
    other months are queried one at a time, each over its own stretch of the index."""
    periods = [period.last.shifted(-n) for n in range(months - 1, -1, -1)]
    known = known or {}
    catalogue: _Catalogue | None = None
    points = []
    for month in periods:
        m = known.get(month)
        if m is not None and m.summary and m.supplies and m.overdose:
            points.append(
                (
                    m.summary.participants_served,
                    m.summary.visits,
                    m.supplies.syringes_distributed,
                    m.overdose.kits,
                )
            )
        else:
            catalogue = catalogue or _Catalogue.load()
            points.append(_trend_point(month, zone, catalogue))
    people, visits, syringes, kits = (list(series) for series in zip(*points, strict=True))
    return Trends(
        periods=periods,
        participants_served=people,
        visits=visits,
        syringes_distributed=syringes,
        naloxone_kits=kits,
    )


def _trend_point(month: Month, zone: ZoneInfo, catalogue: _Catalogue) -> tuple[int, ...]:
    """(people served, visits, syringes distributed, naloxone kits) of one month."""
    visits, people = db.session.execute(
        select(func.count(Visit.id), func.count(distinct(Visit.participant_id))).where(
            _counted_visits(month, zone)
        )
    ).one()
    syringe, naloxone = (
        catalogue.ids(SupplyCategory.SYRINGE),
        catalogue.ids(SupplyCategory.NALOXONE),
    )
    units = _units_by_item(month, zone, syringe + naloxone)
    return (
        int(people or 0),
        int(visits or 0),
        sum(units.get(i, 0) for i in syringe),
        sum(units.get(i, 0) for i in naloxone),
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
    period: Period,
    zone: ZoneInfo,
    sections: list[str],
    *,
    parts_only: bool = False,
    months: list[MonthMetrics] | None = None,
    enrolments: tuple[int, int] | None = None,
) -> MonthMetrics:
    """The metrics of the period for the sections asked for (the summary always).
    ``parts_only``: only the sections whose figures combine across months (no trends,
    no demographics), for the months inside a longer period and for comparisons.
    ``months``: the metrics of months inside the period, already computed: the trends
    read those months from them, and when they are all its months, the kits by reason and
    per item are their sums. ``enrolments``: the summary's (new enrolments, new
    people served), already counted."""
    metrics = MonthMetrics(period=period)
    names = ["summary", *[s for s in sections if s not in ("summary", "trends")]]
    if "trends" in sections:
        names.append("trends")  # last: it reads this month's other sections
    service_counts = None
    for name in names:
        if parts_only and name not in PART_SECTIONS:
            continue
        if name == "overdose":
            service_counts = service_counts or _service_counts(period, zone)
            value = overdose(period, zone, service_counts, _all_months_with(period, months, name))
        elif name == "services":
            service_counts = service_counts or _service_counts(period, zone)
            value = services(period, zone, service_counts)
        elif name == "trends":
            known = {m.period: m for m in months or []} | {period: metrics}
            value = trends(period, zone, known=known)
        elif name == "summary":
            value = summary(period, zone, enrolments)
        else:
            value = SECTION_FUNCTIONS[name](period, zone)
        setattr(metrics, name, value)
    return metrics


def _all_months_with(
    period: Period, months: list[MonthMetrics] | None, section: str
) -> list[MonthMetrics] | None:
    """``months`` when they are all the months of a longer period, each with that
    section computed (so the section's figures that add up can be summed)."""
    if period.length == 1 or not months or [m.period for m in months] != period.months():
        return None
    return months if all(getattr(m, section) is not None for m in months) else None


def compute_months(months: list[Month], zone: ZoneInfo, sections: list[str]) -> list[MonthMetrics]:
    """``compute(month, zone, sections, parts_only=True)`` for each of consecutive months
    (the months of a longer period), the same figures: the visits are read a month at a
    time, the small tables (enrolments, referrals, follow-ups) once for all the months."""
    if not months:
        return []
    run = _MonthRun(months, zone)
    enrolments = list(zip(run.enrolments(), run.new_people_served(), strict=True))
    referral_figures = run.referrals() if "referrals" in sections else None
    others = [s for s in sections if s != "referrals"]
    result = []
    for i, month in enumerate(months):
        metrics = compute(month, zone, others, parts_only=True, enrolments=enrolments[i])
        if referral_figures is not None:
            metrics.referrals = referral_figures[i]
        result.append(metrics)
    return result


class _MonthRun:
    """Consecutive months, for counting rows of the small tables per month in one pass:
    a row's month is a CASE over the months' boundaries."""

    def __init__(self, months: list[Month], zone: ZoneInfo) -> None:
        self.months = months
        self.bounds = [m.start(zone) for m in months] + [months[-1].end(zone)]

    def within(self, column):
        """The time falls in one of the months."""
        return and_(column >= self.bounds[0], column < self.bounds[-1])

    def index(self, column, before: int | None = None):
        """Which month the time falls in (0: the first); ``before`` for a time before the
        first month, NULL for a later or missing one."""
        return case(
            (column < self.bounds[0], before),
            *((column < end, i) for i, end in enumerate(self.bounds[1:])),
            else_=None,
        )

    def _bound_of(self, column, offset: int):
        typed = [literal(bound, column.type) for bound in self.bounds]
        return case(*((column < typed[i + 1], typed[i + offset]) for i in range(len(self.months))))

    def per_month(self, rows) -> list[int]:
        """(month, count) rows as a count per month."""
        counts = [0] * len(self.months)
        for index, n in rows:
            if index is not None and index >= 0:
                counts[int(index)] += int(n or 0)
        return counts

    def enrolments(self) -> list[int]:
        """People enrolled in each month."""
        month = self.index(Participant.created_at)
        return self.per_month(
            db.session.execute(
                select(month, func.count(Participant.id))
                .where(self.within(Participant.created_at))
                .group_by(month)
            )
        )

    def new_people_served(self) -> list[int]:
        """Per month, the people enrolled in it with a counted visit in it (each enrolled
        person's visits read through the participant-and-time index, in their month)."""
        month = self.index(Participant.created_at)
        visited_that_month = exists().where(
            Visit.participant_id == Participant.id,
            Visit.voided_at.is_(None),
            Visit.occurred_at >= self._bound_of(Participant.created_at, 0),
            Visit.occurred_at < self._bound_of(Participant.created_at, 1),
        )
        return self.per_month(
            db.session.execute(
                select(month, func.count(Participant.id))
                .where(self.within(Participant.created_at), visited_that_month)
                .group_by(month)
            )
        )

    def referrals(self) -> list[Referrals]:
        """:func:`referrals` of each month: one pass over the referrals made or closed in
        the months, one over the follow-ups."""
        made_in = self.index(Referral.made_at)
        closed_in = self.index(Referral.closed_at, before=-1)
        completed = case((Referral.status == ReferralStatus.COMPLETED, 1), else_=0)
        rows = db.session.execute(
            select(Referral.category, made_in, closed_in, completed, func.count(Referral.id))
            .outerjoin(Visit, Visit.id == Referral.visit_id)
            .where(
                Visit.voided_at.is_(None),
                or_(self.within(Referral.made_at), self.within(Referral.closed_at)),
            )
            .group_by(Referral.category, made_in, closed_in, completed)
        ).all()
        n = len(self.months)
        made, done, both = ({c: [0] * n for c in ReferralCategory} for _ in range(3))
        for category, made_i, closed_i, is_completed, count in rows:
            if made_i is not None:
                made[category][made_i] += count
            if not is_completed or closed_i is None:
                continue
            if closed_i >= 0:
                done[category][closed_i] += count
            if made_i is not None and closed_i <= made_i:  # completed by its month's end
                both[category][made_i] += count
        follow_ups_done = self._follow_ups_done()
        overdue = self._follow_ups_overdue()
        return [
            Referrals(
                made={c.label: made[c][i] for c in ReferralCategory},
                completed={c.label: done[c][i] for c in ReferralCategory},
                made_and_completed={c.label: both[c][i] for c in ReferralCategory},
                follow_ups_done=follow_ups_done[FollowUpStatus.DONE][i],
                follow_ups_unreachable=follow_ups_done[FollowUpStatus.UNREACHABLE][i],
                follow_ups_overdue_at_month_end=overdue[i],
            )
            for i in range(n)
        ]

    def _follow_ups_done(self) -> dict[FollowUpStatus, list[int]]:
        month = self.index(FollowUp.done_at)
        statuses = (FollowUpStatus.DONE, FollowUpStatus.UNREACHABLE)
        rows = db.session.execute(
            select(FollowUp.status, month, func.count(FollowUp.id))
            .where(self.within(FollowUp.done_at), FollowUp.status.in_(statuses))
            .group_by(FollowUp.status, month)
        ).all()
        return {s: self.per_month((i, n) for status, i, n in rows if status == s) for s in statuses}

    def _follow_ups_overdue(self) -> list[int]:
        """Per month, the follow-ups overdue at its end (one column per month)."""
        columns = []
        for month, end in zip(self.months, self.bounds[1:], strict=True):
            overdue = and_(
                FollowUp.created_at < end,
                FollowUp.due_on < month.end_day,
                (FollowUp.done_at.is_(None)) | (FollowUp.done_at >= end),
            )
            columns.append(func.coalesce(func.sum(case((overdue, 1), else_=0)), 0))
        first_end = self.bounds[1]
        counts = db.session.execute(
            select(*columns).where(
                FollowUp.created_at < self.bounds[-1],
                FollowUp.due_on < self.months[-1].end_day,
                (FollowUp.done_at.is_(None)) | (FollowUp.done_at >= first_end),
            )
        ).one()
        return [int(n) for n in counts]


# --- the glance of a period compared with --------------------------------------------------


@dataclass(frozen=True)
class Glance:
    """The figures the glance prints for one period (None: that section is not reported)."""

    period: Period
    people_served: int
    new_people_served: int
    visits: int
    participant_visits: int
    new_enrolments: int
    syringes_distributed: int | None = None
    syringes_collected: int | None = None
    kits: int | None = None
    reversals_reported: int | None = None
    referrals_made: int | None = None

    @property
    def walk_in_visits(self) -> int:
        """Visits without a participant code."""
        return self.visits - self.participant_visits


def glance_of(m: MonthMetrics) -> Glance:
    """The glance's figures of metrics already computed."""
    s = m.summary
    return Glance(
        period=m.period,
        people_served=s.participants_served,
        new_people_served=s.new_people_served,
        visits=s.visits,
        participant_visits=s.participant_visits,
        new_enrolments=s.new_enrolments,
        syringes_distributed=m.supplies.syringes_distributed if m.supplies else None,
        syringes_collected=m.supplies.syringes_collected if m.supplies else None,
        kits=m.overdose.kits if m.overdose else None,
        reversals_reported=m.overdose.reversals_reported if m.overdose else None,
        referrals_made=sum(m.referrals.made.values()) if m.referrals else None,
    )


_ADDING_UP = (
    "visits",
    "participant_visits",
    "new_enrolments",
    "syringes_distributed",
    "syringes_collected",
    "kits",
    "reversals_reported",
    "referrals_made",
)


def glance(
    period: Period, zone: ZoneInfo, sections: list[str], months: list[MonthMetrics] | None = None
) -> Glance:
    """The glance's figures of a period compared with, and only those (the period's own
    tables are not printed). ``months``: the period's months, already computed with the
    same sections: the figures that add up are their sums, and only the two counts of
    people are queried."""
    if months:
        parts = [glance_of(m) for m in months]
        sums = {
            name: None if getattr(parts[0], name) is None else sum(getattr(p, name) for p in parts)
            for name in _ADDING_UP
        }
        return Glance(
            period=period,
            people_served=_people_served(period, zone),
            new_people_served=_new_people_served(period, zone),
            **sums,
        )
    visits, participant_visits, people, collected = (
        int(v or 0)
        for v in db.session.execute(
            select(
                func.count(Visit.id),
                func.count(Visit.participant_id),
                func.count(distinct(Visit.participant_id)),
                func.coalesce(func.sum(Visit.syringes_collected), 0),
            ).where(_counted_visits(period, zone))
        ).one()
    )
    figures: dict[str, int | None] = {}
    if "supplies" in sections or "overdose" in sections:
        catalogue = _Catalogue.load()
        syringe, naloxone = (
            catalogue.ids(SupplyCategory.SYRINGE),
            catalogue.ids(SupplyCategory.NALOXONE),
        )
        units = _units_by_item(period, zone, syringe + naloxone)
        if "supplies" in sections:
            figures["syringes_distributed"] = sum(units.get(i, 0) for i in syringe)
            figures["syringes_collected"] = collected
        if "overdose" in sections:
            figures["kits"] = sum(units.get(i, 0) for i in naloxone)
            figures["reversals_reported"] = _service_times(
                period, zone, Service.OVERDOSE_REVERSAL_REPORTED
            )
    if "referrals" in sections:
        figures["referrals_made"] = _referrals_made(period, zone)
    return Glance(
        period=period,
        people_served=people,
        new_people_served=_new_people_served(period, zone),
        visits=visits,
        participant_visits=participant_visits,
        new_enrolments=_new_enrolments(period, zone),
        **figures,
    )


def _service_times(period: Period, zone: ZoneInfo, service: Service) -> int:
    """How many times a service was given in the period."""
    return _scalar(
        select(func.coalesce(func.sum(VisitService.count), 0))
        .join(Visit, Visit.id == VisitService.visit_id)
        .where(_counted_visits(period, zone), VisitService.service == service)
    )
