"""Drug checking in the funder report: samples checked (by what they were sold as, and
with a bad reaction reported) and findings by substance, counted in the program's months,
voided results nowhere, a quarter added up from its months, and every count through the
disclosure audit like every other table.

The fixture's results are counted by hand below (the program's time zone is
America/Los_Angeles: 1 August starts at 07:00 UTC, 1 October at 07:00 UTC).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import pytest
from pypdf import PdfReader

from ssp.extensions import db
from ssp.reporting.document import ReportDocument
from tests.reporting.test_report_files import _exact_profile

UTC = dt.UTC
SECTION = "Drug checking"
SAMPLES = "Samples checked"
REACTIONS = "Bad reactions reported"
ALL = "All samples checked"
BY_SOLD_AS = "Samples checked by what they were sold as"
FINDINGS = "Findings by substance"
FENTANYL_TABLE = "Fentanyl test strip results by what the sample was sold as"
XYLAZINE_TABLE = "Xylazine test strip results by what the sample was sold as"
BENZO_TABLE = "Benzodiazepine test strip results by what the sample was sold as"
FENTANYL_ROW = "Fentanyl (Fentanyl test strip)"
XYLAZINE_ROW = "Xylazine (Xylazine test strip)"
BENZO_ROW = "Benzodiazepines (Benzodiazepine test strip)"
ASKED = "Samples where the person was asked about a bad reaction"
REACTION = "Samples with a bad reaction reported (had or knew of one)"
NONE_NOTE = "No samples were checked in this period."


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


# (when, sold as, outcomes, reaction, voided); outcomes by test: F fentanyl, X xylazine,
# B benzodiazepines; + positive, - negative, ? unclear.
RESULTS = [
    # July
    ("2026-07-10 18:00", "Fentanyl", "F+ X+", "yes", False),
    ("2026-07-11 18:00", "Fentanyl", "F+ X-", "no", False),
    # 23:30 on 31 July in Los Angeles (1 August in UTC): July.
    ("2026-08-01 06:30", "Fentanyl", "F+ X?", "not_asked", False),
    ("2026-07-12 18:00", "Heroin", "F+", "no", False),
    ("2026-07-13 18:00", "Meth", "F- B-", "no", False),
    # Entered by mistake and taken out: counts nowhere.
    ("2026-07-14 18:00", "Fentanyl", "F+ X+", "yes", True),
    # August (00:30 on 1 August in Los Angeles)
    ("2026-08-01 07:30", "Fentanyl", "F+ X+", "yes", False),
    ("2026-08-10 18:00", "Pressed pill", "F+ B+", "yes", False),
    ("2026-08-11 18:00", "Pressed pill", "F- B?", "no", False),
    # September
    ("2026-09-10 18:00", "Cocaine", "F-", "no", False),
    ("2026-09-11 18:00", "Heroin", "F+ X+", "not_asked", False),
    # 23:30 on 30 September in Los Angeles: September.
    ("2026-10-01 06:30", "Fentanyl", "F+", "no", False),
    # 00:30 on 1 October in Los Angeles: October, outside the quarter.
    ("2026-10-01 07:30", "Meth", "F+", "yes", False),
]
LETTERS = {"F": "Fentanyl", "X": "Xylazine", "B": "Benzodiazepines"}
SIGNS = {"+": "positive", "-": "negative", "?": "unclear"}


def _outcomes(text: str) -> dict[str, str]:
    """{what a test finds: outcome} of "F+ X?"."""
    return {LETTERS[part[0]]: SIGNS[part[1]] for part in text.split()}


# Counted by hand from RESULTS. Samples per sold-as entry (every entry of the default
# list is a row), then (asked, bad reaction), then per test: sold as -> (tested,
# positive, unclear).
SOLD_AS = ("Fentanyl", "Heroin", "Meth", "Cocaine", "Crack", "Pressed pill", "Other")
EXPECTED = {
    "2026-07": {
        "samples": {"Fentanyl": 3, "Heroin": 1, "Meth": 1},
        "reaction": (4, 1),
        "Fentanyl": {"Fentanyl": (3, 3, 0), "Heroin": (1, 1, 0), "Meth": (1, 0, 0)},
        "Xylazine": {"Fentanyl": (3, 1, 1)},
        "Benzodiazepines": {"Meth": (1, 0, 0)},
    },
    "2026-08": {
        "samples": {"Fentanyl": 1, "Pressed pill": 2},
        "reaction": (3, 2),
        "Fentanyl": {"Fentanyl": (1, 1, 0), "Pressed pill": (2, 1, 0)},
        "Xylazine": {"Fentanyl": (1, 1, 0)},
        "Benzodiazepines": {"Pressed pill": (2, 1, 1)},
    },
    "2026-09": {
        "samples": {"Cocaine": 1, "Heroin": 1, "Fentanyl": 1},
        "reaction": (2, 0),
        "Fentanyl": {"Cocaine": (1, 0, 0), "Heroin": (1, 1, 0), "Fentanyl": (1, 1, 0)},
        "Xylazine": {"Heroin": (1, 1, 0)},
        "Benzodiazepines": {},
    },
    "2026-Q3": {
        "samples": {"Fentanyl": 5, "Heroin": 2, "Meth": 1, "Cocaine": 1, "Pressed pill": 2},
        "reaction": (9, 3),
        "Fentanyl": {
            "Fentanyl": (5, 5, 0),
            "Heroin": (2, 2, 0),
            "Meth": (1, 0, 0),
            "Cocaine": (1, 0, 0),
            "Pressed pill": (2, 1, 0),
        },
        "Xylazine": {"Fentanyl": (4, 2, 1), "Heroin": (1, 1, 0)},
        "Benzodiazepines": {"Meth": (1, 0, 0), "Pressed pill": (2, 1, 1)},
    },
}
TESTS = {"Fentanyl": "Fentanyl test strip", "Xylazine": "Xylazine test strip"}
TESTS["Benzodiazepines"] = "Benzodiazepine test strip"


@pytest.fixture
def checked(app, factory):
    """The results above, recorded through the service; returns the lists' ids."""
    from ssp.drugchecking import services
    from ssp.drugchecking.services import CheckDetails
    from ssp.staff.models import User

    app.config["VISIT_BACKDATE_DAYS"] = 100_000  # the results lie in the past
    factory.profiles()
    site = factory.site("Main site")
    user_id = factory.user("checker", "manager", site_id=site)
    with app.app_context():
        services.load_default_lists()
        sold_as = {entry.name: entry.id for entry in services.sold_as_list()}
        tests = {test.finds: test.id for test in services.tests_list()}
        user = db.session.get(User, user_id)
        for when, what, outcomes, reaction, voided in RESULTS:
            check = services.record_check(
                CheckDetails(
                    sold_as_id=sold_as[what],
                    form="powder",
                    outcomes={tests[f]: outcome for f, outcome in _outcomes(outcomes).items()},
                    reaction=reaction,
                    site_id=site,
                    checked_at=at(when),
                ),
                user,
            )
            if voided:
                services.void_check(check, user, now=at(when) + dt.timedelta(hours=1))
        db.session.commit()
    return {"sold_as": sold_as, "tests": tests, "site": site, "user": user_id}


