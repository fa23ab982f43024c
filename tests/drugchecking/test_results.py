"""Drug-checking results: recorded at the desk's page and from the command line, counted
per week, the signal rule on a made-up month of results, the lists, and never a code."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from ssp.drugchecking.models import CheckTest, DrugCheck, Finding, SoldAs
from ssp.extensions import db
from ssp.timeutil import day_start, program_today, utcnow


@pytest.fixture
def lab(app, factory):
    """The usual lists, a site, a zone, a desk account and a manager."""
    from ssp.drugchecking.services import load_default_lists
    from ssp.outreach.models import Zone

    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    site = factory.site("Main Street")
    factory.user("desk", role="front_desk", site_id=site)
    factory.user("mgr", role="manager", site_id=site)
    factory.user("boss", role="admin", site_id=site)
    with app.app_context():
        load_default_lists()
        db.session.add(Zone(name="Riverside camp", active=True))
        db.session.commit()
        ids = {
            "site": site,
            "zone": db.session.scalar(select(Zone.id)),
            "sold": dict(db.session.execute(select(SoldAs.name, SoldAs.id)).all()),
            "tests": dict(db.session.execute(select(CheckTest.finds, CheckTest.id)).all()),
        }
    return ids


def _record(app, lab, sold_as, findings, when, user="mgr", zone=False):
    from ssp.drugchecking.services import CheckDetails, record_check
    from ssp.staff.models import User

    with app.app_context():
        staff = db.session.scalar(select(User).where(User.username == user))
        check = record_check(
            CheckDetails(
                sold_as_id=lab["sold"][sold_as],
                form="powder",
                outcomes={lab["tests"][finds]: outcome for finds, outcome in findings.items()},
                site_id=None if zone else lab["site"],
                zone_id=lab["zone"] if zone else None,
                checked_at=when,
            ),
            staff,
        )
        db.session.commit()
        return check.id


def _noon(app) -> dt.datetime:
    """Noon of the program's today (results may not be in the future)."""
    with app.app_context():
        return min(day_start(program_today()) + dt.timedelta(hours=12), utcnow())


def _form(browser, **values):
    page = browser.get("/drug-checking/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page)
    data = {"submission_key": key.group(1) if key else "", "form": "powder"}
    data["reaction"] = "not_asked"
    data.update(values)
    return browser.post("/drug-checking/new", data, follow_redirects=True)


def test_the_desk_records_a_result_with_no_name_or_code(app, lab, browser):
    browser.sign_in("desk")
    fentanyl, xylazine = lab["tests"]["Fentanyl"], lab["tests"]["Xylazine"]
    response = _form(
        browser,
        sold_as_id=str(lab["sold"]["Fentanyl"]),
        site_id=str(lab["site"]),
        zone_id="",
        **{f"test_{fentanyl}": "positive", f"test_{xylazine}": "positive"},
        reaction="yes",
    )
    assert response.status_code == 200
    saved = "Result saved: sold as fentanyl, positive for fentanyl, xylazine."
    assert saved + " Ready for the next sample." in response.get_data(as_text=True)
    with app.app_context():
        check = db.session.scalar(select(DrugCheck))
        assert check.participant_id is None and check.reaction.value == "yes"
        assert sorted(f.outcome.value for f in check.findings) == ["positive", "positive"]


def test_a_double_submit_saves_one_result(app, lab, browser):
    browser.sign_in("desk")
    page = browser.get("/drug-checking/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
    data = {
        "submission_key": key,
        "sold_as_id": str(lab["sold"]["Heroin"]),
        "form": "powder",
        "reaction": "not_asked",
        "site_id": str(lab["site"]),
        f"test_{lab['tests']['Fentanyl']}": "negative",
    }
    browser.post("/drug-checking/new", data)
    again = browser.post("/drug-checking/new", data, follow_redirects=True)
    assert "That result was already saved." in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DrugCheck)) == 1


def test_a_result_needs_a_test_a_sample_and_a_place(app, lab, browser):
    browser.sign_in("desk")
    response = _form(browser, sold_as_id="", site_id="", zone_id="")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Choose what the sample was sold or bought as." in text
    response = _form(browser, sold_as_id=str(lab["sold"]["Meth"]), site_id=str(lab["site"]))
    assert response.status_code == 422
    assert "Give the result of at least one test." in response.get_data(as_text=True)
    response = _form(
        browser,
        sold_as_id=str(lab["sold"]["Meth"]),
        site_id="",
        zone_id="",
        **{f"test_{lab['tests']['Fentanyl']}": "positive"},
    )
    assert "Say where: a site or an outreach zone." in response.get_data(as_text=True)
    hostile = _form(
        browser,
        sold_as_id="99999999999",
        form="gas",
        site_id="abc",
        **{f"test_{lab['tests']['Fentanyl']}": "maybe"},
    )
    assert hostile.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DrugCheck)) == 0


