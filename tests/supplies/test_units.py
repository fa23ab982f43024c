"""A unit agrees with its number in the language the program's supply names are in."""

from __future__ import annotations

import pytest

from ssp.supplies.units import unit_for


@pytest.mark.parametrize(
    ("unit", "number", "expected"),
    [
        ("syringe", 1, "syringe"),
        ("syringe", 0, "syringes"),
        ("kit", -1, "kit"),
        ("pad", 12, "pads"),
    ],
)
def test_english_units(app, unit, number, expected):
    with app.app_context():
        assert unit_for(unit, number) == expected


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("jeringa", "jeringas"),
        ("kit", "kits"),
        ("condón", "condones"),
        ("contenedor", "contenedores"),
        ("unidad", "unidades"),
        ("lápiz", "lápices"),
        ("tira reactiva", "tiras reactivas"),
        ("caja de jeringas", "cajas de jeringas"),
    ],
)
def test_spanish_units_follow_the_program_language_not_the_reader(app, unit, expected):
    app.config["LANGUAGE"] = "es"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert unit_for(unit, 1) == unit
        assert unit_for(unit, 3) == expected