@dataclass(frozen=True)
class Made:
    """A report just generated: its document, files and archive row's id."""

    document: ReportDocument
    pdf: bytes
    csv: str
    report_id: int


def _generate(app, period: str, funder: str) -> Made:
    from ssp.reporting.services import generate_report

    with app.app_context():
        made = generate_report(period=period, funder=funder, user_id=None)
        db.session.commit()
        return Made(made.document, made.pdf, made.csv, made.report.id)


def _lines(made) -> list[dict[str, str]]:
    return [r for r in csv.DictReader(io.StringIO(made.csv)) if r["section"] == SECTION]


def _cells(made) -> dict[tuple[str, str, str], dict[str, str]]:
    """The section's CSV lines by (table, row, column)."""
    cells = {}
    for line in _lines(made):
        key = (line["table"], line["row"], line["column"])
        assert key not in cells, key  # every printed figure has its own line
        cells[key] = line
    return cells


def _pdf_text(pdf: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


def _expected_cells(period: str) -> dict[tuple[str, str, str], int]:
    """Every figure the section prints for ``period``, counted by hand."""
    e = EXPECTED[period]
    total = sum(e["samples"].values())
    asked, reaction = e["reaction"]
    cells = {
        (SAMPLES, ALL, "Count"): total,
        (REACTIONS, ASKED, "Count"): asked,
        (REACTIONS, REACTION, "Count"): reaction,
        (BY_SOLD_AS, ALL, "Samples"): total,
    }
    for name in SOLD_AS:
        cells[(BY_SOLD_AS, name, "Samples")] = e["samples"].get(name, 0)
    columns = ("Samples tested", "Positive")  # an unclear result counts as tested
    for finds, table, row in (
        ("Fentanyl", FENTANYL_TABLE, FENTANYL_ROW),
        ("Xylazine", XYLAZINE_TABLE, XYLAZINE_ROW),
        ("Benzodiazepines", BENZO_TABLE, BENZO_ROW),
    ):
        found = e[finds]
        sums = [sum(v[i] for v in found.values()) for i in range(2)]
        for column, value in zip(columns, sums, strict=True):
            cells[(FINDINGS, row, column)] = value
            cells[(table, "All samples tested", column)] = value
        for name in SOLD_AS:
            for column, value in zip(columns, found.get(name, (0, 0, 0))[:2], strict=True):
                cells[(table, name, column)] = value
    return cells


def _assert_printed_as_counted(made, period: str, threshold: int) -> int:
    """Every count the section prints agrees with the hand count (a shown figure is it,
    "<T" stands for 1 to T-1); returns how many were shown as numbers."""
    expected = _expected_cells(period)
    cells = _cells(made)
    counts = {k: v for k, v in cells.items() if v["measure"] == "count"}
    withheld = {k[0] for k, v in cells.items() if v["status"] == "withheld"}
    assert {k for k in expected if k[0] not in withheld} == set(counts), period
    shown = 0
    for key, line in counts.items():
        value = expected[key]
        if line["status"] == "shown":
            assert int(line["value"]) == value, (period, key)
            assert not 0 < value < threshold, (period, key)
            shown += 1
        elif line["status"] == "small":
            assert 0 < value < threshold, (period, key)
        else:
            assert line["status"] == "hidden", (period, key, line["status"])
    return shown


# --- the figures --------------------------------------------------------------------------


def test_the_metrics_count_each_month_by_hand(app, checked):
    from ssp.reporting.metrics import compute
    from ssp.reporting.periods import parse_period
    from ssp.timeutil import program_zone

    with app.app_context():
        zone = program_zone()
        for key in ("2026-07", "2026-08", "2026-09", "2026-Q3"):
            d = compute(parse_period(key), zone, ["drug_checking"]).drug_checking
            e = EXPECTED[key]
            names = {i: name for name, i in checked["sold_as"].items()}
            assert list(d.sold_as.values()) == list(SOLD_AS)  # every entry, in list order
            assert {names[i]: n for i, n in d.samples.items() if n} == e["samples"], key
            assert d.total == sum(e["samples"].values())
            assert (d.asked, d.reactions["yes"]) == e["reaction"], key
            for finds, test_id in checked["tests"].items():
                found = {names[s]: v for (s, t), v in d.findings.items() if t == test_id and v[0]}
                assert found == e[finds], (key, finds)
            assert d.untested == 0


def test_a_quarter_is_its_months_added_up(app, checked):
    from ssp.reporting.metrics import DrugChecking, compute, compute_with_months
    from ssp.reporting.periods import parse_period
    from ssp.timeutil import program_zone

    with app.app_context():
        zone = program_zone()
        quarter = parse_period("2026-Q3")
        alone = compute(quarter, zone, ["drug_checking"]).drug_checking
        whole, months = compute_with_months(quarter, zone, ["summary", "drug_checking"])
        assert whole.drug_checking == alone
        assert [m.drug_checking.total for m in months] == [5, 3, 3]
        assert DrugChecking.merged([m.drug_checking for m in months]) == alone


def test_the_report_prints_the_hand_counts(app, checked):
    """Threshold 2: every figure of 2 or more that prints is the hand count, ones print
    "<2", and the totals print as they are."""
    _exact_profile(app)
    for period in ("2026-07", "2026-08", "2026-09", "2026-Q3"):
        made = _generate(app, period, "exact")
        shown = _assert_printed_as_counted(made, period, 2)
        cells = _cells(made)
        total = sum(EXPECTED[period]["samples"].values())
        assert cells[(SAMPLES, ALL, "Count")]["value"] == str(total)
        assert cells[(SAMPLES, ALL, "Count")]["counted_as"] == "Samples"
        assert shown > 10, period
    quarter = _cells(made)
    assert quarter[(FINDINGS, FENTANYL_ROW, "Samples tested")]["value"] == "11"
    assert quarter[(FINDINGS, FENTANYL_ROW, "Positive")]["value"] == "8"
    assert quarter[(FENTANYL_TABLE, "Fentanyl", "Positive")]["value"] == "5"
    assert quarter[(FENTANYL_TABLE, "Fentanyl", "Positive rate")]["value"] == "100"
    assert quarter[(FENTANYL_TABLE, "Fentanyl", "Positive rate")]["measure"] == "percent"
    assert quarter[(BY_SOLD_AS, "Fentanyl", "Samples")]["value"] == "5"
    assert quarter[(BY_SOLD_AS, "Crack", "Samples")]["value"] == "0"
    assert quarter[(FENTANYL_TABLE, "All samples tested", "Samples tested")]["row_type"] == "total"


def test_the_quarter_is_audited_with_its_months(app, checked):
    """The release of a quarter declares each month's figures (unprinted) and that the
    quarter's add up from them, and keeps the true values; made again once the months
    are archived, it is audited with them and leaves no count exposed."""
    from ssp.reporting.models import Report

    _exact_profile(app)
    made = _generate(app, "2026-Q3", "exact")
    fentanyl = checked["sold_as"]["Fentanyl"]
    xylazine = checked["tests"]["Xylazine"]
    with app.app_context():
        release = db.session.get(Report, made.report_id).release
    cells, relations = release["cells"], release["relations"]
    for key, value in (
        ("drug_checks", 11),
        (f"drug_checks.sold_as:{fentanyl}", 5),
        (f"drug_checks.tested:{xylazine}:{fentanyl}", 4),
        (f"drug_checks.positive:{xylazine}:{fentanyl}", 2),
        (f"drug_checks.tested:{xylazine}", 5),
        ("drug_checks.reaction:yes", 3),
        ("drug_checks.asked", 9),
    ):
        assert cells[f"2026-Q3|{key}"][0] == value, key
        months = [f"2026-{m:02d}|{key}" for m in (7, 8, 9)]
        assert ["eq", [f"2026-Q3|{key}"], months] in relations, key
        assert sum(cells[k][0] for k in months) == value, key
    assert [cells[f"2026-{m:02d}|drug_checks"][0] for m in (7, 8, 9)] == [5, 3, 3]
    reactions = [f"2026-Q3|drug_checks.reaction:{r}" for r in ("yes", "no", "not_asked")]
    assert ["eq", ["2026-Q3|drug_checks"], reactions] in relations
    assert ["eq", ["2026-Q3|drug_checks.asked"], reactions[:2]] in relations
    tested = f"2026-Q3|drug_checks.tested:{xylazine}:{fentanyl}"
    assert ["le", [tested], [f"2026-Q3|drug_checks.sold_as:{fentanyl}"]] in relations
    positive = f"2026-Q3|drug_checks.positive:{xylazine}:{fentanyl}"
    assert ["le", [positive], [tested]] in relations
    assert not any("unclear" in key for key in cells)  # an unclear result counts as tested

    monthly = [_generate(app, period, "exact").report_id for period in ("2026-07", "2026-08")]
    again = _generate(app, "2026-Q3", "exact")
    with app.app_context():
        audit = db.session.get(Report, again.report_id).audit
    assert set(monthly) <= set(audit["audited_with_reports"])
    assert audit["exposed_before"] == []
    _assert_printed_as_counted(again, "2026-Q3", 2)


def test_voided_results_and_other_months_count_nowhere(app, checked):
    from sqlalchemy import select

    from ssp.drugchecking import services
    from ssp.drugchecking.models import DrugCheck
    from ssp.reporting.metrics import compute
    from ssp.reporting.periods import parse_period
    from ssp.staff.models import User
    from ssp.timeutil import program_zone

    with app.app_context():
        zone = program_zone()
        october = compute(parse_period("2026-10"), zone, ["drug_checking"]).drug_checking
        assert october.total == 1 and october.reactions["yes"] == 1
        # Take October's one result out: October has none left.
        check = db.session.scalar(
            select(DrugCheck).where(DrugCheck.checked_at == at("2026-10-01 07:30"))
        )
        services.void_check(check, db.session.get(User, checked["user"]))
        db.session.commit()
        assert compute(parse_period("2026-10"), zone, ["drug_checking"]).drug_checking.total == 0


def test_a_period_without_samples_says_so(app, checked):
    _exact_profile(app)
    made = _generate(app, "2026-05", "exact")
    text = _pdf_text(made.pdf)
    assert SECTION in text and NONE_NOTE in text
    cells = _cells(made)
    assert {k: v["value"] for k, v in cells.items()} == {(SAMPLES, ALL, "Count"): "0"}
    assert BY_SOLD_AS not in text and FINDINGS not in text


def test_checks_without_visits_are_not_a_month_of_zeros(app, checked):
    """The cover's "no visits" notice says every figure is zero: not when samples were
    checked that month."""
    _exact_profile(app)
    text = _pdf_text(_generate(app, "2026-07", "exact").pdf)
    assert "No visits were recorded this month" not in text
    assert "No visits were recorded this month" in _pdf_text(_generate(app, "2026-05", "exact").pdf)


# --- through the PDF, the HTML twin, and the profiles ----------------------------------------


def test_the_section_prints_in_the_pdf_and_the_html_twin(app, checked):
    from ssp.reporting.html_export import render_html

    _exact_profile(app)
    made = _generate(app, "2026-Q3", "exact")
    text = _pdf_text(made.pdf)
    assert SECTION in text
    for title in (SAMPLES, BY_SOLD_AS, FINDINGS, FENTANYL_TABLE, XYLAZINE_TABLE, BENZO_TABLE):
        assert title in text, title
    assert f"{FENTANYL_ROW} 11 8 73%" in text
    html = render_html(made.document)
    assert "<h2" in html and SECTION in html and FINDINGS in html and BY_SOLD_AS in html
    # No name of a person, no site: the section counts samples.
    assert (
        "checker" not in text
        and "Main site" not in text.split(SECTION, 1)[1].split("About this report")[0]
    )


def test_the_standard_profile_includes_the_section_and_the_others_do_not(app, checked):
    from ssp.reporting.funders import DEFAULT_PROFILES, SECTIONS

    assert SECTIONS["drug_checking"] == SECTION
    chosen = {p["name"]: "drug_checking" in p["sections"] for p in DEFAULT_PROFILES}
    assert chosen == {"standard": True, "california-ssp": False, "sharp": False}
    assert SECTION not in _pdf_text(_generate(app, "2026-Q3", "california-ssp").pdf)


def test_a_profile_can_choose_the_section(app, checked):
    from ssp.reporting.funders import create_profile

    with app.app_context():
        create_profile(
            name="checking", funder_name="Checking funder", sections=["drug_checking"], threshold=11
        )
        db.session.commit()
    made = _generate(app, "2026-Q3", "checking")
    assert [s.key for s in made.document.sections] == ["drug_checking"]


# --- small counts ---------------------------------------------------------------------------


def test_small_counts_are_protected_under_the_standard_profile(app, checked):
    """Threshold 11: nothing from 1 to 10 prints anywhere in the section, and the audit
    leaves no count exposed. Each month's samples (5, 3, 3) print "<11", the archived
    release keeping the true value, and their breakdowns are withheld. The quarter's 11,
    beside the three monthly "<11" it is the sum of, would tell a reader that none of
    them is 10: it prints "*"."""
    from ssp.reporting.models import Report

    for period in ("2026-07", "2026-08", "2026-09", "2026-Q3"):
        made = _generate(app, period, "standard")
        _assert_printed_as_counted(made, period, 11)
        cells = _cells(made)
        assert cells[(BY_SOLD_AS, "", "")]["status"] == "withheld"
        with app.app_context():
            report = db.session.get(Report, made.report_id)
            release, audit = report.release["cells"], report.audit
        assert audit["exposed_before"] == [], period
        total = sum(EXPECTED[period]["samples"].values())
        assert release[f"{period}|drug_checks"][0] == total
        if period == "2026-Q3":
            assert cells[(SAMPLES, ALL, "Count")]["status"] == "hidden"
            assert release[f"{period}|drug_checks"][1:] == ["hidden", True, "*"]
        else:
            assert cells[(SAMPLES, ALL, "Count")]["status"] == "small"
            assert release[f"{period}|drug_checks"][1:] == ["small", True, "<11"]
        fentanyl = checked["sold_as"]["Fentanyl"]
        value, status, sensitive, text = release[f"{period}|drug_checks.sold_as:{fentanyl}"]
        assert (value, status, sensitive, text) == (
            EXPECTED[period]["samples"]["Fentanyl"],
            "unprinted",
            True,
            "",
        )
        pdf = _pdf_text(made.pdf)
        assert "Count Counted as All samples checked" in pdf and f"{BY_SOLD_AS} Withheld" in pdf


def test_a_quarter_alone_prints_its_total(app, checked):
    """Before any of its months is archived, the quarter's 11 samples print; what they
    were sold as (5, 2, 1...) does not."""
    made = _generate(app, "2026-Q3", "standard")
    _assert_printed_as_counted(made, "2026-Q3", 11)
    cells = _cells(made)
    assert cells[(SAMPLES, ALL, "Count")]["value"] == "11"
    assert cells[(BY_SOLD_AS, "", "")]["status"] == "withheld"
