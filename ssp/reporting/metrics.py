"""Every number of a report, computed with aggregate SQL, for any run of whole months.

Nothing here loads visits into Python. The visits, their items and their services are
each read with one GROUP BY query over a small key (site and service model, supply item,
service): per group come back its sums and the ids of its people, as one text
(:class:`listed`). A :class:`Tally` holds those rows; every figure of the summary,
supplies, overdose, services and demographics is read from the tallies: counts that add
up are sums, counts of people are the sizes of sets of ids. So a longer period needs no
visit query of its own: its tallies are its months' merged, the sums added and the sets
united (a person who came in three months is one id in the union), which is exactly what
the same queries over the whole period would return. Month boundaries are midnights in
the program's time zone. Voided visits never count. Anonymous walk-ins count as visits,
never as people. Nothing here selects a participant code, a note or a username.

What the time goes on (SQLite): a GROUP BY sorts every row it reads, and a COUNT
DISTINCT adds an index per group, so each query here groups by small integers (supply
item ids, not the catalogue's names) and reads one month or one period through the
time index. A COUNT DISTINCT would be asked again of every period and of every union of
groups (people at any site, people given any syringe, outreach and mobile contacts
together): the ids are read once a month instead, and united in Python, where a union
costs little. One range query per month is cheaper than one query bucketed by month
(``CASE`` over the month boundaries): the sorts are smaller and no row evaluates the
boundaries. The small tables (enrolments, referrals, follow-ups) are read once for all
of a period's months, bucketed that way.
"""

from __future__ import annotations

import itertools
import operator
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ssp.extensions import db
from ssp.i18n import _l
from ssp.participants.models import Participant
from ssp.referrals.models import (
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralCategory,
    ReferralStatus,
)
from ssp.reporting.periods import Month, Period
from ssp.reporting.wording import LabelMap, english_label
from ssp.staff.models import Site
from ssp.supplies.models import CATEGORY_ORDER, SupplyCategory, SupplyItem
from ssp.visits.models import (
    NaloxoneReason,
    Service,
    Visit,
    VisitItem,
    VisitKind,
    VisitService,
)

TREND_MONTHS = 12
# The breakdowns' rows are keyed by their English labels in every language: the keys of
# the release's cells (and of the archive's) are made of them. ``LABELS`` (and each
# enum's own label) gives what is printed for a key, in the language being written.
AGE_BANDS = [
    (0, 17, "Under 18"),
    (18, 24, "18 to 24"),
    (25, 34, "25 to 34"),
    (35, 44, "35 to 44"),
    (45, 54, "45 to 54"),
    (55, 64, "55 to 64"),
    (65, 200, "65 and over"),
]
NOT_RECORDED = "Not recorded"
REASON_NOT_RECORDED = "Reason not recorded"
LABELS = LabelMap(
    {
        "Under 18": _l("Under 18"),
        "18 to 24": _l("18 to 24"),
        "25 to 34": _l("25 to 34"),
        "35 to 44": _l("35 to 44"),
        "45 to 54": _l("45 to 54"),
        "55 to 64": _l("55 to 64"),
        "65 and over": _l("65 and over"),
        NOT_RECORDED: _l("Not recorded"),
        REASON_NOT_RECORDED: _l("Reason not recorded"),
    }
)


def printed_labels() -> dict[str, str]:
    """Every breakdown row's key (its English label) and what is printed for it now."""
    from ssp.participants.models import Gender, RaceEthnicity

    found = dict(LABELS.items())
    for kind in (VisitKind, NaloxoneReason, Service, ReferralCategory, Gender, RaceEthnicity):
        for member in kind:
            found[english_label(member)] = str(member.label)
    return found


def _counted_visits(period: Period, zone: ZoneInfo):
    """The condition for visits that count in the period."""
    return and_(
        Visit.voided_at.is_(None),
        Visit.occurred_at >= period.start(zone),
        Visit.occurred_at < period.end(zone),
    )


def _scalar(query) -> int:
    return int(db.session.scalar(query) or 0)


# --- what the sections read: tallies of the visits, their items and services ------------

# The service models of contacts made away from a site's desk (the outreach screen's).
FIELD_KINDS = (VisitKind.OUTREACH, VisitKind.MOBILE)


class listed(FunctionElement):  # noqa: N801 (named like the SQL functions it stands for)
    """A group's values as one text, "3,17,42" (NULLs left out): ``group_concat`` on
    SQLite, ``string_agg`` on PostgreSQL. The people of a group come back so, as their
    participant ids (anonymous visits have none)."""

    type = String()
    name = "listed"
    inherit_cache = True


@compiles(listed)
def _group_concat(element, compiler, **kw) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)})"


@compiles(listed, "postgresql")
def _string_agg(element, compiler, **kw) -> str:
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), ',')"


# A set of participant ids, held as the keys of a dict: a dict of strings is not
# tracked by the garbage collector (see ``gc.is_tracked``) and a set is, so with sets
# every collection during a report walked every id of every tally again (half a second
# of a fiscal year's report).
Ids = dict[str, None]


def _ids(text: str | None) -> Ids:
    """The ids of a :class:`listed` text, each once."""
    return dict.fromkeys(text.split(",")) if text else {}


def _union(sets: list[Ids]) -> Ids:
    """The ids of all of them, each once (one is its own union: not copied)."""
    return sets[0] if len(sets) == 1 else dict.fromkeys(itertools.chain.from_iterable(sets))


