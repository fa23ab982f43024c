"""What a file would import, worked out without writing anything: each row checked and
turned into planned visits (or refused, with its row number and the reason), the keys
that make a second import of the same row add nothing, the participants that would be
new, codes one edit away from another, and the totals by month as the report counts
them. The preview shows this plan; ``ssp.imports.writer`` writes it.

A row's key is the sha256 of what its mapped columns hold (by field, not by header: a
renamed column keeps its rows' keys), the file's shape, and the row's place among
identical rows of the same file, so an overlapping export of the same spreadsheet finds
its rows already imported. A daily tally line of N contacts becomes N anonymous visits
(its counts spread as evenly as whole numbers allow), each with the line's key and its
number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from ssp.extensions import db
from ssp.i18n import _, format_day, format_number, ngettext
from ssp.imports.mapping import IGNORE, PACKS, Mapping, check
from ssp.imports.models import ImportShape
from ssp.imports.reading import SheetRows
from ssp.participants.codes import CodeError, chunked, one_edit_variants, validated_code
from ssp.participants.models import Participant, ParticipantAlias
from ssp.referrals.models import ReferralCategory
from ssp.staff.models import Site, SiteKind
from ssp.supplies.models import SupplyCategory, SupplyItem
from ssp.textinput import has_refused_characters
from ssp.timeutil import day_start, program_today, program_zone
from ssp.visits.models import NaloxoneReason, Service, VisitKind

#: Oldest date an import takes: older is almost surely a typing slip in the year.
EARLIEST = dt.date(1990, 1, 1)
#: Most near-duplicate pairs and refused rows a preview lists (all are counted).
LISTED = 200

Progress = Callable[[int, int], None]

_KIND_OF_SITE = {
    SiteKind.FIXED: VisitKind.FIXED,
    SiteKind.SATELLITE: VisitKind.FIXED,
    SiteKind.MOBILE: VisitKind.MOBILE,
    SiteKind.OUTREACH: VisitKind.OUTREACH,
}
_YES = {"yes", "y", "x", "true", "✓", "✔"}
_NO = {"no", "n", "false", "-"}
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")


class RowRefused(ValueError):
    """A row that cannot be imported; the message says why."""


class _EmptyLine(Exception):
    """A tally line of 0 contacts and nothing else (a day the site was closed)."""


@dataclass
class PlannedVisit:
    """One visit the import would write."""

    row: int
    key: str
    code: str | None
    site_id: int
    kind: VisitKind
    occurred_at: dt.datetime
    month: str
    items: list[tuple[int, int, NaloxoneReason | None]]
    services: dict[Service, int]
    syringes_collected: int
    referrals: list[ReferralCategory] = field(default_factory=list)


@dataclass
class MonthTotals:
    """A month of the file as the report would count it."""

    visits: int = 0
    anonymous: int = 0
    codes: set[str] = field(default_factory=set)
    syringes: int = 0
    syringes_collected: int = 0
    naloxone: int = 0
    test_strips: int = 0
    other_supplies: int = 0
    reversals: int = 0
    referrals: int = 0


@dataclass
class Plan:
    """Everything the preview shows and the writer writes."""

    file_name: str
    sha256: str
    mapping: Mapping
    rows_read: int = 0
    visits: list[PlannedVisit] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    rows_already_imported: int = 0
    rows_to_import: int = 0
    rows_empty: int = 0
    new_codes: set[str] = field(default_factory=set)
    near_duplicates: list[tuple[str, str]] = field(default_factory=list)
    months: dict[str, MonthTotals] = field(default_factory=dict)
    mapping_problems: list[str] = field(default_factory=list)

    @property
    def importable(self) -> bool:
        """Whether there is anything to write, with a mapping that can be used."""
        return not self.mapping_problems and bool(self.visits)

    def summary(self) -> dict:
        """The preview as stored and shown (JSON): counts, refusals, months."""
        return {
            "file_name": self.file_name,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "rows_to_import": self.rows_to_import,
            "rows_already_imported": self.rows_already_imported,
            "rows_refused": len(self.refused),
            "rows_empty": self.rows_empty,
            "refused": [list(pair) for pair in self.refused[:LISTED]],
            "visits": len(self.visits),
            "new_participants": len(self.new_codes),
            "near_duplicates": [list(pair) for pair in self.near_duplicates[:LISTED]],
            "near_duplicate_count": len(self.near_duplicates),
            "mapping_problems": self.mapping_problems,
            "months": [
                {
                    "month": month,
                    "visits": totals.visits,
                    "people": len(totals.codes),
                    "anonymous": totals.anonymous,
                    "syringes": totals.syringes,
                    "syringes_collected": totals.syringes_collected,
                    "naloxone": totals.naloxone,
                    "test_strips": totals.test_strips,
                    "other_supplies": totals.other_supplies,
                    "reversals": totals.reversals,
                    "referrals": totals.referrals,
                }
                for month, totals in sorted(self.months.items())
            ],
        }


def make_plan(
    sheet: SheetRows,
    mapping: Mapping,
    *,
    file_name: str,
    sha256: str,
    progress: Progress | None = None,
) -> Plan:
    """Check every row of ``sheet`` read with ``mapping``; writes nothing."""
    plan = Plan(file_name=file_name, sha256=sha256, mapping=mapping)
    plan.mapping_problems = check(mapping)
    plan.rows_read = len(sheet.rows)
    if plan.mapping_problems:
        return plan
    reader = _RowReader(sheet, mapping)
    occurrences: Counter[str] = Counter()
    first_row: dict[str, int] = {}
    by_row: list[list[PlannedVisit]] = []
    total = len(sheet.rows)
    for done, (number, cells) in enumerate(sheet.rows, start=1):
        try:
            content = reader.content(number, cells)
        except RowRefused as refusal:
            plan.refused.append((number, str(refusal)))
        except _EmptyLine:
            plan.rows_empty += 1
        else:
            occurrences[content.digest] += 1
            if mapping.shape == ImportShape.TALLY and content.digest in first_row:
                earlier = first_row[content.digest]
                plan.refused.append(
                    (
                        number,
                        _(
                            "The same as row %(row)s: a tally has one line per day and site.",
                            row=earlier,
                        ),
                    )
                )
            else:
                first_row.setdefault(content.digest, number)
                key = _key(content.digest, occurrences[content.digest])
                by_row.append(reader.visits(number, key, content))
        if progress and (done % 2_000 == 0 or done == total):
            progress(done, total)
    already = _keys_already_imported([row[0].key for row in by_row])
    for visits in by_row:
        if visits[0].key in already:
            plan.rows_already_imported += 1
        else:
            plan.rows_to_import += 1
            plan.visits.extend(visits)
    _count_people(plan)
    _count_months(plan)
    return plan


@dataclass
class _RowContent:
    """A row's checked values, before it becomes visits."""

    digest: str
    code: str | None
    day: dt.date
    at: dt.datetime | None
    site: Site
    contacts: int
    items: list[tuple[SupplyItem, int]]
    reason: NaloxoneReason | None
    services: dict[Service, int]
    collected: int
    referrals: list[ReferralCategory]


