"""Logging visits: one transaction, double submit, same as last time, bad input, corrections,
voids and who may make them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.supplies.models import StockMovement
from ssp.timeutil import utcnow
from ssp.visits.models import Service, Visit, VisitItem, VisitService


@pytest.fixture
def desk(app, factory, browser):
    """A catalogue, two sites, a participant and a signed-in front-desk user at Main site."""
    ids = {
        "main": factory.site("Main site"),
        "van": factory.site("Van", "mobile"),
        "syringe": factory.supply_item("Syringe 1 mL 28G", "syringe", "syringe"),
        "strips": factory.supply_item("Fentanyl test strip", "test_strip", "strip"),
        "naloxone": factory.supply_item(
            "Naloxone nasal 4 mg", "naloxone", "kit", units_per_pack=12
        ),
    }
    ids["participant"] = factory.participant("MAPH0687", site_id=ids["main"])
    ids["user"] = factory.user("desk1", "front_desk", site_id=ids["main"])
    browser.sign_in("desk1")
    browser.ids = ids
    return browser


def _form(browser, url: str) -> dict[str, str]:
    """The visit form's fields as a browser would submit them untouched."""
    page = browser.get(url).get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    for name, value in re.findall(r'<input[^>]*value="([^"]*)"[^>]*name="([^"]+)"', page):
        data.setdefault(value, name)
    for select_name, options in re.findall(
        r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option selected value="([^"]*)"', options)
        data[select_name] = chosen.group(1) if chosen else ""
    data.pop("save", None)
    return data


def _counts(app) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Visit, VisitItem, VisitService, StockMovement)
        )


def test_a_visit_writes_items_services_and_stock_together(app, desk):
    ids = desk.ids
    data = _form(desk, f"/participants/{ids['participant']}/visits/new")
    assert data["site_id"] == str(ids["main"]) and data["kind"] == "fixed"
    data.update(
        {
            f"item_{ids['syringe']}": "30",
            f"item_{ids['naloxone']}": "1",
            f"reason_{ids['naloxone']}": "used",
            "service_hiv_test": "1",
            "syringes_collected": "25",
            "secondary_reach": "2",
        }
    )
    response = desk.post(f"/participants/{ids['participant']}/visits/new", data)
    assert response.status_code == 303
    with app.app_context():
        saved_id = db.session.scalar(select(Visit.id))
    assert response.headers["Location"] == f"/?saved={saved_id}"
    home = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "Visit saved." in home
    # What was saved, in one line, with a link to correct it (no code in it)
    assert "Saved:</strong> 1 Naloxone" in home or "Saved:</strong>" in home
    assert "25 used syringes collected" in home
    assert f'href="/visits/{saved_id}/edit">Correct this visit' in home

    with app.app_context():
        visit = db.session.scalar(select(Visit))
        assert (
            visit.participant_id,
            visit.site_id,
            visit.user_id,
            visit.syringes_collected,
            visit.secondary_reach,
        ) == (ids["participant"], ids["main"], ids["user"], 25, 2)
        assert {
            (i.supply_item_id, i.quantity, i.reason and i.reason.value) for i in visit.items
        } == {(ids["syringe"], 30, None), (ids["naloxone"], 1, "used")}
        # "used on someone" also records the reported reversal
        assert {s.service: s.count for s in visit.services} == {
            Service.HIV_TEST: 1,
            Service.OVERDOSE_REVERSAL_REPORTED: 1,
        }
        movements = db.session.scalars(select(StockMovement).order_by(StockMovement.id)).all()
        assert {
            (m.site_id, m.supply_item_id, m.delta, m.reason.value, m.visit_id) for m in movements
        } == {
            (ids["main"], ids["syringe"], -30, "distribution", visit.id),
            (ids["main"], ids["naloxone"], -1, "distribution", visit.id),
        }
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit_recorded"))
        assert event.object_id == visit.id and event.user_id == ids["user"]


def test_nothing_is_written_when_any_part_fails(app, desk, monkeypatch):
    import ssp.visits.services as visit_services

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while writing the audit event")

    # The last write of a visit: its items, services and stock movements are written.
    monkeypatch.setattr(visit_services, "record", broken)
    ids = desk.ids
    data = _form(desk, f"/participants/{ids['participant']}/visits/new")
    data[f"item_{ids['syringe']}"] = "10"
    data["service_hcv_test"] = "1"
    response = desk.post(f"/participants/{ids['participant']}/visits/new", data)
    assert response.status_code == 500
    assert _counts(app) == (0, 0, 0, 0)