@dataclass(frozen=True)
class Tally:
    """The rows of one grouped query: per key (a tuple of the grouping columns), sums
    that add up over months, and the group's people (participant ids)."""

    sums: dict[tuple, tuple[int, ...]]
    people: dict[tuple, Ids]

    @classmethod
    def read(cls, query, keys: int, *, people: bool = True) -> Tally:
        """The rows of ``query``: ``keys`` grouping columns, the sums, and (``people``)
        a :class:`listed` column of ids last."""
        sums, ids = {}, {}
        for row in db.session.execute(query):
            key, values = tuple(row[:keys]), row[keys:]
            if people:
                values, ids[key] = values[:-1], _ids(values[-1])
            else:
                ids[key] = {}
            sums[key] = tuple(int(v or 0) for v in values)
        return cls(sums, ids)

    @classmethod
    def merged(cls, tallies: list[Tally]) -> Tally:
        """The tally of several periods together (a longer period's, of its months'):
        the sums added, the people united."""
        sums: dict[tuple, tuple[int, ...]] = {}
        ids: dict[tuple, list[Ids]] = {}
        for tally in tallies:
            for key, values in tally.sums.items():
                before = sums.get(key)
                sums[key] = values if before is None else tuple(map(operator.add, before, values))
                ids.setdefault(key, []).append(tally.people[key])
        return cls(sums, {key: _union(sets) for key, sets in ids.items()})

    def part(self, keep: Callable[[tuple], bool]) -> Tally:
        """The groups whose key ``keep`` accepts."""
        return Tally(
            {key: v for key, v in self.sums.items() if keep(key)},
            {key: v for key, v in self.people.items() if keep(key)},
        )

    def by(self, position: int) -> dict:
        """The groups split by one grouping column: its value -> those groups."""
        return {
            value: self.part(lambda key, value=value: key[position] == value)
            for value in dict.fromkeys(key[position] for key in self.sums)
        }

    def total(self, column: int) -> int:
        """The sum of one column over the groups."""
        return sum(values[column] for values in self.sums.values())

    @cached_property
    def everyone(self) -> Ids:
        """The people of the groups, each once."""
        return _union(list(self.people.values()))

    def people_count(self) -> int:
        """Unduplicated people of the groups."""
        return len(self.everyone)


NO_ROWS = Tally({}, {})

# The sums of each tally, by position.
VISITS, PARTICIPANT_VISITS, SECONDARY_REACH, SYRINGES_COLLECTED = range(4)
GROUP_CONTACTS, PEOPLE_COUNTED = range(2)
UNITS = TIMES = 0


def _visits_tally(window) -> Tally:
    """Counted visits per (site id, kind): visits, participant visits, secondary reach,
    syringes collected, and their people. Site names are unique: grouping by the id
    groups by the name, without the join."""
    return Tally.read(
        select(
            Visit.site_id,
            Visit.kind,
            func.count(Visit.id),
            func.count(Visit.participant_id),
            func.sum(Visit.secondary_reach),
            func.sum(Visit.syringes_collected),
            listed(Visit.participant_id),
        )
        .where(window)
        .group_by(Visit.site_id, Visit.kind),
        keys=2,
    )


def _anonymous_contacts_tally(window) -> Tally:
    """The anonymous outreach and mobile unit contacts, in one row: group contacts (two
    or more people), people counted at them. The head count is not in the time index:
    only these few rows (found through the participant index) read the table."""
    return Tally.read(
        select(
            func.coalesce(func.sum(case((Visit.people_count > 1, 1), else_=0)), 0),
            func.coalesce(func.sum(Visit.people_count), 0),
        ).where(window, Visit.participant_id.is_(None), Visit.kind.in_(FIELD_KINDS)),
        keys=0,
        people=False,
    )


def _items_tallies(window, catalogue: _Catalogue) -> tuple[Tally, Tally]:
    """Counted visit items, in one query: per supply item id, the units and the people
    given them; and per (naloxone item id, reason), the kits. The reason is not in the
    items index: only naloxone lines read it from the table, each sent back as
    "reason:units" (grouping by the reason as well was slower: every line was sorted by
    it)."""
    naloxone = catalogue.ids(SupplyCategory.NALOXONE)
    reason = func.coalesce(type_coerce(VisitItem.reason, String), "")
    kit = case(
        (VisitItem.supply_item_id.in_(naloxone), reason + ":" + cast(VisitItem.quantity, String))
    )
    query = select(
        VisitItem.supply_item_id,
        func.sum(VisitItem.quantity),
        listed(Visit.participant_id),
        listed(kit),
    )
    rows = db.session.execute(_over_items(query, window).group_by(VisitItem.supply_item_id)).all()
    items = Tally(
        {(item_id,): (int(units),) for item_id, units, _, _ in rows},
        {(item_id,): _ids(ids) for item_id, _, ids, _ in rows},
    )
    return items, _kits(rows)


def _kits(rows) -> Tally:
    """The kits per (naloxone item id, reason) of the items query's "reason:units"
    texts (no people: those are per item)."""
    kits: dict[tuple, int] = {}
    for item_id, _, _, lines in rows:
        for line, times in Counter(lines.split(",") if lines else ()).items():
            reason, _, units = line.rpartition(":")
            key = (item_id, NaloxoneReason(reason) if reason else None)
            kits[key] = kits.get(key, 0) + int(units) * times
    return Tally({key: (units,) for key, units in kits.items()}, {key: {} for key in kits})


def _services_tally(window) -> Tally:
    """Services given at counted visits, per service: times given, and the people."""
    return Tally.read(
        select(VisitService.service, func.sum(VisitService.count), listed(Visit.participant_id))
        .join(Visit, Visit.id == VisitService.visit_id)
        .where(window)
        .group_by(VisitService.service),
        keys=1,
    )


@dataclass(frozen=True)
class Tallies:
    """The tallies one period's sections read (None: no section asked for needs it)."""

    visits: Tally | None = None
    anonymous_contacts: Tally | None = None
    items: Tally | None = None
    kits: Tally | None = None  # read with the items
    services: Tally | None = None

    @classmethod
    def query(cls, window, sections: list[str]) -> Tallies:
        """The tallies of the visits ``window`` selects that ``sections`` need."""
        needed = {tally for section in sections for tally in TALLIES_READ.get(section, ())}
        items, kits = (
            _items_tallies(window, _Catalogue.load()) if "items" in needed else (None, None)
        )
        return cls(
            visits=_visits_tally(window) if "visits" in needed else None,
            anonymous_contacts=(
                _anonymous_contacts_tally(window) if "anonymous_contacts" in needed else None
            ),
            items=items,
            kits=kits,
            services=_services_tally(window) if "services" in needed else None,
        )

    @classmethod
    def merged(cls, months: list[Tallies]) -> Tallies:
        """A longer period's tallies, from its months' (queried with the same sections)."""
        return cls(
            **{
                f.name: None
                if getattr(months[0], f.name) is None
                else Tally.merged([getattr(m, f.name) for m in months])
                for f in fields(cls)
            }
        )


# Which tallies each section reads (the kits come with the items).
TALLIES_READ = {
    "summary": ("visits", "anonymous_contacts"),
    "supplies": ("visits", "items"),
    "overdose": ("items", "services"),
    "services": ("services",),
    "demographics": ("visits",),
}


