"""Low stock from each site's own use (issue 16, item 7), and the stock pages' wording,
labels and figures (item 12): through the app, on a real database."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from ssp.supplies import stock
from ssp.timeutil import utcnow
from tests.conftest import Browser
from tests.supplies.test_stock import _today


@pytest.fixture
def program(app, factory):
    """Two sites that hand out alcohol pads (200 a pack; the old catalogue reorder level of
    1,000 is kept on the item to show it no longer matters), a manager, a participant."""
    # Visits three months back stand for paper logs typed in; the rule reads 90 days.
    app.config["VISIT_BACKDATE_DAYS"] = 200
    ids = {
        "main": factory.site("Main site"),
        "van": factory.site("Van", "mobile"),
        "pads": factory.supply_item(
            "Alcohol pad", "injection", "pad", units_per_pack=200, reorder_level=1000
        ),
        "naloxone": factory.supply_item("Naloxone nasal 4 mg", "naloxone", "kit", 12),
    }
    ids["manager"] = factory.user("boss1", "manager", site_id=ids["main"])
    ids["participant"] = factory.participant("MAPH0687")
    browser = Browser(app.test_client())
    browser.sign_in("boss1")
    ids["browser"] = browser
    return ids


def _receive(program, app, site: int, days_ago: int, **quantities) -> str:
    data = {
        "site_id": str(site),
        "occurred_on": (_today(app) - dt.timedelta(days=days_ago)).isoformat(),
        "source": "Health department",
    }
    data.update(quantities)
    response = program["browser"].post("/stock/receive", data, follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def _hand_out(program, factory, site: int, item: int, quantity: int, days_ago: float) -> None:
    factory.visit(
        program["participant"],
        user_id=program["manager"],
        site_id=site,
        items={item: quantity},
        occurred_at=utcnow() - dt.timedelta(days=days_ago),
    )


def _steady_pads(program, app, factory) -> None:
    """109 pads a month at both sites for three months (327 in the 90-day window), stock
    received 100 days ago: 300 left at the main site, 20 at the van."""
    pads = program["pads"]
    _receive(program, app, program["main"], 100, **{f"qty_{pads}": "627"})
    _receive(program, app, program["van"], 100, **{f"qty_{pads}": "347"})
    for site in (program["main"], program["van"]):
        for days_ago in (5, 35, 65):
            _hand_out(program, factory, site, pads, 109, days_ago)


def _levels(app) -> dict[tuple[int, int], stock.StockLevel]:
    with app.app_context():
        return {(lv.site.id, lv.item.id): lv for lv in stock.stock_levels()}


def _low(app) -> list[tuple[int, int]]:
    with app.app_context():
        return [(lv.site.id, lv.item.id) for lv in stock.low_stock()]


def _row(page: str, site: str, item: str) -> list[str]:
    """The cells of one item's row in one site's table, as text."""
    section = page[page.index(f">{site}<") :]
    row = re.search(rf"<tr[^>]*>\s*<td>{re.escape(item)}</td>(.*?)</tr>", section, re.S)
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    ]


def test_a_site_is_flagged_by_its_own_use_not_the_catalogue_number(app, program, factory):
    main, van, pads = program["main"], program["van"], program["pads"]
    _steady_pads(program, app, factory)
    levels = _levels(app)

    # 327 pads in 90 days is 3.63 a day; lead time 14 + safety 7 days is 76.3 pads.
    at_main = levels[(main, pads)]
    assert (at_main.on_hand, at_main.distributed, at_main.use_days) == (300, 327, 90)
    assert at_main.reorder_at == 77
    assert at_main.days_of_supply == 82  # 300 / 3.63
    assert not at_main.low and at_main.suggested_order is None  # under 1,000, but fine

    at_van = levels[(van, pads)]
    assert (at_van.on_hand, at_van.days_of_supply, at_van.reorder_at) == (20, 5, 77)
    assert at_van.low
    # Enough for 14 + 7 + 30 days (186), less the 20 on hand, in whole packs of 200.
    assert (at_van.suggested_order, at_van.suggested_packs) == (200, 1)

    # The home page uses the same rule: the van's pads, not the main site's.
    assert _low(app) == [(van, pads)]
    home = program["browser"].get("/").get_data(as_text=True)
    banner = home[home.index('id="low-stock-heading"') :]
    banner = banner[: banner.index("</section>")]
    assert "Van: <strong>Alcohol pad</strong>" in banner and "Main site" not in banner
    assert "about 5 days left" in banner

    page = program["browser"].get("/stock").get_data(as_text=True)
    assert _row(page, "Van", "Alcohol pad") == [
        "20 pads",
        "327",
        "3.6",
        "5",
        "77",
        "200 (1 pack of 200)",
        "Low: reorder",
    ]
    assert _row(page, "Main site", "Alcohol pad") == [
        "300 pads",
        "327",
        "3.6",
        "82",
        "77",
        "—",
        "OK",
    ]
    assert "would not last 21 days" in page and "over the last 90 days" in page


def test_the_settings_move_the_line(app, program, factory):
    _steady_pads(program, app, factory)
    # A supplier that takes 80 days: 300 pads (82 days) will not last 80 + 7.
    app.config["STOCK_LEAD_TIME_DAYS"] = 80
    assert set(_low(app)) == {(program["main"], program["pads"]), (program["van"], program["pads"])}
    # A shorter window reads only the last visit (109 in 30 days), a longer cycle orders more.
    app.config.update(STOCK_LEAD_TIME_DAYS=14, STOCK_USE_WINDOW_DAYS=30, STOCK_ORDER_CYCLE_DAYS=60)
    at_van = _levels(app)[(program["van"], program["pads"])]
    assert (at_van.distributed, at_van.use_days, at_van.reorder_at) == (109, 30, 77)
    # 109 * 81 / 30 = 294.3, so 295 - 20 = 275 pads: two packs.
    assert at_van.suggested_order == 400
    page = program["browser"].get("/stock").get_data(as_text=True)
    assert "Handed out, last 30 days" in page and "60 more (one ordering cycle)" in page


def test_no_recent_use_is_not_low_but_expiry_still_warns(app, program, factory):
    main, pads, naloxone = program["main"], program["pads"], program["naloxone"]
    soon = _today(app) + dt.timedelta(days=45)
    # Naloxone received and never handed out: 5 kits, lot expiring in 45 days.
    _receive(
        program,
        app,
        main,
        0,
        **{
            f"qty_{naloxone}": "5",
            f"lot_{naloxone}": "A1",
            f"expires_{naloxone}": soon.isoformat(),
        },
    )
    # Pads that went out 120 days ago, none since: 10 left, nothing in the last 90 days.
    _receive(program, app, main, 150, **{f"qty_{pads}": "1000"})
    _hand_out(program, factory, main, pads, 990, 120)
    levels = _levels(app)
    for item in (naloxone, pads):
        level = levels[(main, item)]
        assert level.stocked and not level.in_use
        assert not level.low and level.reorder_at is None and level.days_of_supply is None
    assert levels[(main, pads)].on_hand == 10
    assert _low(app) == []
    page = program["browser"].get("/stock").get_data(as_text=True)
    assert "Naloxone expiring within 60 days" in page and "lot A1" in page
    assert _row(page, "Main site", "Alcohol pad")[-1] == "Not handed out lately"
    assert "Nothing is low." in page


def test_a_new_site_is_averaged_over_its_own_time(app, program, factory):
    van, pads = program["van"], program["pads"]
    # The van started 30 days ago and has handed out 300: 10 a day, not 300 / 90.
    _receive(program, app, van, 30, **{f"qty_{pads}": "400"})
    _hand_out(program, factory, van, pads, 150, 20)
    _hand_out(program, factory, van, pads, 150, 2)
    level = _levels(app)[(van, pads)]
    assert (level.use_days, level.reorder_at, level.days_of_supply) == (30, 210, 10)
    assert level.low
    # A line that started today is averaged over at least 14 days, not one.
    main = program["main"]
    _receive(program, app, main, 0, **{f"qty_{pads}": "500"})
    _hand_out(program, factory, main, pads, 28, 0)
    level = _levels(app)[(main, pads)]
    assert (level.use_days, level.reorder_at, level.low) == (14, 42, False)


def test_only_low_filter(app, program, factory):
    b, main, van, pads, naloxone = (
        program["browser"],
        program["main"],
        program["van"],
        program["pads"],
        program["naloxone"],
    )
    _steady_pads(program, app, factory)
    _receive(program, app, main, 0, **{f"qty_{naloxone}": "12"})
    everything = b.get("/stock").get_data(as_text=True)
    assert '<a href="/stock?low=1">Show only low stock (1 line)</a>' in everything
    assert everything.count("<td>Alcohol pad</td>") == 2
    assert "<td>Naloxone nasal 4 mg</td>" in everything

    only_low = b.get("/stock?low=1")
    assert only_low.status_code == 200
    page = only_low.get_data(as_text=True)
    assert "Showing only low stock: 1 line." in page
    assert '<a href="/stock">Show all stock</a>' in page
    assert page.count("<td>Alcohol pad</td>") == 1 and ">Van<" in page
    assert "<td>Naloxone nasal 4 mg</td>" not in page
    main_section = page[page.index(">Main site<") : page.index(">Van<")]
    assert "Nothing is low here." in main_section
    assert _row(page, "Van", "Alcohol pad")[-1] == "Low: reorder"
    # A line below zero needs someone too, and is listed.
    _hand_out(program, factory, main, pads, 301, 0)
    page = b.get("/stock?low=1").get_data(as_text=True)
    assert "Showing only low stock: 2 lines." in page
    assert _row(page, "Main site", "Alcohol pad")[-1] == "Below zero: count it"
    assert "<td>Naloxone nasal 4 mg</td>" not in page
    assert b.get("/stock?low=0").get_data(as_text=True).count("<td>Naloxone nasal 4 mg</td>") == 2
    for bad in ("yes", "2", "1;1"):
        assert b.get(f"/stock?low={bad}").status_code == 400, bad
    # Front desk staff see the same page and filter.
    desk = Browser(app.test_client())
    factory.user("desk1", "front_desk", site_id=van)
    desk.sign_in("desk1")
    assert "Showing only low stock" in desk.get("/stock?low=1").get_data(as_text=True)
    with app.app_context():
        assert len(stock.low_stock()) == 2


def test_messages_say_item_or_items(app, program, factory):
    b, main, van, pads, naloxone = (
        program["browser"],
        program["main"],
        program["van"],
        program["pads"],
        program["naloxone"],
    )
    page = _receive(program, app, main, 0, **{f"qty_{pads}": "1", f"per_{pads}": "packs"})
    assert "Receipt recorded: 1 item." in page
    page = _receive(program, app, main, 0, **{f"qty_{pads}": "100", f"qty_{naloxone}": "24"})
    assert "Receipt recorded: 2 items." in page
    today = _today(app).isoformat()
    page = b.post(
        "/stock/transfer",
        {
            "from_site_id": str(main),
            "to_site_id": str(van),
            "occurred_on": today,
            f"qty_{pads}": "50",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Transfer recorded: 1 item from Main site to Van." in page
    page = b.post(
        f"/stock/count?site={main}",
        {
            "occurred_on": today,
            f"count_{pads}": "250",
            f"reason_{pads}": "count",
            f"count_{naloxone}": "24",
            f"reason_{naloxone}": "count",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Count recorded at Main site: 2 items counted; the shelf matches the books." in page
    page = b.post(
        f"/stock/count?site={main}",
        {"occurred_on": today, f"count_{pads}": "240", f"reason_{pads}": "damaged"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Count recorded at Main site: 1 item counted, 1 adjustment to the books." in page
    assert "(s)" not in page


class _Labels(HTMLParser):
    """The form boxes of a page and the labels that name them (visible or not)."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes: list[str] = []
        self.labels: dict[str, dict] = {}
        self._label: dict | None = None
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select") and attrs.get("type") not in ("hidden", "submit"):
            self.boxes.append(attrs.get("id"))
        if tag == "label":
            self._label = {"visible": "", "all": "", "class": attrs.get("class") or ""}
            self.labels[attrs.get("for")] = self._label
        if (
            tag == "span"
            and self._label is not None
            and "visually-hidden" in (attrs.get("class") or "")
        ):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag == "label":
            self._label = None
        if tag == "span" and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if self._label is not None:
            self._label["all"] += data
            if not self._hidden and "visually-hidden" not in self._label["class"]:
                self._label["visible"] += data


