"""The audit trail in words: every action name in the code has a sentence, and the trail
page and its CSV read as people talk, naming items, sites and accounts, never codes."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import inspect
import io
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.staff import audit_words
from ssp.timeutil import program_today
from tests.conftest import PASSWORD, Browser

ROOT = Path(__file__).resolve().parents[2]

# Action names the code builds at run time from a prefix and a variable: the prefix, and
# the function whose returned string constants are every ending it can take.
DYNAMIC_PREFIXES = {"signed_out_": ("ssp/staff/sessions.py", "expired_reason")}


def _returned_strings(path: str, function: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return {
                n.value.value
                for n in ast.walk(node)
                if isinstance(n, ast.Return)
                and isinstance(n.value, ast.Constant)
                and isinstance(n.value.value, str)
            }
    raise AssertionError(f"{path} has no function {function}")


def _imports_record(tree: ast.AST) -> dict[str, str]:
    """Local names bound to ssp.audit's record and record_active in a module."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "ssp.audit":
            for alias in node.names:
                if alias.name in ("record", "record_active"):
                    bound[alias.asname or alias.name] = alias.name
    return bound


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def scan(sources: Iterable[tuple[str, str]]) -> tuple[set[str], list[str]]:
    """Every action name the given modules pass to ``record()`` or make ``record_active()``
    build, and the calls whose name cannot be read from the source."""
    names: set[str] = set()
    unreadable: list[str] = []
    for path, text in sources:
        if path == "ssp/audit.py":
            continue  # record_active's own call; its callers are read below
        tree = ast.parse(text)
        bound = _imports_record(tree)
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            func_ = call.func
            if isinstance(func_, ast.Name) and func_.id in bound:
                called = bound[func_.id]
            elif (
                isinstance(func_, ast.Attribute)
                and func_.attr in ("record", "record_active")
                and isinstance(func_.value, ast.Name)
                and func_.value.id == "audit"
            ):
                called = func_.attr
            else:
                continue
            where = f"{path}:{call.lineno}"
            if called == "record_active":
                kind = _argument(call, 2, "object_type")
                if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                    names |= {f"{kind.value}_deactivated", f"{kind.value}_reactivated"}
                else:
                    unreadable.append(where)
                continue
            action = _argument(call, 0, "action")
            choices = [action.body, action.orelse] if isinstance(action, ast.IfExp) else [action]
            if all(isinstance(c, ast.Constant) and isinstance(c.value, str) for c in choices):
                names |= {c.value for c in choices}
            elif (
                isinstance(action, ast.BinOp)
                and isinstance(action.op, ast.Add)
                and isinstance(action.left, ast.Constant)
                and action.left.value in DYNAMIC_PREFIXES
            ):
                prefix = action.left.value
                names |= {prefix + end for end in _returned_strings(*DYNAMIC_PREFIXES[prefix])}
            else:
                unreadable.append(where)
    return names, unreadable


def _sources() -> list[tuple[str, str]]:
    return [
        (path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "ssp").rglob("*.py"))
    ]


# --- every action name has a describer ------------------------------------------------


def test_every_action_name_in_the_code_has_a_describer():
    """The names come from the source itself (every ``record(`` and ``record_active(``
    call), so a new action cannot be forgotten: add its sentence to audit_words.py."""
    names, unreadable = scan(_sources())
    assert unreadable == [], (
        "These record() calls build their action name in a way this test cannot read; "
        "pass a literal string, or add the prefix to DYNAMIC_PREFIXES"
    )
    # The scan sees what it should: literal names, record_active's and the dynamic ones.
    assert {"visit_recorded", "user_created", "participants_shown", "audit_exported"} <= names
    assert {"user_deactivated", "supply_item_reactivated", "funder_profile_deactivated"} <= names
    assert {"signed_out_idle", "signed_out_lifetime"} <= names
    missing = sorted(names - set(audit_words.ACTIONS))
    assert missing == [], f"no describer in ssp/staff/audit_words.py for: {missing}"


