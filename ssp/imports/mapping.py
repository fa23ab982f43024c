"""Which column of a spreadsheet holds which of ssp's fields: the fields a column can be,
the mapping proposed from the headers on a first run, and its check.

A field is named by a short string: ``code``, ``date``, ``site``, ``contacts`` (a tally
line's number of contacts), ``syringes_collected``, ``naloxone_reason``, ``referral``,
``item:<supply item id>`` (with a unit: single items or packs), ``service:<service>``,
or ``ignore``. Every column must be mapped, if only to ``ignore``, so that a column
nobody looked at is never silently dropped.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from ssp.extensions import db
from ssp.i18n import _, _l
from ssp.imports.models import ImportShape
from ssp.staff.models import Site
from ssp.supplies.models import CATEGORY_ORDER, SupplyCategory, SupplyItem
from ssp.visits.models import Service

IGNORE = "ignore"
UNITS = "units"
PACKS = "packs"

#: Fields other than items and services, with what a manager reads for them.
PLAIN_FIELDS = {
    "code": _l("Participant code"),
    "date": _l("Date of the visit"),
    "site": _l("Site"),
    "contacts": _l("Number of contacts (tally)"),
    "syringes_collected": _l("Used syringes collected"),
    "naloxone_reason": _l("Why naloxone was given"),
    "referral": _l("Referral made (category)"),
}
#: Fields a tally (no codes) may not have.
PERSONAL_FIELDS = {"code", "referral"}

#: Headers programs use, normalised (see ``normalised_header``), for each plain field.
_SYNONYMS = {
    "code": [
        "code",
        "participant code",
        "participant",
        "participant id",
        "client code",
        "client id",
        "client",
        "uid",
        "unique id",
        "id",
        "anonymous code",
        "ppt code",
    ],
    "date": ["date", "visit date", "service date", "day", "contact date", "encounter date"],
    "site": ["site", "location", "site name", "place", "van", "program site"],
    "contacts": [
        "contacts",
        "visits",
        "number of contacts",
        "encounters",
        "participants served",
        "people served",
        "people",
        "total contacts",
        "count",
    ],
    "syringes_collected": [
        "syringes collected",
        "syringes returned",
        "returned",
        "syringes in",
        "used syringes",
        "used syringes collected",
        "sharps returned",
        "returns",
        "syringes back",
        "needles returned",
        "needles in",
    ],
    "naloxone_reason": [
        "naloxone reason",
        "narcan reason",
        "reason",
        "kit reason",
        "why naloxone",
        "reason for naloxone",
    ],
    "referral": ["referral", "referrals", "referred to", "referral category", "referred for"],
}
_ITEM_WORDS = {
    SupplyCategory.SYRINGE: ["syringes", "syringes given", "syringes out", "needles", "rigs"],
    SupplyCategory.NALOXONE: ["naloxone", "narcan", "naloxone kits", "narcan kits"],
}


class MappingError(ValueError):
    """A mapping that cannot be used; the message says which column and why."""


@dataclass(frozen=True)
class Column:
    """One column's place: its field and, for an item, its unit."""

    field: str | None
    unit: str = UNITS


@dataclass
class Mapping:
    """How to read one spreadsheet."""

    shape: ImportShape
    columns: dict[str, Column]
    site_id: int | None = None  # every row's site when no column names one
    date_order: str = "MDY"  # how 03/04/2026 reads: March 4 (MDY) or 3 April (DMY)
    problems: list[str] = field(default_factory=list)

    def as_spec(self) -> dict:
        """The mapping as stored (JSON)."""
        return {
            "shape": self.shape.value,
            "columns": {
                header: {"field": column.field, "unit": column.unit}
                for header, column in self.columns.items()
            },
            "site_id": self.site_id,
            "date_order": self.date_order,
        }

    @classmethod
    def from_spec(cls, spec: dict) -> Mapping:
        """A mapping from its stored form."""
        return cls(
            shape=ImportShape(spec["shape"]),
            columns={
                header: Column(value.get("field"), value.get("unit") or UNITS)
                for header, value in (spec.get("columns") or {}).items()
            },
            site_id=spec.get("site_id"),
            date_order=spec.get("date_order") or "MDY",
        )

    def fitted_to(self, headers: list[str]) -> Mapping:
        """This mapping for a file with ``headers``: a saved mapping reused on next
        month's file keeps its columns; a new column is proposed, not assumed."""
        proposed = propose(headers, self.shape)
        columns = {
            header: self.columns.get(header) or proposed.columns[header] for header in headers
        }
        return Mapping(self.shape, columns, self.site_id, self.date_order)

    def fields(self) -> dict[str, list[str]]:
        """Field -> the headers mapped to it."""
        found: dict[str, list[str]] = {}
        for header, column in self.columns.items():
            if column.field and column.field != IGNORE:
                found.setdefault(column.field, []).append(header)
        return found