def _tallies(period: Period, zone: ZoneInfo, tallies: Tallies | None, section: str) -> Tallies:
    """``tallies``, or the period's, queried for ``section``."""
    return tallies or Tallies.query(_counted_visits(period, zone), [section])


# --- the sections ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldContacts:
    """Outreach and mobile unit contacts, counted the way funders separate them: contacts
    (every one), group contacts (one anonymous contact that counted several people),
    people counted at anonymous contacts (a head count at each contact, so one person
    met twice counts twice), and unduplicated people with a code."""

    contacts: int
    code_contacts: int
    group_contacts: int
    anonymous_people: int  # the people counted at anonymous contacts, summed
    people: int  # unduplicated people with a code

    @property
    def anonymous_contacts(self) -> int:
        return self.contacts - self.code_contacts


def field_contacts(tallies: Tallies) -> FieldContacts:
    """:class:`FieldContacts` of a period's visit tallies."""
    field_visits = tallies.visits.part(lambda key: key[1] in FIELD_KINDS)
    anonymous = tallies.anonymous_contacts
    return FieldContacts(
        contacts=field_visits.total(VISITS),
        code_contacts=field_visits.total(PARTICIPANT_VISITS),
        group_contacts=anonymous.total(GROUP_CONTACTS),
        anonymous_people=anonymous.total(PEOPLE_COUNTED),
        people=field_visits.people_count(),
    )


@dataclass
class Summary:
    """Program summary: people, visits, sites, kinds, secondary reach."""

    participants_served: int
    new_enrolments: int
    new_people_served: int  # served in the period and enrolled in it; the rest returned
    visits: int
    participant_visits: int
    walk_in_visits: int
    secondary_reach: int
    visits_by_site: dict[str, int]
    people_by_site: dict[str, int]
    visits_by_kind: dict[str, int]
    people_by_kind: dict[str, int]
    outreach: FieldContacts  # outreach and mobile unit contacts


def summary(
    period: Period,
    zone: ZoneInfo,
    enrolments: tuple[int, int] | None = None,
    tallies: Tallies | None = None,
) -> Summary:
    """Unduplicated people served, new enrolments, visits by site and by kind.
    ``enrolments``: (new enrolments, new people served), when already counted;
    ``tallies``: the period's, when already read."""
    tallies = _tallies(period, zone, tallies, "summary")
    visits = tallies.visits
    site_names = dict(db.session.execute(select(Site.id, Site.name)).all())
    by_site = sorted(
        (site_names[site_id], part.total(VISITS), part.people_count())
        for site_id, part in visits.by(0).items()
    )
    by_kind = visits.by(1)
    new, new_served = enrolments or (
        _new_enrolments(period, zone),
        _new_people_served(period, zone),
    )
    total, participant_visits = visits.total(VISITS), visits.total(PARTICIPANT_VISITS)
    return Summary(
        participants_served=visits.people_count(),
        new_enrolments=new,
        new_people_served=new_served,
        visits=total,
        participant_visits=participant_visits,
        walk_in_visits=total - participant_visits,
        secondary_reach=visits.total(SECONDARY_REACH),
        visits_by_site={name: n for name, n, _ in by_site},
        people_by_site={name: p for name, _, p in by_site},
        visits_by_kind={english_label(k): by_kind.get(k, NO_ROWS).total(VISITS) for k in VisitKind},
        people_by_kind={
            english_label(k): by_kind.get(k, NO_ROWS).people_count() for k in VisitKind
        },
        outreach=field_contacts(tallies),
    )


def _enrolled_in(period: Period, zone: ZoneInfo):
    return and_(
        Participant.created_at >= period.start(zone), Participant.created_at < period.end(zone)
    )


def _new_enrolments(period: Period, zone: ZoneInfo) -> int:
    """People enrolled in the period."""
    return _scalar(select(func.count(Participant.id)).where(_enrolled_in(period, zone)))


def _new_people_served(period: Period, zone: ZoneInfo) -> int:
    """People enrolled in the period with a counted visit in it: asked of the people
    enrolled then, each through the participant-and-time index, not of every visit."""
    return _scalar(
        select(func.count(Participant.id)).where(
            _enrolled_in(period, zone),
            exists().where(Visit.participant_id == Participant.id, _counted_visits(period, zone)),
        )
    )


def _people_served(period: Period, zone: ZoneInfo) -> int:
    """Unduplicated people with a counted visit in the period."""
    return _scalar(
        select(func.count(distinct(Visit.participant_id))).where(_counted_visits(period, zone))
    )


@dataclass
class ItemLine:
    """One item handed out in the month."""

    category: SupplyCategory
    name: str
    unit: str
    units: int
    people: int


@dataclass
class Supplies:
    """Supplies handed out, and syringes out versus in."""

    items: list[ItemLine]
    syringes_distributed: int
    syringes_collected: int
    people_receiving_syringes: int
    sharps_containers: int


def supplies(period: Period, zone: ZoneInfo, tallies: Tallies | None = None) -> Supplies:
    """Units handed out per item (and people receiving), syringes distributed and
    collected. ``tallies``: the period's, when already read."""
    tallies = _tallies(period, zone, tallies, "supplies")
    catalogue = _Catalogue.load()
    # Ordered by category, name and unit first, as grouping by them did: lines that tie
    # on the printed order keep the order they always had.
    lines = sorted(
        (*catalogue.lines[item_id], part.total(UNITS), part.people_count())
        for item_id, part in tallies.items.by(0).items()
    )
    items = sorted(
        (ItemLine(c, n, u, q, p) for c, n, u, q, p in lines),
        key=lambda line: (CATEGORY_ORDER[line.category], line.name.lower()),
    )
    syringes = set(catalogue.ids(SupplyCategory.SYRINGE))
    return Supplies(
        items=items,
        syringes_distributed=sum(i.units for i in items if i.category == SupplyCategory.SYRINGE),
        syringes_collected=tallies.visits.total(SYRINGES_COLLECTED),
        people_receiving_syringes=tallies.items.part(lambda key: key[0] in syringes).people_count(),
        sharps_containers=sum(i.units for i in items if i.category == SupplyCategory.DISPOSAL),
    )