def test_every_box_of_the_receiving_form_has_a_label_and_lot_and_expiry_show_theirs(app, program):
    naloxone = program["naloxone"]
    parser = _Labels()
    parser.feed(program["browser"].get("/stock/receive").get_data(as_text=True))
    missing = [box for box in parser.boxes if box not in parser.labels]
    assert missing == []
    lot, expires = parser.labels[f"lot_{naloxone}"], parser.labels[f"expires_{naloxone}"]
    assert lot["visible"].strip() == "Lot"
    assert expires["visible"].strip() == "Expiry date"
    # Read aloud, each names its item.
    assert " ".join(lot["all"].split()) == "Lot of Naloxone nasal 4 mg"
    assert " ".join(expires["all"].split()) == "Expiry date of Naloxone nasal 4 mg"
    for page in ("/stock/transfer", "/stock/count"):
        parser = _Labels()
        parser.feed(program["browser"].get(page).get_data(as_text=True))
        assert [box for box in parser.boxes if box not in parser.labels] == [], page


def test_figures_have_thousands_separators(app, program, factory):
    main, pads = program["main"], program["pads"]
    _receive(program, app, main, 100, **{f"qty_{pads}": "60", f"per_{pads}": "packs"})
    for days_ago in (10, 40, 70):
        _hand_out(program, factory, main, pads, 1000, days_ago)
    b = program["browser"]
    count_page = b.get(f"/stock/count?site={main}").get_data(as_text=True)
    assert "books: 9,000" in count_page and "200 a pack" in count_page
    # 3,000 in 90 days: 33.3 a day, reorder at 700, 270 days left.
    cells = _row(b.get("/stock").get_data(as_text=True), "Main site", "Alcohol pad")
    assert cells[:6] == ["9,000 pads", "3,000", "33.3", "270", "700", "—"]
    # A count finds 500 on the shelf: order 1,700 (51 days of use) - 500 = 1,200, six packs.
    response = b.post(
        f"/stock/count?site={main}",
        {"occurred_on": _today(app).isoformat(), f"count_{pads}": "500", f"reason_{pads}": "lost"},
    )
    assert response.status_code == 303
    cells = _row(b.get("/stock").get_data(as_text=True), "Main site", "Alcohol pad")
    assert cells == [
        "500 pads",
        "3,000",
        "33.3",
        "15",
        "700",
        "1,200 (6 packs of 200)",
        "Low: reorder",
    ]


