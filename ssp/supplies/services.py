"""Catalogue rules: adding, editing and deactivating supply items, and the default catalogue."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import Select, func, select

from ssp.audit import record, record_active
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _, force_locale
from ssp.supplies.catalogue import DEFAULT_CATALOGUE
from ssp.supplies.models import CATEGORY_ORDER, SupplyCategory, SupplyItem


class CatalogueError(RuleError):
    """A catalogue change the rules do not allow."""


def item_by_name(name: str) -> SupplyItem | None:
    """The item with that name (case-insensitive), or None."""
    return db.session.scalar(
        select(SupplyItem).where(func.lower(SupplyItem.name) == name.strip().lower())
    )


def _clean(
    name: str,
    unit: str,
    units_per_pack: int,
    reorder_level: int | None,
    max_per_visit: int | None,
    doses_per_unit: int = 1,
) -> tuple[str, str]:
    name = " ".join((name or "").split())
    unit = " ".join((unit or "").split()).lower()
    if not 2 <= len(name) <= 80:
        raise CatalogueError(_("A name is 2 to 80 characters."), field="name")
    if not 1 <= len(unit) <= 32:
        raise CatalogueError(_("Say what one unit is (syringe, kit, strip...)."), field="unit")
    if units_per_pack is None or not 1 <= units_per_pack <= 100_000:
        raise CatalogueError(
            _("Units per pack is a whole number from 1 to 100,000."), field="units_per_pack"
        )
    if reorder_level is not None and not 0 <= reorder_level <= 10_000_000:
        raise CatalogueError(
            _("The reorder level is a whole number, 0 or more."), field="reorder_level"
        )
    if max_per_visit is not None and not 1 <= max_per_visit <= 100_000:
        raise CatalogueError(
            _("Most per visit is from 1 to 100,000, or empty."), field="max_per_visit"
        )
    if doses_per_unit is None or not 1 <= doses_per_unit <= 100:
        raise CatalogueError(
            _("Doses per unit is a whole number from 1 to 100."), field="doses_per_unit"
        )
    return name, unit


def create_item(
    *,
    name: str,
    category: SupplyCategory | str,
    unit: str,
    units_per_pack: int = 1,
    reorder_level: int = 0,
    max_per_visit: int | None = None,
    doses_per_unit: int = 1,
) -> SupplyItem:
    """Add an item to the catalogue."""
    name, unit = _clean(name, unit, units_per_pack, reorder_level, max_per_visit, doses_per_unit)
    if item_by_name(name) is not None:
        raise CatalogueError(
            _("There is already an item called '%(name)s'.", name=name), field="name"
        )
    item = SupplyItem(
        name=name,
        category=SupplyCategory(category),
        unit=unit,
        units_per_pack=units_per_pack,
        reorder_level=reorder_level,
        max_per_visit=max_per_visit,
        doses_per_unit=doses_per_unit,
        active=True,
    )
    db.session.add(item)
    db.session.flush()
    record(
        "supply_item_created",
        object_type="supply_item",
        object_id=item.id,
        detail={"name": name, "category": item.category.value},
    )
    return item


def update_item(
    item: SupplyItem,
    *,
    name: str,
    category: SupplyCategory | str,
    unit: str,
    units_per_pack: int,
    reorder_level: int | None = None,
    max_per_visit: int | None = None,
    doses_per_unit: int = 1,
) -> None:
    """Change an item's details; quantities already recorded keep their meaning.

    ``reorder_level`` is left as it is when None (the catalogue form no longer sets it:
    low stock comes from each site's own use).
    """
    name, unit = _clean(name, unit, units_per_pack, reorder_level, max_per_visit, doses_per_unit)
    existing = item_by_name(name)
    if existing is not None and existing.id != item.id:
        raise CatalogueError(
            _("There is already an item called '%(name)s'.", name=name), field="name"
        )
    new_values = {
        "name": name,
        "category": SupplyCategory(category),
        "unit": unit,
        "units_per_pack": units_per_pack,
        "reorder_level": reorder_level,
        "max_per_visit": max_per_visit,
        "doses_per_unit": doses_per_unit,
    }
    if reorder_level is None:
        del new_values["reorder_level"]
    changes = {}
    for attr, value in new_values.items():
        old = getattr(item, attr)
        if old != value:
            changes[attr] = [str(old), str(value)]
            setattr(item, attr, value)
    if changes:
        record("supply_item_updated", object_type="supply_item", object_id=item.id, detail=changes)


def set_item_active(item: SupplyItem, active: bool) -> None:
    """Take an item off the visit form, or put it back; its history stays."""
    record_active(item, active, "supply_item")


@functools.cache
def _active_items() -> Select:
    return select(SupplyItem).where(SupplyItem.active)  # built once: every visit form


def active_catalogue() -> list[SupplyItem]:
    """Items on the visit form, in category order, then by name."""
    items = db.session.scalars(_active_items()).all()
    return sorted(items, key=lambda item: (CATEGORY_ORDER[item.category], item.name.lower()))


def catalogue_items(ids: Iterable[int]) -> list[SupplyItem]:
    """Catalogue items by id, active or not."""
    ids = list(ids)
    if not ids:
        return []
    return list(db.session.scalars(select(SupplyItem).where(SupplyItem.id.in_(ids))))


def load_default_catalogue() -> int:
    """Fill an empty catalogue with the default items, named in the program's LANGUAGE
    (stored as plain text: the program's own words from then on); returns how many were
    added."""
    if db.session.scalar(select(func.count()).select_from(SupplyItem)):
        return 0
    with force_locale(current_app.config["LANGUAGE"]):
        for entry in DEFAULT_CATALOGUE:
            values = entry._asdict() | {"name": str(entry.name), "unit": str(entry.unit)}
            db.session.add(SupplyItem(**values, active=True))
    db.session.flush()
    record(
        "default_catalogue_loaded",
        object_type="supply_item",
        detail={"items": len(DEFAULT_CATALOGUE)},
    )
    return len(DEFAULT_CATALOGUE)
