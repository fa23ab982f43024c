"""Benchmark: finding a participant by exact and by partial code among 100,000.

    python benchmarks/lookup.py [--database-url URL] [--requests 500]

Seeds 100,000 participants (and 100,000 visits) with the `ssp seed-demo` code when the
database holds fewer, then times the search box through the app (the real view, session,
CSRF and template): exact codes (a redirect to the participant) and partial codes (a
list of matches), and the JSON typeahead. Prints median and p99 per request.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

DEFAULT = "sqlite:////tmp/ssp-bench/lookup.sqlite3"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    """Prepare, then measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT)
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sqlalchemy import func, select, text

    from benchmarks.benchapp import DESK, ensure_desk, migrated_app
    from ssp.demo import seed
    from ssp.extensions import db
    from ssp.participants.models import Participant
    from tests.conftest import Browser

    app = migrated_app(args.database_url)

    with app.app_context():
        have = db.session.scalar(select(func.count()).select_from(Participant))
        if have < args.participants:
            started = time.perf_counter()
            seed(
                participants=args.participants - have,
                visits=args.participants,
                months=12,
                seed_value=7,
            )
            db.session.commit()
            print(
                f"seeded {args.participants - have:,} participants in "
                f"{time.perf_counter() - started:.1f} s"
            )
        ensure_desk()
        if db.engine.dialect.name == "postgresql":
            # As autovacuum would have by now on a running program: statistics, and the
            # visibility map that lets a scan read the code index alone.
            with db.engine.connect() as connection:
                autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
                autocommit.execute(text("VACUUM ANALYZE participants"))
        codes = list(db.session.scalars(select(Participant.code)))
        dialect = db.engine.dialect.name
    rng = random.Random(11)  # noqa: S311 (picking test codes)
    browser = Browser(app.test_client())
    browser.sign_in(DESK)
    browser.get("/")
    timings: dict[str, list[float]] = {"exact": [], "prefix": [], "partial": [], "typeahead": []}
    for _ in range(args.requests):
        code = rng.choice(codes)
        started = time.perf_counter()
        response = browser.post("/participants/find", {"code": code})
        timings["exact"].append(time.perf_counter() - started)
        assert response.status_code == 303
        started = time.perf_counter()
        response = browser.post("/participants/find", {"code": code[:4]})
        timings["prefix"].append(time.perf_counter() - started)
        assert response.status_code in (200, 303)
        part = code[1:5]  # from the middle of a code: no index can help
        started = time.perf_counter()
        response = browser.post("/participants/find", {"code": part})
        timings["partial"].append(time.perf_counter() - started)
        assert response.status_code in (200, 303)
        started = time.perf_counter()
        response = browser.client.post(
            "/api/participants/search", json={"q": part}, headers={"X-CSRFToken": browser.token}
        )
        timings["typeahead"].append(time.perf_counter() - started)
        assert response.status_code == 200
    print(f"[{dialect}] {len(codes):,} participants, {args.requests} requests of each kind")
    for kind, values in timings.items():
        print(
            f"  {kind:9}: median {statistics.median(values) * 1000:6.1f} ms, "
            f"p99 {_percentile(values, 0.99) * 1000:6.1f} ms"
        )


if __name__ == "__main__":
    main()
