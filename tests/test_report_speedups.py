"""The faster ways of computing a report give the same figures as the plain ones.

A period's visit figures are read from tallies (grouped rows with the ids of their
people), and a longer period's from its months' tallies merged; its months are computed
together (the small tables read once for all of them), a compared period's glance comes
from its months or from a few queries, and the trends read months already computed. On
a seeded program with the cases that tell the ways apart added (voided visits,
anonymous walk-ins and group contacts, visits either side of month boundaries in the
program's time zone, one person seen at several sites and in several months, kits
without a reason), each is checked against the period computed alone, and the tallies
against the straightforward per-period queries (COUNT DISTINCT per figure) below.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import and_, case, distinct, func, select

from ssp.extensions import db
from ssp.reporting import metrics
from ssp.reporting.metrics import (
    compute,
    compute_months,
    compute_with_months,
    glance,
    glance_of,
    glance_with_months,
    trends,
)
from ssp.reporting.periods import Month, parse_period

NOW = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)
PARTS = list(metrics.PART_SECTIONS)
GLANCE = ["summary", "supplies", "overdose", "referrals"]
ALL = list(metrics.SECTION_FUNCTIONS)


def utc(text: str) -> dt.datetime:
    """A UTC time from 'YYYY-MM-DD HH:MM:SS[.ffffff]'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def seeded(app):
    """A program with twenty months of visits and the edge cases added; yields the
    program's time zone (America/Los_Angeles)."""
    from ssp.demo import seed
    from ssp.timeutil import program_zone

    with app.app_context():
        seed(participants=200, visits=3000, months=20, seed_value=11, now=NOW)
        _add_edge_cases()
        db.session.commit()
        yield program_zone()
        db.session.rollback()


def _add_edge_cases() -> None:
    """Rows the seed does not make, at two sites of their own ("Edge clinic", "Edge
    outreach") so the tests can count them by hand."""
    from ssp.participants.models import Participant
    from ssp.staff.models import Site, SiteKind, User
    from ssp.supplies.models import SupplyCategory, SupplyItem
    from ssp.visits.models import NaloxoneReason, Service, Visit, VisitItem, VisitKind, VisitService

    user = db.session.scalar(select(User.id).order_by(User.id))
    first, second, third = db.session.scalars(
        select(Participant.id).order_by(Participant.id).limit(3)
    ).all()

    def item(category):
        return db.session.scalar(
            select(SupplyItem.id).where(SupplyItem.category == category).order_by(SupplyItem.id)
        )

    syringe, naloxone = item(SupplyCategory.SYRINGE), item(SupplyCategory.NALOXONE)
    clinic, outreach = Site(name="Edge clinic"), Site(name="Edge outreach", kind=SiteKind.OUTREACH)
    db.session.add_all([clinic, outreach])
    db.session.flush()

    def visit(when, participant, site, kind=VisitKind.FIXED, *, people=1, voided=False, **what):
        occurred = utc(when)
        db.session.add(
            Visit(
                participant_id=participant,
                site_id=site.id,
                user_id=user,
                occurred_at=occurred,
                kind=kind,
                secondary_reach=what.get("reach", 0),
                syringes_collected=what.get("collected", 0),
                people_count=people,
                voided_at=occurred + dt.timedelta(hours=1) if voided else None,
                voided_by=user if voided else None,
                items=[
                    VisitItem(supply_item_id=i, quantity=q, reason=r)
                    for i, q, r in what.get("items", ())
                ],
                services=[VisitService(service=s, count=n) for s, n in what.get("services", ())],
            )
        )

    # Midnight in Los Angeles either side of each boundary: 1 March is 08:00 UTC
    # (standard time), 1 April 07:00 UTC (daylight time), 1 July 2025 07:00 UTC.
    for when in (
        "2026-03-01 07:59:59.999999",  # February
        "2026-03-01 08:00:00",  # March
        "2026-04-01 06:59:59.999999",  # March
        "2026-04-01 07:00:00",  # April
        "2025-07-01 06:59:59.999999",  # June 2025: the fiscal year before
        "2025-07-01 07:00:00",  # July 2025: FY2026's first month
    ):
        visit(when, first, clinic, items=[(syringe, 10, None)], collected=4)
    # Kits without a reason, and a second person at the clinic in March.
    visit("2026-03-20 18:00", second, clinic, items=[(naloxone, 2, None), (syringe, 5, None)])
    # Outreach in March: group contacts (3 and 2 people), a lone anonymous contact, a
    # voided group contact, and the second person met twice (outreach and van).
    visit("2026-03-10 18:00", None, outreach, VisitKind.OUTREACH, people=3)
    visit("2026-03-11 18:00", None, outreach, VisitKind.OUTREACH, people=1, reach=2)
    visit("2026-03-12 18:00", None, outreach, VisitKind.OUTREACH, people=4, voided=True)
    visit("2026-03-13 18:00", None, outreach, VisitKind.MOBILE, people=2)
    training = [(Service.NALOXONE_TRAINING, 1), (Service.OVERDOSE_REVERSAL_REPORTED, 1)]
    visit("2026-03-14 18:00", second, outreach, VisitKind.OUTREACH, services=training)
    visit(
        "2026-03-21 18:00",
        second,
        outreach,
        VisitKind.MOBILE,
        items=[(naloxone, 1, NaloxoneReason.LOST)],
        services=[(Service.NALOXONE_TRAINING, 1)],
    )
    visit("2025-11-05 18:00", None, outreach, VisitKind.OUTREACH, people=5)
    # A voided visit with everything on it counts nowhere.
    visit(
        "2026-03-15 18:00",
        third,
        clinic,
        voided=True,
        items=[(syringe, 40, None), (naloxone, 3, NaloxoneReason.FIRST_KIT)],
        services=training,
        collected=30,
        reach=5,
    )