def _home_low_stock(program) -> list[str]:
    """The home page's low-stock lines, as text."""
    home = program["browser"].get("/").get_data(as_text=True)
    banner = home[home.index('id="low-stock-heading"') :]
    banner = banner[: banner.index("</section>")]
    return [
        re.sub(r"<[^>]+>", "", line).strip() for line in re.findall(r"<li>(.*?)</li>", banner, re.S)
    ]


def test_the_home_page_low_stock_words_agree_with_their_numbers(app, program, factory):
    """One pad, one day, minus one kit: each noun agrees with its number (the list once
    said "1 pads on hand", "about 1 days left" and "-1 kits")."""
    main, van = program["main"], program["van"]
    pads, naloxone = program["pads"], program["naloxone"]
    _receive(program, app, van, 100, **{f"qty_{pads}": "61"})
    _hand_out(program, factory, van, pads, 60, 5)  # 60 in 90 days: 1 left is 1 day's use
    _receive(program, app, main, 100, **{f"qty_{naloxone}": "2"})
    factory.visit(  # one more kit than was received
        program["participant"],
        user_id=program["manager"],
        site_id=main,
        items={naloxone: 3},
        reasons={naloxone: "first_kit"},
        occurred_at=utcnow() - dt.timedelta(days=5),
    )
    _receive(program, app, main, 100, **{f"qty_{pads}": "1000"})
    _hand_out(program, factory, main, pads, 990, 5)  # 10 left: less than a day's use
    lines = _home_low_stock(program)
    assert lines == [
        "Main site: Naloxone nasal 4 mg, -1 kit on hand (below zero: count it)",
        "Main site: Alcohol pad, 10 pads on hand (reorder at 231; suggested order 600),"
        " less than a day left",
        "Van: Alcohol pad, 1 pad on hand (reorder at 14; suggested order 200), about 1 day left",
    ]