class _RowReader:
    """Checks the cells of one row at a time against the mapping and the rules."""

    def __init__(self, sheet: SheetRows, mapping: Mapping) -> None:
        self.sheet = sheet
        self.mapping = mapping
        self.shape = mapping.shape
        self.columns = [
            (index, header, mapping.columns[header])
            for index, header in enumerate(sheet.headers)
            if mapping.columns[header].field not in (None, IGNORE)
        ]
        self.header_of = {column.field: header for _index, header, column in self.columns}
        self.items = {item.id: item for item in db.session.scalars(select(SupplyItem))}
        # Each mapped column's handling, worked out once: (index, header, what, target,
        # multiplier, key in the row's digest).
        self.readers = []
        for index, header, column in self.columns:
            kind, _sep, target = column.field.partition(":")
            if kind == "item":
                item = self.items[int(target)]
                packs = column.unit == PACKS
                self.readers.append(
                    (
                        index,
                        header,
                        "item",
                        item,
                        item.units_per_pack if packs else 1,
                        f"item:{item.id}:{column.unit}",
                    )
                )
            elif kind == "service":
                self.readers.append((index, header, "service", Service(target), 1, column.field))
            else:
                self.readers.append((index, header, "plain", column.field, 1, column.field))
        self.noon: dict[dt.date, dt.datetime] = {}
        self.sites = {_name_key(site.name): site for site in db.session.scalars(select(Site))}
        self.default_site = db.session.get(Site, mapping.site_id) if mapping.site_id else None
        self.today = program_today()
        self.zone = program_zone()
        config = current_app.config
        self.item_max = config["VISIT_ITEM_MAX"]
        self.collected_max = config["VISIT_SYRINGES_COLLECTED_MAX"]
        self.service_max = config["VISIT_SERVICE_MAX"]
        self.contacts_max = config["IMPORT_TALLY_CONTACTS_MAX"]
        # The words cells may use, in the language of whoever imports (labels included).
        self.reason_names = _reason_names()
        self.category_names = _category_names()

    def content(self, number: int, cells: list) -> _RowContent:
        """The row's values, or ``RowRefused`` naming the first thing wrong."""
        if number in self.sheet.overflowing:
            raise RowRefused(_("It has values beyond the last named column."))
        values: dict[str, object] = {}
        raw: dict[str, object] = {}
        items: list[tuple[SupplyItem, int]] = []
        services: dict[Service, int] = {}
        formulas = self.sheet.formulas
        for index, header, what, target, multiplier, raw_key in self.readers:
            cell = cells[index]
            if formulas and (number, index) in formulas:
                formula = formulas[(number, index)]
                raise RowRefused(
                    _(
                        "“%(header)s” holds a formula (%(formula)s): paste its value instead.",
                        header=header,
                        formula=formula[:40],
                    )
                )
            if type(cell) is str:
                if has_refused_characters(cell):
                    raise RowRefused(_("“%(header)s” holds a control character.", header=header))
                cell = cell.strip()
            if what == "plain":
                values[target] = cell
                continue
            count = _count(cell, header) * multiplier
            raw[raw_key] = count
            if not count:
                continue
            if what == "item":
                items.append((target, count))
            else:
                services[target] = services.get(target, 0) + count
        code = self._code(values.get("code"))
        day, at = self._date(values.get("date"))
        site = self._site(values.get("site"))
        contacts = 1
        if self.shape == ImportShape.TALLY and "contacts" in self.header_of:
            if values.get("contacts") in (None, ""):
                if items or services or values.get("syringes_collected") not in (None, "", 0):
                    raise RowRefused(
                        _(
                            "“%(header)s” is blank: how many contacts?",
                            header=self.header_of["contacts"],
                        )
                    )
                raise _EmptyLine()
            contacts = _count(values["contacts"], self.header_of["contacts"])
        collected = _count(
            values.get("syringes_collected"), self.header_of.get("syringes_collected", "")
        )
        reason = self._reason(values.get("naloxone_reason"))
        referrals = self._referrals(values.get("referral"))
        if referrals and code is None:
            raise RowRefused(_("A referral needs the participant's code."))
        if contacts == 0:
            if items or services or collected:
                raise RowRefused(_("It counts supplies or services but 0 contacts."))
            raise _EmptyLine()
        if contacts > self.contacts_max:
            raise RowRefused(
                ngettext(
                    "More than %(limit)s contact on one line.",
                    "More than %(limit)s contacts on one line.",
                    self.contacts_max,
                    limit=format_number(self.contacts_max),
                )
            )
        self._check_limits(items, services, collected, contacts)
        # What the row says, read: the same row typed in a CSV or kept in an XLSX (a
        # date as text or as a date, 5 or 5.0, a blank or nothing) has the same key.
        raw.update(
            {
                "code": code,
                "date": at.isoformat() if at else day.isoformat(),
                "site": site.id,
                "contacts": contacts,
                "syringes_collected": collected,
                "naloxone_reason": reason.value if reason else None,
                "referrals": sorted(category.value for category in referrals),
            }
        )
        # Blank and zero values are left out, so a column added to next month's mapping
        # that this row leaves empty does not change the row's key.
        said = sorted((key, value) for key, value in raw.items() if value not in (None, 0, [], ""))
        digest = hashlib.sha256(repr((self.shape.value, said)).encode()).hexdigest()
        return _RowContent(
            digest, code, day, at, site, contacts, items, reason, services, collected, referrals
        )

    def visits(self, number: int, key: str, row: _RowContent) -> list[PlannedVisit]:
        """The planned visits of a checked row (a tally line of N contacts: N of them)."""
        occurred_at = row.at or self.noon.get(row.day)
        if occurred_at is None:
            occurred_at = self.noon[row.day] = day_start(row.day, self.zone) + dt.timedelta(
                hours=12
            )
        month = f"{row.day.year:04d}-{row.day.month:02d}"
        kind = _KIND_OF_SITE[row.site.kind]
        planned = []
        n = row.contacts
        for part in range(n):
            items = []
            for item, quantity in row.items:
                share = _share(quantity, n, part)
                if share:
                    reason = row.reason if item.category == SupplyCategory.NALOXONE else None
                    items.append((item.id, share, reason))
            services = {s: _share(c, n, part) for s, c in row.services.items()}
            services = {s: c for s, c in services.items() if c}
            if any(reason == NaloxoneReason.USED for *_line, reason in items):
                services[Service.OVERDOSE_REVERSAL_REPORTED] = max(
                    services.get(Service.OVERDOSE_REVERSAL_REPORTED, 0), 1
                )
            planned.append(
                PlannedVisit(
                    row=number,
                    key=key if n == 1 else _key(key, part + 1, "contact"),
                    code=row.code,
                    site_id=row.site.id,
                    kind=kind,
                    occurred_at=occurred_at,
                    month=month,
                    items=items,
                    services=services,
                    syringes_collected=_share(row.collected, n, part),
                    referrals=row.referrals if part == 0 else [],
                )
            )
        return planned

    def _code(self, cell) -> str | None:
        if self.shape == ImportShape.TALLY or cell in (None, ""):
            return None
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)
        try:
            return validated_code(str(cell))
        except CodeError as error:
            raise RowRefused(_("The code: %(problem)s", problem=str(error))) from None

    def _date(self, cell) -> tuple[dt.date, dt.datetime | None]:
        day, at = _parse_date(cell, self.mapping.date_order, self.zone)
        if day > self.today:
            raise RowRefused(_("The date %(day)s is in the future.", day=format_day(day)))
        if day < EARLIEST:
            raise RowRefused(
                _("The date %(day)s is before 1990: check the year.", day=format_day(day))
            )
        return day, at

    def _site(self, cell) -> Site:
        if cell in (None, ""):
            if self.default_site is None:
                raise RowRefused(_("The site is blank."))
            return self.default_site
        site = self.sites.get(_name_key(str(cell)))
        if site is None:
            raise RowRefused(
                _(
                    "No site is called “%(name)s”: add it under Admin > Sites, or correct "
                    "the name.",
                    name=str(cell)[:80],
                )
            )
        return site

    def _reason(self, cell) -> NaloxoneReason | None:
        if cell in (None, ""):
            return None
        return _naloxone_reason(str(cell), self.reason_names)

    def _referrals(self, cell) -> list[ReferralCategory]:
        if cell in (None, ""):
            return []
        found = []
        for part in re.split(r"[;,/]| and ", str(cell)):
            if part.strip():
                category = _referral_category(part, self.category_names)
                if category not in found:
                    found.append(category)
        return found

    def _check_limits(self, items, services, collected, contacts) -> None:
        for item, quantity in items:
            limit = (item.max_per_visit or self.item_max) * contacts
            if quantity > limit:
                raise RowRefused(
                    ngettext(
                        "%(item)s: %(quantity)s is more than %(limit)s, the most one visit "
                        "may hand out.",
                        "%(item)s: %(quantity)s is more than %(limit)s, the most "
                        "%(contacts)s contacts may hand out.",
                        contacts,
                        item=item.name,
                        quantity=format_number(quantity),
                        limit=format_number(limit),
                        contacts=format_number(contacts),
                    )
                )
        for service, count in services.items():
            if count > self.service_max * contacts:
                raise RowRefused(
                    _(
                        "%(service)s: %(count)s is more than one visit records.",
                        service=service.label,
                        count=format_number(count),
                    )
                )
        if collected > self.collected_max * contacts:
            raise RowRefused(
                _(
                    "Used syringes collected: %(count)s is more than %(limit)s.",
                    count=format_number(collected),
                    limit=format_number(self.collected_max * contacts),
                )
            )


