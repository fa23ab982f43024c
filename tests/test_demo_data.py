"""Synthetic demo data: `ssp seed-demo` and `ssp quickstart --demo`."""

from __future__ import annotations

from sqlalchemy import func, select

from ssp.extensions import db
from tests.test_cli import FAST, run


def _env(app) -> dict[str, str]:
    from tests.conftest import SECRET

    return {
        "SSP_SECRET_KEY": SECRET,
        "SSP_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        **FAST,
    }


def test_seed_demo_writes_a_consistent_program(app, factory):
    from ssp.participants.models import Participant
    from ssp.referrals.models import FollowUp, Referral
    from ssp.supplies.models import MovementReason, StockMovement
    from ssp.visits.models import Visit, VisitItem

    result = run(
        ["seed-demo", "--participants", "200", "--visits", "3000", "--months", "6", "--seed", "5"],
        **_env(app),
    )
    assert result.exit_code == 0, result.output
    assert "Added 200 participants, 3,000 visits" in result.output
    with app.app_context():
        count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Participant) == 200 and count(Visit) == 3000
        assert count(Referral) == count(FollowUp) > 0
        handed_out = db.session.scalar(
            select(func.sum(VisitItem.quantity))
            .join(Visit, Visit.id == VisitItem.visit_id)
            .where(Visit.voided_at.is_(None))
        )
        distributed = db.session.scalar(
            select(-func.sum(StockMovement.delta)).where(
                StockMovement.reason == MovementReason.DISTRIBUTION
            )
        )
        assert handed_out == distributed
        early = db.session.scalar(
            select(func.count())
            .select_from(Visit)
            .join(Participant, Participant.id == Visit.participant_id)
            .where(Visit.occurred_at < Participant.created_at)
        )
        assert early == 0
        assert (
            db.session.scalar(
                select(func.count()).select_from(Visit).where(Visit.participant_id.is_(None))
            )
            > 0
        )
    # The ids continue correctly afterwards (PostgreSQL sequences were moved on).
    factory.participant("ZZZZ9999")
    site = factory.site("Another site")
    assert site > 0


def test_seed_demo_refuses_bad_numbers(app):
    result = run(["seed-demo", "--visits", "-5"], **_env(app))
    assert result.exit_code == 2 and "-5 is not in the range" in result.output


def test_quickstart_demo_loads_a_small_program_once(tmp_path):
    from sqlalchemy import create_engine, text

    instance = tmp_path / "instance"
    first = run(
        ["quickstart", "--no-serve", "--demo", "--password-stdin"],
        input="admin password 123\n",
        SSP_INSTANCE_PATH=str(instance),
        **FAST,
    )
    assert first.exit_code == 0, first.output
    assert "Loaded demo data: 300 participants, 3,000 visits" in first.output
    second = run(["quickstart", "--no-serve", "--demo"], SSP_INSTANCE_PATH=str(instance), **FAST)
    assert "Keeping the existing visits" in second.output
    engine = create_engine(f"sqlite:///{instance / 'ssp.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM visits")).scalar() == 3000
    engine.dispose()
