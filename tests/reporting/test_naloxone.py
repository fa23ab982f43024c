"""Naloxone in the report: kits, doses (the catalogue's doses per unit), and the line
relating kits "used on someone" to overdose reversals reported."""

from __future__ import annotations

import datetime as dt

from ssp.extensions import db
from tests.conftest import Browser

UTC = dt.UTC


def test_doses_count_each_kit_by_its_doses(app, factory):
    app.config["VISIT_BACKDATE_DAYS"] = 100_000
    app.config["MIN_SUPPRESSION_THRESHOLD"] = 2
    factory.profiles()
    from ssp.reporting.funders import profile_by_name
    from ssp.supplies.models import SupplyItem

    site = factory.site("Main site")
    nasal = factory.supply_item("Naloxone nasal 4 mg (2-dose kit)", "naloxone", "kit")
    vial = factory.supply_item("Naloxone IM vial", "naloxone", "kit")
    user = factory.user("boss", "manager", site_id=site)
    with app.app_context():
        db.session.get(SupplyItem, nasal).doses_per_unit = 2
        profile_by_name("standard").threshold = 2
        db.session.commit()
    for n in range(6):
        factory.visit(
            factory.participant(f"NALX{n:04d}"),
            user_id=user,
            site_id=site,
            items={nasal: 2, vial: 1},
            reasons={nasal: "used", vial: "first_kit"},
            services={"overdose_reversal_reported": 2} if n < 2 else {},
            occurred_at=dt.datetime(2026, 10, 12, 18, tzinfo=UTC),
        )
    from ssp.reporting.services import generate_report

    with app.app_context():
        made = generate_report(period="2026-10", funder="standard", user_id=None)
        db.session.commit()
    table = next(t for s in made.document.sections for t in s.tables if t.key == "overdose_people")
    rows = {r.label: r.cells[0] for r in table.rows}
    assert rows["Naloxone kits distributed"] == "18"
    assert rows["Naloxone doses distributed"] == "30"  # 12 kits of 2 doses, 6 of 1
    # Every visit replacing a kit used on someone records at least one; two reported two.
    assert rows["Overdose reversals reported"] == "8"
    assert "need not match" in table.note


def test_the_catalogue_form_takes_doses_per_unit(app, signed_in):
    admin: Browser = signed_in("admin")
    form = {
        "name": "Naloxone nasal 8 mg",
        "category": "naloxone",
        "unit": "kit",
        "units_per_pack": "12",
        "reorder_level": "10",
        "doses_per_unit": "2",
    }
    assert admin.post("/admin/supplies/new", form).status_code in (302, 303)
    bad = admin.post("/admin/supplies/new", {**form, "name": "Other", "doses_per_unit": "0"})
    assert bad.status_code == 422 and "From 1 to 100." in bad.get_data(as_text=True)
    from ssp.supplies.services import item_by_name

    with app.app_context():
        assert item_by_name("Naloxone nasal 8 mg").doses_per_unit == 2


def test_a_narrative_prints_and_a_code_in_it_is_refused(app, factory, signed_in):
    factory.profiles()
    factory.participant("WXYZ4321")
    manager: Browser = signed_in("manager")
    url = "/reports/narrative/2026-10?funder=standard"
    assert manager.get(url).status_code == 200
    refused = manager.post(
        url, {"activities": "Met wxyz 4321 at the park.", "barriers": "", "events": ""}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "contains a participant code" in page and "Met wxyz 4321 at the park." in page
    saved = manager.post(
        url,
        {"activities": "Two new outreach nights.", "barriers": "Rain.", "events": "Health fair"},
    )
    assert saved.status_code == 303 and "preview" in saved.headers["Location"]
    preview = manager.get("/reports/preview?period=2026-10&funder=standard")
    body = preview.get_data(as_text=True)
    assert "Two new outreach nights." in body and "Health fair" in body
    from ssp.reporting.services import generate_report

    with app.app_context():
        made = generate_report(period="2026-10", funder="standard", user_id=None)
        assert ("Activities this period", "Two new outreach nights.") in made.document.narrative
    assert manager.get("/reports/narrative/2026-13").status_code == 400
