"""Every page that shows a participant's code leaves an audit row naming who was shown.

A planted participant has a visit, a referral and a follow-up; every GET route of the
app is requested as an admin and as a manager, and any response that contains the code
must have added an audit row naming that participant.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.referrals.models import FollowUp

CODE = "PLNT0042"


@pytest.fixture
def planted(app, factory):
    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    factory.profiles()
    site = factory.site("Main site")
    item = factory.supply_item()
    person = factory.participant(CODE, site_id=site)
    user = factory.user("boss", "manager", site_id=site)
    visit = factory.visit(
        person,
        user_id=user,
        site_id=site,
        items={item: 5},
        occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    referral = factory.referral(person, user_id=user, category="hiv_care")
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp.id))
    return {
        "participant_id": person,
        "visit_id": visit,
        "referral_id": referral,
        "follow_up_id": follow_up,
        "site_id": site,
        "item_id": item,
        "user_id": user,
    }


def _urls(app, ids):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        values = {}
        for argument in rule.arguments:
            values[argument] = ids.get(argument, 1) if argument != "period_key" else "2026-10"
        with app.test_request_context():
            from flask import url_for

            yield rule.endpoint, url_for(rule.endpoint, **values)


def _rows_naming(app, participant_id) -> int:
    with app.app_context():
        events = db.session.scalars(select(AuditEvent)).all()
        return sum(
            1
            for e in events
            if e.object_type == "participant"
            and e.object_id == participant_id
            or participant_id in ((e.detail or {}).get("participants") or [])
        )


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_every_page_showing_a_code_is_audited(app, planted, signed_in, role):
    browser = signed_in(role)
    unaudited = []
    shown = 0
    for endpoint, url in _urls(app, planted):
        before = _rows_naming(app, planted["participant_id"])
        response = browser.get(url)
        body = response.get_data()
        if CODE.encode() not in body:
            continue
        shown += 1
        if _rows_naming(app, planted["participant_id"]) == before:
            unaudited.append(endpoint)
    assert shown >= 5
    assert not unaudited, unaudited


def test_the_typeahead_records_whom_it_listed(app, planted, signed_in):
    desk = signed_in("front_desk")
    desk.get("/")
    before = _rows_naming(app, planted["participant_id"])
    response = desk.client.post(
        "/api/participants/search",
        json={"q": CODE[:5]},
        headers={"X-CSRFToken": desk.token},
    )
    assert CODE in response.get_data(as_text=True)
    assert _rows_naming(app, planted["participant_id"]) == before + 1


def test_a_search_records_only_whom_it_listed(app, factory, signed_in):
    """Ten people listed (the typeahead's limit); an eleventh matches only by an earlier
    code, and their own code is part of a listed one: they are not shown, and the row
    must not say they were (the search loads only the people it lists)."""
    listed_ids = [factory.participant(f"QX7ZZ{n:04d}") for n in range(1, 11)]
    unlisted = factory.participant("ZZ0001")
    factory.merge(keep=unlisted, absorb=factory.participant("QX7Y9999"))
    desk = signed_in("front_desk")
    desk.get("/")
    before = _rows_naming(app, unlisted)  # the merge's own rows
    first = _rows_naming(app, listed_ids[0])
    response = desk.client.post(
        "/api/participants/search", json={"q": "QX7"}, headers={"X-CSRFToken": desk.token}
    )
    listed = response.get_json()["matches"]
    assert len(listed) == 10 and all(m["current_code"] != "ZZ0001" for m in listed)
    assert _rows_naming(app, unlisted) == before
    assert _rows_naming(app, listed_ids[0]) == first + 1  # a listed one is recorded


def test_a_view_row_never_makes_the_desk_wait_and_is_written_later(app, planted, signed_in):
    """While another writer holds SQLite's lock, the page answers at once; its audit row
    is written with the next page view that gets the lock, with the time of the view."""
    import sqlite3
    import time

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        pytest.skip("SQLite's locking")
    browser = signed_in("manager")
    before = _rows_naming(app, planted["participant_id"])
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = browser.get(f"/visits/{planted['visit_id']}")
        waited = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
    assert response.status_code == 200 and CODE in response.get_data(as_text=True)
    assert waited < 5
    assert _rows_naming(app, planted["participant_id"]) == before  # not yet
    browser.get(f"/referrals/{planted['referral_id']}")
    assert _rows_naming(app, planted["participant_id"]) == before + 2  # both now