def _key(digest: str, occurrence: int, what: str = "row") -> str:
    if occurrence == 1:
        return digest
    return hashlib.sha256(f"{digest}:{what}:{occurrence}".encode()).hexdigest()


def _share(total: int, parts: int, part: int) -> int:
    """The ``part``-th of ``parts`` whole-number shares of ``total`` (they add up)."""
    return total // parts + (1 if part < total % parts else 0)


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _count(cell, header: str) -> int:
    """A whole number of at least 0 from a cell: blank is 0, yes/no is 1/0."""
    if cell is None or cell == "":
        return 0
    if type(cell) is int and cell >= 0:
        return cell
    if type(cell) is str and cell.isascii() and cell.isdigit() and len(cell) < 10:
        return int(cell)
    if isinstance(cell, bool):
        return int(cell)
    if isinstance(cell, int):
        value = cell
    elif isinstance(cell, float):
        if not cell.is_integer():
            raise RowRefused(
                _(
                    "“%(header)s”: %(value)s is not a whole number.",
                    header=header,
                    value=f"{cell:g}",
                )
            )
        value = int(cell)
    elif isinstance(cell, str):
        text = cell.strip().lower()
        if text in _YES:
            return 1
        if text in _NO:
            return 0
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        if not re.fullmatch(r"-?\d{1,9}(\.0+)?", text):
            raise RowRefused(
                _(
                    "“%(header)s”: “%(value)s” is not a whole number.",
                    header=header,
                    value=cell[:40],
                )
            )
        value = int(float(text))
    else:
        raise RowRefused(
            _(
                "“%(header)s”: a %(type)s is not a whole number.",
                header=header,
                type=type(cell).__name__,
            )
        )
    if value < 0:
        raise RowRefused(
            _("“%(header)s”: %(value)s is negative.", header=header, value=format_number(value))
        )
    return value


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_SLASHED = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{2}|\d{4})(?: (\d{1,2}):(\d{2}))?$")
_YEAR_FIRST = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")


