"""The supply catalogue: admin pages and the default catalogue."""

from __future__ import annotations

from sqlalchemy import select

from ssp.extensions import db
from ssp.supplies.catalogue import DEFAULT_CATALOGUE
from ssp.supplies.models import SupplyCategory, SupplyItem
from ssp.supplies.services import load_default_catalogue


def _items(app) -> dict[str, SupplyItem]:
    with app.app_context():
        items = db.session.scalars(select(SupplyItem)).all()
        for item in items:
            db.session.expunge(item)
        return {i.name: i for i in items}


def test_add_edit_deactivate_an_item(app, signed_in):
    admin = signed_in("admin")
    assert admin.get("/admin/supplies/new").status_code == 200
    response = admin.post(
        "/admin/supplies/new",
        {
            "name": "Syringe 0.5 mL 30G",
            "category": "syringe",
            "unit": "Syringe",
            "units_per_pack": "100",
        },
        follow_redirects=True,
    )
    assert "Syringe 0.5 mL 30G added to the catalogue." in response.get_data(as_text=True)
    item = _items(app)["Syringe 0.5 mL 30G"]
    assert (item.category, item.unit, item.units_per_pack, item.active) == (
        SupplyCategory.SYRINGE,
        "syringe",
        100,
        True,
    )

    response = admin.post(
        f"/admin/supplies/{item.id}",
        {
            "name": "Syringe 0.5 mL 30G 1/2 in",
            "category": "syringe",
            "unit": "syringe",
            "units_per_pack": "50",
            "max_per_visit": "300",
        },
    )
    assert response.status_code == 302
    item = _items(app)["Syringe 0.5 mL 30G 1/2 in"]
    assert (item.units_per_pack, item.max_per_visit) == (50, 300)

    admin.post(f"/admin/supplies/{item.id}/deactivate")
    assert _items(app)[item.name].active is False
    page = admin.get("/admin/supplies").get_data(as_text=True)
    assert "Deactivated" in page and "Reactivate" in page
    admin.post(f"/admin/supplies/{item.id}/reactivate")
    assert _items(app)[item.name].active is True


def test_item_bad_input_writes_nothing(app, signed_in, factory):
    factory.supply_item("Fentanyl test strip", "test_strip", "strip")
    admin = signed_in("admin")
    good = {
        "name": "New thing",
        "category": "other",
        "unit": "each",
        "units_per_pack": "1",
    }
    for change, message in [
        ({"name": "fentanyl TEST strip"}, "There is already an item"),
        ({"units_per_pack": "0"}, "From 1 to 100,000."),
        ({"units_per_pack": "-5"}, "From 1 to 100,000."),
        ({"units_per_pack": "ten"}, "Not a valid integer value."),
        ({"category": "weapons"}, "Not a valid choice"),
        ({"unit": ""}, "Say what one unit is."),
        ({"name": "x" * 81}, "between 2 and 80"),
        ({"max_per_visit": "0"}, "From 1 to 100,000, or leave empty."),
    ]:
        response = admin.post("/admin/supplies/new", {**good, **change})
        assert response.status_code == 422, change
        assert message in response.get_data(as_text=True), change
    assert set(_items(app)) == {"Fentanyl test strip"}


def test_the_catalogue_sets_no_reorder_level(app, signed_in, factory):
    """Low stock comes from each site's own use: the catalogue form has no reorder level,
    and an edit leaves the old stored number alone (it is not used any more)."""
    item_id = factory.supply_item("Alcohol pad", "injection", "pad", 200, reorder_level=1000)
    admin = signed_in("admin")
    form = admin.get(f"/admin/supplies/{item_id}").get_data(as_text=True)
    assert "reorder_level" not in form and "Reorder level" not in form
    assert "Reorder level" not in admin.get("/admin/supplies").get_data(as_text=True)
    response = admin.post(
        f"/admin/supplies/{item_id}",
        {"name": "Alcohol pad", "category": "injection", "unit": "pad", "units_per_pack": "100"},
    )
    assert response.status_code == 302
    assert _items(app)["Alcohol pad"].units_per_pack == 100


def test_default_catalogue_loads_once(app):
    with app.app_context():
        assert load_default_catalogue() == len(DEFAULT_CATALOGUE)
        db.session.commit()
        assert load_default_catalogue() == 0
    items = _items(app)
    categories = {item.category for item in items.values()}
    assert {
        SupplyCategory.SYRINGE,
        SupplyCategory.NALOXONE,
        SupplyCategory.TEST_STRIP,
        SupplyCategory.SMOKING,
        SupplyCategory.WOUND_CARE,
        SupplyCategory.SEXUAL_HEALTH,
        SupplyCategory.DISPOSAL,
        SupplyCategory.INJECTION,
    } <= categories
    names = " ".join(items).lower()
    for expected in (
        "naloxone nasal",
        "naloxone im",
        "fentanyl test strip",
        "xylazine test strip",
        "cooker",
        "cotton",
        "sterile water",
        "alcohol pad",
        "tourniquet",
        "pipe",
        "wound care kit",
        "condom",
        "sharps container",
    ):
        assert expected in names, expected
    # Syringe category holds only needle-and-syringe units, so syringe counts stay honest.
    assert all(i.unit == "syringe" for i in items.values() if i.category == SupplyCategory.SYRINGE)


def test_a_new_database_gets_the_default_catalogue_in_the_programs_language(app):
    """LANGUAGE names the supplies a new database starts with; whoever reads them later
    sees them as stored (they are the program's words from then on)."""
    app.config["LANGUAGE"] = "es"
    with app.app_context():
        assert load_default_catalogue() == len(DEFAULT_CATALOGUE)
        db.session.commit()
    items = _items(app)
    # The Spanish of "Naloxone nasal spray 4 mg (2-dose kit)" and of "kit", from the
    # Spanish catalogue.
    nasal = items["Naloxona en aerosol nasal 4 mg (kit de 2 dosis)"]
    assert nasal.unit == "kit" and nasal.doses_per_unit == 2
    assert "Jeringa 1 mL 28G 1/2 pulg." in items
    assert not any(name.startswith("Syringe") for name in items)
    # Stored as plain text: an English page shows the names as they were stored.
    app.config["LANGUAGE"] = "en"
    with app.app_context():
        assert load_default_catalogue() == 0
    assert set(_items(app)) == set(items)