def test_double_submit_creates_one_visit(app, desk):
    ids = desk.ids
    data = _form(desk, f"/participants/{ids['participant']}/visits/new")
    data[f"item_{ids['syringe']}"] = "10"
    first = desk.post(f"/participants/{ids['participant']}/visits/new", data)
    second = desk.post(f"/participants/{ids['participant']}/visits/new", data)
    assert first.status_code == second.status_code == 303
    assert _counts(app) == (1, 1, 0, 1)
    # A fresh form is a new visit.
    data = _form(desk, f"/participants/{ids['participant']}/visits/new")
    data[f"item_{ids['syringe']}"] = "10"
    desk.post(f"/participants/{ids['participant']}/visits/new", data)
    assert _counts(app)[0] == 2


def test_a_form_sent_again_after_its_item_was_retired_finds_its_first_save(app, desk):
    """A retry (the browser's back and resend) after the rules changed: the visit is
    saved already, so the answer is that save, not the new rule's refusal."""
    from ssp.supplies.models import SupplyItem

    ids = desk.ids
    url = f"/participants/{ids['participant']}/visits/new"
    data = _form(desk, url)
    data[f"item_{ids['syringe']}"] = "10"
    first = desk.post(url, data)
    assert first.status_code == 303
    with app.app_context():
        db.session.get(SupplyItem, ids["syringe"]).active = False
        db.session.commit()
    again = desk.post(url, data)
    assert again.status_code == 303 and again.location == first.location
    assert _counts(app) == (1, 1, 0, 1)
    # A new form naming the retired item is refused, and says why.
    data = _form(desk, url)
    data[f"item_{ids['syringe']}"] = "10"
    refused = desk.post(url, data)
    assert refused.status_code == 422 and _counts(app)[0] == 1


def test_same_as_last_time_prefills_the_last_counted_visit(app, desk, factory):
    ids = desk.ids
    factory.visit(
        ids["participant"],
        user_id=ids["user"],
        site_id=ids["main"],
        items={ids["syringe"]: 40, ids["naloxone"]: 2},
        reasons={ids["naloxone"]: "first_kit"},
        occurred_at=utcnow() - dt.timedelta(days=3),
    )
    page = desk.get(f"/participants/{ids['participant']}").get_data(as_text=True)
    assert re.search(r'href="/participants/\d+/visits/new\?same=1" autofocus', page)

    data = _form(desk, f"/participants/{ids['participant']}/visits/new?same=1")
    assert data[f"item_{ids['syringe']}"] == "40"
    assert data[f"item_{ids['naloxone']}"] == "2"
    assert data[f"reason_{ids['naloxone']}"] == ""  # a reason is an event: never copied
    assert data[f"item_{ids['strips']}"] == ""
    form_page = desk.get(f"/participants/{ids['participant']}/visits/new?same=1")
    # The reason box takes focus (a first letter picks the reason), not the save button.
    page = form_page.get_data(as_text=True)
    assert re.search(rf'<select[^>]*autofocus[^>]*id="reason_{ids["naloxone"]}"', page)
    data[f"reason_{ids['naloxone']}"] = "lost"
    response = desk.post(f"/participants/{ids['participant']}/visits/new?same=1", data)
    assert response.status_code == 303
    with app.app_context():
        latest = db.session.scalars(select(Visit).order_by(Visit.id.desc())).first()
        assert {i.supply_item_id: i.quantity for i in latest.items} == {
            ids["syringe"]: 40,
            ids["naloxone"]: 2,
        }


