"""A program ready to import its spreadsheets: the default catalogue, the two sites the
sample files name, a manager, and helpers that read the samples on their own (with the
csv module, not ssp's reader) to say what the report should count."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from ssp.extensions import db

DATA = Path(__file__).resolve().parent.parent / "data"
VISIT_LOG = DATA / "visit-log-2025-q1.csv"
VISIT_LOG_XLSX = DATA / "visit-log-2025-q1.xlsx"
OVERLAPPING_LOG = DATA / "visit-log-2025-feb-apr.csv"
TALLY = DATA / "daily-tally-2025-q2.csv"
TALLY_XLSX = DATA / "daily-tally-2025-q2.xlsx"
BAD_LOG = DATA / "bad-visit-log.xlsx"

#: The columns of the visit log that need a word from the manager (the rest are proposed).
VISIT_LOG_MAPS = (
    "Staff=ignore",
    "Notes=ignore",
    "Alcohol Pads (boxes)=Alcohol pad:packs",
)
TALLY_MAPS = ("FTS=Fentanyl test strip",)
ALCOHOL_PADS_PER_BOX = 100


@dataclass
class Program:
    """Ids of the program the samples are imported into."""

    manager: int
    main_street: int
    van: int


@pytest.fixture
def program(app, factory) -> Program:
    """The catalogue, Main Street (fixed) and Van 1 (mobile), and the manager mgr."""
    from ssp.supplies.models import SupplyItem
    from ssp.supplies.services import load_default_catalogue

    with app.app_context():
        load_default_catalogue()
        pads = db.session.query(SupplyItem).filter_by(name="Alcohol pad").one()
        pads.units_per_pack = ALCOHOL_PADS_PER_BOX
        db.session.commit()
    main_street = factory.site("Main Street", kind="fixed")
    van = factory.site("Van 1", kind="mobile")
    manager = factory.user("mgr", role="manager", site_id=main_street)
    return Program(manager, main_street, van)


def import_command(app, path: Path, *extra: str, maps=VISIT_LOG_MAPS):
    """``ssp import run`` on a sample, confirmed, as the manager."""
    args = ["import", "run", str(path), "--as", "mgr", "--yes"]
    for text in maps:
        args += ["--map", text]
    return app.test_cli_runner().invoke(args=[*args, *extra])


def _number(text: str) -> int:
    return int(text) if text.strip() else 0


def visit_log_totals(path: Path = VISIT_LOG) -> dict[str, dict[str, int]]:
    """Month -> what the visit log itself adds up to."""
    months: dict[str, Counter] = defaultdict(Counter)
    people: dict[str, set[str]] = defaultdict(set)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            month, day, year = (int(part) for part in row["Date"].split("/"))
            key = f"{year}-{month:02d}"
            totals = months[key]
            totals["visits"] += 1
            if row["Participant Code"]:
                people[key].add(row["Participant Code"])
            else:
                totals["anonymous"] += 1
            totals["syringes"] += _number(row["Syringes Given"])
            totals["syringes_collected"] += _number(row["Used Syringes Returned"])
            totals["naloxone"] += _number(row["Narcan Kits"])
            used = row["Narcan Reason"] == "Used" and _number(row["Narcan Kits"]) > 0
            totals["reversals"] += used
            totals["test_strips"] += _number(row["Fentanyl Test Strips"]) + _number(
                row["Xylazine Test Strips"]
            )
            totals["cookers"] += _number(row["Cookers"])
            totals["alcohol_pads"] += _number(row["Alcohol Pads (boxes)"]) * ALCOHOL_PADS_PER_BOX
            totals["hiv_tests"] += row["HIV Test"] == "yes"
            totals["wound_care"] += _number(row["Wound Care"])
            totals["referrals"] += bool(row["Referral"])
            del day
    for key, codes in people.items():
        months[key]["people"] = len(codes)
    return {key: dict(value) for key, value in sorted(months.items())}


def tally_totals(path: Path = TALLY) -> dict[str, dict[str, int]]:
    """Month -> what the daily tally itself adds up to."""
    months: dict[str, Counter] = defaultdict(Counter)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = dt.date.fromisoformat(row["Date"]).strftime("%Y-%m")
            totals = months[key]
            totals["visits"] += _number(row["Contacts"])
            totals["syringes"] += _number(row["Syringes Out"])
            totals["syringes_collected"] += _number(row["Syringes Returned"])
            totals["naloxone"] += _number(row["Naloxone"])
            totals["test_strips"] += _number(row["FTS"]) + _number(row["Xylazine strips"])
            totals["lines"] += 1
            totals["closed"] += _number(row["Contacts"]) == 0
    return {key: dict(value) for key, value in sorted(months.items())}
