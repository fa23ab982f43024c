"""Sealed contacts a stranger crafts: a control character, a lone surrogate or an absurd
length in the envelope or in any field of the contact inside is refused (that contact
only, with the reason), a contact of the wrong shape is refused rather than held, and the
review list shows whatever was held before without a 500, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from ssp.extensions import db
from ssp.outreach.models import HeldContact
from tests.outreach import test_sync
from tests.outreach.test_sync import _contact, _sealed, _sync, _visits

team = test_sync.team  # the signed-in outreach worker, with the setup the phone gets

ODD = ["\x00", "\ud800", "\x1b", "\n"]


def _held(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(HeldContact))


@pytest.mark.parametrize("character", ODD)
def test_a_submission_key_with_a_control_character_is_refused_alone(app, team, character):
    key = f"abcdefg{character}h"
    if character == "\ud800":  # cannot be sealed (nor stored): swapped in afterwards
        bad = {**_sealed(team, _contact(team.ids)), "key": key}
    else:
        bad = _sealed(team, _contact(team.ids), key=key)
    good = _sealed(team, _contact(team.ids))
    (refused, message), (saved, _) = _sync(team, [bad, good])
    assert refused == "refused"
    assert "control character" in message or "submission key" in message
    assert saved == "saved" and _visits(app) == 1 and _held(app) == 0


@pytest.mark.parametrize("character", ODD)
@pytest.mark.parametrize(
    "spoil",
    [
        lambda ids, c: {"code": f"MAPH{c}0687", "anonymous": False},
        lambda ids, c: {"occurred_at": dt.datetime.now(dt.UTC).isoformat() + c},
        lambda ids, c: {"items": {f"{ids['syringe']}{c}": 1}},
        lambda ids, c: {"reasons": {str(ids["naloxone"]): f"first{c}"}},
        lambda ids, c: {f"note{c}": "x"},
        lambda ids, c: {"extra": ["fine", {"deep": f"a{c}b"}]},
    ],
    ids=["code", "time", "item-key", "reason", "a-key", "deep"],
)
def test_a_control_character_anywhere_in_a_contact_is_refused(app, team, spoil, character):
    contact = _contact(team.ids, **spoil(team.ids, character))
    ((status, message),) = _sync(team, [_sealed(team, contact)])
    assert status == "refused" and "control character" in message
    assert _visits(app) == 0 and _held(app) == 0


def test_an_absurdly_long_string_in_a_contact_is_refused(app, team):
    contact = _contact(team.ids, code="M" * 5000, anonymous=False)
    ((status, message),) = _sync(team, [_sealed(team, contact)])
    assert status == "refused" and "longer than 100 characters" in message
    assert _visits(app) == 0 and _held(app) == 0


def _raw_sync(team, envelopes):
    return team.client.post(
        "/outreach/api/sync",
        data=json.dumps({"contacts": envelopes}),
        content_type="application/json",
        headers={"X-CSRFToken": team.setup["csrf_token"]},
    )


@pytest.mark.parametrize("character", ODD[:3])
def test_an_envelope_field_with_a_control_character_is_refused_alone(app, team, character):
    bad = {**_sealed(team, _contact(team.ids)), "kid": f"k{character}"}
    good = _sealed(team, _contact(team.ids))
    response = _raw_sync(team, [bad, good])
    assert response.status_code == 200, response.get_data(as_text=True)
    statuses = [r["status"] for r in response.get_json()["results"]]
    assert statuses == ["refused", "saved"]


@pytest.mark.parametrize(
    "changes",
    [
        {"items": ["x"]},
        {"items": "x"},
        {"reasons": [1]},
        {"items": {"1": "five"}},
        {"people": "two"},
        {"site_id": "1"},
        {"code": ["MAPH0687"], "anonymous": False},
        {"occurred_at": 12},
    ],
)
def test_a_contact_of_the_wrong_shape_is_refused_not_held(app, team, changes):
    ((status, message),) = _sync(team, [_sealed(team, _contact(team.ids, **changes))])
    assert status == "refused" and "malformed" in message
    assert _visits(app) == 0 and _held(app) == 0


def test_the_reviewed_repro_items_as_a_list_for_an_unknown_site(app, team, factory):
    """Once a 500 for every manager: now refused at the sync, and the page opens."""
    contact = {"site_id": 999999, "occurred_at": dt.datetime.now(dt.UTC).isoformat()}
    ((status, message),) = _sync(team, [_sealed(team, {**contact, "items": ["x"]})])
    assert status == "refused" and "malformed (items)" in message and _held(app) == 0
    factory.user("boss1", "manager", site_id=team.ids["site"])
    team.post("/sign-out", {})
    team.sign_in("boss1")
    assert team.get("/outreach/review").status_code == 200


def test_a_contact_held_for_an_unknown_site_still_shows_on_the_review_list(app, team, factory):
    contact = {"site_id": 999999, "occurred_at": dt.datetime.now(dt.UTC).isoformat()}
    ((status, _),) = _sync(team, [_sealed(team, contact)])
    assert status == "held"
    factory.user("boss1", "manager", site_id=team.ids["site"])
    team.post("/sign-out", {})
    team.sign_in("boss1")
    response = team.get("/outreach/review")
    assert response.status_code == 200
    assert "Contacts held back (1)" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "contact",
    [
        {"items": ["x"]},
        {"items": "x", "reasons": "y"},
        {"items": {"1": [3], "x": {"a": 1}, "99999999999999999999": 2}},
        {"people": "many", "code": None},
        {"people": 3.5},
        {"code": ["MAPH0687"], "anonymous": False},
        {"code": {"a": 1}},
        {},
    ],
)
def test_the_review_list_shows_whatever_was_held_before_without_a_500(app, team, factory, contact):
    """Rows held before contacts were checked for shape: the page shows them anyway."""
    with app.app_context():
        db.session.add(
            HeldContact(
                submission_key="held-before-1",
                user_id=team.ids["user"],
                reason="The contact names no site in use.",
                contact=contact,
                received_at=dt.datetime.now(dt.UTC),
            )
        )
        db.session.commit()
    factory.user("boss1", "manager", site_id=team.ids["site"])
    team.post("/sign-out", {})
    team.sign_in("boss1")
    response = team.get("/outreach/review")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    assert "Contacts held back (1)" in page and "names no site in use" in page
