"""Benchmark: one visit save in-process, the desk's most frequent write.

    python benchmarks/visit.py [--database-url URL] [--posts 300] [--rounds 5]
                               [--profile FILE]

Seeds a program (5,000 participants, 20,000 visits) with the `ssp seed-demo` code when
the database holds fewer visits, then posts the visit form through the app in-process
(the real view, session, CSRF check, form, rules, stock, audit and commit): a returning
participant with two open follow-ups, three supply items. Each round posts ``--posts``
visits for different participants; prints the median and p99 wall time and the median
CPU time (``process_time``) per post, over ``--rounds`` rounds, and beside it the floor:
the same three rows (visit, item, stock movement) inserted with one raw SQL transaction.
With ``--profile``, one more round runs under cProfile and its statistics are written.
"""

from __future__ import annotations

import argparse
import cProfile
import random
import re
import statistics
import sys
import time
from pathlib import Path

DEFAULT = "sqlite:////tmp/ssp-bench/visit.sqlite3"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:  # noqa: PLR0915 (a script: prepare, measure, print)
    """Prepare, then measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT)
    parser.add_argument("--participants", type=int, default=5_000)
    parser.add_argument("--visits", type=int, default=20_000)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", help="write cProfile statistics of one more round here")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from sqlalchemy import func, select, text

    from benchmarks.benchapp import DESK, ensure_desk, migrated_app
    from ssp.demo import seed
    from ssp.extensions import db
    from ssp.participants.models import Participant
    from ssp.referrals.models import FollowUp, FollowUpStatus
    from ssp.referrals.services import make_referral
    from ssp.staff import services as staff
    from ssp.staff.models import Site
    from ssp.supplies.models import SupplyCategory, SupplyItem
    from ssp.timeutil import program_zone, utcnow
    from ssp.visits.models import Visit
    from tests.conftest import Browser

    app = migrated_app(args.database_url)

    with app.app_context():
        have = db.session.scalar(select(func.count()).select_from(Visit))
        if have < args.visits:
            started = time.perf_counter()
            seed(
                participants=args.participants,
                visits=args.visits - have,
                months=24,
                seed_value=7,
            )
            db.session.commit()
            print(f"seeded {args.visits - have:,} visits in {time.perf_counter() - started:.1f} s")
        ensure_desk()
        desk = staff.user_by_username(DESK)
        site_id = db.session.scalar(select(Site.id).where(Site.active).order_by(Site.id))
        catalogue = list(
            db.session.scalars(select(SupplyItem).where(SupplyItem.active).order_by(SupplyItem.id))
        )
        syringe = next(i for i in catalogue if i.category == SupplyCategory.SYRINGE)
        others = [i for i in catalogue if i.category not in (SupplyCategory.NALOXONE,)]
        items = [syringe.id] + [i.id for i in others if i.id != syringe.id][:2]
        people = list(db.session.scalars(select(Participant.id).order_by(Participant.id)))
        # Two open follow-ups for each person posted for: the banner the desk sees.
        rng = random.Random(3)  # noqa: S311 (picking benchmark participants)
        chosen = rng.sample(people, min(len(people), args.posts * (args.rounds + 2) + 1))
        with_follow_ups = set(
            db.session.scalars(
                select(FollowUp.participant_id).where(FollowUp.status == FollowUpStatus.OPEN)
            )
        )
        for person in chosen:
            if person not in with_follow_ups:
                for category in ("housing", "primary_care"):
                    make_referral(
                        participant_id=person, category=category, partner_id=None, user=desk
                    )
        db.session.commit()
        dialect = db.engine.dialect.name
        zone = program_zone()
        desk_id = desk.id
        floor_sql = [
            text(
                "INSERT INTO visits (participant_id, site_id, user_id, occurred_at, kind,"
                " secondary_reach, syringes_collected, created_at) VALUES"
                " (:p, :s, :u, :t, 'fixed', 0, 0, :t) RETURNING id"
            ),
            text("INSERT INTO visit_items (visit_id, supply_item_id, quantity) VALUES (:v, :i, 1)"),
            text(
                "INSERT INTO stock_movements (site_id, supply_item_id, delta, reason,"
                " visit_id, user_id, occurred_at) VALUES (:s, :i, -1, 'distribution',"
                " :v, :u, :t)"
            ),
        ]

    browser = Browser(app.test_client())
    browser.sign_in(DESK)
    browser.get("/")
    queue = iter(chosen)

    def post_one(profiler: cProfile.Profile | None = None) -> tuple[float, float]:
        person = next(queue)
        page = browser.get(f"/participants/{person}/visits/new")
        assert page.status_code == 200, page.status_code
        key = page.get_data(as_text=True).split('name="submission_key" type="hidden" value="')
        form = {
            "site_id": str(site_id),
            "kind": "fixed",
            "occurred_at": "",
            "submission_key": key[1].split('"', 1)[0] if len(key) > 1 else "",
            "syringes_collected": "10",
            **{f"item_{item}": "2" for item in items},
        }
        stamp = utcnow().astimezone(zone).replace(tzinfo=None)
        form["occurred_at"] = stamp.strftime("%Y-%m-%dT%H:%M")
        if profiler is not None:
            profiler.enable()
        wall, cpu = time.perf_counter(), time.process_time()
        response = browser.post(f"/participants/{person}/visits/new", form)
        if profiler is not None:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        page = response.get_data(as_text=True)
        assert response.status_code == 303, re.findall(r"error[^>]*>([^<]+)<", page)
        return wall, cpu

    def floor_one() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
        with db.engine.begin() as connection:
            visit_id = connection.execute(
                floor_sql[0], {"p": people[0], "s": site_id, "u": desk_id, "t": stamp}
            ).scalar()
            for item in items:
                connection.execute(floor_sql[1], {"v": visit_id, "i": item})
                connection.execute(
                    floor_sql[2],
                    {"v": visit_id, "i": item, "s": site_id, "u": desk_id, "t": stamp},
                )
        return time.perf_counter() - wall, time.process_time() - cpu

    post_one()  # warm: the form class, the templates
    print(f"[{dialect}] a returning visit, 3 items, 2 open follow-ups; {args.posts} posts a round")
    walls, cpus, floor_walls, floor_cpus = [], [], [], []
    for round_number in range(args.rounds):
        results = [post_one() for _ in range(args.posts)]
        with app.app_context():
            floors = [floor_one() for _ in range(args.posts)]
        round_walls = [w for w, _ in results]
        round_cpus = [c for _, c in results]
        walls += round_walls
        cpus += round_cpus
        floor_walls += [w for w, _ in floors]
        floor_cpus += [c for _, c in floors]
        print(
            f"  round {round_number + 1}: visit save median"
            f" {statistics.median(round_walls) * 1000:.2f} ms"
            f" (CPU {statistics.median(round_cpus) * 1000:.2f} ms),"
            f" floor {statistics.median(w for w, _ in floors) * 1000:.2f} ms"
        )
    print(
        f"  visit save : median {statistics.median(walls) * 1000:.2f} ms, "
        f"p99 {_percentile(walls, 0.99) * 1000:.2f} ms, "
        f"CPU median {statistics.median(cpus) * 1000:.2f} ms"
    )
    print(
        f"  floor      : median {statistics.median(floor_walls) * 1000:.2f} ms, "
        f"p99 {_percentile(floor_walls, 0.99) * 1000:.2f} ms, "
        f"CPU median {statistics.median(floor_cpus) * 1000:.2f} ms"
    )
    if args.profile:
        profiler = cProfile.Profile()
        for _ in range(args.posts):
            post_one(profiler)
        profiler.dump_stats(args.profile)
        print(f"  profile of {args.posts} posts written to {args.profile} (the POST alone)")


if __name__ == "__main__":
    main()
