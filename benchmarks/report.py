"""Benchmark: the monthly report on a program with a million visits.

    python benchmarks/report.py                       # SQLite in /tmp/ssp-bench (kept)
    python benchmarks/report.py --database-url postgresql://postgres@127.0.0.1/ssp_bench

Loads synthetic data with ``ssp seed-demo`` logic (1,000,000 visits, 50,000 participants,
60 months, fixed seed) when the database holds fewer visits than asked, then, in a fresh
process, times one month's report: the bare aggregate queries alone, and the whole report
(aggregates, the disclosure audit, PDF and CSV). Before timing, the month before and the
month itself are archived once (as a program that regenerates a month would have), so
the timed report is audited against the archive. Prints wall times, peak memory, the
ratio, and the audit's cells, counts to protect, solver calls and time; then the last
complete fiscal year's whole report, and its queries by part (its months, the year, the
year compared with); last, ``ssp report`` for the month from the command line, as a cron
job runs it (a fresh process each time), against the whole report in-process.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

DEFAULT_SQLITE = Path("/tmp/ssp-bench/bench.sqlite3")  # noqa: S108 (a scratch benchmark)


def _app(url: str):
    os.environ.setdefault("SSP_SECRET_KEY", "benchmark-secret-key-0123456789")
    from ssp import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "benchmark-key-0123456789",
            "TESTING": False,
            "REPORTS_DIR": "/tmp/ssp-bench/reports",  # noqa: S108
            "PASSWORD_HASH_MEMORY_KIB": 8,
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_PARALLELISM": 1,
        }
    )


def _add_sites(count: int) -> int:
    """At least ``count`` active sites (a network of programs), before seeding; the
    seed spreads its visits over every active site. Returns how many were added."""
    from sqlalchemy import func, select

    from ssp.extensions import db
    from ssp.staff.models import Site, SiteKind

    have = db.session.scalar(select(func.count()).select_from(Site).where(Site.active))
    kinds = [SiteKind.FIXED, SiteKind.MOBILE, SiteKind.OUTREACH, SiteKind.SATELLITE]
    for number in range(have + 1, count + 1):
        db.session.add(Site(name=f"Network site {number}", kind=kinds[number % 4], active=True))
    db.session.flush()
    return max(0, count - have)


def prepare(url: str, visits: int, participants: int, months: int, sites: int = 0) -> None:
    """Migrate and seed the database when it holds fewer visits than asked."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from ssp.demo import seed
    from ssp.extensions import db
    from ssp.reporting.funders import load_default_profiles
    from ssp.visits.models import Visit

    app = _app(url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        have = db.session.scalar(select(func.count()).select_from(Visit))
        if have >= visits:
            print(f"database already holds {have:,} visits")
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                # As autovacuum would have by now on a running program: the visibility
                # map, which lets index-only scans skip the table. VACUUM cannot run
                # inside a transaction.
                with db.engine.connect() as connection:
                    autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
                    autocommit.execute(text("VACUUM"))
            return
        started = time.perf_counter()
        added = _add_sites(sites)
        result = seed(
            participants=participants, visits=visits - have, months=months, seed_value=2026
        )
        load_default_profiles()
        db.session.commit()
        elapsed = time.perf_counter() - started
        print(
            f"seeded {result.visits:,} visits, {result.participants:,} participants, "
            f"{result.visit_items:,} items, {result.stock_movements:,} stock movements "
            f"in {elapsed:.1f} s ({result.visits / elapsed:,.0f} visits/s)"
            + (f"; {added} sites added first" if added else "")
        )
        db.engine.dispose()


def _peak_rss_mb() -> float:
    """This process's peak resident memory in MB. Linux's VmHWM, because ru_maxrss
    survives exec: a measuring process started by the seeding one would report the
    seeding's peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str, month: str | None, runs: int) -> None:
    """Time one month's report in this (fresh) process."""
    from ssp.extensions import db
    from ssp.reporting import metrics
    from ssp.reporting.csv_export import render_csv
    from ssp.reporting.funders import profile_by_name
    from ssp.reporting.pdf import render_pdf
    from ssp.reporting.periods import Month, fiscal_year_of
    from ssp.reporting.services import build_report, last_month, settings_for
    from ssp.timeutil import program_zone

    app = _app(url)
    with app.app_context():
        period = Month.parse(month) if month else last_month()
        settings = settings_for(profile_by_name("standard"))
        archived = _archive_once(period)
        db.session.rollback()
        baseline_rss = _peak_rss_mb()
        bare, full = [], []
        for _ in range(runs):
            started = time.perf_counter()
            metrics.compute(period, program_zone(), list(settings.sections))
            bare.append(time.perf_counter() - started)
            db.session.rollback()
        for _ in range(runs):
            started = time.perf_counter()
            document = build_report(period, settings)
            db.session.rollback()
            pdf = render_pdf(document)
            render_csv(document)
            full.append(time.perf_counter() - started)
        # Memory in a separate run: tracemalloc slows Python code down while it traces.
        tracemalloc.start()
        document = build_report(period, settings)
        db.session.rollback()
        render_csv(document)
        render_pdf(document)
        _, peak_python = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_rss = _peak_rss_mb()
        dialect = db.engine.dialect.name
        audit = document.audit
        # The last complete fiscal year (the profile's first month), audited with the
        # monthly reports archived above.
        fiscal = fiscal_year_of(period, settings.fiscal_year_start).previous()
        fiscal_times = []
        for _ in range(runs):
            started = time.perf_counter()
            fiscal_document = build_report(fiscal, settings)
            db.session.rollback()
            render_pdf(fiscal_document)
            render_csv(fiscal_document)
            fiscal_times.append(time.perf_counter() - started)
        fiscal_audit = fiscal_document.audit
        phases = _fiscal_phases(fiscal, settings)
        command_line = _command_line(url, period.key, runs)
    print(f"[{dialect}] report for {period.key}, median of {runs} runs")
    print(f"  bare aggregate queries : {statistics.median(bare):.3f} s")
    print(
        f"  whole report (PDF, CSV): {statistics.median(full):.3f} s  ({len(pdf):,} bytes of PDF)"
    )
    print(f"  ratio whole / bare     : {statistics.median(full) / statistics.median(bare):.2f}")
    print(
        f"  `ssp report` (command) : {statistics.median(command_line):.3f} s, a fresh process"
        f" each run, {statistics.median(command_line) / statistics.median(full):.2f} times"
        " the whole report in-process"
    )
    print(
        f"  disclosure audit       : {audit.seconds:.3f} s in {audit.solves} solver calls; "
        f"{audit.cells} cells, {audit.targets} counts to protect, {audit.small} small, "
        f"{audit.hidden} hidden, {len(audit.withheld)} tables withheld; audited with "
        f"{len(audit.overlapping_reports)} archived reports ({archived} archived just now)"
    )
    print(
        f"[{dialect}] fiscal-year report for {fiscal.key} ({fiscal.label}), whole report: "
        f"{statistics.median(fiscal_times):.3f} s; audit {fiscal_audit.seconds:.3f} s in "
        f"{fiscal_audit.solves} solver calls, {fiscal_audit.cells} cells, "
        f"{fiscal_audit.targets} counts to protect, audited with "
        f"{len(fiscal_audit.overlapping_reports)} archived reports"
    )
    print(
        "  fiscal year, by part   : "
        + "; ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items())
    )
    print(
        f"  peak memory            : {peak_rss:.0f} MB RSS (process after imports: "
        f"{baseline_rss:.0f} MB), {peak_python / 2**20:.1f} MB Python heap at peak"
    )


def _fiscal_phases(fiscal, settings) -> dict[str, float]:
    """Where the fiscal-year report's queries go: its months, the year itself, and the
    previous year compared with (its months and its glance), one run each."""
    from ssp.extensions import db
    from ssp.reporting.metrics import (
        Tallies,
        compute,
        compute_months,
        glance_with_months,
        month_tallies,
    )
    from ssp.reporting.services import GLANCE_SECTIONS, comparison_periods
    from ssp.timeutil import program_zone

    zone, sections = program_zone(), list(settings.sections)
    glance_sections = [s for s in GLANCE_SECTIONS if s in sections]
    phases = {}
    started = time.perf_counter()
    tallies = month_tallies(fiscal.months(), zone, sections)
    months = compute_months(fiscal.months(), zone, sections, tallies)
    phases["its 12 months"] = time.perf_counter() - started
    started = time.perf_counter()
    compute(fiscal, zone, sections, months=months, tallies=Tallies.merged(tallies))
    phases["the year"] = time.perf_counter() - started
    started = time.perf_counter()
    for other in comparison_periods(fiscal, settings.fiscal_year_start):
        glance_with_months(other, zone, glance_sections)
    phases["the year compared with, and its months"] = time.perf_counter() - started
    db.session.rollback()
    return phases


def _command_line(url: str, period_key: str, runs: int) -> list[float]:
    """``ssp report --period`` as the monthly cron job runs it, ``runs`` times, each a
    fresh process; the archive is left as it was (the runs' reports removed)."""
    import shutil
    import tempfile

    from sqlalchemy import delete, func, select

    from ssp.extensions import db
    from ssp.reporting.models import Report

    newest = db.session.scalar(select(func.max(Report.id))) or 0
    db.session.rollback()
    archive = tempfile.mkdtemp(prefix="ssp-bench-cli-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSP_")}
    env.update(
        SSP_SQLALCHEMY_DATABASE_URI=url,
        SSP_SECRET_KEY="benchmark-secret-key-0123456789",  # noqa: S106
        SSP_REPORTS_DIR=archive,
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
    )
    script = Path(sys.executable).with_name("ssp")
    ssp = [str(script)] if script.exists() else [sys.executable, "-m", "ssp.cli"]
    times = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(  # noqa: S603 (our own command)
                [*ssp, "report", "--period", period_key],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - started)
    finally:
        db.session.execute(delete(Report).where(Report.id > newest))
        db.session.commit()
        shutil.rmtree(archive, ignore_errors=True)
    return times