def normalised_header(header: str) -> str:
    """Lower case, words only: 'Syringes Returned (#)' -> 'syringes returned'."""
    return " ".join(re.findall(r"[a-z0-9]+", str(header).lower()))


def field_choices() -> list[tuple[str, str]]:
    """Every field a column can be, as (value, label), in the visit form's order."""
    choices = [("", _("Choose…")), (IGNORE, _("Leave this column out"))]
    choices += [(name, str(label)) for name, label in PLAIN_FIELDS.items()]
    items = db.session.scalars(select(SupplyItem).where(SupplyItem.active.is_(True))).all()
    items = sorted(items, key=lambda item: (CATEGORY_ORDER[item.category], item.name))
    choices += [(f"item:{item.id}", _("Handed out: %(item)s", item=item.name)) for item in items]
    choices += [
        (f"service:{service.value}", _("Service: %(service)s", service=service.label))
        for service in Service
    ]
    return choices


def describe(field_name: str | None) -> str:
    """A field as a manager reads it."""
    if not field_name:
        return _("Not mapped yet")
    if field_name == IGNORE:
        return _("Left out")
    if field_name in PLAIN_FIELDS:
        return str(PLAIN_FIELDS[field_name])
    kind, _sep, value = field_name.partition(":")
    if kind == "item":
        item = db.session.get(SupplyItem, int(value)) if value.isdigit() else None
        if item is None:
            return _("An item no longer in the catalogue")
        return _("Handed out: %(item)s", item=item.name)
    if kind == "service":
        try:
            return _("Service: %(service)s", service=Service(value).label)
        except ValueError:
            return _("An unknown service")
    return _("An unknown field")


def propose(headers: list[str], shape: ImportShape) -> Mapping:
    """A first guess from the headers, for the manager to check: the exact name of a
    field or item first, then the words programs use, then a close spelling."""
    items = db.session.scalars(select(SupplyItem).where(SupplyItem.active.is_(True))).all()
    candidates: dict[str, str] = {}
    for name, words in _SYNONYMS.items():
        if shape == ImportShape.TALLY and name in PERSONAL_FIELDS:
            continue
        if shape == ImportShape.VISITS and name == "contacts":
            continue
        for word in words:
            candidates.setdefault(word, name)
    for service in Service:
        candidates.setdefault(normalised_header(service.label), f"service:{service.value}")
        candidates.setdefault(normalised_header(service.value), f"service:{service.value}")
    for item in items:
        candidates[normalised_header(item.name)] = f"item:{item.id}"
    for category, words in _ITEM_WORDS.items():
        first = next((item for item in items if item.category == category), None)
        if first is not None:
            for word in words:
                candidates.setdefault(word, f"item:{first.id}")
    columns: dict[str, Column] = {}
    taken: set[str] = set()
    for header in headers:
        key = normalised_header(header)
        guess = candidates.get(key)
        if guess is None:
            close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.82)
            guess = candidates[close[0]] if close else None
        if guess in taken and not guess.startswith("item:"):
            guess = None  # one column per field: a second "date" column is for a person
        if guess:
            taken.add(guess)
        unit = PACKS if re.search(r"\b(packs?|boxes|box|bags?)\b", key) else UNITS
        columns[header] = Column(guess, unit)
    return Mapping(shape, columns, _only_site())