@dataclass(frozen=True)
class _Catalogue:
    """The supply items, read once per section: the big joins then group and filter by
    item id instead of joining the catalogue and grouping by its names (item names are
    unique, so an item is a report line)."""

    lines: dict[int, tuple[SupplyCategory, str, str]]  # id -> (category, name, unit)
    doses: dict[int, int]

    @classmethod
    def load(cls) -> _Catalogue:
        rows = db.session.execute(
            select(
                SupplyItem.id,
                SupplyItem.category,
                SupplyItem.name,
                SupplyItem.unit,
                SupplyItem.doses_per_unit,
            )
        ).all()
        return cls(
            lines={item_id: (c, name, unit) for item_id, c, name, unit, _ in rows},
            doses={item_id: doses for item_id, _, _, _, doses in rows},
        )

    def ids(self, *categories: SupplyCategory) -> list[int]:
        """The items of these categories."""
        return sorted(i for i, (c, _, _) in self.lines.items() if c in categories)


def _over_items(query, window, item_ids: list[int] | None = None):
    """``query`` over the counted visit items ``window`` selects (only these items, when
    given)."""
    query = query.select_from(VisitItem).join(Visit, Visit.id == VisitItem.visit_id)
    query = query.where(window)
    if item_ids is not None:
        # "+ 0" keeps the list out of the index search: SQLite would otherwise seek the
        # items index once per visit and listed item (five seeks a visit for five
        # syringes) instead of once per visit, and take twice as long.
        query = query.where((VisitItem.supply_item_id + 0).in_(item_ids))
    return query


def _units_by_item(period: Period, zone: ZoneInfo, item_ids: list[int]) -> dict[int, int]:
    """Units of these items handed out in the period, per item."""
    if not item_ids:
        return {}
    rows = db.session.execute(
        _over_items(
            select(VisitItem.supply_item_id, func.sum(VisitItem.quantity)),
            _counted_visits(period, zone),
            item_ids,
        ).group_by(VisitItem.supply_item_id)
    )
    return {item_id: int(units or 0) for item_id, units in rows}


@dataclass
class Overdose:
    """Naloxone out, why, to how many people; reversals reported."""

    kits: int
    kits_by_reason: dict[str, int]
    # Per naloxone item, (category value, name, unit) -> (units, doses in one unit).
    units_and_doses: dict[tuple[str, str, str], tuple[int, int]]
    people_receiving_kits: int
    reversals_reported: int
    people_trained: int


def overdose(period: Period, zone: ZoneInfo, tallies: Tallies | None = None) -> Overdose:
    """Naloxone kits by reason, people receiving kits, overdose reversals reported.
    ``tallies``: the period's, when already read."""
    tallies = _tallies(period, zone, tallies, "overdose")
    catalogue = _Catalogue.load()
    naloxone = set(catalogue.ids(SupplyCategory.NALOXONE))
    kits_by_reason, units_and_doses = _naloxone_lines(tallies.kits, catalogue)
    given = tallies.services.by(0)
    return Overdose(
        kits=sum(kits_by_reason.values()),
        kits_by_reason=kits_by_reason,
        units_and_doses=units_and_doses,
        people_receiving_kits=tallies.items.part(lambda key: key[0] in naloxone).people_count(),
        reversals_reported=given.get(Service.OVERDOSE_REVERSAL_REPORTED, NO_ROWS).total(TIMES),
        people_trained=given.get(Service.NALOXONE_TRAINING, NO_ROWS).people_count(),
    )


def _naloxone_lines(kits: Tally, catalogue: _Catalogue) -> tuple[dict, dict]:
    """The naloxone kits (the kits tally) by reason, and per item (units, doses in
    one)."""
    by_reason: dict[NaloxoneReason | None, int] = {}
    by_item: dict[tuple[str, str, int], int] = {}
    for (item_id, reason), (units,) in kits.sums.items():
        _, name, unit = catalogue.lines[item_id]
        by_reason[reason] = by_reason.get(reason, 0) + units
        key = (name, unit, catalogue.doses[item_id])
        by_item[key] = by_item.get(key, 0) + units
    # Kits without a reason (an item that became naloxone later) keep the rows adding up
    # to the same total as every other table.
    kits_by_reason = {english_label(r): by_reason.get(r, 0) for r in NaloxoneReason} | {
        REASON_NOT_RECORDED: by_reason.get(None, 0)
    }
    units_and_doses = {
        (SupplyCategory.NALOXONE.value, name, unit): (units, int(doses or 1))
        for (name, unit, doses), units in sorted(by_item.items())
    }
    return kits_by_reason, units_and_doses


def services(
    period: Period, zone: ZoneInfo, tallies: Tallies | None = None
) -> dict[str, tuple[int, int]]:
    """Testing and services: per service, (times given, unduplicated people).
    ``tallies``: the period's, when already read."""
    given = _tallies(period, zone, tallies, "services").services.by(0)
    return {
        english_label(s): (
            given.get(s, NO_ROWS).total(TIMES),
            given.get(s, NO_ROWS).people_count(),
        )
        for s in Service
        if s != Service.OVERDOSE_REVERSAL_REPORTED
    }


@dataclass
class Referrals:
    """Referrals made and completed by category, and follow-up work."""

    made: dict[str, int]
    completed: dict[str, int]
    made_and_completed: dict[str, int]
    follow_ups_done: int
    follow_ups_unreachable: int
    follow_ups_overdue_at_month_end: int


