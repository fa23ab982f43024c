"""The faster ways of computing a report give the same figures as the plain ones.

A longer period's months are computed together (the small tables read once for all of
them), a compared period's glance comes from its months or from a few queries, and the
trends read months already computed. On a seeded program (voided visits, walk-ins,
referrals closed months later, follow-ups), each is checked against the period computed
alone, and the rewritten queries against the queries they replaced.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import distinct, func, select

from ssp.extensions import db
from ssp.reporting import metrics
from ssp.reporting.metrics import compute, compute_months, glance, glance_of, trends
from ssp.reporting.periods import Month, parse_period

NOW = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)
PARTS = list(metrics.PART_SECTIONS)
GLANCE = ["summary", "supplies", "overdose", "referrals"]
ALL = list(metrics.SECTION_FUNCTIONS)


@pytest.fixture
def seeded(app):
    """A program with sixteen months of visits; yields the program's time zone."""
    from ssp.demo import seed
    from ssp.timeutil import program_zone

    with app.app_context():
        seed(participants=200, visits=3000, months=16, seed_value=11, now=NOW)
        db.session.commit()
        yield program_zone()
        db.session.rollback()


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
    assert full.people_served and full.visits > full.participant_visits


@pytest.mark.parametrize("key", ["2026-10", "FY2026", "2026-Q3"])
def test_trends_read_from_months_match_the_trends_queried(seeded, key):
    period = parse_period(key, 7)
    known = {m.period: m for m in compute_months(period.months(), seeded, PARTS)}
    assert trends(period, seeded, known=known) == trends(period, seeded)
    assert compute(period, seeded, ALL, months=list(known.values())) == compute(period, seeded, ALL)


def test_rewritten_queries_match_the_queries_they_replaced(seeded):
    """Grouping by item id and site id, the enrolled people's visits read through their
    index, and the demographics in one pass: the same figures as before."""
    from ssp.participants.models import Participant
    from ssp.staff.models import Site
    from ssp.supplies.models import SupplyCategory, SupplyItem
    from ssp.visits.models import Visit, VisitItem

    for period in (Month(2026, 3), parse_period("FY2026", 7)):
        m = compute(period, seeded, ALL)
        window = metrics._counted_visits(period, seeded)
        items = db.session.execute(
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
        lines = [(i.category, i.name, i.unit, i.units, i.people) for i in m.supplies.items]
        assert sorted(lines) == sorted(tuple(row) for row in items)

        def people(*conditions, window=window):
            return db.session.scalar(
                select(func.count(distinct(Visit.participant_id)))
                .join(VisitItem, VisitItem.visit_id == Visit.id)
                .join(SupplyItem, SupplyItem.id == VisitItem.supply_item_id)
                .where(window, *conditions)
            )

        assert m.supplies.people_receiving_syringes == people(
            SupplyItem.category == SupplyCategory.SYRINGE
        )
        assert m.overdose.people_receiving_kits == people(
            SupplyItem.category == SupplyCategory.NALOXONE
        )
        by_site = db.session.execute(
            select(Site.name, func.count(distinct(Visit.participant_id)))
            .join(Site, Site.id == Visit.site_id)
            .where(window)
            .group_by(Site.name)
        ).all()
        assert m.summary.people_by_site == dict(sorted(by_site))
        enrolled = (Participant.created_at >= period.start(seeded)) & (
            Participant.created_at < period.end(seeded)
        )
        assert m.summary.new_people_served == db.session.scalar(
            select(func.count(distinct(Visit.participant_id)))
            .join(Participant, Participant.id == Visit.participant_id)
            .where(window, enrolled)
        )
        served = select(Visit.participant_id).where(window).distinct().subquery()
        genders = db.session.execute(
            select(Participant.gender, func.count(Participant.id))
            .join(served, served.c.participant_id == Participant.id)
            .group_by(Participant.gender)
        ).all()
        assert sum(m.demographics.gender.values()) == sum(n for _, n in genders)
        assert sorted(v for v in m.demographics.gender.values() if v) == sorted(
            n for _, n in genders
        )
        assert m.summary.new_people_served > 0