# --- the straightforward per-period figures the tallies are checked against --------------


def _window(period, zone):
    return metrics._counted_visits(period, zone)


def _reference_summary(period, zone) -> metrics.Summary:
    """The summary, one COUNT DISTINCT query per figure."""
    from ssp.participants.models import Participant
    from ssp.staff.models import Site
    from ssp.visits.models import Visit, VisitKind

    window = _window(period, zone)
    visits, participant_visits, people, reach = db.session.execute(
        select(
            func.count(Visit.id),
            func.count(Visit.participant_id),
            func.count(distinct(Visit.participant_id)),
            func.coalesce(func.sum(Visit.secondary_reach), 0),
        ).where(window)
    ).one()
    by_site = db.session.execute(
        select(Site.name, func.count(Visit.id), func.count(distinct(Visit.participant_id)))
        .join(Site, Site.id == Visit.site_id)
        .where(window)
        .group_by(Site.name)
        .order_by(Site.name)
    ).all()
    by_kind = {
        kind: (n, p)
        for kind, n, p in db.session.execute(
            select(Visit.kind, func.count(Visit.id), func.count(distinct(Visit.participant_id)))
            .where(window)
            .group_by(Visit.kind)
        )
    }
    anonymous = Visit.participant_id.is_(None)
    field = db.session.execute(
        select(
            func.count(Visit.id),
            func.count(Visit.participant_id),
            func.coalesce(func.sum(case((and_(anonymous, Visit.people_count > 1), 1), else_=0)), 0),
            func.coalesce(func.sum(case((anonymous, Visit.people_count), else_=0)), 0),
            func.count(distinct(Visit.participant_id)),
        ).where(window, Visit.kind.in_(metrics.FIELD_KINDS))
    ).one()
    enrolled = and_(
        Participant.created_at >= period.start(zone), Participant.created_at < period.end(zone)
    )
    return metrics.Summary(
        participants_served=people,
        new_enrolments=db.session.scalar(select(func.count(Participant.id)).where(enrolled)),
        new_people_served=db.session.scalar(
            select(func.count(distinct(Visit.participant_id)))
            .join(Participant, Participant.id == Visit.participant_id)
            .where(window, enrolled)
        ),
        visits=visits,
        participant_visits=participant_visits,
        walk_in_visits=visits - participant_visits,
        secondary_reach=reach,
        visits_by_site={name: n for name, n, _ in by_site},
        people_by_site={name: p for name, _, p in by_site},
        visits_by_kind={k.label: by_kind.get(k, (0, 0))[0] for k in VisitKind},
        people_by_kind={k.label: by_kind.get(k, (0, 0))[1] for k in VisitKind},
        outreach=metrics.FieldContacts(*(int(v) for v in field)),
    )


def _items(period, zone, *columns, where=()):
    from ssp.supplies.models import SupplyItem
    from ssp.visits.models import Visit, VisitItem

    return (
        select(*columns)
        .select_from(VisitItem)
        .join(Visit, Visit.id == VisitItem.visit_id)
        .join(SupplyItem, SupplyItem.id == VisitItem.supply_item_id)
        .where(_window(period, zone), *where)
    )