def referrals(period: Period, zone: ZoneInfo) -> Referrals:
    """Per category: made this month, completed this month, and of those made this month
    how many were completed by its end; follow-ups done and overdue at the month's end."""
    start, end = period.start(zone), period.end(zone)
    made_in_month = and_(Referral.made_at >= start, Referral.made_at < end)
    closed_in_month = and_(Referral.closed_at >= start, Referral.closed_at < end)
    completed_by = and_(Referral.status == ReferralStatus.COMPLETED, Referral.closed_at < end)
    rows = db.session.execute(
        select(
            Referral.category,
            func.sum(case((made_in_month, 1), else_=0)),
            func.sum(case((and_(completed_by, Referral.closed_at >= start), 1), else_=0)),
            func.sum(case((and_(made_in_month, completed_by), 1), else_=0)),
        )
        # A referral recorded on a visit that was later voided counts nowhere either.
        .outerjoin(Visit, Visit.id == Referral.visit_id)
        # Referrals neither made nor closed in the period count nowhere: left out before
        # the join.
        .where(Visit.voided_at.is_(None), or_(made_in_month, closed_in_month))
        .group_by(Referral.category)
    ).all()
    found = {c: (int(m or 0), int(done or 0), int(both or 0)) for c, m, done, both in rows}
    done_in_month = and_(FollowUp.done_at >= start, FollowUp.done_at < end)
    done, unreachable = (
        _scalar(select(func.count(FollowUp.id)).where(done_in_month, FollowUp.status == status))
        for status in (FollowUpStatus.DONE, FollowUpStatus.UNREACHABLE)
    )
    overdue = _scalar(
        select(func.count(FollowUp.id)).where(
            FollowUp.created_at < end,
            FollowUp.due_on < period.end_day,
            (FollowUp.done_at.is_(None)) | (FollowUp.done_at >= end),
        )
    )
    return Referrals(
        made={english_label(c): found.get(c, (0, 0, 0))[0] for c in ReferralCategory},
        completed={english_label(c): found.get(c, (0, 0, 0))[1] for c in ReferralCategory},
        made_and_completed={english_label(c): found.get(c, (0, 0, 0))[2] for c in ReferralCategory},
        follow_ups_done=done,
        follow_ups_unreachable=unreachable,
        follow_ups_overdue_at_month_end=overdue,
    )


def _referrals_made(period: Period, zone: ZoneInfo) -> int:
    """Referrals made in the period (not on a visit later voided)."""
    return _scalar(
        select(func.count(Referral.id))
        .outerjoin(Visit, Visit.id == Referral.visit_id)
        .where(
            Visit.voided_at.is_(None),
            Referral.made_at >= period.start(zone),
            Referral.made_at < period.end(zone),
        )
    )


@dataclass
class Demographics:
    """Unduplicated people served, by age band, gender and race/ethnicity."""

    age: dict[str, int]
    gender: dict[str, int]
    race_ethnicity: dict[str, int]


def demographics(period: Period, zone: ZoneInfo, tallies: Tallies | None = None) -> Demographics:
    """People served in the period by age band (age reached this year), gender, race:
    the people are the visits tally's; one pass over the participants, grouped by all
    three, tells how many of each group they are, then added up per table."""
    from ssp.participants.models import Gender, RaceEthnicity

    served = _tallies(period, zone, tallies, "demographics").visits.everyone
    # The stored values, not the enums: thousands of groups, and each enum costs more to
    # read than its group to count.
    gender, race = (
        type_coerce(Participant.gender, String),
        type_coerce(Participant.race_ethnicity, String),
    )
    rows = db.session.execute(
        select(Participant.birth_year, gender, race, listed(Participant.id)).group_by(
            Participant.birth_year, gender, race
        )
    ).all()
    age: dict[str, int] = {label: 0 for _, _, label in AGE_BANDS} | {NOT_RECORDED: 0}
    by_gender: dict[str | None, int] = {}
    by_race: dict[str | None, int] = {}
    for year, gender_value, race_value, ids in rows:
        n = sum(map(served.__contains__, ids.split(",")))
        age[_age_band(period.year - year if year is not None else None)] += n
        by_gender[gender_value] = by_gender.get(gender_value, 0) + n
        by_race[race_value] = by_race.get(race_value, 0) + n
    return Demographics(
        age=age,
        gender={english_label(g): by_gender.get(g.value, 0) for g in Gender}
        | {NOT_RECORDED: by_gender.get(None, 0)},
        race_ethnicity={english_label(r): by_race.get(r.value, 0) for r in RaceEthnicity}
        | {NOT_RECORDED: by_race.get(None, 0)},
    )


def _age_band(years: int | None) -> str:
    if years is None:
        return NOT_RECORDED
    return next((lbl for low, high, lbl in AGE_BANDS if low <= years <= high), NOT_RECORDED)


@dataclass
class Trends:
    """The period's last month and the months before it, oldest first."""

    periods: list[Month]
    participants_served: list[int] = field(default_factory=list)
    visits: list[int] = field(default_factory=list)
    syringes_distributed: list[int] = field(default_factory=list)
    naloxone_kits: list[int] = field(default_factory=list)


def trends(
    period: Period,
    zone: ZoneInfo,
    months: int = TREND_MONTHS,
    known: dict[Month, MonthMetrics] | None = None,
) -> Trends:
    """Monthly series for the charts, the ``months`` months ending with the period's last.

    ``known``: metrics already computed for some of those months (with the summary,
    supplies and overdose): their figures are the same and are read from there. The
    other months are queried one at a time, each over its own stretch of the index."""
    periods = [period.last.shifted(-n) for n in range(months - 1, -1, -1)]
    known = known or {}
    catalogue: _Catalogue | None = None
    points = []
    for month in periods:
        m = known.get(month)
        if m is not None and m.summary and m.supplies and m.overdose:
            points.append(
                (
                    m.summary.participants_served,
                    m.summary.visits,
                    m.supplies.syringes_distributed,
                    m.overdose.kits,
                )
            )
        else:
            catalogue = catalogue or _Catalogue.load()
            points.append(_trend_point(month, zone, catalogue))
    people, visits, syringes, kits = (list(series) for series in zip(*points, strict=True))
    return Trends(
        periods=periods,
        participants_served=people,
        visits=visits,
        syringes_distributed=syringes,
        naloxone_kits=kits,
    )


def _trend_point(month: Month, zone: ZoneInfo, catalogue: _Catalogue) -> tuple[int, ...]:
    """(people served, visits, syringes distributed, naloxone kits) of one month."""
    visits, people = db.session.execute(
        select(func.count(Visit.id), func.count(distinct(Visit.participant_id))).where(
            _counted_visits(month, zone)
        )
    ).one()
    syringe, naloxone = (
        catalogue.ids(SupplyCategory.SYRINGE),
        catalogue.ids(SupplyCategory.NALOXONE),
    )
    units = _units_by_item(month, zone, syringe + naloxone)
    return (
        int(people or 0),
        int(visits or 0),
        sum(units.get(i, 0) for i in syringe),
        sum(units.get(i, 0) for i in naloxone),
    )


# --- drug checking ------------------------------------------------------------------------


