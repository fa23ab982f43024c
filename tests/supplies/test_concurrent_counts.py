"""Several processes count the same shelf at the same moment: the books end exactly at the
count, on SQLite (BEGIN IMMEDIATE) and on PostgreSQL (row locks): no lost update, and no
"database is locked" error."""

from __future__ import annotations

import multiprocessing

from sqlalchemy import func, select

from ssp.extensions import db
from ssp.supplies import stock
from ssp.supplies.models import MovementReason, StockMovement
from tests.supplies.count_worker import count_shelf

WORKERS = 4


def test_simultaneous_counts_leave_the_books_at_the_count(app, factory):
    site = factory.site()
    item = factory.supply_item()
    user = factory.user("boss1", "manager", site_id=site)
    participant = factory.participant()
    factory.visit(participant, user_id=user, site_id=site, items={item: 30})  # books: -30
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    processes = [
        context.Process(target=count_shelf, args=(url, site, item, user, 100, barrier))
        for _ in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * WORKERS
    with app.app_context():
        assert stock.on_hand(site, item) == 100
        adjustments = db.session.scalars(
            select(StockMovement.delta).where(StockMovement.reason == MovementReason.ADJUSTMENT)
        ).all()
        # The first count corrected the books; the others found them right.
        assert sorted(adjustments) == [130]
        assert db.session.scalar(select(func.count()).select_from(StockMovement)) == 2
