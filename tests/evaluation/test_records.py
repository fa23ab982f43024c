"""The records' quasi-identifier ladders and person-months, without a database: age bands
as the reports band them, sites and kinds of a person-month at several sites."""

from __future__ import annotations

import datetime as dt

from ssp.evaluation import records as rec
from ssp.participants.models import Gender
from ssp.staff.models import SiteKind
from ssp.visits.models import VisitKind

SITES = {
    1: rec.SiteFacts("Harbor", SiteKind.FIXED),
    2: rec.SiteFacts("Dock", SiteKind.FIXED),
    3: rec.SiteFacts("Van", SiteKind.MOBILE),
}


def visit(person, day, site, kind=VisitKind.FIXED, birth_year=1990, syringes=10):
    counts = dict.fromkeys(rec.COUNT_COLUMNS, 0)
    counts.update(visits=1, supplies_syringe=syringes)
    return rec.Record(
        person=person,
        day=dt.date.fromisoformat(day),
        sites=frozenset([site]),
        models=frozenset([kind]),
        birth_year=birth_year,
        gender=Gender.WOMAN if person else None,
        race_ethnicity=None,
        primary_substance=None,
        injects=True if person else None,
        counts=counts,
    )


def test_age_bands_are_the_reports_at_the_year_of_the_visit():
    assert rec.age_ladder(visit(1, "2026-01-05", 1, birth_year=2002)) == (
        "18 to 24",
        "Under 35",
        "Suppressed",
    )
    assert rec.age_ladder(visit(1, "2027-01-05", 1, birth_year=2002))[0] == "25 to 34"
    assert rec.age_ladder(visit(1, "2026-01-05", 1, birth_year=1950))[:2] == (
        "65 and over",
        "55 and over",
    )
    assert rec.age_ladder(visit(1, "2026-01-05", 1, birth_year=None)) == (
        "Not recorded",
        "Not recorded",
        "Suppressed",
    )


def test_labels_and_not_recorded():
    known, anonymous = visit(1, "2026-10-01", 1), visit(None, "2026-10-01", 1)
    assert rec.gender_ladder(known) == ("Woman", "Suppressed")
    assert rec.gender_ladder(anonymous) == ("Not recorded", "Suppressed")
    assert rec.injects_ladder(known)[0] == "Yes" and rec.injects_ladder(anonymous)[0] == (
        "Not recorded"
    )
    assert rec.service_model_ladder(known) == ("Fixed site", "Suppressed")


def test_person_months_add_up_and_name_several_sites_as_such():
    visits = [
        visit(1, "2026-10-01", 1, syringes=5),
        visit(1, "2026-10-20", 2, syringes=7),  # Harbor and Dock: both fixed sites
        visit(1, "2026-11-02", 3, VisitKind.MOBILE),
        visit(2, "2026-10-03", 1),
        visit(2, "2026-10-04", 3, VisitKind.MOBILE),  # a fixed site and the van
        visit(None, "2026-10-05", 1),  # anonymous: no person-month
    ]
    months = {(m.person, m.day): m for m in rec.person_months(visits)}
    assert set(months) == {
        (1, dt.date(2026, 10, 1)),
        (1, dt.date(2026, 11, 1)),
        (2, dt.date(2026, 10, 1)),
    }
    october = months[(1, dt.date(2026, 10, 1))]
    assert (october.counts["visits"], october.counts["supplies_syringe"]) == (2, 12)
    assert rec.location_ladder(october, SITES) == (rec.SEVERAL_SITES, "Fixed site", "Suppressed")
    both = months[(2, dt.date(2026, 10, 1))]
    assert rec.location_ladder(both, SITES)[:2] == (rec.SEVERAL_SITES, rec.SEVERAL_KINDS)
    assert rec.service_model_ladder(both)[0] == rec.SEVERAL_MODELS
    assert rec.location_ladder(months[(1, dt.date(2026, 11, 1))], SITES)[:2] == (
        "Van",
        "Mobile unit",
    )
    assert rec.period_ladder(october) == ("2026-W40", "2026-10")