def test_same_as_last_time_three_times_reports_no_new_reversal(app, desk, factory):
    """A last visit with a kit "used on someone" and a reversal reported: three "same
    as last time" visits copy the quantities only, so the reversal is reported once."""
    ids = desk.ids
    factory.visit(
        ids["participant"],
        user_id=ids["user"],
        site_id=ids["main"],
        items={ids["syringe"]: 20, ids["naloxone"]: 1},
        reasons={ids["naloxone"]: "used"},
        services={"overdose_reversal_reported": 1, "hiv_test": 1},
        occurred_at=utcnow() - dt.timedelta(days=3),
    )
    url = f"/participants/{ids['participant']}/visits/new?same=1"
    for _ in range(3):
        data = _form(desk, url)
        assert data[f"reason_{ids['naloxone']}"] == ""
        assert data["service_overdose_reversal_reported"] in ("", "0")
        assert data["service_hiv_test"] in ("", "0")
        # Saving without choosing the reason is refused with a message, nothing written.
        before = _counts(app)
        refused = desk.post(url, data)
        assert refused.status_code == 422
        assert "Say why this naloxone kit is given." in refused.get_data(as_text=True)
        assert _counts(app) == before
        data[f"reason_{ids['naloxone']}"] = "lost"
        assert desk.post(url, data).status_code == 303
    with app.app_context():
        used = db.session.scalar(
            select(func.count()).select_from(VisitItem).where(VisitItem.reason == "used")
        )
        reversals = db.session.scalar(
            select(func.coalesce(func.sum(VisitService.count), 0)).where(
                VisitService.service == Service.OVERDOSE_REVERSAL_REPORTED
            )
        )
    assert (used, reversals, _counts(app)[0]) == (1, 1, 4)


def test_anonymous_walk_in(app, desk):
    data = _form(desk, "/visits/walk-in")
    data[f"item_{desk.ids['strips']}"] = "5"
    response = desk.post("/visits/walk-in", data)
    assert response.status_code == 303
    assert "Anonymous walk-in visit saved." in desk.get("/").get_data(as_text=True)
    with app.app_context():
        visit = db.session.scalar(select(Visit))
        assert visit.participant_id is None and visit.items[0].quantity == 5


def _local(value: dt.datetime) -> str:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"item_{syringe}": "-5"}, "item_{syringe}", "Enter a whole number, 0 or more."),
        ({"item_{syringe}": "1001"}, "item_{syringe}", "At most 1,000 syringes"),
        ({"item_{syringe}": "ten"}, "item_{syringe}", "Not a valid integer value."),
        ({"item_{naloxone}": "1"}, "reason_{naloxone}", "Say why this naloxone kit is given."),
        (
            {"item_{naloxone}": "1", "reason_{naloxone}": "sold"},
            "reason_{naloxone}",
            "Not a valid choice",
        ),
        ({"service_hiv_test": "51"}, "service_hiv_test", "HIV test: at most 50"),
        ({"syringes_collected": "-1"}, "syringes_collected", "Enter a whole number"),
        ({"occurred_at": "FUTURE"}, "occurred_at", "cannot be in the future"),
        ({"occurred_at": "LONG_AGO"}, "occurred_at", "up to 30 days back"),
        ({"occurred_at": "yesterday-ish"}, "occurred_at", "Not a valid datetime value"),
        ({"site_id": "999"}, "site_id", "Not a valid choice"),
        ({"kind": "teleport"}, "kind", "Not a valid choice"),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_nothing_is_written(
    app, desk, change, field, message
):
    ids = desk.ids
    data = _form(desk, f"/participants/{ids['participant']}/visits/new")
    data[f"item_{ids['strips']}"] = "3"  # something valid that must survive the error
    for key, value in change.items():
        value = {
            "FUTURE": _local(utcnow() + dt.timedelta(hours=2)),
            "LONG_AGO": _local(utcnow() - dt.timedelta(days=31)),
        }.get(value, value)
        data[key.format(**ids)] = value
    response = desk.post(f"/participants/{ids['participant']}/visits/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    field_id = field.format(**ids)
    error = re.search(rf'id="{field_id}-error"[^>]*>([^<]*)<', page)
    assert error and message in error.group(1), (field_id, error and error.group(1))
    assert re.search(
        rf'id="item_{ids["strips"]}"[^>]*value="3"|value="3"[^>]*id="item_'
        rf'{ids["strips"]}"',
        page,
    ), "typed values are kept"
    assert _counts(app) == (0, 0, 0, 0)


def test_per_item_maximum_and_inactive_items(app, desk, factory):
    ids = desk.ids
    with app.app_context():
        from ssp.supplies.models import SupplyItem

        db.session.get(SupplyItem, ids["naloxone"]).max_per_visit = 4
        db.session.commit()
    data = _form(desk, f"/participants/{ids['participant']}/visits/new")
    data.update({f"item_{ids['naloxone']}": "5", f"reason_{ids['naloxone']}": "first_kit"})
    response = desk.post(f"/participants/{ids['participant']}/visits/new", data)
    assert "At most 4 kits of this item" in response.get_data(as_text=True)

    # The item is deactivated while the form is open: refused with a message, not dropped.
    data = _form(desk, f"/participants/{ids['participant']}/visits/new")
    data[f"item_{ids['strips']}"] = "2"
    with app.app_context():
        db.session.get(SupplyItem, ids["strips"]).active = False
        db.session.commit()
    response = desk.post(f"/participants/{ids['participant']}/visits/new", data)
    assert response.status_code == 422
    assert "not in the catalogue any more" in response.get_data(as_text=True)
    assert _counts(app) == (0, 0, 0, 0)


def test_backdating_within_the_limit_is_allowed_and_audited(app, desk):
    ids = desk.ids
    data = _form(desk, f"/participants/{ids['participant']}/visits/new")
    when = utcnow() - dt.timedelta(days=10)
    data.update({"occurred_at": _local(when), f"item_{ids['syringe']}": "10"})
    assert desk.post(f"/participants/{ids['participant']}/visits/new", data).status_code == 303
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit_recorded"))
        assert "backdated_to" in event.detail
        movement = db.session.scalar(select(StockMovement))
        visit = db.session.scalar(select(Visit))
        assert movement.occurred_at == visit.occurred_at


def _participant_visit_count(app, participant_id: int) -> int:
    from ssp.visits.services import visit_count

    with app.app_context():
        return visit_count(participant_id)


def _stock(app, item_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.coalesce(func.sum(StockMovement.delta), 0)).where(
                StockMovement.supply_item_id == item_id
            )
        )