def _parse_date(cell, order: str, zone) -> tuple[dt.date, dt.datetime | None]:
    """A cell's date, and its moment when it holds a time of day (in UTC)."""
    if isinstance(cell, dt.datetime):
        return _with_time(cell.date(), cell.hour, cell.minute, cell.second, zone)
    if isinstance(cell, dt.date):
        return cell, None
    if cell in (None, ""):
        raise RowRefused(_("The date is blank."))
    if not isinstance(cell, str):
        raise RowRefused(_("The date is a number, not a date: format the column as dates."))
    text = cell.strip()
    try:
        if match := _ISO.match(text):
            year, month, day, hour, minute, second = match.groups()
            date = dt.date(int(year), int(month), int(day))
            if hour is None:
                return date, None
            return _with_time(date, int(hour), int(minute), int(second or 0), zone)
        if match := _YEAR_FIRST.match(text):
            year, month, day = match.groups()
            return dt.date(int(year), int(month), int(day)), None
        if match := _SLASHED.match(text):
            first, second, year, hour, minute = match.groups()
            month, day = (first, second) if order == "MDY" else (second, first)
            year = int(year) + (2000 if len(year) == 2 else 0)
            date = dt.date(year, int(month), int(day))
            if hour is None:
                return date, None
            return _with_time(date, int(hour), int(minute), 0, zone)
    except ValueError:
        raise RowRefused(_("“%(text)s” is not a date on the calendar.", text=text[:40])) from None
    raise RowRefused(_("“%(text)s” is not a date ssp can read: use YYYY-MM-DD.", text=text[:40]))


