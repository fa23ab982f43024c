"""A small program whose October 2026 evaluator export is worked out by hand, and helpers
that ask for an export through the page or the command line and read it back.

With k = 3 (``EXPORT_MIN_GROUP_SIZE``), one row per visit, months, site names and gender:

    Harbor (fixed site)   women W1 (3 visits), W2, W3, W4 (2 each)   9 rows, 4 people
                          men M1, M2, M3 (2 each)                     6 rows, 3 people
                          anonymous walk-ins                          3 rows (a group of 3)
    Dock (fixed site)     man M7 (1 visit, 23:30 on 31 October)       1 row,  1 person
    Van (mobile unit)     men M4, M5, M6 (1 each)                     3 rows, 3 people
                          woman W5 (1 visit)                          1 row,  1 person

23 rows: at most floor(5% of 23) = 1 may be left out. At first M7 and W5 are alone (2
rows), so sites are merged into their kinds: M7 joins the men of Harbor (4 people), W5
is still alone (1 row) and is left out. 22 rows stay, all 22 coarsened (their site
became a kind); the steps end there. Not in the export: a voided visit of W2, M1's
visit at 23:30 on 30 September (1 October in UTC). Every code, username, note, void
reason, follow-up reason, zone, item and partner contact carries ZQCANARY; the site
names do too ("ZQCANARY Harbor"...), and are in the file only when site names are asked
for.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass

import pytest

from ssp.extensions import db

UTC = dt.UTC
CANARY = "ZQCANARY"
PURPOSE = "Evaluation of the naloxone programme, 2026 (data-sharing agreement 12)"
RECIPIENT = "State University evaluation team"


def at(text: str) -> dt.datetime:
    """A UTC time from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@dataclass
class Export:
    """An export read back: the zip's bytes, its members, the data rows, the note."""

    data: bytes
    members: dict[str, bytes]
    rows: list[dict]
    readme: str
    metadata: dict

    @property
    def texts(self) -> list[str]:
        """Everything in the zip as text: the CSV or every Parquet value, the notes."""
        out = [self.readme, json.dumps(self.metadata, ensure_ascii=False)]
        if "data.csv" in self.members:
            out.append(self.members["data.csv"].decode("utf-8"))
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(io.BytesIO(self.members["data.parquet"]))
            out.append(json.dumps(table.to_pylist(), ensure_ascii=False))
            out.append(str(table.schema.metadata))
        return out