@dataclass
class DrugChecking:
    """Samples checked in the period (results taken out as mistakes left out): per what
    they were sold as, the bad-reaction answers, and per (sold as, test) the samples
    tested, positive and unclear.

    The rows are every entry of the program's two lists, retired ones too, in the lists'
    order, whatever the counts: which rows a report prints then says nothing about its
    figures (a row printed only when it had a sample would tell a reader that a hidden
    "*" there is not 0)."""

    sold_as: dict[int, str]  # id -> name
    tests: dict[int, tuple[str, str]]  # id -> (name, what a positive finds)
    samples: dict[int, int]  # sold-as id -> samples checked
    reactions: dict[str, int]  # Reaction value -> samples
    # (sold as, test) -> (tested, positive, unclear); the report prints the first two.
    findings: dict[tuple[int, int], tuple[int, int, int]]
    untested: int = 0  # samples with no test result (the form never saves one)

    @property
    def total(self) -> int:
        """Samples checked."""
        return sum(self.samples.values())

    @property
    def asked(self) -> int:
        """Samples whose person was asked about a bad reaction (and answered)."""
        return self.reactions["yes"] + self.reactions["no"]

    @classmethod
    def merged(cls, parts: list[DrugChecking]) -> DrugChecking:
        """A longer period's, from its months' (every count adds up: samples, not
        people)."""
        first = parts[0]
        return cls(
            sold_as=first.sold_as,
            tests=first.tests,
            samples={k: sum(p.samples[k] for p in parts) for k in first.samples},
            reactions={k: sum(p.reactions[k] for p in parts) for k in first.reactions},
            findings={
                k: tuple(sum(p.findings[k][i] for p in parts) for i in range(3))
                for k in first.findings
            },
            untested=sum(p.untested for p in parts),
        )


def drug_checking(
    period: Period,
    zone: ZoneInfo,
    tallies: Tallies | None = None,
    months: list[MonthMetrics] | None = None,
) -> DrugChecking:
    """Samples checked in the period, by what they were sold as and by reaction, and the
    findings per (sold as, test): two GROUP BY queries over the period's results (the
    time index), or, for a longer period whose months are already computed, their
    figures added up. ``tallies`` (of the visits) are not read."""
    if (
        months
        and [m.period for m in months] == period.months()
        and all(m.drug_checking is not None for m in months)
    ):
        return DrugChecking.merged([m.drug_checking for m in months])
    from ssp.drugchecking.models import CheckTest, DrugCheck, Finding, Outcome, Reaction, SoldAs

    sold_as = {
        i: name
        for i, name in db.session.execute(
            select(SoldAs.id, SoldAs.name).order_by(SoldAs.position, SoldAs.name, SoldAs.id)
        )
    }
    tests = {
        i: (name, finds)
        for i, name, finds in db.session.execute(
            select(CheckTest.id, CheckTest.name, CheckTest.finds).order_by(
                CheckTest.position, CheckTest.name, CheckTest.id
            )
        )
    }
    window = and_(
        DrugCheck.voided_at.is_(None),
        DrugCheck.checked_at >= period.start(zone),
        DrugCheck.checked_at < period.end(zone),
    )
    tested = exists().where(Finding.check_id == DrugCheck.id)
    samples = dict.fromkeys(sold_as, 0)
    reactions = {r.value: 0 for r in Reaction}
    untested = 0
    for sold, reaction, n, without in db.session.execute(
        select(
            DrugCheck.sold_as_id,
            DrugCheck.reaction,
            func.count(DrugCheck.id),
            func.sum(case((tested, 0), else_=1)),
        )
        .where(window)
        .group_by(DrugCheck.sold_as_id, DrugCheck.reaction)
    ):
        samples[sold] += int(n)
        reactions[Reaction(reaction).value] += int(n)
        untested += int(without or 0)
    findings = {(s, t): (0, 0, 0) for s in sold_as for t in tests}
    for sold, test, outcome, n in db.session.execute(
        select(DrugCheck.sold_as_id, Finding.test_id, Finding.outcome, func.count(Finding.id))
        .join(Finding, Finding.check_id == DrugCheck.id)
        .where(window)
        .group_by(DrugCheck.sold_as_id, Finding.test_id, Finding.outcome)
    ):
        count, positive, unclear = findings[(sold, test)]
        outcome = Outcome(outcome)
        findings[(sold, test)] = (
            count + int(n),
            positive + int(n) * (outcome == Outcome.POSITIVE),
            unclear + int(n) * (outcome == Outcome.UNCLEAR),
        )
    return DrugChecking(sold_as, tests, samples, reactions, findings, untested)


@dataclass
class MonthMetrics:
    """Everything a report of one period may show (each section computed on request)."""

    period: Period
    summary: Summary | None = None
    supplies: Supplies | None = None
    overdose: Overdose | None = None
    services: dict[str, tuple[int, int]] | None = None
    referrals: Referrals | None = None
    demographics: Demographics | None = None
    trends: Trends | None = None
    drug_checking: DrugChecking | None = None


SECTION_FUNCTIONS = {
    "summary": summary,
    "supplies": supplies,
    "overdose": overdose,
    "services": services,
    "referrals": referrals,
    "demographics": demographics,
    "trends": trends,
    "drug_checking": drug_checking,
}


PART_SECTIONS = ("summary", "supplies", "overdose", "services", "referrals", "drug_checking")


def compute(
    period: Period,
    zone: ZoneInfo,
    sections: list[str],
    *,
    parts_only: bool = False,
    months: list[MonthMetrics] | None = None,
    enrolments: tuple[int, int] | None = None,
    tallies: Tallies | None = None,
) -> MonthMetrics:
    """The metrics of the period for the sections asked for (the summary always).
    ``parts_only``: only the sections whose figures combine across months (no trends,
    no demographics), for the months inside a longer period and for comparisons.
    ``months``: the metrics of months inside the period, already computed: the trends
    read those months from them. ``enrolments``: the summary's (new enrolments, new
    people served), already counted. ``tallies``: the period's, already read (a longer
    period's merged from its months, read with the same sections)."""
    names = ["summary", *[s for s in sections if s not in ("summary", "trends")]]
    if "trends" in sections:
        names.append("trends")  # last: it reads this month's other sections
    if parts_only:
        names = [name for name in names if name in PART_SECTIONS]
    tallies = tallies or Tallies.query(_counted_visits(period, zone), names)
    metrics = MonthMetrics(period=period)
    for name in names:
        if name == "trends":
            known = {m.period: m for m in months or []} | {period: metrics}
            value = trends(period, zone, known=known)
        elif name == "summary":
            value = summary(period, zone, enrolments, tallies)
        elif name == "referrals":
            value = referrals(period, zone)
        elif name == "drug_checking":
            value = drug_checking(period, zone, months=months)
        else:
            value = SECTION_FUNCTIONS[name](period, zone, tallies)
        setattr(metrics, name, value)
    return metrics


