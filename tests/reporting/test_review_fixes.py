"""Cases a review found: kits without a reason, referrals on voided visits, a failed
commit after the PDF was written, the CSV download's password check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ssp.extensions import db
from ssp.reporting import metrics
from ssp.reporting.periods import Month
from tests.conftest import Browser

LA = ZoneInfo("America/Los_Angeles")


def test_kits_without_a_reason_keep_the_reason_table_adding_up(app, program):
    from ssp.supplies.models import SupplyCategory, SupplyItem

    with app.app_context():
        # Test strips handed out in October become a naloxone item afterwards.
        db.session.get(SupplyItem, program["strips"]).category = SupplyCategory.NALOXONE
        db.session.commit()
        overdose = metrics.overdose(Month(2026, 10), LA)
    assert overdose.kits == 12
    assert overdose.kits_by_reason["Reason not recorded"] == 10
    assert sum(overdose.kits_by_reason.values()) == overdose.kits


def test_referrals_on_a_voided_visit_count_nowhere_and_are_not_chased(app, factory):
    from ssp.referrals.models import FollowUp, FollowUpStatus
    from ssp.staff.models import User
    from ssp.visits import services as visits
    from ssp.visits.models import Visit

    site = factory.site()
    user = factory.user("boss1", "manager", site_id=site)
    participant = factory.participant()
    visit_id = factory.visit(participant, user_id=user, site_id=site)
    from ssp.referrals import services as referrals

    with app.app_context():
        manager = db.session.get(User, user)
        referrals.make_referral(
            participant_id=participant,
            category="moud",
            partner_id=None,
            user=manager,
            visit_id=visit_id,
        )
        db.session.commit()
        today = dt.datetime.now(LA).date()
        period = Month(today.year, today.month)
        assert sum(metrics.referrals(period, LA).made.values()) == 1
        visits.void_visit(db.session.get(Visit, visit_id), reason="wrong person", user=manager)
        db.session.commit()
        assert sum(metrics.referrals(period, LA).made.values()) == 0
        assert db.session.scalar(select(FollowUp.status)) == FollowUpStatus.CANCELLED


def test_a_failed_commit_leaves_no_report_file(app, program, monkeypatch):
    from ssp.reporting.models import Report

    manager = Browser(app.test_client())
    manager.sign_in("markeruser")
    real_commit = db.session.commit

    def failing_commit():
        raise RuntimeError("disk full at commit")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    response = manager.post("/reports/generate", {"period": "2026-10", "funder": "standard"})
    monkeypatch.setattr(db.session, "commit", real_commit)
    assert response.status_code == 500
    assert not list(Path(app.config["REPORTS_DIR"]).glob("*.pdf"))
    with app.app_context():
        assert db.session.scalar(select(Report)) is None


def test_de_identified_downloads_need_no_second_password_the_audit_trail_does(
    app, program, monkeypatch
):
    """The preview shows the same figures without a second prompt, so the CSV and the
    archived PDF do not ask again; the audit trail (which names people) still does."""
    from ssp import timeutil

    later = timeutil.utcnow() + dt.timedelta(minutes=11)
    manager = Browser(app.test_client())
    manager.sign_in("markeruser")
    monkeypatch.setattr(timeutil, "utcnow", lambda: later)
    response = manager.get("/reports/preview.csv?period=2026-10&funder=standard")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    audit = manager.get("/admin/audit")
    assert audit.status_code in (302, 403)
    if audit.status_code == 302:
        assert audit.headers["Location"].startswith("/account/confirm")


@pytest.mark.parametrize("years", [3])
def test_purge_counts_referrals_and_open_follow_ups_as_activity(app, factory, years):
    from ssp.participants import services
    from ssp.participants.models import Participant
    from ssp.timeutil import utcnow
    from ssp.visits.models import Visit

    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    site = factory.site()
    user = factory.user("boss1", "manager", site_id=site)
    long_ago = utcnow() - dt.timedelta(days=5 * 365)
    referred = factory.participant("REFX0001")
    voided_only = factory.participant("VOID0002")
    with app.app_context():
        for pid in (referred, voided_only):
            db.session.get(Participant, pid).created_at = long_ago
        db.session.commit()
    factory.visit(referred, user_id=user, site_id=site, occurred_at=long_ago)
    factory.referral(referred, user_id=user)  # last week: still active
    recent = factory.visit(voided_only, user_id=user, site_id=site)
    from ssp.staff.models import User
    from ssp.visits import services as visits

    with app.app_context():
        visits.void_visit(
            db.session.get(Visit, recent),
            reason="was MARKER9 not VOID0002",
            user=db.session.get(User, user),
        )
        db.session.commit()
        plan = services.plan_purge(inactive_years=years)
        assert plan.participant_ids == [voided_only]
        services.purge(plan)
        db.session.commit()
        voided = db.session.get(Visit, recent)
        assert voided.participant_id is None and voided.void_reason is None
        assert voided.voided_at is not None  # still voided, still counting nowhere
        # Ids are never handed out again (SQLite AUTOINCREMENT; PostgreSQL sequences).
        again = services.enrol(code="NEWX0003", site_id=None, confirm_distinct=True)
        db.session.commit()
        assert again.id > voided_only