def test_void_keeps_rows_counts_nowhere_and_returns_stock(app, desk, factory):
    ids = desk.ids
    visit_id = factory.visit(
        ids["participant"], user_id=ids["user"], site_id=ids["main"], items={ids["syringe"]: 30}
    )
    factory.visit(
        ids["participant"], user_id=ids["user"], site_id=ids["main"], items={ids["syringe"]: 10}
    )
    assert _participant_visit_count(app, ids["participant"]) == 2
    assert _stock(app, ids["syringe"]) == -40

    short = desk.post(f"/visits/{visit_id}/void", {"reason": ""})
    assert short.status_code == 422
    response = desk.post(f"/visits/{visit_id}/void", {"reason": "Entered twice"})
    assert response.status_code == 303
    assert _participant_visit_count(app, ids["participant"]) == 1
    assert _stock(app, ids["syringe"]) == -10
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.voided and visit.void_reason == "Entered twice" and len(visit.items) == 1
    page = desk.get(f"/visits/{visit_id}").get_data(as_text=True)
    assert "Voided" in page and "Correct this visit" not in page
    # A voided visit cannot be voided or corrected again.
    assert desk.get(f"/visits/{visit_id}/edit").status_code == 403
    again = desk.post(f"/visits/{visit_id}/void", {"reason": "again"})
    assert again.status_code == 422 and "voided" in again.get_data(as_text=True)
    assert _stock(app, ids["syringe"]) == -10


def test_correcting_a_visit_moves_stock_by_the_difference(app, desk, factory):
    ids = desk.ids
    visit_id = factory.visit(
        ids["participant"],
        user_id=ids["user"],
        site_id=ids["main"],
        items={ids["syringe"]: 30, ids["strips"]: 5},
    )
    data = _form(desk, f"/visits/{visit_id}/edit")
    assert data[f"item_{ids['syringe']}"] == "30"
    data.update(
        {
            f"item_{ids['syringe']}": "20",
            f"item_{ids['strips']}": "",
            "site_id": str(ids["van"]),
            "kind": "mobile",
        }
    )
    # Front desk may correct the visit but not move it to another site...
    refused = desk.post(f"/visits/{visit_id}/edit", data)
    assert refused.status_code == 422
    assert "keep a visit at their own site" in refused.get_data(as_text=True)
    # ...a manager may.
    from tests.conftest import Browser

    factory.user("boss1", "manager")
    manager = Browser(app.test_client())
    manager.sign_in("boss1")
    data.pop("csrf_token")  # the manager's own session token is sent instead
    assert manager.post(f"/visits/{visit_id}/edit", data).status_code == 303
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert {i.supply_item_id: i.quantity for i in visit.items} == {ids["syringe"]: 20}
        on_hand = dict(
            db.session.execute(
                select(StockMovement.site_id, func.sum(StockMovement.delta))
                .where(StockMovement.supply_item_id == ids["syringe"])
                .group_by(StockMovement.site_id)
            ).all()
        )
        assert on_hand == {ids["main"]: 0, ids["van"]: -20}
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit_updated"))
        assert event.detail["before"]["items"] == {str(ids["syringe"]): 30, str(ids["strips"]): 5}
    assert _stock(app, ids["strips"]) == 0