def month_tallies(months: list[Month], zone: ZoneInfo, sections: list[str]) -> list[Tallies]:
    """Each month's :class:`Tallies` for ``sections`` and the summary (which
    :func:`compute` always computes): a few range queries a month."""
    names = ["summary", *sections]
    return [Tallies.query(_counted_visits(month, zone), names) for month in months]


def compute_months(
    months: list[Month],
    zone: ZoneInfo,
    sections: list[str],
    tallies: list[Tallies] | None = None,
) -> list[MonthMetrics]:
    """``compute(month, zone, sections, parts_only=True)`` for each of consecutive months
    (the months of a longer period), the same figures: the visits are read a month at a
    time (``tallies``: the months' :func:`month_tallies`, already read), the small
    tables (enrolments, referrals, follow-ups) once for all the months."""
    if not months:
        return []
    tallies = tallies or month_tallies(months, zone, sections)
    run = _MonthRun(months, zone)
    enrolments = list(zip(run.enrolments(), run.new_people_served(), strict=True))
    referral_figures = run.referrals() if "referrals" in sections else None
    others = [s for s in sections if s != "referrals"]
    result = []
    for i, month in enumerate(months):
        metrics = compute(
            month, zone, others, parts_only=True, enrolments=enrolments[i], tallies=tallies[i]
        )
        if referral_figures is not None:
            metrics.referrals = referral_figures[i]
        result.append(metrics)
    return result


def compute_with_months(
    period: Period, zone: ZoneInfo, sections: list[str]
) -> tuple[MonthMetrics, list[MonthMetrics]]:
    """A longer period's metrics and its months' (:func:`compute_months`), its visit
    figures from its months' tallies merged: the visits are read once, a month at a
    time. The period's own queries are of the small tables only (its enrolments, the
    people enrolled and served in it, its referrals and follow-ups, the participants
    for the demographics)."""
    tallies = month_tallies(period.months(), zone, sections)
    months = compute_months(period.months(), zone, sections, tallies)
    whole = compute(period, zone, sections, months=months, tallies=Tallies.merged(tallies))
    return whole, months


class _MonthRun:
    """Consecutive months, for counting rows of the small tables per month in one pass:
    a row's month is a CASE over the months' boundaries."""

    def __init__(self, months: list[Month], zone: ZoneInfo) -> None:
        self.months = months
        self.bounds = [m.start(zone) for m in months] + [months[-1].end(zone)]

    def within(self, column):
        """The time falls in one of the months."""
        return and_(column >= self.bounds[0], column < self.bounds[-1])

    def index(self, column, before: int | None = None):
        """Which month the time falls in (0: the first); ``before`` for a time before the
        first month, NULL for a later or missing one."""
        return case(
            (column < self.bounds[0], before),
            *((column < end, i) for i, end in enumerate(self.bounds[1:])),
            else_=None,
        )

    def _bound_of(self, column, offset: int):
        typed = [literal(bound, column.type) for bound in self.bounds]
        return case(*((column < typed[i + 1], typed[i + offset]) for i in range(len(self.months))))

    def per_month(self, rows) -> list[int]:
        """(month, count) rows as a count per month."""
        counts = [0] * len(self.months)
        for index, n in rows:
            if index is not None and index >= 0:
                counts[int(index)] += int(n or 0)
        return counts

    def enrolments(self) -> list[int]:
        """People enrolled in each month."""
        month = self.index(Participant.created_at)
        return self.per_month(
            db.session.execute(
                select(month, func.count(Participant.id))
                .where(self.within(Participant.created_at))
                .group_by(month)
            )
        )

    def new_people_served(self) -> list[int]:
        """Per month, the people enrolled in it with a counted visit in it (each enrolled
        person's visits read through the participant-and-time index, in their month)."""
        month = self.index(Participant.created_at)
        visited_that_month = exists().where(
            Visit.participant_id == Participant.id,
            Visit.voided_at.is_(None),
            Visit.occurred_at >= self._bound_of(Participant.created_at, 0),
            Visit.occurred_at < self._bound_of(Participant.created_at, 1),
        )
        return self.per_month(
            db.session.execute(
                select(month, func.count(Participant.id))
                .where(self.within(Participant.created_at), visited_that_month)
                .group_by(month)
            )
        )

    def referrals(self) -> list[Referrals]:
        """:func:`referrals` of each month: one pass over the referrals made or closed in
        the months, one over the follow-ups."""
        made_in = self.index(Referral.made_at)
        closed_in = self.index(Referral.closed_at, before=-1)
        completed = case((Referral.status == ReferralStatus.COMPLETED, 1), else_=0)
        rows = db.session.execute(
            select(Referral.category, made_in, closed_in, completed, func.count(Referral.id))
            .outerjoin(Visit, Visit.id == Referral.visit_id)
            .where(
                Visit.voided_at.is_(None),
                or_(self.within(Referral.made_at), self.within(Referral.closed_at)),
            )
            .group_by(Referral.category, made_in, closed_in, completed)
        ).all()
        n = len(self.months)
        made, done, both = ({c: [0] * n for c in ReferralCategory} for _ in range(3))
        for category, made_i, closed_i, is_completed, count in rows:
            if made_i is not None:
                made[category][made_i] += count
            if not is_completed or closed_i is None:
                continue
            if closed_i >= 0:
                done[category][closed_i] += count
            if made_i is not None and closed_i <= made_i:  # completed by its month's end
                both[category][made_i] += count
        follow_ups_done = self._follow_ups_done()
        overdue = self._follow_ups_overdue()
        return [
            Referrals(
                made={english_label(c): made[c][i] for c in ReferralCategory},
                completed={english_label(c): done[c][i] for c in ReferralCategory},
                made_and_completed={english_label(c): both[c][i] for c in ReferralCategory},
                follow_ups_done=follow_ups_done[FollowUpStatus.DONE][i],
                follow_ups_unreachable=follow_ups_done[FollowUpStatus.UNREACHABLE][i],
                follow_ups_overdue_at_month_end=overdue[i],
            )
            for i in range(n)
        ]

    def _follow_ups_done(self) -> dict[FollowUpStatus, list[int]]:
        month = self.index(FollowUp.done_at)
        statuses = (FollowUpStatus.DONE, FollowUpStatus.UNREACHABLE)
        rows = db.session.execute(
            select(FollowUp.status, month, func.count(FollowUp.id))
            .where(self.within(FollowUp.done_at), FollowUp.status.in_(statuses))
            .group_by(FollowUp.status, month)
        ).all()
        return {s: self.per_month((i, n) for status, i, n in rows if status == s) for s in statuses}

    def _follow_ups_overdue(self) -> list[int]:
        """Per month, the follow-ups overdue at its end (one column per month)."""
        columns = []
        for month, end in zip(self.months, self.bounds[1:], strict=True):
            overdue = and_(
                FollowUp.created_at < end,
                FollowUp.due_on < month.end_day,
                (FollowUp.done_at.is_(None)) | (FollowUp.done_at >= end),
            )
            columns.append(func.coalesce(func.sum(case((overdue, 1), else_=0)), 0))
        first_end = self.bounds[1]
        counts = db.session.execute(
            select(*columns).where(
                FollowUp.created_at < self.bounds[-1],
                FollowUp.due_on < self.months[-1].end_day,
                (FollowUp.done_at.is_(None)) | (FollowUp.done_at >= first_end),
            )
        ).one()
        return [int(n) for n in counts]


