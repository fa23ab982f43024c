"""Outreach in the funder report: contacts, group contacts and the people counted at
them, apart from unduplicated people, for contacts that came through the sealed outbox;
and through the disclosure audit like every other table."""

from __future__ import annotations

import csv
import datetime as dt
import io

from pypdf import PdfReader

from ssp.extensions import db
from tests.conftest import Browser
from tests.outreach.test_sync import _contact, _sealed, team  # noqa: F401 (fixture)
from tests.reporting.test_report_files import _exact_profile

TABLE = "Outreach and mobile unit contacts"
OCTOBER = dt.datetime(2026, 10, 14, 18, 30, tzinfo=dt.UTC)


def _field_day(app, team, factory, day=OCTOBER, second_code="JODO0101"):  # noqa: F811
    """Eight contacts on ``day`` through the outbox, and one desk visit that is not one."""
    ids = team.ids
    second = factory.participant(second_code, site_id=ids["site"])
    with app.app_context():
        from ssp.participants.models import Participant

        code = db.session.get(Participant, second).code
    when = day.isoformat()
    contacts = [_contact(ids, occurred_at=when) for _ in range(3)]
    contacts += [_contact(ids, occurred_at=when, people=n) for n in (5, 4)]
    contacts += [
        _contact(ids, occurred_at=when, code=c, anonymous=False)
        for c in ("MAPH0687", "MAPH0687", code)
    ]
    envelopes = [_sealed(team, c) for c in contacts]
    with app.app_context():
        from ssp.outreach.services import sync
        from ssp.staff.models import User

        # Synced the evening they were made (the server refuses contacts months old).
        answers = sync(
            envelopes, db.session.get(User, ids["user"]), now=day + dt.timedelta(hours=3)
        )
        db.session.commit()
    assert [a.status for a in answers] == ["saved"] * 8, answers
    desk = factory.site(f"Front desk {day:%b}")
    app.config["VISIT_BACKDATE_DAYS"] = 100_000  # a desk visit typed in from a paper log
    factory.visit(ids["known"], user_id=ids["user"], site_id=desk, occurred_at=day, kind="fixed")


def _outreach_lines(app, period: str, funder: str) -> list[dict[str, str]]:
    from ssp.reporting.services import generate_report

    with app.app_context():
        made = generate_report(period=period, funder=funder, user_id=None)
        db.session.commit()
        text = made.csv
        pdf = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(made.pdf)).pages)
    assert TABLE in " ".join(pdf.split())  # the PDF prints the table (or why it is withheld)
    return [r for r in csv.DictReader(io.StringIO(text)) if r["table"] == TABLE]


def _outreach_rows(app, period="2026-10", funder="exact") -> dict[str, dict[str, str]]:
    return {r["row"]: r for r in _outreach_lines(app, period, funder) if r["column"] == "Count"}


def test_the_report_separates_contacts_groups_and_people(app, team, factory):  # noqa: F811
    _field_day(app, team, factory)
    _exact_profile(app)
    rows = _outreach_rows(app)
    assert {row: r["value"] for row, r in rows.items()} == {
        "All contacts": "8",
        "Contacts with a participant code": "3",
        "Anonymous contacts": "5",
        "Group contacts (anonymous, two or more people)": "2",
        "People counted at anonymous contacts": "12",
        "People with a code reached": "2",
    }
    assert {r["counted_as"] for r in rows.values()} >= {
        "Contacts",
        "People, counted at each contact",
        "Unduplicated people",
    }


def test_a_quarter_sums_its_months_contacts_and_counts_people_once(app, team, factory):  # noqa: F811
    _field_day(app, team, factory, dt.datetime(2026, 8, 5, 18, tzinfo=dt.UTC), "JODO0101")
    _field_day(app, team, factory, dt.datetime(2026, 9, 9, 18, tzinfo=dt.UTC), "KAPO0202")
    _exact_profile(app)
    rows = _outreach_rows(app, period="2026-Q3")
    assert {row: r["value"] for row, r in rows.items()} == {
        "All contacts": "16",
        "Contacts with a participant code": "6",
        "Anonymous contacts": "10",
        "Group contacts (anonymous, two or more people)": "4",
        "People counted at anonymous contacts": "24",
        "People with a code reached": "3",  # MAPH0687 came in both months
    }


def test_the_page_shows_the_table_and_people_served_leave_out_head_counts(app, team, factory):  # noqa: F811
    _field_day(app, team, factory)
    _exact_profile(app)
    factory.user("lead", "manager")
    manager = Browser(app.test_client())
    manager.sign_in("lead")
    page = manager.get("/reports/preview?month=2026-10&funder=exact").get_data(as_text=True)
    assert TABLE in page and "counted twice" in page
    text = manager.get("/reports/preview.csv?month=2026-10&funder=exact").get_data(as_text=True)
    served = [
        r
        for r in csv.DictReader(io.StringIO(text))
        if r["table"] == "People" and r["row"] == "People served"
    ]
    assert [r["value"] for r in served] == ["2"]  # the two codes, never the 12 counted


def test_small_outreach_counts_are_protected_by_the_audit(app, team, factory):  # noqa: F811
    _field_day(app, team, factory)
    factory.profiles()
    lines = _outreach_lines(app, "2026-10", "standard")
    # Every figure here is under the standard threshold: none is printed as a number.
    assert lines and all(r["value"] == "" and r["status"] != "shown" for r in lines), lines
    with app.app_context():
        from sqlalchemy import select

        from ssp.reporting.models import Report

        report = db.session.scalars(select(Report)).one()
        cells = report.release["cells"]
        assert any(key.endswith("|outreach_anonymous_people") for key in cells)
        assert report.audit["small"] >= 1
