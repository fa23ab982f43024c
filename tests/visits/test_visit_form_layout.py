"""The visit form folds the supply categories a site seldom hands out (VISIT_FORM_FOLD_SHARE
of its visits over VISIT_FORM_USAGE_DAYS), never the core ones, never one holding a value
or an error, and nothing at a site with too short a history."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ssp.timeutil import utcnow
from ssp.visits.layout import MINIMUM_HISTORY
from tests.conftest import Browser

VISITS = 40  # at the main site in the window; 5 % of them is 2


@pytest.fixture
def site_history(app, factory):
    """Forty recent visits at the main site: syringes and alcohol pads at every one,
    condoms at two (exactly 5 %), a pipe at one; never a hygiene kit or naloxone. Pipes
    are also handed out where they do not count: at voided visits, before the window and
    at the van, whose short history folds nothing."""
    app.config["VISIT_BACKDATE_DAYS"] = 200
    ids = {
        "main": factory.site("Main site"),
        "van": factory.site("Van", "mobile"),
        "syringe": factory.supply_item("Syringe 1 mL 28G", "syringe", "syringe"),
        "naloxone": factory.supply_item("Naloxone nasal 4 mg", "naloxone", "kit", 12),
        "pads": factory.supply_item("Alcohol pad", "injection", "pad", 200),
        "pipe": factory.supply_item("Glass pipe", "smoking", "pipe", 50),
        "condom": factory.supply_item("External condom", "sexual_health", "condom", 144),
        "hygiene": factory.supply_item("Hygiene kit", "hygiene", "kit", 25),
    }
    ids["user"] = factory.user("desk1", "front_desk", site_id=ids["main"])
    factory.user("van1", "front_desk", site_id=ids["van"])
    ids["smoker"] = factory.participant("PIPE0101", site_id=ids["main"])
    ids["other"] = factory.participant("OTHR0202", site_id=ids["main"])

    def visit(site, days_ago, person=None, **items):
        return factory.visit(
            person or ids["other"],
            user_id=ids["user"],
            site_id=site,
            items={ids[name]: quantity for name, quantity in items.items()},
            occurred_at=utcnow() - dt.timedelta(days=days_ago),
        )

    for n in range(VISITS):
        extra = {"condom": 3} if n in (1, 2) else {}
        person = ids["smoker"] if n == 3 else None
        if n == 3:
            extra = {"pipe": 1}
        visit(ids["main"], 1 + n, person, syringe=10, pads=20, **extra)
    voided = [visit(ids["main"], 2, pipe=2) for _ in range(3)]
    visit(ids["main"], 120, pipe=5)  # before the 90 days
    for n in range(MINIMUM_HISTORY - 1):
        visit(ids["van"], 1 + n, pipe=1)
    with app.app_context():
        from ssp.extensions import db
        from ssp.visits.models import Visit

        for visit_id in voided:
            db.session.get(Visit, visit_id).voided_at = utcnow()
        db.session.commit()
    return ids


FOLDED = re.compile(r'<details class="group fold">\s*<summary>([^<]+?) <span')
OPEN = re.compile(r'<fieldset class="group">\s*<legend>([^<]+)</legend>')


def _sections(page: str) -> tuple[set[str], set[str]]:
    """The category headings folded away, and those shown open, on a visit form."""
    return set(FOLDED.findall(page)), set(OPEN.findall(page)) - {
        "Referral",
        "Services and reach",
        "Follow-up answers",
    }


def _signed_in(app, username: str) -> Browser:
    browser = Browser(app.test_client())
    browser.sign_in(username)
    return browser


def test_the_categories_a_site_seldom_uses_are_folded(app, site_history):
    desk = _signed_in(app, "desk1")
    page = desk.get("/visits/walk-in").get_data(as_text=True)
    folded, shown = _sections(page)
    # A pipe at 1 visit in 40 is under 5 %; no hygiene kit at all. Condoms at 2 of 40
    # are exactly 5 %: not fewer, so they stay open. The voided visits, the visit before
    # the window and the van's visits do not count.
    assert folded == {"Safer smoking supplies", "Hygiene"}
    assert shown == {"Safer injection supplies", "Sexual health"}
    # Naloxone, never handed out here, is core: always first and open.
    core = page[page.index('<fieldset class="group core">') : page.index("</fieldset>")]
    assert "Naloxone nasal 4 mg" in core
    # Folded boxes are still in the form, under their summary, with the item count.
    assert 'Safer smoking supplies <span class="muted">(1 item, seldom given here)' in page
    fold = page[page.index("<summary>Safer smoking supplies") :]
    assert f'id="item_{site_history["pipe"]}"' in fold[: fold.index("</details>")]


def test_a_seldom_used_category_holding_a_value_or_an_error_is_open(app, site_history):
    desk = _signed_in(app, "desk1")
    # "Same as last time" for the person who had a pipe: the pipe box holds 1.
    same = f"/participants/{site_history['smoker']}/visits/new?same=1"
    folded, shown = _sections(desk.get(same).get_data(as_text=True))
    assert "Safer smoking supplies" in shown and folded == {"Hygiene"}
    # A refused hygiene quantity comes back open, beside its message.
    form = {"site_id": str(site_history["main"]), "kind": "fixed"}
    form["occurred_at"] = (utcnow() - dt.timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    form[f"item_{site_history['hygiene']}"] = "-1"
    answer = desk.post("/visits/walk-in", form)
    assert answer.status_code == 422
    folded, shown = _sections(answer.get_data(as_text=True))
    assert "Hygiene" in shown and folded == {"Safer smoking supplies"}


def test_a_site_with_a_short_history_folds_nothing(app, site_history):
    van = _signed_in(app, "van1")
    page = van.get("/visits/walk-in").get_data(as_text=True)
    assert f'<option selected value="{site_history["van"]}">' in page
    folded, shown = _sections(page)
    assert folded == set()
    assert {"Safer smoking supplies", "Hygiene", "Sexual health"} <= shown


def test_the_share_that_folds_is_a_setting(app, site_history):
    app.config["VISIT_FORM_FOLD_SHARE"] = 0.06  # 2 visits in 40 is now too few
    desk = _signed_in(app, "desk1")
    folded, _ = _sections(desk.get("/visits/walk-in").get_data(as_text=True))
    assert folded == {"Safer smoking supplies", "Hygiene", "Sexual health"}