def test_a_made_up_month_raises_the_xylazine_signal_and_the_trends_page_says_it(app, lab, browser):
    noon = _noon(app)
    # Four weeks before: 1 of 12 fentanyl samples with xylazine.
    for number in range(12):
        outcome = "positive" if number == 0 else "negative"
        _record(app, lab, "Fentanyl", {"Xylazine": outcome}, noon - dt.timedelta(days=10 + number))
    # This week: 6 of 14.
    for number in range(14):
        outcome = "positive" if number < 6 else "negative"
        _record(app, lab, "Fentanyl", {"Xylazine": outcome}, noon - dt.timedelta(days=number % 7))
    # Steady heroin results raise nothing.
    for days in (1, 12, 20):
        _record(app, lab, "Heroin", {"Fentanyl": "positive"}, noon - dt.timedelta(days=days))
    with app.app_context():
        from ssp.drugchecking.trends import signals

        found = signals()
    assert [(s.sold_as, s.finds, s.positive, s.tested) for s in found] == [
        ("Fentanyl", "Xylazine", 6, 14)
    ]
    assert found[0].sentence == (
        "Xylazine positive in 6 of 14 samples sold as fentanyl in the last 7 days, "
        "up from 1 of 12 in the 28 days before."
    )
    browser.sign_in("mgr")
    page = browser.get("/drug-checking/").get_data(as_text=True)
    assert found[0].sentence in page
    assert "rose by at least 25 percentage points against the 28 days before" in page
    # The weekly table adds up to what was recorded.
    cells = re.findall(r"(\d+) of (\d+)</td>", page)
    assert sum(int(tested) for _, tested in cells) == 12 + 14 + 3


def test_a_voided_result_counts_nowhere(app, lab, browser):
    now = _noon(app)
    check_id = _record(app, lab, "Cocaine", {"Fentanyl": "positive"}, now)
    browser.sign_in("mgr")
    browser.post(f"/drug-checking/results/{check_id}/void", {})
    with app.app_context():
        from ssp.drugchecking.trends import counts

        assert counts(now - dt.timedelta(days=1), now + dt.timedelta(days=1)) == {}
        assert db.session.get(DrugCheck, check_id).voided_at is not None


def test_the_command_line_records_and_prints_what_is_rising(app, lab):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "drug-check", "add", "--as", "mgr", "--sold-as", "pressed pill", "--form", "pill",
            "--test", "Fentanyl test strip=positive", "--test", "Benzodiazepine test strip=unclear",
            "--zone", "Riverside camp",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Recorded result 1: sold as pressed pill, 2 tests." in result.output
    bad = runner.invoke(
        args=["drug-check", "add", "--as", "mgr", "--sold-as", "glitter", "--form", "pill",
              "--test", "Fentanyl test strip=positive", "--site", "Main Street"]
    )  # fmt: skip
    assert bad.exit_code == 1 and "'glitter' is not on the list" in bad.output
    rising = runner.invoke(args=["drug-check", "rising"])
    assert rising.exit_code == 0, rising.output
    assert "Pressed pill / Fentanyl:" in rising.output and "1 of 1" in rising.output


def test_an_admin_keeps_the_lists(app, lab, browser):
    browser.sign_in("boss")
    added = browser.post(
        "/drug-checking/lists/tests",
        {"test-name": "Nitazene test strip", "test-finds": "Nitazenes"},
        follow_redirects=True,
    )
    assert "Nitazene test strip" in added.get_data(as_text=True)
    twice = browser.post("/drug-checking/lists/sold-as", {"sold-name": "fentanyl"})
    assert twice.status_code == 422 and "already on the list" in twice.get_data(as_text=True)
    with app.app_context():
        meth = db.session.scalar(select(SoldAs.id).where(SoldAs.name == "Meth"))
    browser.post(f"/drug-checking/lists/sold-as/{meth}/toggle", {"active": "0"})
    browser.post(f"/drug-checking/lists/sold-as/{meth}/toggle", {"active": "0"})  # twice
    browser.sign_out()
    browser.sign_in("desk")
    form = browser.get("/drug-checking/new").get_data(as_text=True)
    assert "Nitazene test strip" in form and ">Meth<" not in form


def test_a_result_keeps_no_visit_or_person_unless_the_program_links_them(app, lab, browser):
    from ssp.drugchecking.services import CheckDetails, record_check
    from ssp.staff.models import User

    details = CheckDetails(
        sold_as_id=lab["sold"]["Fentanyl"],
        form="powder",
        outcomes={lab["tests"]["Xylazine"]: "positive"},
        site_id=lab["site"],
        visit_id=7,
        participant_id=3,
    )
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "mgr"))
        check = record_check(details, user)
        assert (check.visit_id, check.participant_id) == (None, None)
        db.session.rollback()


def test_no_result_page_ever_shows_a_code(app, lab, browser, factory):
    factory.participant("CANARY99", site_id=lab["site"])
    now = _noon(app)
    _record(app, lab, "Fentanyl", {"Xylazine": "positive"}, now)
    browser.sign_in("mgr")
    for url in ("/drug-checking/", "/drug-checking/new", "/drug-checking/?by=month"):
        assert "CANARY99" not in browser.get(url).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Finding)) == 1


