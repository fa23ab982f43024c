"""The audit trail: who, what, which object, when and from where; never a password."""

from __future__ import annotations

from sqlalchemy import select

from ssp.audit import AuditEvent, record
from ssp.extensions import db


def _events(app) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        for event in events:
            db.session.expunge(event)
        return events


def test_record_drops_secret_keys_and_fills_nothing_outside_a_request(app):
    with app.app_context():
        record(
            "something",
            object_type="thing",
            object_id=7,
            detail={"password": "x", "new_password_hash": "y", "session_token": "z", "kept": 1},
        )
        db.session.commit()
    event = _events(app)[-1]
    assert event.detail == {"kept": 1}
    assert (event.user_id, event.remote_addr, event.object_type, event.object_id) == (
        None,
        None,
        "thing",
        7,
    )
    assert event.occurred_at is not None


def test_catalogue_changes_are_audited_with_who_and_where(app, signed_in):
    admin = signed_in("admin")
    admin.post(
        "/admin/supplies/new",
        {
            "name": "Hygiene kit",
            "category": "hygiene",
            "unit": "kit",
            "units_per_pack": "10",
            "reorder_level": "5",
        },
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    item_id = _events(app)[-1].object_id
    admin.post(
        f"/admin/supplies/{item_id}",
        {
            "name": "Hygiene kit",
            "category": "hygiene",
            "unit": "kit",
            "units_per_pack": "20",
            "reorder_level": "5",
        },
    )
    admin.post(f"/admin/supplies/{item_id}/deactivate")
    events = [e for e in _events(app) if e.object_type == "supply_item"]
    assert [e.action for e in events] == [
        "supply_item_created",
        "supply_item_updated",
        "supply_item_deactivated",
    ]
    assert events[0].remote_addr == "10.1.2.3"
    assert events[1].detail == {"units_per_pack": ["10", "20"]}
    sign_in = next(e for e in _events(app) if e.action == "sign_in")
    assert all(e.user_id == sign_in.user_id for e in events)


def test_behind_a_trusted_proxy_the_client_address_is_recorded(tmp_path, app):
    from tests.conftest import Browser, make_app

    proxied = make_app(tmp_path / "proxied", PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1)
    browser = Browser(proxied.test_client())
    browser.get("/sign-in")
    browser.post(
        "/sign-in",
        {"username": "nobody", "password": "wrong password 1"},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert _events(proxied)[-1].remote_addr == "203.0.113.9"
    with proxied.app_context():
        db.engine.dispose()