def test_front_desk_changes_only_their_own_sites_visits_of_today(app, desk, factory, signed_in):
    ids = desk.ids
    other_site = factory.visit(
        ids["participant"], user_id=ids["user"], site_id=ids["van"], items={ids["syringe"]: 1}
    )
    yesterday = factory.visit(
        ids["participant"],
        user_id=ids["user"],
        site_id=ids["main"],
        items={ids["syringe"]: 1},
        occurred_at=utcnow() - dt.timedelta(days=2),
        created_at=utcnow() - dt.timedelta(days=2),
    )
    today = factory.visit(
        ids["participant"], user_id=ids["user"], site_id=ids["main"], items={ids["syringe"]: 1}
    )
    for visit_id in (other_site, yesterday):
        assert desk.get(f"/visits/{visit_id}/edit").status_code == 403
        assert desk.post(f"/visits/{visit_id}/void", {"reason": "test"}).status_code == 403
        assert desk.post(f"/visits/{visit_id}/edit", {}).status_code == 403
        assert "Correct this visit" not in desk.get(f"/visits/{visit_id}").get_data(as_text=True)
    assert desk.get(f"/visits/{today}/edit").status_code == 200
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Visit).where(Visit.voided_at.is_not(None))
            )
            == 0
        )

    from tests.conftest import Browser

    factory.user("boss1", "manager")
    manager = Browser(app.test_client())
    manager.sign_in("boss1")
    assert manager.get(f"/visits/{yesterday}/edit").status_code == 200
    assert manager.post(f"/visits/{other_site}/void", {"reason": "wrong van"}).status_code == 303


def test_a_visit_found_through_an_alias_goes_to_the_surviving_participant(app, desk, factory):
    from ssp.participants import services
    from ssp.participants.models import Participant

    ids = desk.ids
    old = factory.participant("JOSE0190")
    with app.app_context():
        services.merge(
            keep=db.session.get(Participant, ids["participant"]),
            absorb=db.session.get(Participant, old),
        )
        db.session.commit()
    found = desk.post("/participants/find", {"code": "JOSE0190"})
    url = found.headers["Location"] + "/visits/new"
    data = _form(desk, url)
    data[f"item_{ids['syringe']}"] = "5"
    assert desk.post(url, data).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Visit.participant_id)) == ids["participant"]


def test_unknown_participant_and_visit_are_404(desk):
    assert desk.get("/participants/999/visits/new").status_code == 404
    assert desk.get("/visits/999").status_code == 404
    assert desk.post("/visits/999/void", {"reason": "x"}).status_code == 404


def test_a_manager_corrects_an_old_visit_whose_item_and_site_are_retired(app, desk, factory):
    from ssp.staff.models import Site
    from ssp.supplies.models import SupplyItem
    from tests.conftest import Browser

    ids = desk.ids
    old = factory.visit(
        ids["participant"],
        user_id=ids["user"],
        site_id=ids["van"],
        items={ids["syringe"]: 30, ids["strips"]: 5},
        occurred_at=utcnow() - dt.timedelta(days=29),
    )
    with app.app_context():
        db.session.get(SupplyItem, ids["strips"]).active = False
        db.session.get(Site, ids["van"]).active = False
        db.session.commit()
    factory.user("boss1", "manager")
    manager = Browser(app.test_client())
    manager.sign_in("boss1")
    data = _form(manager, f"/visits/{old}/edit")
    assert data[f"item_{ids['strips']}"] == "5" and data["site_id"] == str(ids["van"])
    data[f"item_{ids['syringe']}"] = "25"  # only this changes
    # Two days later the visit is past the back-dating limit: still correctable.
    with app.app_context():
        visit = db.session.get(Visit, old)
        visit.occurred_at = utcnow() - dt.timedelta(days=40)
        db.session.commit()
    data = {**_form(manager, f"/visits/{old}/edit"), f"item_{ids['syringe']}": "25"}
    response = manager.post(f"/visits/{old}/edit", data)
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        visit = db.session.get(Visit, old)
        assert {i.supply_item_id: i.quantity for i in visit.items} == {
            ids["syringe"]: 25,
            ids["strips"]: 5,
        }
    # Raising the retired item is refused: that is a change.
    data = {**_form(manager, f"/visits/{old}/edit"), f"item_{ids['strips']}": "6"}
    assert manager.post(f"/visits/{old}/edit", data).status_code == 422


