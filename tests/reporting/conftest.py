"""A small program whose October 2026 numbers are worked out by hand in the tests.

It crosses the month boundary in the program's time zone (America/Los_Angeles: October
starts at 07:00 UTC on 1 October and ends at 07:00 UTC on 1 November), and holds a voided
visit, an anonymous walk-in, two records merged into one, and a referral made in October
but completed in November. Every free-text field, code, username and partner contact
carries a MARKER string that must never reach a report.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ssp.extensions import db

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    """A UTC time from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@pytest.fixture
def program(app, factory):
    """Build the fixture program; returns the ids the tests need."""
    from ssp.participants import services as participants
    from ssp.participants.models import Participant
    from ssp.referrals import services as referrals
    from ssp.referrals.models import Referral
    from ssp.staff.models import User
    from ssp.visits import services as visits
    from ssp.visits.models import Visit

    app.config["VISIT_BACKDATE_DAYS"] = 100_000  # the fixture lies in the past
    factory.profiles()
    ids = {
        "main": factory.site("Main site"),
        "van": factory.site("Van", "mobile"),
        "syringe": factory.supply_item("Syringe 1 mL 28G", "syringe", "syringe"),
        "naloxone": factory.supply_item("Naloxone nasal 4 mg", "naloxone", "kit"),
        "strips": factory.supply_item("Fentanyl test strip", "test_strip", "strip"),
        "partner": factory.partner(
            "Bridge Clinic", ["moud", "housing", "hiv_care"], contact="MARKER-CONTACT 555-0199"
        ),
    }
    ids["user"] = factory.user("markeruser", "manager", site_id=ids["main"])
    a = factory.participant("MARKAAA1", birth_year=1990, gender="woman", race_ethnicity="white")
    b = factory.participant("MARKBBB2", birth_year=1960, gender="man", race_ethnicity="black")
    c = factory.participant("MARKCCC3")
    d = factory.participant("MARKDDD4")
    with app.app_context():
        for pid, created in (
            (a, "2026-09-15 18:00"),
            (b, "2026-10-10 18:00"),
            (c, "2026-10-20 18:00"),
            (d, "2026-10-05 18:00"),
        ):
            db.session.get(Participant, pid).created_at = at(created)
        db.session.commit()
    s, n, t = ids["syringe"], ids["naloxone"], ids["strips"]
    user, main, van = ids["user"], ids["main"], ids["van"]
    visit = factory.visit
    ids["visits"] = {
        # 00:30 on 1 Oct in Los Angeles: October.
        "a_first": visit(
            a,
            user_id=user,
            site_id=main,
            items={s: 20},
            services={"hiv_test": 1},
            occurred_at=at("2026-10-01 07:30"),
        ),
        # 23:30 on 30 Sep in Los Angeles (1 Oct in UTC): September.
        "a_september": visit(
            a, user_id=user, site_id=main, items={s: 50}, occurred_at=at("2026-10-01 06:30")
        ),
        "b_van": visit(
            b,
            user_id=user,
            site_id=van,
            kind="mobile",
            items={s: 30, n: 2},
            reasons={n: "used"},
            syringes_collected=40,
            occurred_at=at("2026-10-15 19:00"),
        ),
        # 23:30 on 31 Oct in Los Angeles (1 Nov in UTC): October.
        "b_late": visit(
            b,
            user_id=user,
            site_id=van,
            kind="mobile",
            items={s: 10},
            occurred_at=at("2026-11-01 06:30"),
        ),
        "walk_in": visit(
            None,
            user_id=user,
            site_id=main,
            items={s: 5, t: 10},
            occurred_at=at("2026-10-10 20:00"),
        ),
        "c_main": visit(
            c,
            user_id=user,
            site_id=main,
            items={s: 15},
            services={"drug_checking": 2},
            occurred_at=at("2026-10-20 20:00"),
        ),
        "d_voided": visit(
            d,
            user_id=user,
            site_id=main,
            items={s: 99, n: 9},
            reasons={n: "first_kit"},
            occurred_at=at("2026-10-05 20:00"),
        ),
        # 00:30 on 1 Nov in Los Angeles: November.
        "d_november": visit(
            d, user_id=user, site_id=main, items={s: 7}, occurred_at=at("2026-11-01 07:30")
        ),
    }
    with app.app_context():
        manager = db.session.get(User, user)
        voided = db.session.get(Visit, ids["visits"]["d_voided"])
        visits.void_visit(
            voided, reason="MARKER-VOID entered twice", user=manager, now=at("2026-10-05 21:00")
        )
        db.session.get(Visit, ids["visits"]["b_late"]).secondary_reach = 3
        db.session.commit()
    # Referrals: A's MOUD referral completes in November; B's housing one in October;
    # D's HIV care referral was made in September and completes in October.
    refs = {
        "a_moud": factory.referral(
            a, user_id=user, category="moud", partner_id=ids["partner"], now=at("2026-10-03 18:00")
        ),
        "b_housing": factory.referral(
            b, user_id=user, category="housing", now=at("2026-10-20 18:00")
        ),
        "d_hiv": factory.referral(d, user_id=user, category="hiv_care", now=at("2026-09-28 18:00")),
    }
    with app.app_context():
        manager = db.session.get(User, user)
        for key, when in (
            ("a_moud", "2026-11-05 18:00"),
            ("b_housing", "2026-10-25 18:00"),
            ("d_hiv", "2026-10-02 18:00"),
        ):
            referrals.change_status(
                db.session.get(Referral, refs[key]), "completed", user=manager, now=at(when)
            )
        db.session.get(Referral, refs["a_moud"]).note = "MARKER-NOTE ask at intake"
        referrals.add_follow_up(
            participant_id=d,
            due_on=dt.date(2026, 10, 20),
            reason="MARKER-REASON bring ID",
            user=manager,
            now=at("2026-10-10 18:00"),
        )
        # C was A all along: merge C into A (C's October visit becomes A's).
        participants.merge(
            keep=db.session.get(Participant, a), absorb=db.session.get(Participant, c)
        )
        db.session.commit()
    ids.update(a=a, b=b, d=d, referrals=refs)
    return ids
