"""Benchmark: importing a spreadsheet of 100,000 visits, as `ssp import run` does.

    python benchmarks/import.py                        # SQLite in /tmp/ssp-bench-import
    python benchmarks/import.py --rows 1000            # a quick run
    python benchmarks/import.py --format xlsx
    python benchmarks/import.py --database-url postgresql://postgres@127.0.0.1/ssp_bench_import

Writes a made-up visit log (a row per visit: date, code, site, five supply columns,
used syringes collected, a naloxone reason, one service; 5% walk-ins; one participant
per 20 rows) to a file, then, on a fresh database, times each step of the import:
reading the file, checking its rows (the preview), and writing them (one transaction);
then a second import of the same file, which finds every row already imported. Prints
wall times, rows per second and peak memory.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import shutil
import time
from pathlib import Path

WORK = Path("/tmp/ssp-bench-import")  # noqa: S108 (a scratch benchmark)
HEADERS = [
    "Date",
    "Code",
    "Site",
    "Syringes",
    "Returned",
    "Naloxone",
    "Naloxone reason",
    "Fentanyl test strips",
    "Cookers",
    "Alcohol pads",
    "HIV test",
]


def _app(url: str):
    from ssp import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "benchmark-key-0123456789",
            "TESTING": False,
            "PASSWORD_HASH_MEMORY_KIB": 8,
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_PARALLELISM": 1,
        }
    )


def _rows(count: int):
    rng = random.Random(2025)  # noqa: S311 (made-up data, not secrets)
    letters = "ABCDEFGHJKLMNPRSTW"
    people = max(1, count // 20)
    codes = sorted(
        {
            "".join(rng.choice(letters) for _ in range(4)) + f"{rng.randint(0, 9999):04d}"
            for _ in range(people)
        }
    )
    start = dt.date(2024, 1, 1)
    for number in range(count):
        day = start + dt.timedelta(days=number * 700 // count)
        naloxone = rng.choice([0, 0, 0, 1, 2])
        yield [
            day.isoformat(),
            "" if rng.random() < 0.05 else rng.choice(codes),
            rng.choice(["Main Street", "Van 1"]),
            rng.choice([10, 20, 50, 100]),
            rng.choice([0, 10, 40]),
            naloxone,
            rng.choice(["first kit", "used", "lost", ""]) if naloxone else "",
            rng.choice([0, 2, 5]),
            rng.choice([0, 5]),
            rng.choice([0, 10]),
            rng.choice(["", "", "yes"]),
        ]


def write_file(rows: int, kind: str) -> Path:
    """The made-up visit log, as CSV or XLSX."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"visits-{rows}.{kind}"
    if path.exists():
        return path
    if kind == "csv":
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS)
            writer.writerows(_rows(rows))
    else:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Visits")
        sheet.append(HEADERS)
        for row in _rows(rows):
            sheet.append([dt.date.fromisoformat(row[0]), *row[1:]])
        workbook.save(path)
    return path


def fresh_database(url: str | None) -> str:
    """An empty database at the latest migration, with the catalogue, two sites and a
    manager."""
    if url is None:
        database = WORK / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm", ".writers"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{database}"
    else:
        from sqlalchemy import create_engine, text

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    from flask_migrate import upgrade

    from ssp.extensions import db
    from ssp.staff import services as staff
    from ssp.supplies.services import load_default_catalogue

    app = _app(url)
    with app.app_context():
        upgrade()
        load_default_catalogue()
        main = staff.create_site(name="Main Street", kind="fixed")
        staff.create_site(name="Van 1", kind="mobile")
        staff.create_user(
            username="bench-manager",
            password="correct horse battery staple 42",  # noqa: S106 (a scratch database)
            role="manager",
            site_id=main.id,
        )
        db.session.commit()
        db.engine.dispose()
    return url


def run(url: str, path: Path) -> None:
    from sqlalchemy import func, select

    from ssp.extensions import db
    from ssp.imports import services
    from ssp.imports.mapping import Column
    from ssp.imports.models import ImportShape
    from ssp.imports.writer import Choices
    from ssp.staff.models import User
    from ssp.supplies.models import SupplyItem
    from ssp.visits.models import Visit

    app = _app(url)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "bench-manager"))
        pads = db.session.scalar(select(SupplyItem.id).where(SupplyItem.name == "Alcohol pad"))
        db.session.rollback()

        started = time.perf_counter()
        loaded = services.load(path.name, path.read_bytes())
        read = time.perf_counter() - started

        mapping = services.mapping_for(loaded, ImportShape.VISITS)
        mapping.columns["Alcohol pads"] = Column(f"item:{pads}")
        started = time.perf_counter()
        planned = services.plan(loaded, mapping)
        checked = time.perf_counter() - started
        assert not planned.mapping_problems, planned.mapping_problems
        assert not planned.refused, planned.refused[:3]

        started = time.perf_counter()
        batch = services.write(
            planned, user, Choices(near_duplicates_checked=True), source="command line"
        )
        written = time.perf_counter() - started
        written_visits = batch.visits
        visits = db.session.scalar(select(func.count()).select_from(Visit))

        started = time.perf_counter()
        again = services.plan(services.load(path.name, path.read_bytes()), mapping)
        second = time.perf_counter() - started
        db.engine.dispose()

    rows = len(loaded.sheet.rows)
    total = read + checked + written
    print(f"file: {path.name}, {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
    print(f"database: {url.split('://')[0]}")
    print(f"  read the file          {read:7.2f} s")
    print(
        f"  check the rows         {checked:7.2f} s   ({len(planned.new_codes):,} new participants)"
    )
    print(f"  write one transaction  {written:7.2f} s   ({written_visits:,} visits)")
    print(f"  whole import           {total:7.2f} s   ({rows / total:,.0f} rows/s)")
    print(
        f"  second import (preview){second:7.2f} s   "
        f"({again.rows_already_imported:,} rows already imported)"
    )
    print(
        f"  peak memory            "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.0f} MB"
    )
    assert visits == written_visits and again.rows_to_import == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--database-url", help="PostgreSQL URL (its public schema is emptied)")
    parser.add_argument("--fresh-file", action="store_true", help="Write the file again.")
    args = parser.parse_args()
    os.environ.setdefault("SSP_SECRET_KEY", "benchmark-secret-key-0123456789")
    if args.fresh_file:
        shutil.rmtree(WORK, ignore_errors=True)
    path = write_file(args.rows, args.format)
    url = fresh_database(args.database_url)
    run(url, path)


if __name__ == "__main__":
    main()