def test_a_correction_keeps_the_naloxone_reason_it_had(app, desk, factory):
    ids = desk.ids
    visit_id = factory.visit(
        ids["participant"],
        user_id=ids["user"],
        site_id=ids["main"],
        items={ids["naloxone"]: 1, ids["syringe"]: 10},
        reasons={ids["naloxone"]: "used"},
    )
    data = _form(desk, f"/visits/{visit_id}/edit")
    assert data[f"reason_{ids['naloxone']}"] == "used"
    data[f"item_{ids['syringe']}"] = "12"
    response = desk.post(f"/visits/{visit_id}/edit", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert {
            (i.supply_item_id, i.quantity, i.reason and i.reason.value) for i in visit.items
        } == {
            (ids["syringe"], 12, None),
            (ids["naloxone"], 1, "used"),
        }


def test_every_rule_broken_is_shown_after_one_save(app, desk):
    ids = desk.ids
    data = _form(desk, f"/participants/{ids['participant']}/visits/new")
    data.update(
        {
            f"item_{ids['syringe']}": "-2",  # the form's own check
            "syringes_collected": "50000",  # over the maximum: the visit's rule
            f"item_{ids['naloxone']}": "1",  # no reason: the visit's rule
            "service_hiv_test": "99",  # over the services maximum
        }
    )
    before = _counts(app)
    response = desk.post(f"/participants/{ids['participant']}/visits/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "4 things to fix before saving" in page
    for anchor in (
        f"#item_{ids['syringe']}",
        "#syringes_collected",
        f"#reason_{ids['naloxone']}",
        "#service_hiv_test",
    ):
        assert f'href="{anchor}"' in page
    assert _counts(app) == before


def test_the_days_list_shows_the_sites_visits_and_its_tally(app, desk, factory):
    ids = desk.ids
    factory.visit(
        ids["participant"],
        user_id=ids["user"],
        site_id=ids["main"],
        items={ids["syringe"]: 10},
        syringes_collected=4,
    )
    factory.visit(
        None,
        user_id=ids["user"],
        site_id=ids["main"],
        items={ids["syringe"]: 5, ids["naloxone"]: 1},
        reasons={ids["naloxone"]: "first_kit"},
    )
    factory.visit(None, user_id=ids["user"], site_id=ids["van"], items={ids["syringe"]: 99})
    page = desk.get("/visits/today").get_data(as_text=True)
    assert "Today at Main site" in page
    assert "MAPH0687" in page and "Walk-in" in page and "99 Syringe" not in page
    tally = re.sub(r"\s+", " ", re.search(r'<ul class="counts tally".*?</ul>', page, re.S).group(0))
    for figure in (
        "<strong>2</strong> visits",
        "<strong>1</strong> person with a code",
        "<strong>1</strong> walk-in",
        "<strong>15</strong> syringes out",
        "<strong>4</strong> collected",
        "<strong>1</strong> naloxone",
    ):
        assert figure in tally, (figure, tally)
    van = desk.get(f"/visits/today?site={ids['van']}").get_data(as_text=True)
    assert "Today at Van" in van and "99 Syringe" in van


@pytest.mark.parametrize("site_id", ["2147483648", "99999999999999999999", "-1", "1e3"])
def test_an_absurd_site_id_is_refused_by_the_form_on_both_databases(app, desk, factory, site_id):
    ids = desk.ids
    visit_id = factory.visit(
        ids["participant"], user_id=ids["user"], site_id=ids["main"], items={ids["syringe"]: 1}
    )
    for url in (
        "/visits/walk-in",
        f"/visits/{visit_id}/edit",
        f"/participants/{ids['participant']}/visits/new",
    ):
        data = _form(desk, url)
        data["site_id"] = site_id
        response = desk.post(url, data)
        assert response.status_code == 422, (url, response.status_code)
        assert "Not a valid choice" in response.get_data(as_text=True)
