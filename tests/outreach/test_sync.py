"""The sealed outbox's server side: contacts sealed as a phone seals them are recorded
exactly once through the visit rules; refused ones say why and write nothing; held ones
wait for a manager; an unknown code is enrolled in the field."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.outreach import sealing
from ssp.outreach.models import HeldContact, HeldStatus
from ssp.participants.models import Participant
from ssp.supplies.models import StockMovement
from ssp.visits.models import Visit


@pytest.fixture
def team(app, factory, browser):
    ids = {
        "site": factory.site("Street team", "outreach"),
        "syringe": factory.supply_item("Syringe 1 mL 28G", "syringe", "syringe"),
        "naloxone": factory.supply_item("Naloxone nasal 4 mg", "naloxone", "kit"),
        "strip": factory.supply_item("Fentanyl test strip", "test_strip", "strip"),
    }
    ids["known"] = factory.participant("MAPH0687", site_id=ids["site"])
    ids["user"] = factory.user("walker1", "front_desk", site_id=ids["site"])
    browser.sign_in("walker1")
    setup = browser.get("/outreach/api/setup").get_json()
    browser.setup = setup
    browser.ids = ids
    return browser


def _contact(ids, **changes):
    contact = {
        "code": None,
        "anonymous": True,
        "people": 1,
        "site_id": ids["site"],
        "zone_id": None,
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        "items": {str(ids["syringe"]): 10},
        "reasons": {},
        "collected": 4,
        "others": 0,
    }
    contact.update(changes)
    return contact


def _sealed(team, contact, key=None, user_id=None, setup=None):
    setup = setup or team.setup
    envelope = sealing.seal(
        contact,
        kid=setup["key"]["kid"],
        public=setup["key"]["jwk"],
        user_id=user_id or setup["user_id"],
        submission_key=key or sealing.b64url(__import__("secrets").token_bytes(16)),
    )
    return envelope.as_json()


def _sync(team, envelopes):
    response = team.client.post(
        "/outreach/api/sync",
        data=json.dumps({"contacts": envelopes}),
        content_type="application/json",
        headers={"X-CSRFToken": team.setup["csrf_token"]},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return [(r["status"], r["message"]) for r in response.get_json()["results"]]


def _visits(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Visit))


def test_the_setup_holds_no_participant_data_and_a_public_key_only(app, team):
    text = json.dumps(team.setup)
    assert "MAPH0687" not in text and "PRIVATE" not in text
    assert team.setup["key"]["jwk"]["crv"] == "P-256" and "d" not in team.setup["key"]["jwk"]
    assert [item for site in team.setup["sites"] for item in site["quick"]]


def test_contacts_are_saved_once_with_their_stock(app, team):
    ids = team.ids
    envelopes = [
        _sealed(team, _contact(ids)),
        _sealed(team, _contact(ids, code="maph-0687", anonymous=False)),
        _sealed(team, _contact(ids, people=5, items={str(ids["strip"]): 5})),
    ]
    assert [status for status, _ in _sync(team, envelopes)] == ["saved"] * 3
    assert [status for status, _ in _sync(team, envelopes)] == ["already_saved"] * 3
    with app.app_context():
        visits = db.session.scalars(select(Visit).order_by(Visit.id)).all()
        assert [(v.participant_id, v.people_count, v.kind.value) for v in visits] == [
            (None, 1, "outreach"),
            (ids["known"], 1, "outreach"),
            (None, 5, "outreach"),
        ]
        assert all(v.received_at is not None and v.site_id == ids["site"] for v in visits)
        moved = db.session.scalar(select(func.sum(StockMovement.delta)))
        assert moved == -25


def test_an_unknown_code_is_enrolled_in_the_field_for_review(app, team, signed_in):
    ids = team.ids
    result = _sync(team, [_sealed(team, _contact(ids, code="MAPH0688", anonymous=False))])
    assert result[0][0] == "saved"
    with app.app_context():
        person = db.session.scalar(select(Participant).where(Participant.code == "MAPH0688"))
        assert person.enrolled_in_field and person.review_pending


def test_a_contact_the_rules_refuse_is_held_never_dropped(app, team):
    ids = team.ids
    over = _contact(ids, items={str(ids["syringe"]): 5000})
    no_reason = _contact(ids, items={str(ids["naloxone"]): 1})
    statuses = _sync(team, [_sealed(team, over), _sealed(team, no_reason)])
    assert [s for s, _ in statuses] == ["held", "held"]
    assert "at most" in statuses[0][1].lower() and "naloxone" in statuses[1][1].lower()
    assert _visits(app) == 0
    with app.app_context():
        held = db.session.scalars(select(HeldContact)).all()
        assert {h.status for h in held} == {HeldStatus.HELD} and len(held) == 2


@pytest.mark.parametrize(
    "spoil",
    [
        lambda e: {**e, "ct": e["ct"][:-4] + ("AAAA" if not e["ct"].endswith("AAAA") else "BBBB")},
        lambda e: {**e, "key": e["key"][:-1] + ("x" if e["key"][-1] != "x" else "y")},
        lambda e: {**e, "kid": "0123456789abcdef"},
        lambda e: {**e, "v": 2},
        lambda e: {**e, "epk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}},
        lambda e: "not even an object",
    ],
    ids=["altered", "other-key-field", "unknown-key", "version", "bad-point", "garbage"],
)
def test_a_tampered_contact_is_refused_with_a_reason_and_nothing_written(app, team, spoil, caplog):
    envelope = spoil(_sealed(team, _contact(team.ids, code="MAPH0687", anonymous=False)))
    ((status, message),) = _sync(team, [envelope])
    assert status == "refused" and message
    assert _visits(app) == 0
    assert "MAPH0687" not in caplog.text


def test_a_contact_from_another_users_session_is_refused(app, team, factory):
    other = factory.user("walker2", "front_desk", site_id=team.ids["site"])
    envelope = _sealed(team, _contact(team.ids), user_id=other)
    ((status, message),) = _sync(team, [envelope])
    assert status == "refused" and "another account" in message
    assert _visits(app) == 0


def test_rotating_the_key_keeps_earlier_contacts_readable_until_retired(app, team):
    from ssp.outreach import services

    early = _sealed(team, _contact(team.ids))
    with app.app_context():
        new_key = services.rotate_key()
        db.session.commit()
        kid = new_key.kid
    fresh = team.get("/outreach/api/setup").get_json()
    assert fresh["key"]["kid"] == kid != team.setup["key"]["kid"]
    assert _sync(team, [early])[0][0] == "saved"
    late = _sealed(team, _contact(team.ids))  # still sealed to the old key
    with app.app_context():
        services.retire_keys_before(db.session.get(type(new_key), new_key.id))
        db.session.commit()
    ((status, message),) = _sync(team, [late])
    assert status == "refused" and "retired" in message


def test_a_batch_over_the_limit_is_refused_whole(app, team):
    envelopes = [_sealed(team, _contact(team.ids)) for _ in range(101)]
    response = team.client.post(
        "/outreach/api/sync",
        data=json.dumps({"contacts": envelopes}),
        content_type="application/json",
        headers={"X-CSRFToken": team.setup["csrf_token"]},
    )
    assert response.status_code == 413 and _visits(app) == 0


def test_a_manager_records_a_held_contact_again_once_the_rule_allows_it(app, team, factory):
    ids = team.ids
    _sync(team, [_sealed(team, _contact(ids, items={str(ids["syringe"]): 5000}))])
    from ssp.supplies.models import SupplyItem

    with app.app_context():
        db.session.get(SupplyItem, ids["syringe"]).max_per_visit = 10_000
        db.session.commit()
        held_id = db.session.scalar(select(HeldContact.id))
        refusals = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "outreach_contact_held")
        )
        assert refusals == 1
    factory.user("boss1", "manager", site_id=ids["site"])
    team.post("/sign-out", {})
    team.sign_in("boss1")
    page = team.get("/outreach/review").get_data(as_text=True)
    assert "Contacts held back (1)" in page
    response = team.post(f"/outreach/held/{held_id}/retry", {})
    assert response.status_code == 303
    assert _visits(app) == 1
    with app.app_context():
        assert db.session.get(HeldContact, held_id).status == HeldStatus.SAVED


def test_the_review_list_records_whose_codes_it_showed(app, team, factory):
    ids = team.ids
    over = _contact(ids, code="MAPH0687", anonymous=False, items={str(ids["syringe"]): 5000})
    _sync(team, [_sealed(team, over)])
    factory.user("boss1", "manager", site_id=ids["site"])
    team.post("/sign-out", {})
    team.sign_in("boss1")
    assert "MAPH0687" in team.get("/outreach/review").get_data(as_text=True)
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"held_contacts_shown", "participants_shown"} <= actions


def test_rotate_key_on_the_command_line(app, team):
    from tests.conftest import SECRET
    from tests.test_cli import FAST, run

    cli_env = {
        "SSP_SECRET_KEY": SECRET,
        "SSP_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        **FAST,
    }

    first = run(["outreach", "rotate-key"], **cli_env)
    assert first.exit_code == 0 and "Published the new sealing key" in first.output
    second = run(["outreach", "rotate-key", "--retire-older"], **cli_env)
    assert second.exit_code == 0 and "Retired 2 earlier keys." in second.output
    ((status, message),) = _sync(team, [_sealed(team, _contact(team.ids))])
    assert status == "refused" and "retired" in message


def test_an_admin_chooses_a_sites_quick_counters(app, factory, signed_in):
    site = factory.site("Van 3", "mobile")
    syringe = factory.supply_item("Syringe 1 mL 28G", "syringe", "syringe")
    pads = factory.supply_item("Alcohol pad", "injection", "pad")
    admin = signed_in("admin")
    default = next(
        s for s in admin.get("/outreach/api/setup").get_json()["sites"] if s["id"] == site
    )
    assert default["quick"] == [syringe]  # the defaults found in this catalogue
    page = admin.get(f"/admin/sites/{site}").get_data(as_text=True)
    assert "Quick counters on the outreach screen" in page
    response = admin.post(
        f"/admin/sites/{site}",
        {"name": "Van 3", "kind": "mobile", "quick_items": [str(pads), str(syringe)]},
    )
    assert response.status_code == 302
    chosen = next(
        s for s in admin.get("/outreach/api/setup").get_json()["sites"] if s["id"] == site
    )
    assert sorted(chosen["quick"]) == sorted([pads, syringe])
