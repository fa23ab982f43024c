"""Every section's numbers for October 2026, worked out by hand from tests/reporting/conftest.py."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from ssp.reporting import metrics
from ssp.reporting.periods import Month

LA = ZoneInfo("America/Los_Angeles")
OCTOBER = Month(2026, 10)


def _compute(app, period=OCTOBER):
    with app.app_context():
        return metrics.compute(period, LA, list(metrics.SECTION_FUNCTIONS))


def test_period_parsing_and_boundaries():
    assert Month.parse("2026-10") == OCTOBER
    for bad in ("2026-13", "26-10", "2026-1", "october", "", "2026-10-01", "1999-12"):
        with pytest.raises(ValueError):
            Month.parse(bad)
    assert OCTOBER.start(LA).isoformat() == "2026-10-01T07:00:00+00:00"
    # Daylight saving time ends on 1 November 2026 at 02:00, after midnight.
    assert OCTOBER.end(LA).isoformat() == "2026-11-01T07:00:00+00:00"
    assert Month(2026, 11).end(LA).isoformat() == "2026-12-01T08:00:00+00:00"
    assert OCTOBER.shifted(-10) == Month(2025, 12) and OCTOBER.shifted(3) == Month(2027, 1)
    assert OCTOBER.label == "October 2026"


def test_summary(app, program):
    s = _compute(app).summary
    assert (
        s.participants_served,
        s.new_enrolments,
        s.visits,
        s.participant_visits,
        s.walk_in_visits,
        s.secondary_reach,
    ) == (2, 2, 5, 4, 1, 3)
    assert s.visits_by_site == {"Main site": 3, "Van": 2}
    assert s.people_by_site == {"Main site": 1, "Van": 1}
    assert s.visits_by_kind == {"Fixed site": 3, "Mobile unit": 2, "Outreach": 0, "Delivery": 0}


def test_supplies(app, program):
    s = _compute(app).supplies
    assert [(i.name, i.units, i.people) for i in s.items] == [
        ("Syringe 1 mL 28G", 80, 2),
        ("Naloxone nasal 4 mg", 2, 1),
        ("Fentanyl test strip", 10, 0),
    ]
    assert (
        s.syringes_distributed,
        s.syringes_collected,
        s.people_receiving_syringes,
        s.sharps_containers,
    ) == (80, 40, 2, 0)


def test_overdose_and_services(app, program):
    m = _compute(app)
    assert (
        m.overdose.kits,
        m.overdose.people_receiving_kits,
        m.overdose.reversals_reported,
        m.overdose.people_trained,
    ) == (2, 1, 1, 0)
    assert m.overdose.kits_by_reason["Used on someone (overdose reversal)"] == 2
    assert sum(m.overdose.kits_by_reason.values()) == 2  # the voided first kits do not count
    assert m.services["HIV test"] == (1, 1)
    assert m.services["Drug checking"] == (2, 1)  # C's visit, now A's after the merge
    assert m.services["HCV test"] == (0, 0)


def test_referrals_and_follow_ups(app, program):
    r = _compute(app).referrals
    made = {k: v for k, v in r.made.items() if v}
    completed = {k: v for k, v in r.completed.items() if v}
    both = {k: v for k, v in r.made_and_completed.items() if v}
    assert made == {"MOUD (buprenorphine, methadone)": 1, "Housing": 1}
    assert completed == {"Housing": 1, "HIV care": 1}
    assert both == {"Housing": 1}
    assert (r.follow_ups_done, r.follow_ups_unreachable, r.follow_ups_overdue_at_month_end) == (
        2,
        0,
        2,
    )
    november = _compute(app, Month(2026, 11)).referrals
    assert {k: v for k, v in november.completed.items() if v} == {
        "MOUD (buprenorphine, methadone)": 1
    }


def test_demographics(app, program):
    d = _compute(app).demographics
    assert {k: v for k, v in d.age.items() if v} == {"35 to 44": 1, "65 and over": 1}
    assert {k: v for k, v in d.gender.items() if v} == {"Woman": 1, "Man": 1}
    assert {k: v for k, v in d.race_ethnicity.items() if v} == {
        "White": 1,
        "Black or African American": 1,
    }
    assert sum(d.age.values()) == 2


def test_trends(app, program):
    t = _compute(app).trends
    assert [p.key for p in t.periods][-2:] == ["2026-09", "2026-10"]
    assert len(t.periods) == 12 and t.periods[0].key == "2025-11"
    assert t.visits[-2:] == [1, 5]
    assert t.participants_served[-2:] == [1, 2]
    assert t.syringes_distributed[-2:] == [50, 80]
    assert t.naloxone_kits[-2:] == [0, 2]
    assert sum(t.visits[:-2]) == 0


def test_a_month_with_nothing(app, program):
    m = _compute(app, Month(2025, 3))
    assert m.summary.visits == 0 and m.summary.participants_served == 0
    assert m.supplies.items == []