def test_the_check_fails_for_a_new_action_without_a_describer():
    module = (
        "from ssp.audit import record, record_active\n"
        "def f(thing, name):\n"
        "    record('thing_juggled', object_type='thing')\n"
        "    record_active(thing, True, 'gadget')\n"
        "    record(name)\n"
    )
    names, unreadable = scan([("ssp/new_feature.py", module)])
    assert names == {"thing_juggled", "gadget_deactivated", "gadget_reactivated"}
    assert unreadable == ["ssp/new_feature.py:5"]
    either = "from ssp.audit import record\nrecord('a_on' if x else 'a_off')\n"
    assert scan([("ssp/y.py", either)]) == ({"a_on", "a_off"}, [])
    assert names - set(audit_words.ACTIONS) == names
    # A record() of something else is not an audit call.
    assert scan([("ssp/x.py", "def record(a): pass\nrecord('not_audit')\n")]) == (set(), [])


def test_the_session_reasons_are_read_from_the_code():
    from ssp.staff.sessions import expired_reason

    source = inspect.getsource(expired_reason)
    assert set(re.findall(r'return "(\w+)"', source)) == _returned_strings(
        "ssp/staff/sessions.py", "expired_reason"
    )


def test_every_describer_copes_with_an_event_with_no_detail(app):
    with app.app_context():
        names = audit_words.Names().prepare([])
        for name, action in audit_words.ACTIONS.items():
            for object_id in (None, 999):
                event = AuditEvent(action=name, object_id=object_id, detail=None)
                text = str(action.describe(event, names))
                assert text and text[0].isupper() and "None" not in text, (name, text)


def test_an_unknown_action_still_reads(app):
    with app.app_context():
        event = AuditEvent(action="thing_juggled", detail={"balls": 3, "hands": ["left"]})
        text = str(audit_words.describe(event, audit_words.Names()))
    assert text == "Thing juggled. Balls: 3. Hands: left"


# --- the trail page, through the app ---------------------------------------------------


def _trail(browser: Browser, query: str = "") -> str:
    response = browser.get("/admin/audit" + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _csv(browser: Browser, query: str = "") -> list[dict[str, str]]:
    response = browser.get("/admin/audit.csv" + query)
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_creating_and_changing_an_account_reads_as_sentences(app, signed_in, factory):
    site = factory.site("Harbor Street")
    admin = signed_in("admin")
    response = admin.post(
        "/admin/users/new",
        {"username": "sam", "role": "front_desk", "site_id": str(site), "password": PASSWORD},
        follow_redirects=True,
    )
    assert "Account sam created." in response.get_data(as_text=True)
    with app.app_context():
        sam = db.session.scalar(
            select(AuditEvent.object_id)
            .where(AuditEvent.action == "user_created")
            .order_by(AuditEvent.id.desc())
        )
    assert admin.post(f"/admin/users/{sam}", {"role": "manager", "site_id": ""}).status_code == 302
    page = _trail(admin)
    assert "Created the account sam" in page
    assert "Role: Front desk" in page and "Default site: Harbor Street" in page
    assert (
        "Changed the role of sam from front desk to program manager, and the default site "
        "from Harbor Street to no site"
    ) in page
    assert "Added the site Harbor Street" in page and "Signed in" in page
    # Filters read in words too, their values stay the names machines use.
    assert '<option value="user_created">Account created</option>' in page
    assert '<option value="user">Account</option>' in page
    only = _trail(admin, "?action=user_updated")
    assert "Changed the role of sam" in only and "Created the account sam" not in only

    rows = _csv(admin, "?action=user_updated")
    assert list(rows[0])[:5] == ["event_id", "occurred_at_local", "user", "action", "what_happened"]
    assert rows[0]["action"] == "user_updated"
    assert rows[0]["what_happened"].startswith("Changed the role of sam from front desk")
    assert '"role": ["front_desk", "manager"]' in rows[0]["detail"]  # raw, for machines
    # The export itself is audited, in words, with the filter it used.
    exported = _csv(admin, "?action=audit_exported")
    assert exported[-1]["what_happened"] == (
        "Downloaded the audit trail as a spreadsheet (CSV). Only events of the kind "
        "“Account changed”"
    )


@pytest.fixture
def program(app, factory):
    """Two sites, three catalogue items, a participant and a front-desk account."""
    ids = {
        "main": factory.site("Main site"),
        "van": factory.site("Van", "mobile"),
        "syringe": factory.supply_item("Syringe 1 mL 28G", "syringe", "syringe"),
        "naloxone": factory.supply_item("Naloxone nasal 4 mg", "naloxone", "kit", 12),
        "strips": factory.supply_item("Fentanyl test strip", "test_strip", "strip"),
    }
    ids["participant"] = factory.participant("MAPH0687", site_id=ids["main"])
    ids["desk"] = factory.user("desk1", "front_desk", site_id=ids["main"])
    return ids


def test_a_visit_reads_with_item_names_and_quantities(app, factory, signed_in, program):
    from tests.visits.test_record_visit import _form

    participant = program["participant"]
    visit = factory.visit(
        participant,
        user_id=program["desk"],
        site_id=program["main"],
        items={program["syringe"]: 30, program["naloxone"]: 2},
        services={"hiv_test": 1},
        syringes_collected=25,
        reasons={program["naloxone"]: "first_kit"},
    )
    manager = signed_in("manager")
    data = _form(manager, f"/visits/{visit}/edit")
    data.update({f"item_{program['syringe']}": "20", f"item_{program['strips']}": "5"})
    assert manager.post(f"/visits/{visit}/edit", data).status_code == 303
    manager.sign_out()

    admin = signed_in("admin")
    page = _trail(admin)
    link = f'<a href="/participants/{participant}">participant #{participant}</a>'
    assert f"Recorded a visit for {link} at Main site" in page
    # What was handed out when the visit was saved, not what the correction made of it.
    assert "<li>30 × Syringe 1 mL 28G</li>" in page
    assert "<li>2 × Naloxone nasal 4 mg</li>" in page
    assert "<li>1 × HIV test</li>" in page and "<li>Used syringes collected: 25</li>" in page
    assert f"Corrected a visit of {link}" in page
    assert "<li>Syringe 1 mL 28G: 30 → 20</li>" in page
    assert "<li>Fentanyl test strip: 0 → 5</li>" in page
    assert f"Enrolled {link} at Main site" in page
    # The trail names participants by number, never by code, so it is no view of a code...
    assert "MAPH0687" not in page
    shown = select(func.count()).where(AuditEvent.action == "participants_shown")
    with app.app_context():
        before = db.session.scalar(shown)
    _trail(admin)
    with app.app_context():
        assert db.session.scalar(shown) == before
    # ...and following the link is: the participant's page records its own view.
    assert admin.get(f"/participants/{participant}").status_code == 200
    with app.app_context():
        viewed = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "participant_viewed")
        )
        assert viewed.object_id == participant

    rows = {row["action"]: row for row in _csv(admin)}
    assert rows["visit_recorded"]["what_happened"] == (
        f"Recorded a visit for participant #{participant} at Main site. 30 × Syringe 1 mL 28G. "
        "2 × Naloxone nasal 4 mg. 1 × HIV test. Used syringes collected: 25"
    )
    assert "MAPH0687" not in str(rows)


