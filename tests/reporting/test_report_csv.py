"""The funder CSV as a health department loads it: one header, one line per printed
figure, bare integers, a closed set of statuses, and no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from ssp.csvsafe import FORMULA_STARTS, spreadsheet_safe
from ssp.extensions import db
from ssp.reporting.csv_export import render_csv
from ssp.reporting.document import ReportDocument, Row, Section, Table
from tests.conftest import Browser
from tests.reporting.test_report_files import _exact_profile

UTC = dt.UTC
HEADER = "period,section,table,row,column,value,status,measure,row_type,counted_as,note"
FIGURE_STATUSES = {"shown", "small", "hidden", "corrected", "withheld"}
MEASURES = {"count", "percent", "per_100"}
ROW_TYPES = {"detail", "subtotal", "total"}
HOSTILE = {
    # name as stored -> how the CSV must carry it
    '=HYPERLINK("http://x","y")': '\'=HYPERLINK("http://x","y")',
    "+SUM(1,1)": "'+SUM(1,1)",
    "-1+1 outreach": "'-1+1 outreach",
    "@SUM(1,1)": "'@SUM(1,1)",
    "\tTab site": "'\tTab site",
    "\rReturn site": "'\rReturn site",
}


def _generate(app, funder="standard"):
    from ssp.reporting.services import generate_report

    with app.app_context():
        made = generate_report(month="2026-10", funder=funder, user_id=None)
        db.session.commit()
        return made.csv, made.report.parameters


def _lines(csv_text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_text)))


def _figures(csv_text: str) -> list[dict[str, str]]:
    return [r for r in _lines(csv_text) if r["section"] != "#metadata"]


def _metadata(csv_text: str) -> dict[str, str]:
    return {r["row"]: r["note"] for r in _lines(csv_text) if r["section"] == "#metadata"}


def _assert_loadable(csv_text: str) -> None:
    """What a loader relies on, for every line of the file."""
    assert csv_text.splitlines()[0] == HEADER
    assert not csv_text.startswith("\ufeff")
    csv_text.encode("utf-8")
    lines = _lines(csv_text)
    assert lines
    for line in lines:
        assert None not in line and None not in line.values(), line  # same columns
        assert line["period"] == "2026-10", line
        assert line["value"] == "" or re.fullmatch(r"\d+", line["value"]), line
        if line["section"] == "#metadata":
            assert (line["table"], line["value"], line["status"]) == ("", "", ""), line
            continue
        assert line["status"] in FIGURE_STATUSES, line
        assert (line["value"] != "") == (line["status"] == "shown"), line
        if line["status"] == "withheld":
            assert (line["row"], line["column"], line["value"]) == ("", "", ""), line
            assert line["note"] and line["measure"] == line["row_type"] == "", line
        else:
            assert line["measure"] in MEASURES and line["row_type"] in ROW_TYPES, line
            assert line["note"] == "" and line["counted_as"], line
        for cell in line.values():
            assert not cell.startswith(FORMULA_STARTS), line


def test_the_csv_loads_as_one_table_with_its_metadata(app, program):
    csv_text, parameters = _generate(app)
    _assert_loadable(csv_text)
    assert not any(line.startswith("#") or not line for line in csv_text.splitlines())
    meta = _metadata(csv_text)
    assert meta["figures_sha256"] == parameters["figures_sha256"]
    assert meta["suppression_threshold"] == "11" and meta["period"] == "2026-10"
    assert meta["symbols"].startswith("Counts from 1 to 10 are shown as <11")
    assert meta["generated_on"] == parameters["generated_on"]
    figures = {(r["section"], r["table"], r["row"], r["column"]): r for r in _figures(csv_text)}
    syringes = figures[("At a glance", "At a glance", "Syringes distributed", "October 2026")]
    assert (syringes["value"], syringes["status"], syringes["measure"]) == ("80", "shown", "count")
    assert syringes["counted_as"] == "Needle-and-syringe units"
    people = figures[("At a glance", "At a glance", "People served", "October 2026")]
    assert (people["value"], people["status"]) == ("", "small")
    ratio = figures[
        ("Supplies", "Syringes out and in", "Used syringes collected per 100 distributed", "Count")
    ]
    assert (ratio["value"], ratio["status"], ratio["measure"]) == ("50", "shown", "per_100")
    # Words printed in a table are not figures.
    assert not any(r["column"] == "Counted as" for r in _figures(csv_text))


def test_a_withheld_table_is_one_line_with_its_reason(app, program):
    csv_text, _ = _generate(app)
    sites = [r for r in _figures(csv_text) if r["table"] == "Visits by site"]
    assert len(sites) == 1
    (line,) = sites
    assert (line["section"], line["row"], line["column"], line["value"], line["status"]) == (
        "Program summary",
        "",
        "",
        "",
        "withheld",
    )
    assert line["note"].startswith("Too few people")


def test_the_same_data_on_the_same_day_gives_the_same_csv(app, program):
    """The same but for the audit trail's head, which the first report's own audit row
    moved on."""
    first, _ = _generate(app)
    second, _ = _generate(app)
    head = re.compile(
        r"^(2026-10,#metadata,,audit_trail_head_(?:event|sha256),,,,,,,)([^\r]*)\r$", re.M
    )
    (first_event, first_hash), (second_event, second_hash) = (
        [m.group(2) for m in head.finditer(text)] for text in (first, second)
    )
    assert int(second_event) > int(first_event) and second_hash != first_hash
    assert re.fullmatch(r"[0-9a-f]{64}", first_hash)
    assert head.sub(r"\1HEAD", first) == head.sub(r"\1HEAD", second)


def _hostile_program(app, factory) -> None:
    """Six sites with hostile names, 3 to 8 visits each (every count above T = 2)."""
    from ssp.staff.models import Site

    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    _exact_profile(app)
    user = factory.user("boss", "manager")
    for n, name in enumerate(HOSTILE):
        # The site form collapses white space, so a tab or carriage return in front can
        # only come from elsewhere (an import, a database edit): set it directly.
        site = factory.site(name.strip() if name[0] in "\t\r" else name)
        if name[0] in "\t\r":
            with app.app_context():
                db.session.get(Site, site).name = name
                db.session.commit()
        for visit in range(3 + n):
            factory.visit(
                factory.participant(f"HOST{n}{visit:03d}"),
                user_id=user,
                site_id=site,
                occurred_at=dt.datetime(2026, 10, 10 + visit, 18, tzinfo=UTC),
            )


def test_hostile_site_names_arrive_as_text_and_the_sites_add_up(app, factory):
    _hostile_program(app, factory)
    factory.user("lead", "manager")
    manager = Browser(app.test_client())
    manager.sign_in("lead")
    response = manager.get("/reports/preview.csv?month=2026-10&funder=exact")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.content_type == "text/csv; charset=utf-8"
    csv_text = response.get_data(as_text=True)
    _assert_loadable(csv_text)
    assert '\n2026-10,Program summary,Visits by site,"\'=HYPERLINK(""http://x"",""y"")",' in (
        csv_text
    )
    sites = [r for r in _figures(csv_text) if r["table"] == "Visits by site"]
    rows = {r["row"]: r for r in sites if r["row_type"] == "detail"}
    assert set(rows) == set(HOSTILE.values())
    people = {r["row"] for r in _figures(csv_text) if r["table"] == "People served by site"}
    assert people == set(HOSTILE.values())
    # Every site's visits are shown here, so they add up to the shown total.
    assert {r["status"] for r in sites} == {"shown"} and {r["measure"] for r in sites} == {"count"}
    (total,) = [r for r in sites if r["row_type"] == "total"]
    assert sum(int(r["value"]) for r in rows.values()) == int(total["value"]) == 33
    for stored, printed in HOSTILE.items():
        assert int(rows[printed]["value"]) == 3 + list(HOSTILE).index(stored)


def _document(tables: list[Table]) -> ReportDocument:
    glance = Table(
        "glance",
        "At a glance",
        "See each row",
        ["October 2026", "Counted as"],
        [Row("Visits", ["1,234", "Visits"], statuses=["shown", "text"])],
    )
    return ReportDocument(
        program_name="=cmd|' /C calc'!A0",
        funder_name="@Funder",
        grant_number=None,
        profile_name="test",
        period_key="2026-10",
        period_label="October 2026",
        generated_on=dt.date(2026, 11, 2),
        threshold=11,
        time_zone="America/Los_Angeles",
        glance=glance,
        sections=[Section("referrals", "Referrals and follow-ups", "", tables)],
        no_activity=False,
    )


def test_rates_words_totals_and_withheld_tables_from_a_document():
    referrals = Table(
        "referrals",
        "Referrals by type",
        "Referrals",
        ["Made", "Completion rate"],
        [
            Row("Housing", ["40", "45%"], statuses=["shown", "shown"]),
            Row("\tMOUD", ["<11", "*"], statuses=["small", "hidden"]),
            Row("\rOther", ["0", "—"], statuses=["shown", "text"]),
            Row("Health", ["†", "*"], group=True, statuses=["corrected", "hidden"]),
            Row("All referrals", ["2,040", "50%"], total=True, statuses=["shown", "shown"]),
        ],
    )
    withheld = Table("follow_ups", "Follow-ups", "Follow-ups", ["Count"], [], withheld="-Too few")
    csv_text = render_csv(_document([referrals, withheld]))
    _assert_loadable(csv_text)
    assert _metadata(csv_text)["program"] == "'=cmd|' /C calc'!A0"
    assert _metadata(csv_text)["funder"] == "'@Funder"
    got = [
        (r["table"], r["row"], r["column"], r["value"], r["status"], r["measure"], r["row_type"])
        for r in _figures(csv_text)
    ]
    assert got == [
        ("At a glance", "Visits", "October 2026", "1234", "shown", "count", "detail"),
        ("Referrals by type", "Housing", "Made", "40", "shown", "count", "detail"),
        ("Referrals by type", "Housing", "Completion rate", "45", "shown", "percent", "detail"),
        ("Referrals by type", "'\tMOUD", "Made", "", "small", "count", "detail"),
        ("Referrals by type", "'\tMOUD", "Completion rate", "", "hidden", "percent", "detail"),
        ("Referrals by type", "'\rOther", "Made", "0", "shown", "count", "detail"),
        ("Referrals by type", "Health", "Made", "", "corrected", "count", "subtotal"),
        ("Referrals by type", "Health", "Completion rate", "", "hidden", "percent", "subtotal"),
        ("Referrals by type", "All referrals", "Made", "2040", "shown", "count", "total"),
        (
            "Referrals by type",
            "All referrals",
            "Completion rate",
            "50",
            "shown",
            "percent",
            "total",
        ),
        ("Follow-ups", "", "", "", "withheld", "", ""),
    ]
    assert _figures(csv_text)[0]["counted_as"] == "Visits"
    assert _figures(csv_text)[-1]["note"] == "'-Too few"


def test_a_figure_that_is_not_a_whole_number_stops_the_csv():
    table = Table("t", "T", "Visits", ["Count"], [Row("x", ["1.5"], statuses=["shown"])])
    with pytest.raises(ValueError, match="not a whole number"):
        render_csv(_document([table]))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_spreadsheet_safe_guards_text_not_numbers(start):
    assert spreadsheet_safe(start + "1") == "'" + start + "1"
    assert spreadsheet_safe("Main " + start) == "Main " + start
    assert spreadsheet_safe(-5) == -5