def _archive_once(period) -> int:
    """Archive the month before and the month itself unless already archived."""
    from sqlalchemy import func, select

    from ssp.extensions import db
    from ssp.reporting.models import Report
    from ssp.reporting.services import generate_report

    made = 0
    for month in (period.shifted(-1), period):
        have = db.session.scalar(
            select(func.count()).select_from(Report).where(Report.period == month.key)
        )
        if not have:
            generate_report(period=month.key, funder="standard", user_id=None)
            db.session.commit()
            made += 1
    return made


def main() -> None:
    """Prepare the data, then measure in a fresh process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=f"sqlite:///{DEFAULT_SQLITE}")
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--participants", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument(
        "--sites", type=int, default=0, help="at least this many sites (a network of programs)"
    )
    parser.add_argument("--month", help="YYYY-MM (default: last month)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if args.measure_only:
        measure(args.database_url, args.month, args.runs)
        return
    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    prepare(args.database_url, args.visits, args.participants, args.months, args.sites)
    command = [
        sys.executable,
        __file__,
        "--measure-only",
        "--database-url",
        args.database_url,
        "--runs",
        str(args.runs),
    ]
    if args.month:
        command += ["--month", args.month]
    subprocess.run(command, check=True)  # noqa: S603 (our own script)


if __name__ == "__main__":
    main()