def _with_time(date: dt.date, hour: int, minute: int, second: int, zone):
    try:
        local = dt.datetime.combine(date, dt.time(hour, minute, second), tzinfo=zone)
    except ValueError:
        raise RowRefused(_("The time of day is not a time on the clock.")) from None
    return date, local.astimezone(dt.UTC)


_REASON_WORDS = {
    NaloxoneReason.FIRST_KIT: ["first", "first kit", "new", "initial"],
    NaloxoneReason.USED: ["used", "reversal", "overdose", "used on someone", "od"],
    NaloxoneReason.LOST: ["lost", "stolen", "lost or stolen"],
    NaloxoneReason.EXPIRED: ["expired", "old"],
    NaloxoneReason.CONFISCATED: ["confiscated", "police", "taken"],
    NaloxoneReason.GAVE_AWAY: ["gave away", "gave it away", "given away", "gave to someone"],
}


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("_", " ")))


def _reason_names() -> dict[str, NaloxoneReason]:
    """Each way a cell may name a naloxone reason (its value, its label in the language
    spoken now, the words programs use), to the first reason that has it."""
    names: dict[str, NaloxoneReason] = {}
    for reason in NaloxoneReason:
        for name in (
            reason.value.replace("_", " "),
            _words(str(reason.label)),
            *_REASON_WORDS[reason],
        ):
            names.setdefault(name, reason)
    return names


