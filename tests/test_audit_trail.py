"""The audit trail: immutable rows, participant page views, the admin page and its CSV,
and the retention purge."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.timeutil import program_today


def test_audit_rows_cannot_be_changed_or_deleted_even_by_raw_sql(app):
    from ssp.audit import record

    with app.app_context():
        record("something", object_type="thing", object_id=1)
        db.session.commit()
        for statement in ("UPDATE audit_events SET action = 'edited'", "DELETE FROM audit_events"):
            with pytest.raises(DatabaseError):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.scalar(select(AuditEvent.action)) == "something"


def test_every_participant_page_view_is_recorded(app, factory, signed_in):
    participant = factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    desk.get(f"/participants/{participant}")
    desk.get(f"/participants/{participant}")
    with app.app_context():
        views = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "participant_viewed")
        ).all()
        assert [(v.object_id, v.detail) for v in views] == [(participant, None)] * 2
        assert all(v.user_id is not None and v.remote_addr for v in views)


def test_admin_filters_pages_and_exports_the_trail(app, factory, signed_in):
    participant = factory.participant("MAPH0687")
    factory.user("desk1", "front_desk")
    from tests.conftest import Browser

    desk = Browser(app.test_client())
    desk.sign_in("desk1")
    desk.get(f"/participants/{participant}")
    admin = signed_in("admin")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "participant_viewed" in page and "sign_in" in page  # under "As recorded"
    link = f'<a href="/participants/{participant}">participant #{participant}</a>'
    assert f"Viewed the page of {link}" in page and "Signed in" in page
    assert "MAPH0687" not in page
    with app.app_context():
        desk_id = db.session.scalar(
            select(AuditEvent.user_id).where(AuditEvent.action == "participant_viewed")
        )
    only = admin.get(f"/admin/audit?user={desk_id}&action=participant_viewed").get_data(
        as_text=True
    )
    assert only.count("participant_viewed") >= 1 and "site_created" not in only
    with app.app_context():
        today = program_today()
    tomorrow = (today + dt.timedelta(days=2)).isoformat()
    assert "No events match." in admin.get(f"/admin/audit?start={tomorrow}").get_data(as_text=True)
    for bad in (
        "?user=x",
        "?start=tomorrow",
        "?end=1999-12-31",
        "?object_id=-1",
        "?page=0",
        "?start=2026-02-02&end=2026-01-01",
        f"?action={'a' * 70}",
    ):
        assert admin.get("/admin/audit" + bad).status_code == 400, bad
    app.config["AUDIT_PAGE_SIZE"] = 2
    assert "Page 1 of" in admin.get("/admin/audit").get_data(as_text=True)

    response = admin.get("/admin/audit.csv?action=participant_viewed")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv" and len(rows) == 1
    assert rows[0]["user"] == "desk1" and rows[0]["object_type"] == "participant"
    assert rows[0]["what_happened"] == f"Viewed the page of participant #{participant}"
    assert "MAPH0687" not in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "audit_exported")
            )
            == 1
        )


def test_only_admins_see_the_trail(app, signed_in, factory):
    desk = signed_in("manager")
    assert desk.get("/admin/audit").status_code == 403
    assert desk.get("/admin/audit.csv").status_code == 403


# --- retention -----------------------------------------------------------------------


def test_purge_removes_long_inactive_people_but_keeps_their_visit_counts(app, factory):
    from ssp.participants.models import Participant
    from ssp.referrals.models import Referral
    from ssp.timeutil import utcnow
    from ssp.visits.models import Visit
    from tests.conftest import SECRET
    from tests.test_cli import FAST, run

    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    site = factory.site()
    user = factory.user("boss1", "manager", site_id=site)
    old = factory.participant("OLDX0101")
    recent = factory.participant("NEWX0202")
    long_ago = utcnow() - dt.timedelta(days=4 * 365)
    with app.app_context():
        db.session.get(Participant, old).created_at = long_ago
        db.session.get(Participant, recent).created_at = long_ago
        db.session.commit()
    factory.visit(old, user_id=user, site_id=site, occurred_at=long_ago)
    factory.visit(recent, user_id=user, site_id=site, occurred_at=long_ago)
    factory.visit(recent, user_id=user, site_id=site)  # seen this year
    referral_id = factory.referral(old, user_id=user, now=long_ago)
    with app.app_context():
        from ssp.referrals import services as referrals
        from ssp.referrals.models import Referral as ReferralModel
        from ssp.staff.models import User

        # Completed long ago, so its follow-up is closed too: nothing is still open.
        referrals.change_status(
            db.session.get(ReferralModel, referral_id),
            "completed",
            user=db.session.get(User, user),
            now=long_ago,
        )
        db.session.commit()
    env = {
        "SSP_SECRET_KEY": SECRET,
        "SSP_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        **FAST,
    }

    dry = run(["purge", "--inactive-years", "3", "--dry-run"], **env)
    assert dry.exit_code == 0 and "Dry run, nothing changed: 1 participants" in dry.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 2

    done = run(["purge", "--inactive-years", "3"], **env)
    assert done.exit_code == 0, done.output
    with app.app_context():
        assert set(db.session.scalars(select(Participant.code))) == {"NEWX0202"}
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 3
        assert (
            db.session.scalar(
                select(func.count()).select_from(Visit).where(Visit.participant_id.is_(None))
            )
            == 1
        )
        assert db.session.scalar(select(func.count()).select_from(Referral)) == 0
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "participants_purged")
        )
        assert event.detail["participants"] == 1 and "OLDX0101" not in str(event.detail)
    bad = run(["purge", "--inactive-years", "0"], **env)
    assert bad.exit_code == 2 and "0 is not in the range" in bad.output
