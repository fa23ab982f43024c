"""Community alerts: drafted by hand or from a signal, approved by a second manager (never
the one who drafted or changed it), printed as a one-page flyer read back from the PDF,
sent as a short text, shown in the desk's header until they expire or are withdrawn;
bad input is a 422 with messages; and no participant's code ever reaches an alert."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from ssp.audit import AuditEvent
from ssp.drugchecking.models import Alert, AlertStatus, CheckTest, SoldAs
from ssp.extensions import db
from ssp.staff.models import User
from ssp.timeutil import day_start, program_today, utcnow
from tests.conftest import Browser

CANARY = "CANARY99"
ADVICE = {
    "use_with_someone": "Use with someone, or call a never-use-alone line.",
    "start_low": "Start low and go slow: try a small amount first.",
    "carry_naloxone": "Carry naloxone and know how to use it. Free kits here.",
    "test_first": "Test before you use: free test strips here.",
    "xylazine_wounds": "Xylazine can cause wounds: come to us for wound care early.",
    "xylazine_breathing": "Naloxone still helps: give it, then rescue breaths.",
}


@pytest.fixture
def lab(app, factory):
    """The usual lists, a site, a zone, a desk account, two managers and an admin, and a
    participant whose code must never reach an alert."""
    from ssp.drugchecking.services import load_default_lists
    from ssp.outreach.models import Zone

    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    app.config["PROGRAM_NAME"] = "Harbor SSP"
    app.config["ALERT_ADVICE"] = dict(ADVICE)
    site = factory.site("Main Street")
    factory.user("desk", role="front_desk", site_id=site)
    factory.user("mgr", role="manager", site_id=site)
    factory.user("mgr2", role="manager", site_id=site)
    factory.user("boss", role="admin", site_id=site)
    person = factory.participant(CANARY, site_id=site)
    with app.app_context():
        load_default_lists()
        db.session.add(Zone(name="Riverside camp", active=True))
        db.session.commit()
        return {
            "site": site,
            "participant": person,
            "zone": db.session.scalar(select(Zone.id)),
            "sold": dict(db.session.execute(select(SoldAs.name, SoldAs.id)).all()),
            "tests": dict(db.session.execute(select(CheckTest.finds, CheckTest.id)).all()),
            "today": program_today(),
        }


def _as(app, username: str) -> Browser:
    browser = Browser(app.test_client())
    response = browser.sign_in(username)
    assert response.status_code == 200
    return browser


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _record(app, lab, *, xylazine: str = "positive", zone: bool = False, hours_ago: int = 2):
    """One fentanyl sample tested for xylazine, through record_check."""
    from ssp.drugchecking.services import CheckDetails, record_check

    with app.app_context():
        check = record_check(
            CheckDetails(
                sold_as_id=lab["sold"]["Fentanyl"],
                form="powder",
                outcomes={lab["tests"]["Xylazine"]: xylazine},
                site_id=None if zone else lab["site"],
                zone_id=lab["zone"] if zone else None,
                checked_at=min(day_start(program_today()) + dt.timedelta(hours=12), utcnow())
                - dt.timedelta(hours=hours_ago),
                participant_id=lab["participant"],
            ),
            _user("desk"),
        )
        db.session.commit()
        return check.id


def _fields(lab, **values):
    today = lab["today"]
    data = {
        "found": "Xylazine",
        "sold_as": "Fentanyl",
        "area": "all areas",
        "since": (today - dt.timedelta(days=2)).isoformat(),
        "expires_on": (today + dt.timedelta(days=14)).isoformat(),
        "advice": ["use_with_someone", "carry_naloxone", "xylazine_wounds"],
    }
    data.update(values)
    return data


def _draft(browser, lab, **values):
    browser.get("/drug-checking/alerts/new")
    return browser.post("/drug-checking/alerts/new", _fields(lab, **values))


def _alert_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return int(re.search(r"/drug-checking/alerts/(\d+)$", response.headers["Location"]).group(1))


def _version(page: str) -> str:
    """The version of the draft the approve form carries (what the approver read)."""
    match = re.search(r'<input type="hidden" name="version" value="([0-9a-f]+)"', page)
    assert match, "the approve form carries the version read"
    return match.group(1)


def _approve(browser, alert_id: int, version: str | None = None):
    """Approve as a manager does: open the alert, read it, press Approve."""
    if version is None:
        version = _version(browser.get(f"/drug-checking/alerts/{alert_id}").get_data(as_text=True))
    return browser.post(f"/drug-checking/alerts/{alert_id}/approve", {"version": version})


def _approved(app, lab, **values) -> int:
    alert_id = _alert_id(_draft(_as(app, "mgr"), lab, **values))
    boss = _as(app, "boss")
    assert _approve(boss, alert_id).status_code == 303
    return alert_id


def _actions(app, alert_id: int) -> list[tuple[str, int | None]]:
    with app.app_context():
        return [
            (event.action, event.user_id)
            for event in db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_type == "drug_alert", AuditEvent.object_id == alert_id)
                .order_by(AuditEvent.id)
            )
        ]


def _value(page: str, box: str) -> str | None:
    match = re.search(rf'<input[^>]* id="{box}"[^>]*>', page)
    value = match and re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else None


def _ticked(page: str) -> set[str]:
    return set(re.findall(r'<input checked[^>]* name="advice"[^>]* value="([^"]+)"', page))


def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


# --- drafting and the review rule -----------------------------------------------------------


def test_a_manager_drafts_by_hand_and_cannot_approve_it_another_manager_does(app, lab):
    mgr = _as(app, "mgr")
    page = mgr.get("/drug-checking/alerts/new").get_data(as_text=True)
    assert _value(page, "area") == "all areas" and _value(page, "found") == ""
    assert _ticked(page) == {"use_with_someone", "start_low", "carry_naloxone", "test_first"}
    alert_id = _alert_id(_draft(mgr, lab, found="  Xylazine ", area="Riverside camp"))

    shown = mgr.get(f"/drug-checking/alerts/{alert_id}").get_data(as_text=True)
    assert "another manager approves it" in shown and ">Approve</button>" not in shown
    refused = mgr.post(f"/drug-checking/alerts/{alert_id}/approve")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "You drafted or changed this alert, so you cannot approve it" in body
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.status == AlertStatus.DRAFT and alert.approved_by is None
        assert alert.found == "Xylazine" and alert.area == "Riverside camp"
        assert alert.advice == ["use_with_someone", "carry_naloxone", "xylazine_wounds"]

    other = _as(app, "mgr2")
    assert ">Approve</button>" in other.get(f"/drug-checking/alerts/{alert_id}").get_data(
        as_text=True
    )
    assert _approve(other, alert_id).status_code == 303
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.status == AlertStatus.APPROVED
        assert alert.approved_by == _user("mgr2").id
        mgr_id, mgr2_id = _user("mgr").id, _user("mgr2").id
    assert _actions(app, alert_id) == [
        ("drug_alert_drafted", mgr_id),
        ("drug_alert_approved", mgr2_id),
    ]
    listing = other.get("/drug-checking/alerts/").get_data(as_text=True)
    assert "Current alerts" in listing and "Xylazine in Fentanyl" in listing


def test_whoever_changed_a_draft_cannot_approve_it_either(app, lab):
    alert_id = _alert_id(_draft(_as(app, "mgr"), lab))
    boss = _as(app, "boss")
    boss.get(f"/drug-checking/alerts/{alert_id}/edit")
    edited = boss.post(
        f"/drug-checking/alerts/{alert_id}/edit", _fields(lab, area="Riverside camp")
    )
    assert edited.status_code == 303
    assert boss.post(f"/drug-checking/alerts/{alert_id}/approve").status_code == 422
    assert _as(app, "mgr").post(f"/drug-checking/alerts/{alert_id}/approve").status_code == 422
    assert _approve(_as(app, "mgr2"), alert_id).status_code == 303
    actions = [action for action, _ in _actions(app, alert_id)]
    assert actions == ["drug_alert_drafted", "drug_alert_edited", "drug_alert_approved"]
    with app.app_context():
        edit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "drug_alert_edited"))
        assert edit.detail == {"changed": ["area"], "area": "Riverside camp"}
    # Approved: no more changes, only a withdrawal.
    response = boss.get(f"/drug-checking/alerts/{alert_id}/edit")
    assert response.status_code == 303


def test_the_review_rule_in_the_service(app, lab):
    from ssp.drugchecking import alerts

    with app.app_context():
        mgr, desk = _user("mgr"), _user("desk")
        values = alerts.blank_values()
        draft = dict(
            found="Xylazine",
            sold_as="Fentanyl",
            area=values.area,
            since=values.since,
            expires_on=values.expires_on,
            advice=values.advice,
        )
        with pytest.raises(alerts.AlertError, match="Only a program manager"):
            alerts.draft_alert(desk, **draft)
        alert = alerts.draft_alert(mgr, **draft)
        with pytest.raises(alerts.AlertError, match="cannot approve it"):
            alerts.approve(alert, mgr)
        with pytest.raises(alerts.AlertError, match="Only a program manager"):
            alerts.approve(alert, desk)
        assert not alerts.may_approve(alert, mgr) and alerts.may_approve(alert, _user("boss"))
        alerts.approve(alert, _user("mgr2"))
        with pytest.raises(alerts.AlertError, match="not a draft"):
            alerts.approve(alert, _user("boss"))
        with pytest.raises(alerts.AlertError, match="Only a draft"):
            alerts.edit_draft(alert, _user("boss"), **draft)
        db.session.rollback()


def test_the_front_desk_cannot_draft_approve_or_withdraw_but_opens_an_approved_alert(app, lab):
    desk = _as(app, "desk")
    assert desk.get("/drug-checking/alerts/new").status_code == 403
    assert desk.post("/drug-checking/alerts/new", _fields(lab)).status_code == 403
    assert desk.get("/drug-checking/alerts/").status_code == 403
    alert_id = _alert_id(_draft(_as(app, "mgr"), lab))
    assert desk.get(f"/drug-checking/alerts/{alert_id}").status_code == 404  # a draft
    assert desk.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf").status_code == 404
    assert desk.post(f"/drug-checking/alerts/{alert_id}/approve").status_code == 403
    _approve(_as(app, "mgr2"), alert_id)
    page = desk.get(f"/drug-checking/alerts/{alert_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Download the flyer" in body
    assert f"/{alert_id}/withdraw" not in body and f"/{alert_id}/approve" not in body
    assert desk.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf").status_code == 200
    assert desk.post(f"/drug-checking/alerts/{alert_id}/withdraw").status_code == 403
    with app.app_context():
        assert db.session.get(Alert, alert_id).status == AlertStatus.APPROVED


# --- from a signal ---------------------------------------------------------------------------


def test_an_alert_drafted_from_a_signal_says_what_the_signal_found(app, lab):
    from ssp.drugchecking import alerts, trends

    for hours in (1, 2, 3):
        _record(app, lab, hours_ago=hours)
    _record(app, lab, xylazine="negative")
    with app.app_context():
        (signal,) = trends.signals()
        key = alerts.signal_key(signal)
    mgr = _as(app, "mgr")
    listing = mgr.get("/drug-checking/alerts/").get_data(as_text=True)
    assert f"/drug-checking/alerts/new?signal={key}" in listing
    page = mgr.get(f"/drug-checking/alerts/new?signal={key}").get_data(as_text=True)
    assert "From the signal: Xylazine positive in 3 of 4 samples" in page
    assert (_value(page, "found"), _value(page, "sold_as")) == ("Xylazine", "Fentanyl")
    assert _value(page, "area") == "Main Street"  # every positive came from the one site
    first = signal.first.isoformat()
    assert _value(page, "since") == first
    assert _ticked(page) == set(ADVICE)  # the usual four and xylazine's two
    response = mgr.post(
        "/drug-checking/alerts/new",
        {
            "signal": key,
            "found": "Xylazine",
            "sold_as": "Fentanyl",
            "area": "Main Street",
            "since": first,
            "expires_on": (lab["today"] + dt.timedelta(days=14)).isoformat(),
            "advice": ["use_with_someone", "xylazine_wounds"],
        },
    )
    alert_id = _alert_id(response)
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.test_id == lab["tests"]["Xylazine"]
        assert alert.signal["positive"] == 3 and alert.signal["tested"] == 4
        assert alert.signal["sentence"].startswith("Xylazine positive in 3 of 4")
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "drug_alert_drafted")
        )
        assert event.detail["from_signal"] is True
    assert "Xylazine positive in 3 of 4" in mgr.get(f"/drug-checking/alerts/{alert_id}").get_data(
        as_text=True
    )


def test_draft_from_signal_in_the_service_and_the_area_of_positives_from_two_places(app, lab):
    from ssp.drugchecking import alerts, trends

    _record(app, lab)
    _record(app, lab, hours_ago=3)
    _record(app, lab, zone=True)
    with app.app_context():
        (signal,) = trends.signals()
        alert = alerts.draft_from_signal(signal, _user("mgr"))
        assert (alert.found, alert.sold_as, alert.area) == ("Xylazine", "Fentanyl", "all areas")
        assert alert.since == signal.first
        assert alert.expires_on == program_today() + dt.timedelta(days=14)
        assert alert.advice == list(ADVICE)  # the usual four and xylazine's two
        assert alert.status == AlertStatus.DRAFT
        db.session.commit()
    mgr = _as(app, "mgr")
    stale = mgr.get("/drug-checking/alerts/new?signal=999-1")
    assert stale.status_code == 200
    assert "no longer current" in stale.get_data(as_text=True)
    assert mgr.get("/drug-checking/alerts/new?signal=../../x").status_code == 200


# --- the flyer and the text ------------------------------------------------------------------


def test_the_flyer_reads_back_with_what_where_since_and_every_advice(app, lab):
    alert_id = _approved(app, lab, area="Riverside camp", advice=list(ADVICE))
    desk = _as(app, "desk")
    page = desk.get(f"/drug-checking/alerts/{alert_id}").get_data(as_text=True)
    assert "no QR code" in page
    response = desk.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    plain = response.data
    text = _pdf_text(plain)
    with app.app_context():
        from ssp.drugchecking import alerts

        since = alerts.full_date(db.session.get(Alert, alert_id).since)
    assert "Drug checking alert" in text
    assert "Xylazine found in fentanyl" in text
    assert "Where: Riverside camp" in text and f"Since: {since}" in text
    assert "What to do" in text and "Harbor SSP" in text
    for advice in ADVICE.values():
        assert advice in text, advice
    assert "Scan for more" not in text
    assert ("drug_alert_printed", _user_id(app, "desk")) in _actions(app, alert_id)

    app.config["ALERT_PUBLIC_URL"] = "https://harbor.example.org/alerts"
    assert "with a QR code to https://harbor.example.org/alerts" in desk.get(
        f"/drug-checking/alerts/{alert_id}"
    ).get_data(as_text=True)
    with_code = desk.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf").data
    assert with_code != plain and len(with_code) > len(plain) + 1000  # the code's modules
    text = _pdf_text(with_code)
    assert "Scan for more: https://harbor.example.org/alerts" in text
    assert "Xylazine found in fentanyl" in text


def _user_id(app, username: str) -> int:
    with app.app_context():
        return _user(username).id


def test_the_flyer_of_the_longest_alert_still_fits_one_page(app, lab):
    from ssp.drugchecking import alerts
    from ssp.drugchecking.flyer import render_flyer

    with app.app_context():
        alert = Alert(
            status=AlertStatus.APPROVED,
            found="X" * 60,
            sold_as="Ŵ" * 60,
            area="Riverside camp and the whole of the downtown north zone " * 2,
            since=program_today(),
            expires_on=program_today() + dt.timedelta(days=90),
            advice=list(ADVICE),
            drafted_by=1,
            approved_at=utcnow(),
        )
        app.config["ALERT_PUBLIC_URL"] = "https://harbor.example.org/" + "a" * 80
        for size in ("letter", "a4"):
            text = _pdf_text(render_flyer(alerts.flyer_content(alert), size))
            assert ADVICE["xylazine_breathing"] in text


def test_only_an_approved_current_alert_prints(app, lab):
    alert_id = _alert_id(_draft(_as(app, "mgr"), lab))
    mgr = _as(app, "mgr")
    refused = mgr.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf")
    assert refused.status_code == 409
    assert "A draft does not print" in refused.get_data(as_text=True)
    _approve(_as(app, "mgr2"), alert_id)
    assert mgr.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf").status_code == 200
    assert mgr.post(f"/drug-checking/alerts/{alert_id}/withdraw").status_code == 303
    assert mgr.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf").status_code == 409
    again = mgr.post(f"/drug-checking/alerts/{alert_id}/withdraw")
    assert again.status_code == 422 and "already withdrawn" in again.get_data(as_text=True)
    printed = [a for a, _ in _actions(app, alert_id) if a == "drug_alert_printed"]
    assert len(printed) == 1


def test_the_short_text_fits_and_says_what_where_since_and_what_to_do(app, lab):
    from ssp.drugchecking import alerts

    with app.app_context():
        alert = Alert(
            status=AlertStatus.APPROVED,
            found="Xylazine",
            sold_as="Fentanyl",
            area="all areas",
            since=dt.date(2026, 12, 1),
            expires_on=dt.date(2026, 12, 17),
            advice=["use_with_someone", "carry_naloxone"],
            drafted_by=1,
        )
        text = alerts.alert_text(alert, today=dt.date(2026, 12, 3))
        assert text == (
            "Drug alert from Harbor SSP, Dec 3, 2026: xylazine found in fentanyl, all areas, "
            "since Dec 1. Use with someone, or call a never-use-alone line. Carry naloxone "
            "and know how to use it. Free kits here."
        )
        alert.advice = list(ADVICE)
        alert.area = "R" * 120
        app.config["ALERT_PUBLIC_URL"] = "https://harbor.example.org/alerts"
        short = alerts.short_text(alert, today=dt.date(2026, 12, 3))
        assert len(short.text) <= alerts.TEXT_MAX and short.left_out > 0
        assert short.text.endswith(" More: https://harbor.example.org/alerts")
        assert ADVICE["use_with_someone"] in short.text
        app.config["PROGRAM_NAME"] = "P" * 300
        alert.found, alert.sold_as = "MDMA", "Pressed pill"
        text = alerts.alert_text(alert, today=dt.date(2026, 12, 3))
        assert len(text) <= alerts.TEXT_MAX
        assert text.startswith("Drug alert, Dec 3, 2026: MDMA found in pressed pill, R")
        assert "\n" not in text


def test_the_alert_page_shows_the_text_to_copy(app, lab):
    alert_id = _approved(app, lab)
    page = _as(app, "mgr").get(f"/drug-checking/alerts/{alert_id}").get_data(as_text=True)
    text = re.search(r'<textarea id="alert-text"[^>]*readonly[^>]*>([^<]*)</textarea>', page)
    assert text and "xylazine found in fentanyl, all areas" in text.group(1)
    assert "Drug alert from Harbor SSP" in text.group(1)


# --- the banner ------------------------------------------------------------------------------


def test_the_desk_sees_a_current_alert_in_the_header_until_it_expires_or_is_withdrawn(app, lab):
    from ssp.drugchecking import alerts

    desk = _as(app, "desk")
    alert_id = _alert_id(_draft(_as(app, "mgr"), lab))
    assert "Drug alert:" not in desk.get("/").get_data(as_text=True)  # a draft shows nowhere
    _approve(_as(app, "boss"), alert_id)
    home = desk.get("/").get_data(as_text=True)
    since = lab["today"] - dt.timedelta(days=2)
    with app.app_context():
        words = f"Xylazine found in fentanyl — all areas, since {alerts.day_month(since)}"
    assert f"<strong>Drug alert:</strong> {words}." in home
    assert f'href="/drug-checking/alerts/{alert_id}">See the alert</a>' in home

    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alerts.current_alerts(today=alert.expires_on) == [alert]
        assert alerts.current_alerts(today=alert.expires_on + dt.timedelta(days=1)) == []
        alert.expires_on = program_today() - dt.timedelta(days=1)  # as if time had passed
        db.session.commit()
    assert "Drug alert:" not in desk.get("/").get_data(as_text=True)
    past = _as(app, "mgr").get("/drug-checking/alerts/").get_data(as_text=True)
    assert "Expired" in past

    second = _approved(app, lab, found="Fentanyl", sold_as="Meth")
    assert "Fentanyl found in meth" in desk.get("/").get_data(as_text=True)
    _as(app, "mgr").post(f"/drug-checking/alerts/{second}/withdraw")
    assert "Drug alert:" not in desk.get("/").get_data(as_text=True)
    assert [a for a, _ in _actions(app, second)][-1] == "drug_alert_withdrawn"


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"found": "Xyla\x00zine"}, "Remove the control character"),
        ({"area": "north\x1b[31m"}, "Remove the control character"),
        ({"found": "   "}, "Enter what was found"),
        ({"sold_as": "F" * 61}, "at most 60"),
        ({"area": "A" * 121}, "at most 120"),
        ({"expires_on": "2026-01-01", "since": "2026-01-02"}, "must run until after"),
        ({"since": "2100-01-01"}, "cannot be in the future"),
        ({"since": "2026-13-45"}, "Not a valid date"),
        ({"expires_on": "9999-12-31"}, "between 2000 and 2100"),
        ({"expires_on": "2099-12-31"}, "at most 90 days"),
        ({"advice": ["bogus"]}, "Choose advice from the program"),
        ({"advice": []}, "Choose at least one piece of advice"),
        ({"signal": "1-\x00"}, "Remove the control character"),
    ],
)
def test_bad_input_is_a_422_with_a_message_and_nothing_saved(app, lab, values, message):
    mgr = _as(app, "mgr")
    response = _draft(mgr, lab, **values)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:500]
    assert message in body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Alert)) == 0


def test_a_bad_change_to_a_draft_is_a_422_and_changes_nothing(app, lab):
    mgr = _as(app, "mgr")
    alert_id = _alert_id(_draft(mgr, lab))
    mgr.get(f"/drug-checking/alerts/{alert_id}/edit")
    response = mgr.post(
        f"/drug-checking/alerts/{alert_id}/edit", _fields(lab, advice=["bogus"], area="North")
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Alert, alert_id).area == "all areas"
    assert [a for a, _ in _actions(app, alert_id)] == ["drug_alert_drafted"]


def test_approving_an_alert_whose_last_day_passed_is_refused(app, lab):
    alert_id = _alert_id(_draft(_as(app, "mgr"), lab))
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        alert.since = program_today() - dt.timedelta(days=9)
        alert.expires_on = program_today() - dt.timedelta(days=1)
        db.session.commit()
    response = _approve(_as(app, "boss"), alert_id)
    assert response.status_code == 422 and "last day has passed" in response.get_data(as_text=True)


# --- the canary: no participant's code on any alert ------------------------------------------


def test_no_alert_page_pdf_or_text_ever_shows_a_participants_code(app, lab):
    app.config["DRUG_CHECK_LINK_PARTICIPANTS"] = True  # results even name the person
    for hours in (1, 2, 3):
        _record(app, lab, hours_ago=hours)
    app.config["ALERT_PUBLIC_URL"] = "https://harbor.example.org/alerts"
    mgr = _as(app, "mgr")

    typed = _draft(mgr, lab, area=f"near {CANARY.lower()}'s tent")
    assert typed.status_code == 422
    body = typed.get_data(as_text=True)
    assert (
        "looks like a participant&#39;s code" in body or "looks like a participant's code" in body
    )
    assert CANARY not in body.upper()

    from ssp.drugchecking import alerts, trends

    with app.app_context():
        (signal,) = trends.signals()
        key = alerts.signal_key(signal)
    pages = [mgr.get(f"/drug-checking/alerts/new?signal={key}")]
    alert_id = _approved(app, lab)
    draft_id = _alert_id(_draft(mgr, lab, found="Fentanyl", sold_as="Meth"))
    desk = _as(app, "desk")
    pages += [
        mgr.get("/drug-checking/alerts/"),
        mgr.get(f"/drug-checking/alerts/{alert_id}"),
        mgr.get(f"/drug-checking/alerts/{draft_id}"),
        mgr.get(f"/drug-checking/alerts/{draft_id}/edit"),
        mgr.get("/drug-checking/alerts/new"),
        desk.get("/"),
        desk.get(f"/drug-checking/alerts/{alert_id}"),
    ]
    for response in pages:
        assert response.status_code == 200
        assert CANARY not in response.get_data(as_text=True).upper(), response.request.path
    pdf = desk.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf").data
    assert CANARY.encode() not in pdf and CANARY not in _pdf_text(pdf).upper()
    with app.app_context():
        for alert in db.session.scalars(select(Alert)):
            assert CANARY not in alerts.alert_text(alert).upper()
            assert CANARY not in repr(alert.signal).upper()
        details = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.object_type == "drug_alert")
        )
        assert all(CANARY not in repr(detail).upper() for detail in details)


# --- the review under concurrency, the version approved, codes however written ---------------


def _stale(alert_id: int) -> Alert:
    """The alert as a request loaded it before another one changed it (detached: added to
    a later session, it keeps what was loaded here)."""
    alert = db.session.get(Alert, alert_id)
    db.session.expunge(alert)
    db.session.commit()
    return alert


# --- 1. approve and withdraw at once -------------------------------------------------------


def test_an_approval_that_read_the_draft_before_it_was_withdrawn_is_refused(app, lab):
    from ssp.drugchecking import alerts

    alert_id = _alert_id(_draft(_as(app, "mgr"), lab))
    with app.app_context():
        stale = _stale(alert_id)
        version = alerts.draft_version(stale)
    # Another manager's request, in its own context (a request inside this one would share it).
    assert _as(app, "mgr2").post(f"/drug-checking/alerts/{alert_id}/withdraw").status_code == 303
    with app.app_context():
        db.session.add(stale)
        with pytest.raises(alerts.AlertError, match="withdrawn"):
            alerts.approve(stale, _user("boss"), version=version)
        db.session.rollback()
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.status == AlertStatus.WITHDRAWN and alert.approved_by is None
    assert [a for a, _ in _actions(app, alert_id)] == ["drug_alert_drafted", "drug_alert_withdrawn"]


def test_a_withdrawal_that_read_the_draft_before_it_was_approved_takes_the_alert_down(app, lab):
    from ssp.drugchecking import alerts

    alert_id = _alert_id(_draft(_as(app, "mgr"), lab))
    with app.app_context():
        stale = _stale(alert_id)
    assert _approve(_as(app, "mgr2"), alert_id).status_code == 303
    with app.app_context():
        db.session.add(stale)
        alerts.withdraw(stale, _user("boss"))
        db.session.commit()
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.status == AlertStatus.WITHDRAWN and alert.withdrawn_at is not None
        assert alerts.current_alerts() == []
    actions = [a for a, _ in _actions(app, alert_id)]
    assert actions[-1] == "drug_alert_withdrawn"
    with app.app_context():
        (event,) = [e for e in _events(alert_id) if e.action == "drug_alert_withdrawn"]
        assert event.detail == {"was": "approved"}


def _events(alert_id):
    from ssp.audit import AuditEvent

    return db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "drug_alert", AuditEvent.object_id == alert_id
        )
    )


def test_two_approvals_at_once_one_is_refused(app, lab):
    from ssp.drugchecking import alerts

    alert_id = _alert_id(_draft(_as(app, "mgr"), lab))
    with app.app_context():
        stale = _stale(alert_id)
        version = alerts.draft_version(stale)
    assert _approve(_as(app, "mgr2"), alert_id).status_code == 303
    with app.app_context():
        db.session.add(stale)
        with pytest.raises(alerts.AlertError, match="approved, not a draft"):
            alerts.approve(stale, _user("boss"), version=version)
        db.session.rollback()
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.approved_by == _user("mgr2").id
    approvals = [a for a, _ in _actions(app, alert_id) if a == "drug_alert_approved"]
    assert len(approvals) == 1


def test_a_change_that_read_the_draft_before_it_was_approved_is_refused(app, lab):
    from ssp.drugchecking import alerts

    alert_id = _alert_id(_draft(_as(app, "mgr"), lab))
    with app.app_context():
        stale = _stale(alert_id)
    assert _approve(_as(app, "mgr2"), alert_id).status_code == 303
    with app.app_context():
        db.session.add(stale)
        values = dict(_fields(lab, area="Riverside camp"))
        values["since"] = dt.date.fromisoformat(values["since"])
        values["expires_on"] = dt.date.fromisoformat(values["expires_on"])
        with pytest.raises(alerts.AlertError, match="Only a draft can be changed"):
            alerts.edit_draft(stale, _user("mgr"), **values)
        db.session.rollback()
    with app.app_context():
        assert db.session.get(Alert, alert_id).area == "all areas"


def test_approve_and_withdraw_from_two_threads_never_leave_a_withdrawn_alert_approved(app, lab):
    import threading

    for _ in range(4):
        alert_id = _alert_id(_draft(_as(app, "mgr"), lab))
        approver, withdrawer = _as(app, "boss"), _as(app, "mgr2")
        version = _version(approver.get(f"/drug-checking/alerts/{alert_id}").get_data(as_text=True))
        withdrawer.get(f"/drug-checking/alerts/{alert_id}")
        start = threading.Barrier(2)
        codes = {}

        def approve(
            approver=approver, alert_id=alert_id, version=version, start=start, codes=codes
        ):
            start.wait()
            codes["approve"] = _approve(approver, alert_id, version).status_code

        def withdraw(withdrawer=withdrawer, alert_id=alert_id, start=start, codes=codes):
            start.wait()
            codes["withdraw"] = withdrawer.post(
                f"/drug-checking/alerts/{alert_id}/withdraw"
            ).status_code

        threads = [threading.Thread(target=approve), threading.Thread(target=withdraw)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert codes["withdraw"] == 303
        with app.app_context():
            alert = db.session.get(Alert, alert_id)
            assert alert.status == AlertStatus.WITHDRAWN
            assert (alert.approved_by is not None) == (codes["approve"] == 303)


def test_an_alert_with_withdrawn_at_set_never_shows_or_prints(app, lab):
    """An alert a lost race left approved with withdrawn_at set is treated as withdrawn."""
    from ssp.drugchecking import alerts

    alert_id = _alert_id(_draft(_as(app, "mgr"), lab))
    assert _approve(_as(app, "boss"), alert_id).status_code == 303
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        alert.withdrawn_by, alert.withdrawn_at = _user("mgr2").id, utcnow()
        db.session.commit()
        assert alerts.current_alerts() == [] and not alerts.is_current(alert)
        assert alert in alerts.alert_lists().past
    desk = _as(app, "desk")
    assert "Drug alert:" not in desk.get("/").get_data(as_text=True)
    assert desk.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf").status_code == 409


# --- 2. the approval names the version read ------------------------------------------------


def test_an_approval_of_a_draft_changed_since_the_page_was_read_is_refused(app, lab):
    mgr, boss = _as(app, "mgr"), _as(app, "boss")
    alert_id = _alert_id(_draft(mgr, lab))
    read = _version(boss.get(f"/drug-checking/alerts/{alert_id}").get_data(as_text=True))
    mgr.get(f"/drug-checking/alerts/{alert_id}/edit")
    changed = mgr.post(
        f"/drug-checking/alerts/{alert_id}/edit", _fields(lab, area="Riverside camp")
    )
    assert changed.status_code == 303
    refused = _approve(boss, alert_id, read)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409, body[:500]
    assert "changed since you opened it" in body
    assert "Riverside camp" in body  # the page shown again has the new version to read
    without = boss.post(f"/drug-checking/alerts/{alert_id}/approve")
    assert without.status_code == 409 and "changed since you opened it" in without.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(Alert, alert_id).status == AlertStatus.DRAFT
    assert _approve(boss, alert_id).status_code == 303


# --- 3 and 4. codes, however written, and every box that names one is cleared ----------------


@pytest.mark.parametrize(
    "values",
    [
        {"area": "CANARY 99"},
        {"area": "CANA RY99 camp"},
        {"area": "C A N A R Y 9 9"},
        {"area": "CANARY\u200b99"},
        {"area": "near canary-99's tent"},
        {"found": "Ｃａｎａｒｙ９９"},
        {"sold_as": "canary.9", "area": "9 camp"},
        {"area": "CANARY\x0099"},
    ],
)
def test_a_code_however_written_is_refused_and_never_shown_back(app, lab, values):
    response = _draft(_as(app, "mgr"), lab, **values)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:500]
    assert "looks like a participant" in body
    assert CANARY not in re.sub(r"[^A-Z0-9]", "", body.upper())
    with app.app_context():
        assert db.session.scalar(select(Alert.id)) is None


def test_an_invisible_format_character_is_refused(app, lab):
    response = _draft(_as(app, "mgr"), lab, found="Xyla\u200bzine")
    assert response.status_code == 422
    assert "invisible" in response.get_data(as_text=True)


def test_every_box_that_names_a_code_is_cleared(app, lab):
    response = _draft(_as(app, "mgr"), lab, found=CANARY, sold_as="Fentanyl", area=f"near {CANARY}")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _value(page, "found") in (None, "") and _value(page, "area") in (None, "")
    assert _value(page, "sold_as") == "Fentanyl"


# --- 9. the text to copy only while it may go out -------------------------------------------


def test_withdrawn_and_expired_alerts_offer_no_text_to_copy(app, lab):
    mgr = _as(app, "mgr")
    expired = _alert_id(_draft(mgr, lab))
    assert _approve(_as(app, "boss"), expired).status_code == 303
    withdrawn = _alert_id(_draft(mgr, lab, found="Fentanyl", sold_as="Meth"))
    assert mgr.post(f"/drug-checking/alerts/{withdrawn}/withdraw").status_code == 303
    with app.app_context():
        alert = db.session.get(Alert, expired)
        alert.since = program_today() - dt.timedelta(days=9)
        alert.expires_on = program_today() - dt.timedelta(days=1)
        db.session.commit()
    for alert_id in (expired, withdrawn):
        page = mgr.get(f"/drug-checking/alerts/{alert_id}").get_data(as_text=True)
        assert 'id="alert-text"' not in page and "select it and copy it" not in page
        assert "no longer prints or goes out" in page


# --- the flyer in the language chosen on its print form --------------------------------------
# The Spanish phrases asserted below come from the Spanish catalogue.

SPANISH_ADVICE = {
    "use_with_someone": "¿Va a consumir? No lo haga solo: pida a alguien que lo acompañe.",
    "carry_naloxone": "¡Lleve naloxona! Aquí hay kits gratis para niñas, niños y adultos.",
}


def test_the_print_form_offers_the_flyer_in_each_language_the_pages_one_first(app, lab):
    alert_id = _approved(app, lab)
    desk = _as(app, "desk")
    page = desk.get(f"/drug-checking/alerts/{alert_id}").get_data(as_text=True)
    form = re.search(r'<form method="get" action="[^"]*/flyer\.pdf".*?</form>', page, re.S)
    assert form, "the flyer is printed from a form"
    assert 'name="language"' in form.group(0) and "Flyer language" in form.group(0)
    assert '<option value="en" selected lang="en">English</option>' in form.group(0)
    assert '<option value="es" lang="es">Español</option>' in form.group(0)
    desk.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9"
    spanish_page = desk.get(f"/drug-checking/alerts/{alert_id}").get_data(as_text=True)
    assert '<option value="es" selected lang="es">Español</option>' in spanish_page
    refused = desk.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf?language=xx")
    assert refused.status_code == 422
    assert "drug_alert_printed" not in [a for a, _ in _actions(app, alert_id)]


def test_a_flyer_printed_in_spanish_has_spanish_fixed_words_and_every_accent(app, lab):
    """The flyer's fixed words in Spanish, every accent, ñ, ¿ and ¡ printed."""
    app.config["ALERT_ADVICE"] = {**ADVICE, **SPANISH_ADVICE}
    alert_id = _approved(
        app, lab, area="Peñasco y Cañada", advice=["use_with_someone", "carry_naloxone"]
    )
    desk = _as(app, "desk")  # an English page: the form's choice decides
    response = desk.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf?language=es")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    with app.app_context():
        since = db.session.get(Alert, alert_id).since
    assert "Alerta del análisis de sustancias" in text  # from drugcheck.po
    assert "Qué hacer" in text and "Escanee" not in text  # no public page: no QR code
    assert "Dónde: Peñasco y Cañada" in text
    assert f"Desde: {since.day} de " in text  # the date written the Spanish way
    assert "Esta alerta está vigente hasta el" in text
    for advice in SPANISH_ADVICE.values():  # the program's own words, as written: ¿ ¡ ñ
        assert advice in text, advice
    assert "Drug checking alert" not in text and "What to do" not in text
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.trailer["/Root"].get("/Lang") == "es"
    with app.app_context():
        printed = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "drug_alert_printed")
        )
        assert printed.detail == {"language": "es"}

    # Without a choice, the flyer speaks the page's language.
    desk.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9"
    text = _pdf_text(desk.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf").data)
    assert "Alerta del análisis de sustancias" in text
    english = _pdf_text(desk.get(f"/drug-checking/alerts/{alert_id}/flyer.pdf?language=en").data)
    assert "Drug checking alert" in english and "What to do" in english