def test_stock_sites_and_participants_are_named(app, factory, signed_in, program):
    from ssp.staff.models import User
    from ssp.supplies import stock

    with app.app_context():
        desk = db.session.get(User, program["desk"])
        today = program_today()
        stock.receive(
            site_id=program["main"],
            occurred_on=today,
            lines=[stock.ReceiptLine(program["syringe"], 1000)],
            source="State grant",
            user=desk,
        )
        stock.transfer(
            from_site_id=program["main"],
            to_site_id=program["van"],
            occurred_on=today,
            quantities={program["syringe"]: 200},
            user=desk,
        )
        stock.count(
            site_id=program["van"],
            occurred_on=today,
            lines=[stock.CountLine(program["syringe"], 190)],
            user=desk,
        )
        db.session.commit()
    for code in ("MAPH0688", "MAPH0689"):
        factory.participant(code)
    desk_browser = Browser(app.test_client())
    desk_browser.sign_in("desk1")
    desk_browser.get("/")
    found = desk_browser.client.post(
        "/api/participants/search", json={"q": "maph"}, headers={"X-CSRFToken": desk_browser.token}
    )
    assert len(found.get_json()["matches"]) == 3

    admin = signed_in("admin")
    page = _trail(admin)
    assert "Received stock at Main site" in page and "<li>1,000 × Syringe 1 mL 28G</li>" in page
    assert "Moved stock from Main site to Van" in page and "<li>200 × Syringe 1 mL 28G</li>" in page
    assert "Counted stock at Van: 1 item" in page
    assert "<li>Syringe 1 mL 28G: 10 fewer than the books</li>" in page
    assert "Viewed 3 participants in the search results" in page
    assert "MAPH06" not in page