def test_an_exact_rise_of_the_threshold_is_a_signal(app, lab):
    noon = _noon(app)
    # 9 of 20 in the 28 days before, 7 of 10 in the last 7: exactly 25 points.
    for number in range(20):
        outcome = "positive" if number < 9 else "negative"
        _record(app, lab, "Heroin", {"Fentanyl": outcome}, noon - dt.timedelta(days=8 + number))
    for number in range(10):
        outcome = "positive" if number < 7 else "negative"
        _record(app, lab, "Heroin", {"Fentanyl": outcome}, noon - dt.timedelta(days=number % 7))
    with app.app_context():
        from ssp.drugchecking.trends import signals

        assert [(s.positive, s.tested, s.positive_before, s.tested_before) for s in signals()] == [
            (7, 10, 9, 20)
        ]


def test_a_test_retired_while_the_form_was_open_is_refused_not_dropped(app, lab, browser):
    browser.sign_in("desk")
    page = browser.get("/drug-checking/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
    with app.app_context():
        test = db.session.get(CheckTest, lab["tests"]["Benzodiazepines"])
        test.active = False
        db.session.commit()
    response = browser.post(
        "/drug-checking/new",
        {
            "submission_key": key,
            "sold_as_id": str(lab["sold"]["Pressed pill"]),
            "form": "pill",
            "reaction": "no",
            "site_id": str(lab["site"]),
            f"test_{lab['tests']['Fentanyl']}": "positive",
            f"test_{lab['tests']['Benzodiazepines']}": "positive",
        },
    )
    assert response.status_code == 422
    assert "list any more" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DrugCheck)) == 0


def test_list_names_refuse_invisible_characters_and_codes(app, lab, browser, factory):
    factory.participant("QWRT0101", site_id=lab["site"])
    browser.sign_in("boss")
    for name in ("Fent\u202eanyl", "Fent\u200banyl", "qwrt-0101"):
        response = browser.post("/drug-checking/lists/sold-as", {"sold-name": name})
        assert response.status_code == 422, name
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SoldAs)) == 7


def test_the_command_line_refuses_a_test_given_twice(app, lab):
    result = app.test_cli_runner().invoke(
        args=["drug-check", "add", "--as", "mgr", "--sold-as", "heroin", "--form", "powder",
              "--test", "Fentanyl test strip=positive", "--test", "Fentanyl test strip=negative",
              "--site", "Main Street"]
    )  # fmt: skip
    assert result.exit_code == 1 and "is given twice" in result.output


def test_a_linked_result_takes_its_participant_from_a_visit_that_exists(app, lab, factory):
    from ssp.drugchecking.services import CheckDetails, DrugCheckError, record_check
    from ssp.staff.models import User

    app.config["DRUG_CHECK_LINK_PARTICIPANTS"] = True
    person = factory.participant("MAPH0687", site_id=lab["site"])
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "mgr"))
        user_id = user.id
    visit = factory.visit(person, user_id=user_id, site_id=lab["site"])
    details = dict(
        sold_as_id=lab["sold"]["Fentanyl"],
        form="powder",
        outcomes={lab["tests"]["Xylazine"]: "positive"},
        site_id=lab["site"],
    )
    with app.app_context():
        user = db.session.get(User, user_id)
        with pytest.raises(DrugCheckError, match="That visit is not on record."):
            record_check(CheckDetails(**details, visit_id=123456), user)
        db.session.rollback()
        check = record_check(CheckDetails(**details, visit_id=visit), user)
        assert (check.visit_id, check.participant_id) == (visit, person)
        db.session.rollback()


def test_the_command_line_speaks_the_language_of_ssp_language(app, lab, monkeypatch):
    """A command's messages in the language SSP_LANGUAGE names."""
    monkeypatch.setenv("SSP_LANGUAGE", "es")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "drug-check", "add", "--as", "mgr", "--sold-as", "pressed pill", "--form", "pill",
            "--test", "Fentanyl test strip=positive", "--test", "Benzodiazepine test strip=unclear",
            "--zone", "Riverside camp",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Resultado 1 registrado: muestra vendida como pressed pill, 2 pruebas." in result.output
    bad = runner.invoke(
        args=["drug-check", "add", "--as", "nobody", "--sold-as", "heroin", "--form", "pill",
              "--test", "Fentanyl test strip=positive", "--site", "Main Street"]
    )  # fmt: skip
    assert bad.exit_code == 1
    assert "'nobody' no es una cuenta activa del personal." in bad.output
    rising = runner.invoke(args=["drug-check", "rising"])
    assert "Señales: hoy ninguna cumple la regla." in rising.output
    assert "Vendida como / hallazgo: Semana del " in rising.output and "1 de 1" in rising.output
    monkeypatch.setenv("SSP_LANGUAGE", "en")
    english = runner.invoke(args=["drug-check", "rising"])
    assert "Signals: none meets the rule today." in english.output
