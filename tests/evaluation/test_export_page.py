"""The evaluator export through the managers' page, on the hand-worked program of
conftest.py: what the file holds and what it never holds, k-anonymity in every output,
the cover note's counts, fresh person numbers, the audit row, formula guarding, bad
input and who may use it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from sqlalchemy import select

from ssp.audit import AuditEvent
from ssp.csvsafe import FORMULA_STARTS
from ssp.evaluation.export import ATTRIBUTES
from ssp.extensions import db
from ssp.staff import audit_words
from tests.evaluation.conftest import (
    CANARY,
    PURPOSE,
    RECIPIENT,
    assert_k_anonymous,
    export_through_page,
    groups,
    page_export,
    read_export,
)


@pytest.fixture
def manager(evaluation_program, signed_in):
    return signed_in("manager")


def _export_events(app) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "evaluation_export_made")
            )
        )


def test_the_cover_note_counts_match_the_hand_worked_program(manager):
    export = page_export(manager, location="site")
    meta = export.metadata
    assert (meta["k"], meta["rows_read"], meta["rows"]) == (3, 23, 22)
    assert (meta["rows_coarsened"], meta["rows_left_out"]) == (22, 1)
    assert (meta["people"], meta["anonymous_rows"]) == (11, 3)
    assert meta["steps"] == ["Sites merged into their kinds"]
    sizes = {key: len(rows) for key, rows in groups(export.rows).items()}
    assert sizes == {
        ("2026-10", "Fixed site", "Woman"): 9,
        ("2026-10", "Fixed site", "Man"): 7,  # M7's visit at 23:30 on 31 October counts
        ("2026-10", "Fixed site", "Not recorded"): 3,
        ("2026-10", "Mobile unit", "Man"): 3,
    }
    assert meta["anonymous_rows_left_out"] == 0  # the walk-ins: a group of 3 rows
    assert "rows left out (still in a group smaller than 3): 1\n" in export.readme
    assert "at least 3 different people among the rows with a `person`" in export.readme
    assert "rows coarsened (kept, with a value coarser than asked): 22" in export.readme
    assert "1. Sites merged into their kinds" in export.readme
    # The same program with kinds asked from the start: nothing coarsened, W5 left out.
    kinds = page_export(manager, location="kind").metadata
    assert (kinds["rows"], kinds["rows_coarsened"], kinds["rows_left_out"]) == (22, 0, 1)
    assert kinds["steps"] == []


def test_counts_per_visit_and_per_person_month(manager):
    export = page_export(manager, attributes=[])
    assert {int(r["visits"]) for r in export.rows} == {1}
    assert len(export.rows) == 23
    assert sum(int(r["supplies_syringe"]) for r in export.rows) == 10 * 23
    naloxone = [r for r in export.rows if r["supplies_naloxone"] != "0"]
    assert len(naloxone) == 1
    assert naloxone[0]["naloxone_after_reversal"] == "2"
    assert naloxone[0]["service_overdose_reversal_reported"] == "1"
    assert naloxone[0]["syringes_collected"] == "25"
    assert sum(int(r["service_hiv_test"]) for r in export.rows) == 6

    months = page_export(manager, unit="person_month", attributes=[]).rows
    # 12 people had October visits; no anonymous visit has a person-month. W5 is one of
    # four at the mobile unit here (no gender asked), so nobody is left out.
    assert len(months) == 12 and all(r["person"] for r in months)
    assert sorted(int(r["visits"]) for r in months) == [1] * 5 + [2] * 6 + [3]
    w1 = next(r for r in months if r["visits"] == "3")
    assert (w1["supplies_naloxone"], w1["supplies_syringe"]) == ("2", "30")


def test_voided_visits_and_other_months_are_left_out(manager):
    export = page_export(manager, attributes=[], location="kind")
    # 23 October visits: not W2's voided visit at the van, not M1's at 23:30 on 30
    # September (1 October in UTC). With no attribute nobody is alone: all are kept.
    assert export.metadata["rows_read"] == len(export.rows) == 23
    assert {r["period"] for r in export.rows} == {"2026-10"}
    assert sum(1 for r in export.rows if r["location"] == "Mobile unit") == 4


def test_one_person_keeps_one_number_and_two_exports_share_none(manager):
    first = page_export(manager, attributes=[])
    second = page_export(manager, attributes=[])
    numbers = [{r["person"] for r in e.rows if r["person"]} for e in (first, second)]
    assert len(numbers[0]) == len(numbers[1]) == 12
    assert numbers[0].isdisjoint(numbers[1])
    for export in (first, second):
        per_person = {}
        for r in export.rows:
            if r["person"]:
                per_person[r["person"]] = per_person.get(r["person"], 0) + 1
        # W1 came three times; W2 to W4 and M1 to M3 twice; the others once.
        assert sorted(per_person.values()) == [1] * 5 + [2] * 6 + [3]
        assert all(len(n) == 16 and int(n, 16) >= 0 for n in per_person)
        assert sum(1 for r in export.rows if not r["person"]) == 3  # the walk-ins


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
@pytest.mark.parametrize(
    "options",
    [
        {"location": "kind", "attributes": ["gender"]},
        {"location": "site", "granularity": "week", "attributes": ["age_band", "gender"]},
        {"location": "site", "unit": "person_month", "attributes": ["service_model", "injects"]},
        {"location": "none", "granularity": "week", "attributes": list(ATTRIBUTES)},
    ],
)
def test_no_code_note_username_or_typed_text_and_k_anonymous(manager, options, file_format):
    export = page_export(manager, file_format=file_format, **options)
    assert_k_anonymous(export.rows, 3)
    assert export.metadata["rows"] == len(export.rows)
    assert (
        export.metadata["rows"] + export.metadata["rows_left_out"] == export.metadata["rows_read"]
    )
    for text in export.texts:
        lowered = text.lower()
        # Codes, the username, the note, void and follow-up reasons, the zone, the items'
        # and the partner's names: never. The site names only when they were asked for.
        for planted in (
            "zqcanary0",
            "zqcanary1",
            "zqcanarystaff",
            "zqcanary-",
            "zqcanary s",
            "zqcanary n",
            "zqcanary c",
        ):
            assert planted not in lowered, (planted, options)
        if options["location"] != "site":
            assert CANARY.lower() not in lowered, options
        assert PURPOSE not in text and RECIPIENT not in text


def test_parquet_has_typed_columns_and_nulls_for_anonymous_visits(manager):
    import pyarrow as pa
    import pyarrow.parquet as pq

    export = page_export(manager, file_format="parquet", attributes=["gender"])
    table = pq.read_table(io.BytesIO(export.members["data.parquet"]))
    assert table.schema.field("visits").type == pa.int64()
    assert table.schema.field("period").type == pa.string()
    assert sum(1 for r in export.rows if r["person"] is None) == 3
    assert set(export.members) == {"README.md", "metadata.json", "data.parquet"}
    assert (
        export.metadata["data_sha256"] == hashlib.sha256(export.members["data.parquet"]).hexdigest()
    )


def test_the_audit_row_has_the_purpose_recipient_and_the_sha256_of_the_download(app, manager):
    response = export_through_page(manager, location="site")
    downloaded = response.get_data()
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="evaluation-export_2026-10_'
    )
    [event] = _export_events(app)
    detail = event.detail
    assert detail["purpose"] == PURPOSE and detail["recipient"] == RECIPIENT
    assert detail["sha256"] == hashlib.sha256(downloaded).hexdigest()
    assert (detail["first_day"], detail["last_day"]) == ("2026-10-01", "2026-10-31")
    assert detail["period"] == "October 2026"
    assert (detail["unit"], detail["granularity"], detail["location"]) == (
        "visit",
        "month",
        "site",
    )
    assert detail["attributes"] == ["gender"] and detail["format"] == "csv"
    assert (detail["rows"], detail["rows_left_out"], detail["k"]) == (22, 1, 3)
    assert event.user_id is not None
    with app.app_context():
        names = audit_words.Names().prepare([event])
        text = str(audit_words.describe(event, names))
    assert text.startswith(
        f"Exported line-level data for evaluators for October 2026 to {RECIPIENT}"
    )
    assert f"Purpose: {PURPOSE}" in text and detail["sha256"] in text


def test_dates_instead_of_a_period(app, manager):
    export = page_export(manager, period="", first_day="2026-10-10", last_day="2026-10-31")
    assert export.metadata["first_day"] == "2026-10-10"
    # From the 10th: W1 once (16th), W2 to W4 and M1 to M3 once (20th), the walk-ins (12th),
    # M7 (31st), the van (14th).
    assert export.metadata["rows_read"] == 1 + 6 + 3 + 1 + 4
    [event] = _export_events(app)
    assert event.detail["period"] == "2026-10-10 to 2026-10-31"


def test_a_site_name_that_looks_like_a_formula_is_text(app, factory, signed_in):
    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    app.config["EXPORT_MIN_GROUP_SIZE"] = 2
    site = factory.site("=cmd|' /C calc'!A0")
    user = factory.user("deskboss", "manager", site_id=site)
    for code in ("FRMA0001", "FRMB0002"):
        factory.visit(
            factory.participant(code),
            user_id=user,
            site_id=site,
            occurred_at=dt.datetime(2026, 10, 5, 18, tzinfo=dt.UTC),
        )
    browser = signed_in("manager")
    export = page_export(browser, location="site", attributes=[])
    csv_text = export.members["data.csv"].decode()
    assert {r["location"] for r in export.rows} == {"'=cmd|' /C calc'!A0"}
    for line in csv_text.splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.strip('"').startswith(FORMULA_STARTS), line
    parquet = page_export(browser, location="site", attributes=[], file_format="parquet")
    assert {r["location"] for r in parquet.rows} == {"=cmd|' /C calc'!A0"}  # not a sheet


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"purpose": ""}, "Say what the data is for."),
        ({"purpose": "   "}, "Say what the data is for."),
        ({"recipient": ""}, "Say who receives the data."),
        ({"recipient": "State\x07University"}, "Remove the control character"),
        ({"purpose": "for\x00the study"}, "Remove the control character"),
        ({"purpose": "x" * 501}, "Field cannot be longer than 500 characters."),
        (
            {"period": "", "first_day": "2026-10-20", "last_day": "2026-10-01"},
            "The first day is after the last day.",
        ),
        ({"period": "", "first_day": "2026-10-01"}, "Give the first and the last day"),
        (
            {"period": "2026-10", "first_day": "2026-10-01", "last_day": "2026-10-02"},
            "Choose a period or give the dates, not both.",
        ),
        ({"period": "", "first_day": "2031-01-01", "last_day": "2031-02-01"}, "not begun yet"),
        ({"period": "", "first_day": "1999-01-01", "last_day": "2026-02-01"}, "between 2000"),
        ({"period": "", "first_day": "2026-13-45", "last_day": "2026-10-02"}, "Not a valid date"),
        ({"period": "FY2027"}, "Not a valid choice"),
        ({"unit": "person_month", "granularity": "week"}, "counts whole months"),
        ({"attributes": ["zip3"]}, "is not a valid choice"),
        ({"file_format": "xlsx"}, "Not a valid choice"),
        ({"purpose": "Follow up ZQCANARY01 please"}, "contains a participant code"),
    ],
)
def test_bad_input_is_a_form_error_never_a_500(app, manager, overrides, message):
    response = export_through_page(manager, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:500]
    assert response.mimetype == "text/html"
    import html

    assert message in html.unescape(page), page[page.find("error") - 200 : page.find("error") + 400]
    assert _export_events(app) == []


@pytest.mark.parametrize(
    ("overrides", "box"),
    [
        ({"purpose": "Follow up ZQCANARY01 please"}, "purpose"),
        ({"recipient": "zqcanary-02 at the clinic"}, "recipient"),
        # Refused for another reason, the form is shown again: still without the code.
        ({"purpose": "ZQCANARY03\x07 study", "period": "FY2027"}, "purpose"),
        ({"purpose": "For ZQCANARY04 " + "x" * 500}, "purpose"),
        ({"recipient": "ZQCANARY05", "unit": "person_month", "granularity": "week"}, "recipient"),
    ],
)
def test_a_refused_text_naming_a_code_is_cleared_not_shown_back(app, manager, overrides, box):
    response = export_through_page(manager, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    import html

    text = html.unescape(page)
    assert "zqcanary0" not in text.lower(), text[text.find("ZQ") - 300 : text.find("ZQ") + 100]
    assert f"The {box} contains a participant code, so it was cleared" in text
    assert "type it again without the code" in text
    # No code is shown, so there is no view to audit. The other box keeps what was typed.
    other = RECIPIENT if box == "purpose" else PURPOSE
    assert html.escape(other, quote=False) in page
    assert _export_events(app) == []


def test_a_text_far_too_long_to_check_is_cleared(manager):
    response = export_through_page(manager, recipient="x" * 801)
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "x" * 801 not in text
    assert "The recipient was cleared: it is far longer than 200 characters" in text


def test_without_the_csrf_token_nothing_is_made(app, manager):
    response = manager.post("/reports/evaluator-export", {"purpose": "x"}, csrf=False)
    assert response.status_code in (400, 422)
    assert _export_events(app) == []


def test_front_desk_gets_403_and_a_signed_out_visitor_is_sent_to_sign_in(
    app, evaluation_program, signed_in, client
):
    assert client.get("/reports/evaluator-export").status_code == 302
    desk = signed_in("front_desk")
    assert desk.get("/reports/evaluator-export").status_code == 403
    assert export_through_page(desk).status_code == 403
    assert _export_events(app) == []


def test_the_page_is_linked_from_the_reports_page_and_shows_the_form(manager):
    reports = manager.get("/reports").get_data(as_text=True)
    assert 'href="/reports/evaluator-export"' in reports
    page = manager.get("/reports/evaluator-export").get_data(as_text=True)
    assert 'name="purpose"' in page and 'name="recipient"' in page
    assert '<option selected value="2026-11">November 2026</option>' in page
    assert CANARY not in page


def test_an_empty_period_gives_a_valid_empty_export(app, manager):
    export = page_export(manager, period="2026-01")
    assert export.rows == [] and export.metadata["rows"] == 0
    header = export.members["data.csv"].decode().splitlines()[0]
    assert header.startswith("person,period,location,gender,visits,syringes_collected")
    assert read_export(export.data).metadata["rows_left_out"] == 0


def test_hostile_values_in_every_box_never_give_a_500(app, manager):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from werkzeug.datastructures import MultiDict

    from tests.evaluation.conftest import form_values
    from tests.test_fuzz_forms import EXAMPLES, HOSTILE, SCRIPT

    manager.get("/reports/evaluator-export")
    names = sorted(form_values())

    @settings(
        max_examples=EXAMPLES * 2,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.dictionaries(st.sampled_from(names), HOSTILE, min_size=1, max_size=4))
    def post(hostile):
        values = {**form_values(attributes="gender"), **hostile}
        form = MultiDict(list(values.items()))
        form.setlist("csrf_token", [manager.token])
        before = len(_export_events(app))
        response = manager.client.post("/reports/evaluator-export", data=form)
        assert response.status_code in (200, 422), (hostile, response.status_code)
        assert SCRIPT not in response.get_data(as_text=True)
        made = len(_export_events(app)) - before
        assert made == (1 if response.status_code == 200 else 0), hostile

    post()