def _reference_supplies(period, zone) -> metrics.Supplies:
    """The supplies, grouped by the catalogue's names, people counted per query."""
    from ssp.supplies.models import CATEGORY_ORDER, SupplyCategory, SupplyItem
    from ssp.visits.models import Visit, VisitItem

    lines = db.session.execute(
        _items(
            period,
            zone,
            SupplyItem.category,
            SupplyItem.name,
            SupplyItem.unit,
            func.sum(VisitItem.quantity),
            func.count(distinct(Visit.participant_id)),
        )
        .group_by(SupplyItem.category, SupplyItem.name, SupplyItem.unit)
        .order_by(SupplyItem.category, SupplyItem.name, SupplyItem.unit)
    ).all()
    items = sorted(
        (metrics.ItemLine(*line) for line in lines),
        key=lambda line: (CATEGORY_ORDER[line.category], line.name.lower()),
    )
    collected = db.session.scalar(
        select(func.coalesce(func.sum(Visit.syringes_collected), 0)).where(_window(period, zone))
    )
    return metrics.Supplies(
        items=items,
        syringes_distributed=sum(i.units for i in items if i.category == SupplyCategory.SYRINGE),
        syringes_collected=collected,
        people_receiving_syringes=_people_given(period, zone, SupplyCategory.SYRINGE),
        sharps_containers=sum(i.units for i in items if i.category == SupplyCategory.DISPOSAL),
    )


def _people_given(period, zone, category) -> int:
    from ssp.supplies.models import SupplyItem
    from ssp.visits.models import Visit

    return db.session.scalar(
        _items(
            period,
            zone,
            func.count(distinct(Visit.participant_id)),
            where=[SupplyItem.category == category],
        )
    )


def _reference_services(period, zone) -> dict:
    """Per service (times given, people), the Service enum's order."""
    from ssp.visits.models import Service, Visit, VisitService

    found = {
        service: (n, p)
        for service, n, p in db.session.execute(
            select(
                VisitService.service,
                func.sum(VisitService.count),
                func.count(distinct(Visit.participant_id)),
            )
            .join(Visit, Visit.id == VisitService.visit_id)
            .where(_window(period, zone))
            .group_by(VisitService.service)
        )
    }
    return {service: found.get(service, (0, 0)) for service in Service}


def _reference_overdose(period, zone) -> metrics.Overdose:
    from ssp.supplies.models import SupplyCategory, SupplyItem
    from ssp.visits.models import NaloxoneReason, Service, VisitItem

    naloxone = SupplyItem.category == SupplyCategory.NALOXONE
    reasons = dict(
        db.session.execute(
            _items(
                period, zone, VisitItem.reason, func.sum(VisitItem.quantity), where=[naloxone]
            ).group_by(VisitItem.reason)
        ).all()
    )
    per_item = db.session.execute(
        _items(
            period,
            zone,
            SupplyItem.name,
            SupplyItem.unit,
            func.sum(VisitItem.quantity),
            SupplyItem.doses_per_unit,
            where=[naloxone],
        )
        .group_by(SupplyItem.name, SupplyItem.unit, SupplyItem.doses_per_unit)
        .order_by(SupplyItem.name, SupplyItem.unit)
    ).all()
    services = _reference_services(period, zone)
    kits_by_reason = {r.label: reasons.get(r, 0) for r in NaloxoneReason} | {
        "Reason not recorded": reasons.get(None, 0)
    }
    return metrics.Overdose(
        kits=sum(kits_by_reason.values()),
        kits_by_reason=kits_by_reason,
        units_and_doses={
            (SupplyCategory.NALOXONE.value, name, unit): (units, int(doses or 1))
            for name, unit, units, doses in per_item
        },
        people_receiving_kits=_people_given(period, zone, SupplyCategory.NALOXONE),
        reversals_reported=services[Service.OVERDOSE_REVERSAL_REPORTED][0],
        people_trained=services[Service.NALOXONE_TRAINING][1],
    )


def _reference_demographics(period, zone) -> metrics.Demographics:
    """The people served, distinct in SQL, joined to their participants."""
    from ssp.participants.models import Gender, Participant, RaceEthnicity
    from ssp.visits.models import Visit

    served = (
        select(Visit.participant_id)
        .where(_window(period, zone), Visit.participant_id.is_not(None))
        .distinct()
        .subquery()
    )
    people = db.session.execute(
        select(Participant.birth_year, Participant.gender, Participant.race_ethnicity).join(
            served, served.c.participant_id == Participant.id
        )
    ).all()
    age = {label: 0 for _, _, label in metrics.AGE_BANDS} | {metrics.NOT_RECORDED: 0}
    for year, _, _ in people:
        age[metrics._age_band(period.year - year if year is not None else None)] += 1

    def table(values, kinds):
        return {k.label: values.count(k) for k in kinds} | {
            metrics.NOT_RECORDED: values.count(None)
        }

    return metrics.Demographics(
        age=age,
        gender=table([g for _, g, _ in people], Gender),
        race_ethnicity=table([r for _, _, r in people], RaceEthnicity),
    )


