"""Stock: receipts, transfers, counts, visits and voids all add up; days of supply and flags;
the naloxone expiry estimate; the ledger and its CSV; roles and bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select

from ssp.extensions import db
from ssp.supplies import stock
from ssp.supplies.models import StockMovement
from ssp.timeutil import program_today, utcnow
from tests.conftest import Browser


@pytest.fixture
def store(app, factory):
    """Main site and a van, syringes (100 a pack), naloxone (12 a pack), a manager."""
    ids = {
        "main": factory.site("Main site"),
        "van": factory.site("Van", "mobile"),
        "syringe": factory.supply_item(
            "Syringe 1 mL 28G", "syringe", "syringe", units_per_pack=100, reorder_level=500
        ),
        "naloxone": factory.supply_item(
            "Naloxone nasal 4 mg", "naloxone", "kit", units_per_pack=12, reorder_level=24
        ),
    }
    ids["manager"] = factory.user("boss1", "manager", site_id=ids["main"])
    ids["desk"] = factory.user("desk1", "front_desk", site_id=ids["van"])
    ids["participant"] = factory.participant("MAPH0687")
    browser = Browser(app.test_client())
    browser.sign_in("boss1")
    ids["browser"] = browser
    return ids


def _today(app) -> dt.date:
    with app.app_context():
        return program_today()


def _on_hand(app, site_id: int, item_id: int) -> int:
    with app.app_context():
        return stock.on_hand(site_id, item_id)


def _movements(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StockMovement))


def _receive(store, app, **fields):
    data = {
        "site_id": str(store["main"]),
        "occurred_on": _today(app).isoformat(),
        "source": "State naloxone program",
    }
    data.update(fields)
    return store["browser"].post("/stock/receive", data)


def test_the_whole_story_adds_up(app, store, factory):
    """Receive, load the van, hand out at the van, void one visit, count: the page and the
    CSV agree with numbers worked out by hand."""
    b, main, van, syringe = store["browser"], store["main"], store["van"], store["syringe"]
    # 3 packs of 100 syringes and 40 loose ones arrive at the main site: 340.
    assert (
        _receive(store, app, **{f"qty_{syringe}": "3", f"per_{syringe}": "packs"}).status_code
        == 303
    )
    assert (
        _receive(store, app, **{f"qty_{syringe}": "40", f"per_{syringe}": "units"}).status_code
        == 303
    )
    assert _on_hand(app, main, syringe) == 340
    # Load the van with 200.
    response = b.post(
        "/stock/transfer",
        {
            "from_site_id": str(main),
            "to_site_id": str(van),
            "occurred_on": _today(app).isoformat(),
            f"qty_{syringe}": "200",
        },
    )
    assert response.status_code == 303
    assert (_on_hand(app, main, syringe), _on_hand(app, van, syringe)) == (140, 200)
    # Two visits at the van hand out 30 and 20; the second is voided.
    factory.visit(store["participant"], user_id=store["desk"], site_id=van, items={syringe: 30})
    voided = factory.visit(
        store["participant"], user_id=store["desk"], site_id=van, items={syringe: 20}
    )
    assert _on_hand(app, van, syringe) == 150
    assert b.post(f"/visits/{voided}/void", {"reason": "Entered twice"}).status_code == 303
    assert _on_hand(app, van, syringe) == 170
    # The count finds 165 on the van's shelf: an adjustment of -5.
    response = b.post(
        f"/stock/count?site={van}",
        {
            "occurred_on": _today(app).isoformat(),
            f"count_{syringe}": "165",
            f"reason_{syringe}": "damaged",
        },
    )
    assert response.status_code == 303
    assert _on_hand(app, van, syringe) == 165

    page = b.get("/stock").get_data(as_text=True)
    van_section = page[page.index(">Van<") :]
    row = re.search(
        r"Syringe 1 mL 28G</td>\s*<td[^>]*class=\"num\">([\d,-]+) .*?</td>\s*"
        r"<td[^>]*class=\"num\">([\d,]+)</td>\s*<td[^>]*class=\"num\">([^<]+)</td>\s*"
        r"<td[^>]*class=\"num\">([^<]+)</td>",
        van_section,
        re.S,
    )
    # 30 handed out since the van first had syringes today: a new line's use is averaged
    # over at least 14 days, so 2.1 a day and 165 * 14 // 30 = 77 days of supply.
    assert row.groups() == ("165", "30", "2.1", "77")

    csv_text = b.get(f"/stock/movements.csv?site={van}&item={syringe}").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert sum(int(r["change"]) for r in rows) == 165
    assert [(r["reason"], int(r["change"])) for r in rows] == [
        ("transfer", 200),
        ("distribution", -30),
        ("distribution", -20),
        ("distribution", 20),
        ("adjustment", -5),
    ]
    assert rows[0]["other_site"] == "Main site"
    assert rows[-1]["adjustment_reason"] == "damaged"
    with app.app_context():
        total = db.session.scalar(
            select(func.sum(StockMovement.delta)).where(StockMovement.supply_item_id == syringe)
        )
    assert total == 140 + 165


def test_transfer_is_one_transaction(app, store, monkeypatch):
    b, main, van, syringe = store["browser"], store["main"], store["van"], store["syringe"]
    _receive(store, app, **{f"qty_{syringe}": "100"})
    before = _movements(app)
    import ssp.supplies.stock as stock_module

    def fail(*args, **kwargs):
        raise RuntimeError("power cut between the two halves")

    monkeypatch.setattr(stock_module, "record", fail)  # fails after both rows are added
    response = b.post(
        "/stock/transfer",
        {
            "from_site_id": str(main),
            "to_site_id": str(van),
            "occurred_on": _today(app).isoformat(),
            f"qty_{syringe}": "60",
        },
    )
    assert response.status_code == 500
    assert _movements(app) == before
    assert (_on_hand(app, main, syringe), _on_hand(app, van, syringe)) == (100, 0)


def test_days_of_supply_and_flags_on_hand_built_data(app, store, factory):
    main, van, syringe, naloxone = (
        store["main"],
        store["van"],
        store["syringe"],
        store["naloxone"],
    )
    with app.app_context():
        from ssp.staff.models import User

        manager = db.session.get(User, store["manager"])
        now = utcnow()
        stock.receive(
            site_id=main,
            occurred_on=program_today(now),
            lines=[stock.ReceiptLine(syringe, 600), stock.ReceiptLine(naloxone, 10)],
            source=None,
            user=manager,
            now=now,
        )
        db.session.commit()
    # 400 syringes handed out at the main site, the first 29 days ago.
    factory.visit(
        store["participant"],
        user_id=store["manager"],
        site_id=main,
        items={syringe: 300},
        occurred_at=utcnow() - dt.timedelta(days=10),
    )
    factory.visit(
        store["participant"],
        user_id=store["manager"],
        site_id=main,
        items={syringe: 100},
        occurred_at=utcnow() - dt.timedelta(days=29),
    )
    # naloxone handed out at the van, which never received any: negative
    factory.visit(
        store["participant"],
        user_id=store["desk"],
        site_id=van,
        items={naloxone: 2},
        reasons={naloxone: "first_kit"},
    )
    with app.app_context():
        levels = {(lv.site.id, lv.item.id): lv for lv in stock.stock_levels()}
        main_syringes = levels[(main, syringe)]
        # The main site has had syringes for 29 days, so its use is 400 over 29 days.
        assert (main_syringes.on_hand, main_syringes.distributed) == (200, 400)
        assert main_syringes.use_days == 29
        assert main_syringes.days_of_supply == 14  # 200 * 29 // 400
        assert main_syringes.reorder_at == 290  # 400 * 21 / 29, rounded up
        assert main_syringes.low and not main_syringes.negative
        # Up to 51 days of use (704), less the 200 on hand, in packs of 100.
        assert (main_syringes.suggested_order, main_syringes.suggested_packs) == (600, 6)
        van_naloxone = levels[(van, naloxone)]
        assert van_naloxone.on_hand == -2 and van_naloxone.negative
        main_naloxone = levels[(main, naloxone)]
        # Under the catalogue's 24, but none handed out: not low.
        assert main_naloxone.on_hand == 10 and main_naloxone.days_of_supply is None
        assert not main_naloxone.low and main_naloxone.suggested_order is None
        assert levels[(van, syringe)].on_hand == 0  # listed even without movements
        # ...but not flagged: the van never stocked syringes.
        assert not levels[(van, syringe)].low
        low = [(lv.site.id, lv.item.id) for lv in stock.low_stock()]
        assert low == [(van, naloxone), (main, syringe)]  # below zero first
    page = store["browser"].get("/stock").get_data(as_text=True)
    assert "Below zero: count it" in page and "Low: reorder" in page
    assert "Not handed out lately" in page
    home = store["browser"].get("/").get_data(as_text=True)
    assert "Low stock" in home and "below zero: count it" in home


def test_naloxone_expiring_within_60_days(app, store, factory):
    naloxone = store["naloxone"]
    today = _today(app)
    soon = today + dt.timedelta(days=45)
    later = today + dt.timedelta(days=400)
    assert (
        _receive(
            store,
            app,
            **{
                f"qty_{naloxone}": "1",
                f"per_{naloxone}": "packs",
                f"lot_{naloxone}": "A123",
                f"expires_{naloxone}": soon.isoformat(),
            },
        ).status_code
        == 303
    )
    assert (
        _receive(
            store,
            app,
            **{
                f"qty_{naloxone}": "10",
                f"lot_{naloxone}": "B456",
                f"expires_{naloxone}": later.isoformat(),
            },
        ).status_code
        == 303
    )
    # 15 of the 22 kits go out: what is left (7) is assumed to be the later lot.
    factory.visit(
        store["participant"],
        user_id=store["manager"],
        site_id=store["main"],
        items={naloxone: 5},
        reasons={naloxone: "first_kit"},
    )
    with app.app_context():
        lots = stock.expiring_naloxone()
        assert [(lot.lot, lot.estimated_left) for lot in lots] == [("A123", 7)]
    page = store["browser"].get("/stock").get_data(as_text=True)
    assert "Naloxone expiring within 60 days" in page and "lot A123" in page
    factory.visit(
        store["participant"],
        user_id=store["manager"],
        site_id=store["main"],
        items={naloxone: 7},
        reasons={naloxone: "used"},
    )
    with app.app_context():
        assert stock.expiring_naloxone() == []  # the early lot has gone out


@pytest.mark.parametrize(
    ("url", "data", "field", "message"),
    [
        ("/stock/receive", {"qty_{syringe}": "0"}, "qty_{syringe}", "More than zero"),
        ("/stock/receive", {"qty_{syringe}": "-5"}, "qty_{syringe}", "More than zero"),
        ("/stock/receive", {}, None, "at least one item"),
        (
            "/stock/receive",
            {"qty_{syringe}": "5", "occurred_on": "TOMORROW"},
            "occurred_on",
            "cannot be in the future",
        ),
        (
            "/stock/receive",
            {"qty_{naloxone}": "5", "expires_{naloxone}": "YESTERDAY"},
            "expires_{naloxone}",
            "already expired",
        ),
        (
            "/stock/receive",
            {"qty_{syringe}": "5", "source": "x" * 121},
            "source",
            "cannot be longer than 120",
        ),
        (
            "/stock/transfer",
            {"qty_{syringe}": "5", "to_site_id": "{main}"},
            "to_site_id",
            "Choose two different sites.",
        ),
        (
            "/stock/transfer",
            {"qty_{syringe}": "0", "to_site_id": "{van}"},
            "qty_{syringe}",
            "More than zero",
        ),
        (
            "/stock/transfer",
            {"qty_{syringe}": "5", "to_site_id": "{van}", "occurred_on": "TOMORROW"},
            "occurred_on",
            "cannot be in the future",
        ),
        ("/stock/count", {"count_{syringe}": "-1"}, "count_{syringe}", "0 or more"),
        (
            "/stock/count",
            {"count_{syringe}": "4", "occurred_on": "TOMORROW"},
            "occurred_on",
            "cannot be in the future",
        ),
    ],
)
def test_bad_input_writes_nothing(app, store, url, data, field, message):
    today = _today(app)
    dates = {
        "TOMORROW": (today + dt.timedelta(days=1)).isoformat(),
        "YESTERDAY": (today - dt.timedelta(days=1)).isoformat(),
    }
    form = {
        "site_id": str(store["main"]),
        "from_site_id": str(store["main"]),
        "occurred_on": today.isoformat(),
    }
    for key, value in data.items():
        form[key.format(**store)] = dates.get(value, value.format(**store))
    before = _movements(app)
    response = store["browser"].post(url, form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    if field:
        error = re.search(rf'id="{field.format(**store)}-error"[^>]*>([^<]*)<', page)
        assert error and message in error.group(1), (field, error and error.group(1))
    else:
        assert message in page
    assert _movements(app) == before


def test_counting_an_item_deactivated_meanwhile_is_refused(app, store):
    from ssp.supplies.models import SupplyItem

    with app.app_context():
        db.session.get(SupplyItem, store["syringe"]).active = False
        db.session.commit()
    response = store["browser"].post(
        "/stock/count",
        {
            "occurred_on": _today(app).isoformat(),
            f"count_{store['syringe']}": "10",
            f"reason_{store['syringe']}": "count",
        },
    )
    assert response.status_code == 422
    assert "Inactive items are not counted" in response.get_data(as_text=True)
    assert _movements(app) == 0


def test_receipts_in_packs_use_units_per_pack(app, store):
    naloxone = store["naloxone"]
    _receive(store, app, **{f"qty_{naloxone}": "2", f"per_{naloxone}": "packs"})
    assert _on_hand(app, store["main"], naloxone) == 24
    with app.app_context():
        movement = db.session.scalar(select(StockMovement))
        assert (movement.reason.value, movement.source, movement.user_id) == (
            "receipt",
            "State naloxone program",
            store["manager"],
        )


def test_front_desk_can_look_but_not_receive_or_adjust(app, store):
    desk = Browser(app.test_client())
    desk.sign_in("desk1")
    assert desk.get("/stock").status_code == 200
    assert "Receive a shipment" not in desk.get("/stock").get_data(as_text=True)
    for url in ("/stock/receive", "/stock/transfer", "/stock/count"):
        assert desk.get(url).status_code == 403
        assert (
            desk.post(
                url, {f"qty_{store['syringe']}": "5", f"count_{store['syringe']}": "5"}
            ).status_code
            == 403
        )
    assert desk.get("/stock/movements").status_code == 403
    assert desk.get("/stock/movements.csv").status_code == 403
    assert _movements(app) == 0


def test_ledger_filters_paging_and_csv(app, store, factory):
    b, _main, van, syringe, naloxone = (
        store["browser"],
        store["main"],
        store["van"],
        store["syringe"],
        store["naloxone"],
    )
    _receive(
        store,
        app,
        **{f"qty_{syringe}": "100", f"qty_{naloxone}": "12", f"lot_{naloxone}": "=HYPERLINK(1)"},
    )
    factory.visit(store["participant"], user_id=store["desk"], site_id=van, items={syringe: 10})
    page = b.get(f"/stock/movements?reason=receipt&item={syringe}").get_data(as_text=True)
    assert page.count("<tr>") == 2  # header and one row
    assert "State naloxone program" in page
    assert b.get("/stock/movements?site=999").status_code == 200
    for bad in ("?start=yesterday", "?reason=gift", "?site=x", "?start=2026-02-01&end=2026-01-01"):
        assert b.get("/stock/movements" + bad).status_code == 400, bad

    today = _today(app)
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert "No movements match." in b.get(f"/stock/movements?start={tomorrow}").get_data(
        as_text=True
    )
    app.config["LEDGER_PAGE_SIZE"] = 2
    assert "Page 1 of 2 (3 movements)" in b.get("/stock/movements").get_data(as_text=True)

    response = b.get(f"/stock/movements.csv?end={today.isoformat()}")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == stock.LEDGER_COLUMNS and len(rows) == 4
    lots = [r[12] for r in rows[1:] if r[12]]
    assert lots == ["'=HYPERLINK(1)"]  # a spreadsheet will not run it as a formula
    assert not any("MAPH0687" in cell for row in rows for cell in row)