def test_the_csv_words_column_is_guarded_against_formulas(app, signed_in):
    from ssp.audit import record

    with app.app_context():
        record('=HYPERLINK("http://example.com","x")', detail={"=cmd": "-2+3"})
        db.session.commit()
    admin = signed_in("admin")
    text = admin.get("/admin/audit.csv").get_data(as_text=True)
    row = next(r for r in csv.DictReader(io.StringIO(text)) if "HYPERLINK" in r["action"])
    assert row["action"].startswith("'=") and row["what_happened"].startswith("'=")
    assert row["what_happened"] == '\'=HYPERLINK("http://example.com","x"). =cmd: -2+3'
    page = _trail(admin)
    assert "=HYPERLINK(&#34;http://example.com&#34;,&#34;x&#34;)" in page


def test_events_from_a_whole_day_read_through_their_own_describers(app, factory, program):
    """Real events from the services: none falls back to its bare name, none shows an id
    where a name belongs, a raw value or an empty slot."""
    from ssp.participants import services as participants
    from ssp.participants.models import Participant
    from ssp.referrals import services as referrals
    from ssp.referrals.models import FollowUp
    from ssp.reporting import funders, narratives
    from ssp.staff import services as staff
    from ssp.staff.models import Site, User
    from ssp.supplies import services as supplies
    from ssp.supplies.models import SupplyItem
    from ssp.visits import services as visits
    from ssp.visits.models import Visit

    partner = factory.partner()
    referral = factory.referral(program["participant"], user_id=program["desk"], partner_id=partner)
    factory.profiles()
    visit = factory.visit(
        program["participant"],
        user_id=program["desk"],
        site_id=program["main"],
        items={program["syringe"]: 10},
    )
    other = factory.participant("ZZTO1234")
    with app.app_context():
        desk = db.session.get(User, program["desk"])
        staff.update_site(db.session.get(Site, program["van"]), name="Blue van", kind="outreach")
        staff.set_site_active(db.session.get(Site, program["van"]), False)
        staff.reset_password(desk, "another long password")
        staff.unlock_user(desk)
        item = db.session.get(SupplyItem, program["strips"])
        supplies.update_item(
            item,
            name="Test strip",
            category="test_strip",
            unit="strip",
            units_per_pack=100,
            max_per_visit=20,
        )
        supplies.set_item_active(item, False)
        participants.update_details(
            db.session.get(Participant, program["participant"]), birth_year=1980
        )
        participants.merge(
            keep=db.session.get(Participant, program["participant"]),
            absorb=db.session.get(Participant, other),
        )
        follow_up = referrals.add_follow_up(
            participant_id=program["participant"],
            reason="Ask about the clinic",
            due_on=program_today() + dt.timedelta(days=3),
            user=desk,
        )
        referrals.update_follow_up(
            follow_up,
            due_on=program_today() + dt.timedelta(days=5),
            assigned_user_id=desk.id,
            user=desk,
        )
        referrals.record_outcome(follow_up, "waiting", user=desk)
        from ssp.referrals.models import Referral

        referrals.change_status(db.session.get(Referral, referral), "accepted", user=desk)
        first = db.session.scalar(select(FollowUp).where(FollowUp.referral_id == referral))
        referrals.cancel_follow_up(first, user=desk)
        profile = funders.profile_by_name("standard")
        funders.update_profile(profile, **{**_profile_values(profile), "threshold": 15})
        funders.set_profile_active(profile, False)
        narratives.save_narrative("2026-10", user_id=desk.id, activities="Two outreach nights")
        visits.void_visit(db.session.get(Visit, visit), reason="Entered twice", user=desk)
        db.session.commit()

        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        names = audit_words.Names().prepare(events)
        seen = set()
        for event in events:
            seen.add(event.action)
            text = str(audit_words.ACTIONS[event.action].describe(event, names))
            assert text == str(audit_words.describe(event, names)), event.action
            for wrong in ("None", "_", "{", "site #", "item #", "account #", "partner #"):
                assert wrong not in text, (event.action, text)
        assert len(seen) >= 25, seen
        visit_words = {
            str(audit_words.describe(e, names)) for e in events if e.action == "visit_voided"
        }
        assert visit_words == {
            f"Voided a visit of participant #{program['participant']}. It counts nowhere now "
            "and its supplies went back to stock"
        }


def _profile_values(profile) -> dict:
    return {
        "name": profile.name,
        "funder_name": profile.funder_name,
        "grant_number": profile.grant_number,
        "program_name": profile.program_name,
        "sections": profile.sections,
        "threshold": profile.threshold,
        "fiscal_year_start": profile.fiscal_year_start,
        "contact": profile.contact,
    }
