"""The app as the in-process benchmarks build it: a test-mode app on the given database
(fast password hashing, no rate limit), migrated to the latest schema."""

from __future__ import annotations

from flask import Flask

BENCH_CONFIG = {
    "SECRET_KEY": "benchmark-key-0123456789",
    "TESTING": True,
    "RATELIMIT_ENABLED": False,
    "PASSWORD_HASH_MEMORY_KIB": 8,
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_PARALLELISM": 1,
}


DESK = "bench.desk"


def migrated_app(url: str) -> Flask:
    """The app on ``url`` (a SQLite file's folder made if missing), its schema upgraded."""
    from pathlib import Path

    from flask_migrate import upgrade

    from ssp import create_app

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app = create_app({**BENCH_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    return app


def ensure_desk() -> None:
    """The front-desk account the benchmark signs in as (in an app context)."""
    from ssp.extensions import db
    from ssp.staff import services as staff
    from tests.conftest import PASSWORD

    if staff.user_by_username(DESK) is None:
        staff.create_user(username=DESK, password=PASSWORD, role="front_desk", site_id=None)
        db.session.commit()