# --- the glance of a period compared with --------------------------------------------------


@dataclass(frozen=True)
class Glance:
    """The figures the glance prints for one period (None: that section is not reported)."""

    period: Period
    people_served: int
    new_people_served: int
    visits: int
    participant_visits: int
    new_enrolments: int
    syringes_distributed: int | None = None
    syringes_collected: int | None = None
    kits: int | None = None
    reversals_reported: int | None = None
    referrals_made: int | None = None

    @property
    def walk_in_visits(self) -> int:
        """Visits without a participant code."""
        return self.visits - self.participant_visits


def glance_of(m: MonthMetrics) -> Glance:
    """The glance's figures of metrics already computed."""
    s = m.summary
    return Glance(
        period=m.period,
        people_served=s.participants_served,
        new_people_served=s.new_people_served,
        visits=s.visits,
        participant_visits=s.participant_visits,
        new_enrolments=s.new_enrolments,
        syringes_distributed=m.supplies.syringes_distributed if m.supplies else None,
        syringes_collected=m.supplies.syringes_collected if m.supplies else None,
        kits=m.overdose.kits if m.overdose else None,
        reversals_reported=m.overdose.reversals_reported if m.overdose else None,
        referrals_made=sum(m.referrals.made.values()) if m.referrals else None,
    )


_ADDING_UP = (
    "visits",
    "participant_visits",
    "new_enrolments",
    "syringes_distributed",
    "syringes_collected",
    "kits",
    "reversals_reported",
    "referrals_made",
)


def glance(
    period: Period,
    zone: ZoneInfo,
    sections: list[str],
    months: list[MonthMetrics] | None = None,
    served: int | None = None,
) -> Glance:
    """The glance's figures of a period compared with, and only those (the period's own
    tables are not printed). ``months``: the period's months, already computed with the
    same sections: the figures that add up are their sums, and only the two counts of
    people are queried (``served``: the people served, when already counted)."""
    if months:
        parts = [glance_of(m) for m in months]
        sums = {
            name: None if getattr(parts[0], name) is None else sum(getattr(p, name) for p in parts)
            for name in _ADDING_UP
        }
        return Glance(
            period=period,
            people_served=_people_served(period, zone) if served is None else served,
            new_people_served=_new_people_served(period, zone),
            **sums,
        )
    visits, participant_visits, people, collected = (
        int(v or 0)
        for v in db.session.execute(
            select(
                func.count(Visit.id),
                func.count(Visit.participant_id),
                func.count(distinct(Visit.participant_id)),
                func.coalesce(func.sum(Visit.syringes_collected), 0),
            ).where(_counted_visits(period, zone))
        ).one()
    )
    figures: dict[str, int | None] = {}
    if "supplies" in sections or "overdose" in sections:
        catalogue = _Catalogue.load()
        syringe, naloxone = (
            catalogue.ids(SupplyCategory.SYRINGE),
            catalogue.ids(SupplyCategory.NALOXONE),
        )
        units = _units_by_item(period, zone, syringe + naloxone)
        if "supplies" in sections:
            figures["syringes_distributed"] = sum(units.get(i, 0) for i in syringe)
            figures["syringes_collected"] = collected
        if "overdose" in sections:
            figures["kits"] = sum(units.get(i, 0) for i in naloxone)
            figures["reversals_reported"] = _service_times(
                period, zone, Service.OVERDOSE_REVERSAL_REPORTED
            )
    if "referrals" in sections:
        figures["referrals_made"] = _referrals_made(period, zone)
    return Glance(
        period=period,
        people_served=people,
        new_people_served=_new_people_served(period, zone),
        visits=visits,
        participant_visits=participant_visits,
        new_enrolments=_new_enrolments(period, zone),
        **figures,
    )


def glance_with_months(
    period: Period, zone: ZoneInfo, sections: list[str]
) -> tuple[Glance, list[MonthMetrics]]:
    """A longer period compared with: its glance, and its months (:func:`compute_months`,
    so the audit ties the glance to them). The people served are its months' tallies
    merged: the visits are read once, a month at a time."""
    tallies = month_tallies(period.months(), zone, sections)
    months = compute_months(period.months(), zone, sections, tallies)
    served = len(_union([t.visits.everyone for t in tallies]))
    return glance(period, zone, sections, months, served), months


def _service_times(period: Period, zone: ZoneInfo, service: Service) -> int:
    """How many times a service was given in the period."""
    return _scalar(
        select(func.coalesce(func.sum(VisitService.count), 0))
        .join(Visit, Visit.id == VisitService.visit_id)
        .where(_counted_visits(period, zone), VisitService.service == service)
    )
