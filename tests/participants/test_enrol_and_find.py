"""Enrol and find participants: exact, partial and alias search, near duplicates, merge,
and the promise that a code's parts never reach the server, a log or the database."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

from sqlalchemy import func, select

from ssp.extensions import db
from ssp.participants.models import Participant, ParticipantAlias
from ssp.visits.models import Visit
from tests.conftest import on_postgresql


def _participants(app) -> dict[str, Participant]:
    with app.app_context():
        rows = db.session.scalars(select(Participant)).all()
        for row in rows:
            db.session.expunge(row)
        return {p.code: p for p in rows}


def test_enrol_normalises_the_code_and_opens_the_participant(app, signed_in):
    desk = signed_in("front_desk")
    response = desk.post(
        "/participants/new",
        {
            "code": " maph-06 87 ",
            "birth_year": "1987",
            "gender": "woman",
            "zip3": "191",
            "injects": "yes",
        },
    )
    assert response.status_code == 303
    participant = _participants(app)["MAPH0687"]
    assert response.headers["Location"] == f"/participants/{participant.id}"
    assert (
        participant.birth_year,
        participant.gender.value,
        participant.zip3,
        participant.injects,
    ) == (1987, "woman", "191", True)
    page = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "MAPH0687" in page and "Log visit" in page


def test_builder_inputs_have_no_name_so_the_browser_never_sends_them(signed_in):
    page = signed_in("front_desk").get("/participants/new").get_data(as_text=True)
    builder = page[
        page.index('id="code-builder"') : page.index("</section>", page.index('id="code-builder"'))
    ]
    inputs = re.findall(r"<input[^>]*>", builder)
    assert len(inputs) == 4
    assert all(" name=" not in tag for tag in inputs)
    assert all('autocomplete="off"' in tag for tag in inputs)


def test_code_parts_never_reach_the_database_or_the_log(app, signed_in, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    desk = signed_in("front_desk")
    # A tampered client sends the builder's answers along with the code: they are ignored.
    desk.post(
        "/participants/new",
        {
            "code": "MAPH0687",
            "mother": "Marisol",
            "city": "Philadelphia",
            "day": "06",
            "year": "1987",
        },
    )
    assert "MAPH0687" in _participants(app)
    secrets = ("MARISOL", "PHILADELPHIA")
    assert not any(s.lower() in caplog.text.lower() for s in secrets)
    if on_postgresql():
        with app.app_context():
            dump = " ".join(
                str(value)
                for table in db.metadata.sorted_tables
                for row in db.session.execute(table.select())
                for value in row
            )
        assert not any(s.lower() in dump.lower() for s in secrets)
    else:
        with app.app_context():
            db.engine.dispose()  # checkpoint the WAL into the file
        database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        blobs = [p.read_bytes() for p in database.parent.glob(database.name + "*")]
        assert blobs and b"MAPH0687" in b"".join(blobs)
        for secret in secrets:
            for blob in blobs:
                assert secret.encode() not in blob.upper()


def test_a_second_enrolment_of_a_code_is_refused(app, signed_in, factory):
    factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    response = desk.post("/participants/new", {"code": "maph0687"})
    assert response.status_code == 422
    assert "already enrolled" in response.get_data(as_text=True)
    assert len(_participants(app)) == 1


def test_near_duplicate_warns_then_enrols_when_confirmed(app, signed_in, factory):
    existing = factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    response = desk.post("/participants/new", {"code": "MAPH0678", "birth_year": "1990"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Is this someone already enrolled?" in page
    assert f'href="/participants/{existing}"' in page and "MAPH0687" in page
    assert 'name="confirm_distinct" type="hidden" value="yes"' in page
    assert 'value="1990"' in page  # what was typed is kept
    assert set(_participants(app)) == {"MAPH0687"}

    response = desk.post(
        "/participants/new", {"code": "MAPH0678", "birth_year": "1990", "confirm_distinct": "yes"}
    )
    assert response.status_code == 303
    assert set(_participants(app)) == {"MAPH0687", "MAPH0678"}


def test_near_duplicate_check_includes_aliases(app, factory):
    from ssp.participants import services

    keep = factory.participant("MAPH0687")
    absorb = factory.participant("JOSE0190")
    with app.app_context():
        services.merge(
            keep=db.session.get(Participant, keep), absorb=db.session.get(Participant, absorb)
        )
        db.session.commit()
        close = services.near_duplicates("JOSE0191")
        assert [(m.participant.id, m.matched_code, m.via_alias) for m in close] == [
            (keep, "JOSE0190", True)
        ]


def test_bad_enrolment_input_writes_nothing(app, signed_in):
    desk = signed_in("front_desk")
    for data, message in [
        ({"code": ""}, "Build or type the participant's code."),
        ({"code": "AB"}, "4 to 20"),
        ({"code": "MA!PH"}, "only letters A to Z"),
        ({"code": "MAPH0687", "birth_year": "87"}, "Four digits"),
        ({"code": "MAPH0687", "birth_year": "1800"}, "Four digits"),
        ({"code": "MAPH0687", "zip3": "19104"}, "Three digits only."),
        ({"code": "MAPH0687", "gender": "robot"}, "Not a valid choice"),
    ]:
        response = desk.post("/participants/new", data)
        assert response.status_code == 422, data
        assert message in html.unescape(response.get_data(as_text=True)), data
    assert _participants(app) == {}


def test_find_exact_partial_and_nothing(app, signed_in, factory):
    first = factory.participant("MAPH0687")
    factory.participant("JOPH1190")
    factory.participant("XXXX0001")
    desk = signed_in("front_desk")

    exact = desk.post("/participants/find", {"code": "maph 0687"})
    assert exact.status_code == 303 and exact.headers["Location"] == f"/participants/{first}"

    partial = desk.post("/participants/find", {"code": "ph"}).get_data(as_text=True)
    assert "2 participants with codes containing PH" in partial
    assert "MAPH0687" in partial and "JOPH1190" in partial and "XXXX0001" not in partial

    none = desk.post("/participants/find", {"code": "ZZZZ9999"}).get_data(as_text=True)
    assert "No participant has the code ZZZZ9999" in none
    assert "Enrol ZZZZ9999 as a new participant" in none

    # The "enrol" button opens the form with the code filled in, writing nothing yet.
    form = desk.post("/participants/new", {"code": "ZZZZ9999", "prefill": "1"})
    assert form.status_code == 200 and 'value="ZZZZ9999"' in form.get_data(as_text=True)
    assert "ZZZZ9999" not in _participants(app)


def test_search_needs_text_and_one_letter_is_exact_only(signed_in, factory):
    factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    assert desk.post("/participants/find", {"code": ""}).status_code == 422
    one = desk.post("/participants/find", {"code": "M"}).get_data(as_text=True)
    assert "No participant has the code M" in one


def test_typeahead_json(signed_in, factory):
    first = factory.participant("MAPH0687")
    factory.participant("JOPH1190")
    desk = signed_in("front_desk")
    desk.get("/")
    response = desk.client.post(
        "/api/participants/search", json={"q": "maph"}, headers={"X-CSRFToken": desk.token}
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "matches": [
            {
                "code": "MAPH0687",
                "current_code": "MAPH0687",
                "alias": False,
                "url": f"/participants/{first}",
            }
        ]
    }
    short = desk.client.post(
        "/api/participants/search", json={"q": "m"}, headers={"X-CSRFToken": desk.token}
    )
    assert short.get_json() == {"matches": []}
    # Without the CSRF header the endpoint refuses, so no other site can probe codes.
    refused = desk.client.post("/api/participants/search", json={"q": "maph"})
    assert refused.status_code == 400


def test_codes_never_appear_in_urls(signed_in, factory):
    participant_id = factory.participant("MAPH0687")
    desk = signed_in("front_desk")
    response = desk.post("/participants/find", {"code": "MAPH0687"})
    assert "MAPH0687" not in response.headers["Location"]
    page = desk.get(f"/participants/{participant_id}").get_data(as_text=True)
    assert not re.search(r'href="[^"]*MAPH0687', page)


def test_merge_moves_visits_and_the_old_code_still_finds_the_person(app, signed_in, factory):
    site = factory.site()
    keep = factory.participant("MAPH0687", site_id=site)
    absorb = factory.participant("MAPH0678", site_id=site, birth_year=1987)
    desk_id = factory.user("desk1", "front_desk", site_id=site)
    factory.visit(absorb, user_id=desk_id, site_id=site)
    factory.visit(keep, user_id=desk_id, site_id=site)

    manager = signed_in("manager")
    page = manager.get(f"/participants/{keep}/merge")
    assert page.status_code == 200
    unconfirmed = manager.post(f"/participants/{keep}/merge", {"other_code": "MAPH0678"})
    assert unconfirmed.status_code == 422
    assert "Tick the box" in unconfirmed.get_data(as_text=True)
    own = manager.post(f"/participants/{keep}/merge", {"other_code": "MAPH0687", "confirm": "y"})
    assert "own code" in own.get_data(as_text=True)
    done = manager.post(f"/participants/{keep}/merge", {"other_code": "maph0678", "confirm": "y"})
    assert done.status_code == 303

    with app.app_context():
        assert db.session.get(Participant, absorb) is None
        assert db.session.get(Participant, keep).birth_year == 1987  # blank filled in
        visits = db.session.scalars(select(Visit.participant_id)).all()
        assert visits == [keep, keep]
        alias = db.session.scalar(select(ParticipantAlias))
        assert (alias.code, alias.participant_id) == ("MAPH0678", keep)

    found = manager.post("/participants/find", {"code": "MAPH0678"})
    assert found.headers["Location"] == f"/participants/{keep}"
    partial = manager.post("/participants/find", {"code": "0678"}).get_data(as_text=True)
    assert "found by earlier code MAPH0678" in partial
    # An alias is a taken code: it cannot be enrolled again.
    again = manager.post("/participants/new", {"code": "MAPH0678"})
    assert "already enrolled" in again.get_data(as_text=True)


def test_front_desk_cannot_merge(app, signed_in, factory):
    keep = factory.participant("MAPH0687")
    factory.participant("MAPH0678")
    desk = signed_in("front_desk")
    assert desk.get(f"/participants/{keep}/merge").status_code == 403
    response = desk.post(f"/participants/{keep}/merge", {"other_code": "MAPH0678", "confirm": "y"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participant)) == 2


def test_edit_details(app, signed_in, factory):
    participant_id = factory.participant("MAPH0687", gender="man")
    desk = signed_in("front_desk")
    form = desk.get(f"/participants/{participant_id}/edit").get_data(as_text=True)
    assert '<option selected value="man">' in form
    bad = desk.post(f"/participants/{participant_id}/edit", {"zip3": "abc"})
    assert bad.status_code == 422
    response = desk.post(
        f"/participants/{participant_id}/edit",
        {"gender": "nonbinary", "zip3": "946", "injects": "no"},
    )
    assert response.status_code == 303
    participant = _participants(app)["MAPH0687"]
    assert (participant.gender.value, participant.zip3, participant.injects) == (
        "nonbinary",
        "946",
        False,
    )
