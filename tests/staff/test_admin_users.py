"""Admin pages for staff accounts: create, change role and site, reset, (de)activate."""

from __future__ import annotations

from sqlalchemy import func, select

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.security import Role
from ssp.staff.models import User
from tests.conftest import PASSWORD, Browser, who


def _user(app, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def _audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_admin_creates_a_front_desk_user_who_can_sign_in(app, signed_in, factory):
    site_id = factory.site("Van", "mobile")
    admin = signed_in("admin")
    assert admin.get("/admin/users/new").status_code == 200
    response = admin.post(
        "/admin/users/new",
        {
            "username": "Desk.Two",
            "role": "front_desk",
            "site_id": str(site_id),
            "password": "a brand new password",
        },
        follow_redirects=True,
    )
    assert "Account desk.two created." in response.get_data(as_text=True)
    user = _user(app, "desk.two")
    assert user.role == Role.FRONT_DESK and user.site_id == site_id
    assert user.password_hash.startswith("$argon2id$")
    event = _audit(app, "user_created")[-1]
    assert event.object_id == user.id and "password" not in repr(event.detail)

    desk = Browser(app.test_client())
    assert who("desk.two") in desk.sign_in("desk.two", "a brand new password").get_data(
        as_text=True
    )


def test_create_user_bad_input_writes_nothing(app, signed_in):
    admin = signed_in("admin")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(User))
    cases = [
        (
            {"username": "ok-name", "role": "front_desk", "site_id": "", "password": "short"},
            "at least 12 characters",
        ),
        (
            {
                "username": "a b",
                "role": "front_desk",
                "site_id": "",
                "password": "long enough password",
            },
            "Usernames are 3 to 64 characters",
        ),
        (
            {
                "username": "admin1",
                "role": "front_desk",
                "site_id": "",
                "password": "long enough password",
            },
            "is taken",
        ),
        (
            {
                "username": "newname",
                "role": "superuser",
                "site_id": "",
                "password": "long enough password",
            },
            "Not a valid choice",
        ),
        (
            {
                "username": "newname",
                "role": "front_desk",
                "site_id": "999",
                "password": "long enough password",
            },
            "Not a valid choice",
        ),
        (
            {"username": "newname", "role": "front_desk", "site_id": "", "password": "NewName"},
            "at least 12",
        ),
    ]
    for data, message in cases:
        response = admin.post("/admin/users/new", data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), (data, message)
        assert 'value="' + data["username"] + '"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_change_role_and_default_site(app, signed_in, factory):
    site_id = factory.site("North")
    user_id = factory.user("desk1", "front_desk")
    admin = signed_in("admin")
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "Account desk1" in page
    response = admin.post(f"/admin/users/{user_id}", {"role": "manager", "site_id": site_id})
    assert response.status_code == 302
    user = _user(app, "desk1")
    assert user.role == Role.MANAGER and user.site_id == site_id
    assert _audit(app, "user_updated")[-1].detail == {
        "role": ["front_desk", "manager"],
        "site_id": [None, site_id],
    }


def test_last_admin_cannot_lose_the_role_or_be_deactivated(app, signed_in):
    admin = signed_in("admin")
    me = _user(app, "admin1")
    response = admin.post(f"/admin/users/{me.id}", {"role": "manager", "site_id": ""})
    assert response.status_code == 422
    assert "last active administrator" in response.get_data(as_text=True)
    response = admin.post(f"/admin/users/{me.id}/deactivate", follow_redirects=True)
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    assert _user(app, "admin1").role == Role.ADMIN and _user(app, "admin1").active


def test_deactivate_ends_sessions_and_blocks_sign_in(app, signed_in, factory):
    user_id = factory.user("desk1", "front_desk")
    desk = Browser(app.test_client())
    desk.sign_in("desk1")
    assert desk.client.get("/").status_code == 200

    admin = signed_in("admin")
    response = admin.post(f"/admin/users/{user_id}/deactivate", follow_redirects=True)
    assert "Account desk1 deactivated." in response.get_data(as_text=True)
    assert desk.client.get("/").status_code == 302  # the open session has ended
    assert desk.sign_in("desk1").status_code == 401

    admin.post(f"/admin/users/{user_id}/reactivate")
    assert desk.sign_in("desk1").status_code == 200
    assert [e.action for e in _audit(app, "user_deactivated")] == ["user_deactivated"]
    assert len(_audit(app, "user_reactivated")) == 1


def test_reset_password(app, signed_in, factory):
    user_id = factory.user("desk1", "front_desk")
    desk = Browser(app.test_client())
    desk.sign_in("desk1")
    admin = signed_in("admin")

    short = admin.post(f"/admin/users/{user_id}/password", {"password": "tiny"})
    assert short.status_code == 422 and "at least 12" in short.get_data(as_text=True)

    response = admin.post(f"/admin/users/{user_id}/password", {"password": "reset password 42"})
    assert response.status_code == 302
    assert desk.client.get("/").status_code == 302  # old session ended
    assert desk.sign_in("desk1", PASSWORD).status_code == 401
    assert desk.sign_in("desk1", "reset password 42").status_code == 200
    event = _audit(app, "password_reset")[-1]
    assert event.object_id == user_id and event.detail is None


def test_unknown_user_is_404(signed_in):
    admin = signed_in("admin")
    response = admin.get("/admin/users/9999")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