def _naloxone_reason(text: str, names: dict[str, NaloxoneReason] | None = None) -> NaloxoneReason:
    found = (names if names is not None else _reason_names()).get(_words(text))
    if found is None:
        raise RowRefused(
            _(
                "“%(text)s” is not a naloxone reason ssp knows (%(reasons)s).",
                text=text[:40],
                # The words a cell may hold, as ssp reads them.
                reasons=", ".join(reason.value.replace("_", " ") for reason in NaloxoneReason),
            )
        )
    return found


def _category_names() -> dict[str, ReferralCategory]:
    """Each way a cell may name a referral category (its value, its short name, its
    label in the language spoken now), to the first category that has it."""
    names: dict[str, ReferralCategory] = {}
    for category in ReferralCategory:
        for name in (category.value, str(category.short), str(category.label)):
            names.setdefault(_words(name), category)
    return names


def _referral_category(
    text: str, names: dict[str, ReferralCategory] | None = None
) -> ReferralCategory:
    found = (names if names is not None else _category_names()).get(_words(text))
    if found is None:
        raise RowRefused(
            _("“%(text)s” is not a referral category ssp knows.", text=text.strip()[:40])
        )
    return found


def among(column, values):
    """``column`` is one of ``values``, a chunk at a time: (condition, chunk) pairs. On
    PostgreSQL one array parameter per 20,000 values (``= ANY``), elsewhere IN lists of
    500 (SQLite's limit on parameters)."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        for start in range(0, len(values), 20_000):
            chunk = values[start : start + 20_000]
            yield column == any_(bindparam(None, chunk, type_=ARRAY(String))), chunk
        return
    for chunk in chunked(values):
        yield column.in_(chunk), chunk


def _keys_already_imported(keys: list[str]) -> set[str]:
    from ssp.visits.models import Visit

    found: set[str] = set()
    for condition, _chunk in among(Visit.import_key, keys):
        found.update(db.session.scalars(select(Visit.import_key).where(condition)))
    return found


def known_codes(codes: set[str]) -> dict[str, int]:
    """Code -> participant id for the codes (or aliases) already on record."""
    found: dict[str, int] = {}
    for condition, _chunk in among(Participant.code, sorted(codes)):
        found.update(
            db.session.execute(select(Participant.code, Participant.id).where(condition)).all()
        )
    for condition, _chunk in among(ParticipantAlias.code, sorted(codes)):
        found.update(
            db.session.execute(
                select(ParticipantAlias.code, ParticipantAlias.participant_id).where(condition)
            ).all()
        )
    return found


def _count_people(plan: Plan) -> None:
    codes = {visit.code for visit in plan.visits if visit.code}
    plan.new_codes = codes - set(known_codes(codes))
    if not plan.new_codes:
        return
    enrolled = set(db.session.scalars(select(Participant.code)))
    enrolled.update(db.session.scalars(select(ParticipantAlias.code)))
    pairs = set()
    for code in sorted(plan.new_codes):
        for other in one_edit_variants(code) & (enrolled | plan.new_codes):
            pairs.add(tuple(sorted((code, other))) if other in plan.new_codes else (code, other))
    plan.near_duplicates = sorted(pairs)


def _count_months(plan: Plan) -> None:
    items = {item.id: item for item in db.session.scalars(select(SupplyItem))}
    months: dict[str, MonthTotals] = defaultdict(MonthTotals)
    for visit in plan.visits:
        totals = months[visit.month]
        totals.visits += 1
        if visit.code:
            totals.codes.add(visit.code)
        else:
            totals.anonymous += 1
        totals.syringes_collected += visit.syringes_collected
        totals.referrals += len(visit.referrals)
        totals.reversals += visit.services.get(Service.OVERDOSE_REVERSAL_REPORTED, 0)
        for item_id, quantity, _reason in visit.items:
            category = items[item_id].category
            if category == SupplyCategory.SYRINGE:
                totals.syringes += quantity
            elif category == SupplyCategory.NALOXONE:
                totals.naloxone += quantity
            elif category == SupplyCategory.TEST_STRIP:
                totals.test_strips += quantity
            else:
                totals.other_supplies += quantity
    plan.months = dict(months)