def _only_site() -> int | None:
    sites = db.session.scalars(select(Site.id).where(Site.active.is_(True))).all()
    return sites[0] if len(sites) == 1 else None


def check(mapping: Mapping) -> list[str]:
    """Every reason this mapping cannot be used yet (empty when it can)."""
    problems = []
    fields = mapping.fields()
    for header, column in mapping.columns.items():
        if not column.field:
            problems.append(
                _(
                    "Column “%(header)s” is not mapped: choose its field, or leave it out.",
                    header=header,
                )
            )
        elif column.field != IGNORE and not _known(column.field):
            problems.append(
                _("Column “%(header)s”: %(field)s.", header=header, field=describe(column.field))
            )
        if column.unit not in (UNITS, PACKS):
            problems.append(
                _("Column “%(header)s”: the unit is single items or packs.", header=header)
            )
    for name, headers in fields.items():
        if len(headers) > 1 and not name.startswith("item:"):
            problems.append(
                _(
                    "%(field)s is mapped from more than one column (%(columns)s): keep one.",
                    field=describe(name),
                    columns=", ".join(headers),
                )
            )
    if "date" not in fields:
        problems.append(
            _(
                "No column holds the date: map one to “%(field)s”.",
                field=str(PLAIN_FIELDS["date"]),
            )
        )
    if "site" not in fields and mapping.site_id is None:
        problems.append(_("No column names the site: map one, or choose the site of every row."))
    if mapping.site_id is not None and db.session.get(Site, mapping.site_id) is None:
        problems.append(_("The site chosen for every row is not on record."))
    if mapping.shape == ImportShape.TALLY:
        for name in PERSONAL_FIELDS & set(fields):
            problems.append(
                _("A daily tally has no codes: %(field)s cannot be mapped.", field=describe(name))
            )
    elif "contacts" in fields:
        problems.append(_("A row per visit is one contact: “Number of contacts” is for tallies."))
    if mapping.date_order not in ("MDY", "DMY"):
        problems.append(_("Dates are read month first (MDY) or day first (DMY)."))
    return problems


def _known(field_name: str) -> bool:
    if field_name in PLAIN_FIELDS:
        return True
    kind, _sep, value = field_name.partition(":")
    if kind == "item" and value.isdigit():
        item = db.session.get(SupplyItem, int(value))
        return item is not None and item.active
    if kind == "service":
        return value in {service.value for service in Service}
    return False


def parse_field_option(text: str) -> tuple[str, Column]:
    """``Header=field`` from the command line: the field by name (code, date, site,
    contacts, syringes collected, naloxone reason, referral, ignore), an item's name
    (with ``:packs`` for packs) or a service's name."""
    header, sep, target = text.partition("=")
    if not sep or not header.strip() or not target.strip():
        raise MappingError(_("--map takes Header=field, not %(text)s.", text=repr(text)))
    target, _sep, unit = target.strip().partition(":")
    unit = unit.strip().lower() or UNITS
    if unit not in (UNITS, PACKS):
        raise MappingError(
            _("--map %(text)s: the unit after ':' is units or packs.", text=repr(text))
        )
    key = normalised_header(target)
    if key == IGNORE:
        return header.strip(), Column(IGNORE)
    for name in PLAIN_FIELDS:
        if key in (normalised_header(name), normalised_header(str(PLAIN_FIELDS[name]))):
            return header.strip(), Column(name)
    for item in db.session.scalars(select(SupplyItem).where(SupplyItem.active.is_(True))):
        if key == normalised_header(item.name):
            return header.strip(), Column(f"item:{item.id}", unit)
    for service in Service:
        if key in (normalised_header(service.label), normalised_header(service.value)):
            return header.strip(), Column(f"service:{service.value}")
    raise MappingError(
        _(
            "--map %(text)s: %(target)s is not a field, an item in the catalogue or a service.",
            text=repr(text),
            target=repr(target),
        )
    )