def _assert_matches_reference(m: metrics.MonthMetrics, zone) -> None:
    """Each section the metrics hold, against the straightforward queries."""
    from ssp.visits.models import Service

    period = m.period
    assert m.summary == _reference_summary(period, zone)
    if m.supplies is not None:
        assert m.supplies == _reference_supplies(period, zone)
    if m.overdose is not None:
        assert m.overdose == _reference_overdose(period, zone)
    if m.services is not None:
        expected = _reference_services(period, zone)
        assert m.services == {
            s.label: expected[s] for s in Service if s != Service.OVERDOSE_REVERSAL_REPORTED
        }
    if m.demographics is not None:
        assert m.demographics == _reference_demographics(period, zone)


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["2026-03", "2025-07", "2026-Q1", "FY2026", "2026-11-YTD"])
def test_tallied_figures_match_the_straightforward_queries(seeded, key):
    """A period computed alone (its own tallies), a longer one from its months' tallies
    merged, and each of those months: every figure as the per-period queries give it."""
    period = parse_period(key, 7)
    alone = compute(period, seeded, ALL)
    _assert_matches_reference(alone, seeded)
    if period.length > 1:
        whole, months = compute_with_months(period, seeded, ALL)
        assert whole == alone
        assert [m.period for m in months] == period.months()
        for month in months:
            _assert_matches_reference(month, seeded)


def test_the_edge_cases_land_where_they_belong(seeded):
    """Checked by hand: month boundaries at midnight in Los Angeles (both sides of the
    change to daylight time), group contacts and head counts, voided visits nowhere."""
    february, march, april = (compute(Month(2026, m), seeded, ALL) for m in (2, 3, 4))
    assert february.summary.visits_by_site["Edge clinic"] == 1
    assert march.summary.visits_by_site["Edge clinic"] == 3  # the voided visit left out
    assert march.summary.people_by_site["Edge clinic"] == 2
    assert april.summary.visits_by_site["Edge clinic"] == 1
    june, july = compute(Month(2025, 6), seeded, PARTS), compute(Month(2025, 7), seeded, PARTS)
    assert june.summary.visits_by_site["Edge clinic"] == july.summary.visits_by_site["Edge clinic"]
    assert "Edge clinic" not in compute(Month(2025, 8), seeded, PARTS).summary.visits_by_site
    assert march.summary.visits_by_site["Edge outreach"] == 5
    assert march.summary.people_by_site["Edge outreach"] == 1
    # The seed's anonymous contacts each counted one person: the groups are ours.
    assert march.summary.outreach.group_contacts == 2
    quarter = compute_with_months(parse_period("2026-Q1"), seeded, ALL)[0]
    assert quarter.summary.outreach.group_contacts == 2
    assert quarter.summary.outreach.anonymous_people == sum(
        compute(m, seeded, ["summary"]).summary.outreach.anonymous_people
        for m in quarter.period.months()
    )
    assert march.overdose.kits_by_reason["Reason not recorded"] >= 2
    assert march.overdose.people_trained >= 1


@pytest.mark.parametrize("key", ["FY2026", "2026-Q3", "2026-11-YTD"])
@pytest.mark.parametrize("sections", [PARTS, GLANCE, ["summary"]])
def test_months_computed_together_match_each_month_alone(seeded, key, sections):
    period = parse_period(key, 7)
    together = compute_months(period.months(), seeded, sections)
    alone = [compute(m, seeded, sections, parts_only=True) for m in period.months()]
    assert together == alone
    assert any(m.summary.new_people_served for m in together)
    if "referrals" in sections:
        assert any(sum(m.referrals.made_and_completed.values()) for m in together)
        assert any(m.referrals.follow_ups_overdue_at_month_end for m in together)


@pytest.mark.parametrize("key", ["2026-10", "2026-Q2", "FY2026", "2026-11-YTD"])
@pytest.mark.parametrize("sections", [GLANCE, ["summary", "overdose"], ["summary"]])
def test_a_compared_glance_matches_the_period_computed_in_full(seeded, key, sections):
    period = parse_period(key, 7)
    full = glance_of(compute(period, seeded, sections, parts_only=True))
    assert glance(period, seeded, sections) == full
    if period.length > 1:
        months = compute_months(period.months(), seeded, sections)
        assert glance(period, seeded, sections, months) == full
        assert glance_with_months(period, seeded, sections) == (full, months)
    assert full.people_served and full.visits > full.participant_visits


@pytest.mark.parametrize("key", ["2026-10", "FY2026", "2026-Q3"])
def test_trends_read_from_months_match_the_trends_queried(seeded, key):
    period = parse_period(key, 7)
    known = {m.period: m for m in compute_months(period.months(), seeded, PARTS)}
    assert trends(period, seeded, known=known) == trends(period, seeded)
    assert compute(period, seeded, ALL, months=list(known.values())) == compute(period, seeded, ALL)