def read_export(data: bytes) -> Export:
    """Open an export's zip and parse the data file (CSV or Parquet) into dicts."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if "data.csv" in members:
        rows = list(csv.DictReader(io.StringIO(members["data.csv"].decode("utf-8"))))
    else:
        import pyarrow.parquet as pq

        rows = pq.read_table(io.BytesIO(members["data.parquet"])).to_pylist()
    return Export(
        data=data,
        members=members,
        rows=rows,
        readme=members["README.md"].decode("utf-8"),
        metadata=json.loads(members["metadata.json"]),
    )


def form_values(**overrides) -> dict:
    """What the page posts: October 2026, a row per visit, months, kinds, gender."""
    values = {
        "period": "2026-10",
        "first_day": "",
        "last_day": "",
        "unit": "visit",
        "granularity": "month",
        "location": "kind",
        "attributes": ["gender"],
        "file_format": "csv",
        "purpose": PURPOSE,
        "recipient": RECIPIENT,
    }
    values.update(overrides)
    return values


def export_through_page(browser, **overrides):
    """POST the form; the response (a zip when it worked)."""
    browser.get("/reports/evaluator-export")
    return browser.post("/reports/evaluator-export", form_values(**overrides))


def page_export(browser, **overrides) -> Export:
    """An export through the page, read back."""
    response = export_through_page(browser, **overrides)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/zip"
    return read_export(response.get_data())


QUASI_IDENTIFIERS = (
    "period",
    "location",
    "service_model",
    "age_band",
    "gender",
    "race_ethnicity",
    "primary_substance",
    "injects",
)


def groups(rows: list[dict]) -> dict[tuple, list[dict]]:
    """The rows by their quasi-identifiers (whichever columns the file has)."""
    found: dict[tuple, list[dict]] = {}
    for row in rows:
        key = tuple(row[name] for name in QUASI_IDENTIFIERS if name in row)
        found.setdefault(key, []).append(row)
    return found


def assert_k_anonymous(rows: list[dict], k: int) -> None:
    """Every combination of quasi-identifiers: its rows with a person number are of at
    least k different people, and its anonymous rows (an empty person: the file shows
    which they are) at least k rows; anonymous rows never make up a group of people."""
    for key, members in groups(rows).items():
        people = {row["person"] for row in members if row["person"]}
        anonymous = sum(1 for row in members if not row["person"])
        assert not people or len(people) >= k, (key, "people", len(people))
        assert not anonymous or anonymous >= k, (key, "anonymous rows", anonymous)


@pytest.fixture
def evaluation_program(app, factory):
    """The program of the module docstring; returns the ids the tests need."""
    from ssp.outreach.models import Zone
    from ssp.referrals.models import Referral
    from ssp.staff.models import User
    from ssp.visits import services as visits
    from ssp.visits.models import Visit

    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    app.config["EXPORT_MIN_GROUP_SIZE"] = 3
    harbor = factory.site(f"{CANARY} Harbor")
    dock = factory.site(f"{CANARY} Dock")
    van = factory.site(f"{CANARY} Van", "mobile")
    syringe = factory.supply_item(f"{CANARY} syringe 1 mL", "syringe", "syringe")
    naloxone = factory.supply_item(f"{CANARY} naloxone 4 mg", "naloxone", "kit")
    partner = factory.partner(f"{CANARY} Clinic", contact=f"{CANARY}-CONTACT 555-0101")
    user = factory.user(f"{CANARY.lower()}staff", "manager", site_id=harbor)
    person = {}
    for number, (name, gender) in enumerate(
        [("W1", "woman"), ("W2", "woman"), ("W3", "woman"), ("W4", "woman"), ("W5", "woman")]
        + [(f"M{n}", "man") for n in range(1, 8)],
        start=1,
    ):
        person[name] = factory.participant(
            f"{CANARY}{number:02d}", birth_year=1985 + number, gender=gender
        )

    def visit(who, site, when, **kwargs):
        kwargs.setdefault("items", {syringe: 10})
        return factory.visit(
            person[who] if who else None,
            user_id=user,
            site_id=site,
            occurred_at=at(when),
            **kwargs,
        )

    ids = {"harbor": harbor, "dock": dock, "van": van, "user": user, "person": person}
    ids["w1_naloxone"] = visit(
        "W1",
        harbor,
        "2026-10-02 18:00",
        items={syringe: 10, naloxone: 2},
        reasons={naloxone: "used"},
        services={"overdose_reversal_reported": 1},
        syringes_collected=25,
    )
    visit("W1", harbor, "2026-10-09 18:00")
    visit("W1", harbor, "2026-10-16 18:00")
    for name in ("W2", "W3", "W4", "M1", "M2", "M3"):
        visit(name, harbor, "2026-10-05 18:00")
        visit(name, harbor, "2026-10-20 18:00", services={"hiv_test": 1})
    for _ in range(3):
        visit(None, harbor, "2026-10-12 18:00")
    ids["m7_late"] = visit("M7", dock, "2026-11-01 06:30")  # 23:30 on 31 October there
    for name in ("M4", "M5", "M6", "W5"):
        visit(name, van, "2026-10-14 18:00", kind="mobile")
    ids["m1_september"] = visit("M1", harbor, "2026-10-01 06:30")  # 23:30 on 30 September
    ids["w2_voided"] = visit("W2", van, "2026-10-07 18:00", kind="mobile")
    with app.app_context():
        manager = db.session.get(User, user)
        visits.void_visit(
            db.session.get(Visit, ids["w2_voided"]),
            reason=f"{CANARY}-VOID typed twice",
            user=manager,
            now=at("2026-10-07 19:00"),
        )
        zone = Zone(name=f"{CANARY}-ZONE riverside")
        db.session.add(zone)
        db.session.flush()
        db.session.get(Visit, ids["m7_late"]).zone_id = zone.id
        db.session.commit()
    referral = factory.referral(person["W1"], user_id=user, partner_id=partner)
    with app.app_context():
        from ssp.referrals import services as referrals

        db.session.get(Referral, referral).note = f"{CANARY}-NOTE ask at intake"
        referrals.add_follow_up(
            participant_id=person["W3"],
            due_on=dt.date(2026, 10, 30),
            reason=f"{CANARY}-REASON bring ID",
            user=db.session.get(User, user),
            now=at("2026-10-10 18:00"),
        )
        db.session.commit()
    return ids
