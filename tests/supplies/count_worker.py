"""A separate process that counts the shelf (used by test_concurrent_counts)."""

from __future__ import annotations


def count_shelf(
    database_url: str, site_id: int, item_id: int, user_id: int, counted: int, barrier
) -> None:
    """Wait for the others, then record a count of ``counted`` units."""
    from ssp import create_app
    from ssp.extensions import db
    from ssp.staff.models import User
    from ssp.supplies import stock
    from ssp.timeutil import program_today
    from tests.conftest import SECRET

    app = create_app(
        {"TESTING": True, "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": database_url}
    )
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.commit()
        barrier.wait(timeout=30)
        stock.count(
            site_id=site_id,
            occurred_on=program_today(),
            user=user,
            lines=[stock.CountLine(item_id, counted)],
        )
        db.session.commit()
        db.engine.dispose()
