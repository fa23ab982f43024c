"""What an evaluator export is made of: the period's counted visits read from the
database, as records (one per visit, or one per person and month), each with its
quasi-identifier ladders (for ``kanon``) and its counts.

Three grouped queries and the sites table, selecting only what an export may carry: the
visit's time, site, service model, participant id (used to group and count people, never
written), birth year, gender, race or ethnicity, primary substance, injects, syringes
collected, the units per supply category (and the naloxone kits given because the last
one was used on someone), the services. Never a code, a note, a reason typed by staff,
a username, a zone or an item name. Voided visits never count; anonymous visits do (as
visits, with no person). Days, weeks and months are the program's (``TIMEZONE``).

The values are written in the language the export is made in (``Words``, looked up once
per export); the column names never change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select

from ssp.extensions import db
from ssp.i18n import _, _l
from ssp.participants.models import Gender, Participant, RaceEthnicity, Substance
from ssp.reporting.metrics import NOT_RECORDED
from ssp.reporting.metrics import _age_band as age_band  # the reports' bands, exactly
from ssp.staff.models import Site, SiteKind
from ssp.supplies.models import SupplyCategory, SupplyItem
from ssp.timeutil import as_utc, day_start
from ssp.visits.models import NaloxoneReason, Service, Visit, VisitItem, VisitKind, VisitService

SUPPRESSED = _l("Suppressed")
SEVERAL_SITES = _l("More than one site")
SEVERAL_KINDS = _l("More than one kind")
SEVERAL_MODELS = _l("More than one")

# The count columns of a row, in column order (their meanings: ``count_meanings``).
COUNT_COLUMNS = [
    "visits",
    "syringes_collected",
    *[f"supplies_{c.value}" for c in SupplyCategory],
    "naloxone_after_reversal",
    *[f"service_{s.value}" for s in Service],
]


def count_meanings() -> list[tuple[str, str]]:
    """(column, what it counts) for each count column, in the language spoken now."""
    return [
        ("visits", _("Visits (1 on a row per visit)")),
        ("syringes_collected", _("Used syringes collected")),
        *[
            (f"supplies_{c.value}", _("Units handed out: %(category)s", category=c.label))
            for c in SupplyCategory
        ],
        (
            "naloxone_after_reversal",
            _(
                "Naloxone units handed out because the last kit was used on someone (an "
                "overdose reversal reported at the visit)"
            ),
        ),
        *[(f"service_{s.value}", _("Times given: %(service)s", service=s.label)) for s in Service],
    ]


# Age bands widened (the third step of the method): the reports' bands, three at a time
# (under 18 to 34, 35 to 54, 55 and over).
WIDE_AGE_BANDS = ((35, _l("Under 35")), (55, _l("35 to 54")), (None, _l("55 and over")))


@dataclass
class Words:
    """The values an export writes, in the language it is made in: looked up once per
    export, not once per row."""

    suppressed: str
    several_sites: str
    several_kinds: str
    several_models: str
    not_recorded: str
    yes: str
    no: str
    site_kinds: dict[SiteKind, str]
    models: dict[VisitKind, str]
    genders: dict[Gender, str]
    races: dict[RaceEthnicity, str]
    substances: dict[Substance, str]
    wide_bands: tuple[tuple[int | None, str], ...]
    # Age (years reached) -> (band, wide band), filled as rows need them.
    bands: dict[int | None, tuple[str, str]] = field(default_factory=dict)


def words() -> Words:
    """The export's values in the language spoken now."""
    return Words(
        suppressed=str(SUPPRESSED),
        several_sites=str(SEVERAL_SITES),
        several_kinds=str(SEVERAL_KINDS),
        several_models=str(SEVERAL_MODELS),
        not_recorded=str(NOT_RECORDED),
        yes=_("Yes"),
        no=_("No"),
        site_kinds={kind: str(kind.label) for kind in SiteKind},
        models={kind: str(kind.label) for kind in VisitKind},
        genders={gender: str(gender.label) for gender in Gender},
        races={race: str(race.label) for race in RaceEthnicity},
        substances={substance: str(substance.label) for substance in Substance},
        wide_bands=tuple((below, str(label)) for below, label in WIDE_AGE_BANDS),
    )


@dataclass
class Record:
    """A visit, or a person's visits in one month: the facts an export may carry."""

    person: int | None  # the participant's id: groups and counts people, never written
    day: dt.date  # the visit's day in the program's zone (a person-month: the 1st)
    sites: frozenset[int]
    models: frozenset[VisitKind]
    birth_year: int | None
    gender: Gender | None
    race_ethnicity: RaceEthnicity | None
    primary_substance: Substance | None
    injects: bool | None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SiteFacts:
    """What an export may say of a site: its name and its kind."""

    name: str
    kind: SiteKind


def read_visits(first_day: dt.date, last_day: dt.date, zone: ZoneInfo) -> list[Record]:
    """A record per counted visit from ``first_day`` to ``last_day`` (both included)."""
    window = and_(
        Visit.voided_at.is_(None),
        Visit.occurred_at >= day_start(first_day, zone),
        Visit.occurred_at < day_start(last_day + dt.timedelta(days=1), zone),
    )
    records: dict[int, Record] = {}
    for row in db.session.execute(
        select(
            Visit.id,
            Visit.participant_id,
            Visit.site_id,
            Visit.kind,
            Visit.occurred_at,
            Visit.syringes_collected,
            Participant.birth_year,
            Participant.gender,
            Participant.race_ethnicity,
            Participant.primary_substance,
            Participant.injects,
        )
        .outerjoin(Participant, Participant.id == Visit.participant_id)
        .where(window)
        .order_by(Visit.id)
    ):
        counts = dict.fromkeys(COUNT_COLUMNS, 0)
        counts["visits"] = 1
        counts["syringes_collected"] = int(row.syringes_collected or 0)
        records[row.id] = Record(
            person=row.participant_id,
            day=as_utc(row.occurred_at).astimezone(zone).date(),
            sites=frozenset([row.site_id]),
            models=frozenset([VisitKind(row.kind)]),
            birth_year=row.birth_year,
            gender=row.gender,
            race_ethnicity=row.race_ethnicity,
            primary_substance=row.primary_substance,
            injects=row.injects,
            counts=counts,
        )
    for visit_id, category, reason, units in db.session.execute(
        select(
            VisitItem.visit_id, SupplyItem.category, VisitItem.reason, func.sum(VisitItem.quantity)
        )
        .join(Visit, Visit.id == VisitItem.visit_id)
        .join(SupplyItem, SupplyItem.id == VisitItem.supply_item_id)
        .where(window)
        .group_by(VisitItem.visit_id, SupplyItem.category, VisitItem.reason)
    ):
        counts = records[visit_id].counts
        counts[f"supplies_{SupplyCategory(category).value}"] += int(units)
        if category == SupplyCategory.NALOXONE and reason == NaloxoneReason.USED:
            counts["naloxone_after_reversal"] += int(units)
    for visit_id, service, times in db.session.execute(
        select(VisitService.visit_id, VisitService.service, func.sum(VisitService.count))
        .join(Visit, Visit.id == VisitService.visit_id)
        .where(window)
        .group_by(VisitService.visit_id, VisitService.service)
    ):
        records[visit_id].counts[f"service_{Service(service).value}"] += int(times)
    return list(records.values())


def read_sites() -> dict[int, SiteFacts]:
    """Every site's name and kind (inactive ones too: old visits name them)."""
    return {
        site_id: SiteFacts(name, SiteKind(kind))
        for site_id, name, kind in db.session.execute(select(Site.id, Site.name, Site.kind))
    }


def person_months(visits: Iterable[Record]) -> list[Record]:
    """A record per person and month of their visits (anonymous visits have no person
    and are left out): the visits' counts added up, their sites and service models
    together."""
    months: dict[tuple[int, dt.date], Record] = {}
    for visit in visits:
        if visit.person is None:
            continue
        key = (visit.person, visit.day.replace(day=1))
        month = months.get(key)
        if month is None:
            months[key] = Record(
                person=visit.person,
                day=key[1],
                sites=visit.sites,
                models=visit.models,
                birth_year=visit.birth_year,
                gender=visit.gender,
                race_ethnicity=visit.race_ethnicity,
                primary_substance=visit.primary_substance,
                injects=visit.injects,
                counts=dict(visit.counts),
            )
            continue
        month.sites |= visit.sites
        month.models |= visit.models
        for name, value in visit.counts.items():
            month.counts[name] += value
    return list(months.values())


# --- the quasi-identifiers, each a ladder from the most detailed value to the coarsest --


def iso_week(day: dt.date) -> str:
    """The ISO 8601 week of a day: 2026-W40 (1 January 2027 is in 2026-W53)."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def month_of(day: dt.date) -> str:
    """The month of a day: 2026-10."""
    return f"{day.year:04d}-{day.month:02d}"


def period_ladder(record: Record) -> tuple[str, ...]:
    """ISO week, then month."""
    return (iso_week(record.day), month_of(record.day))


def location_ladder(
    record: Record, sites: dict[int, SiteFacts], w: Words | None = None
) -> tuple[str, ...]:
    """The site's name, then its kind, then suppressed (a person-month at several:
    "More than one site", and its kind if they are all of one kind)."""
    w = w or words()
    facts = [sites[site_id] for site_id in sorted(record.sites)]
    name = facts[0].name if len(facts) == 1 else w.several_sites
    kinds = {f.kind for f in facts}
    kind = w.site_kinds[next(iter(kinds))] if len(kinds) == 1 else w.several_kinds
    return (name, kind, w.suppressed)


def service_model_ladder(record: Record, w: Words | None = None) -> tuple[str, ...]:
    """How the person was reached (fixed site, mobile unit, outreach, delivery)."""
    w = w or words()
    models = record.models
    model = w.models[next(iter(models))] if len(models) == 1 else w.several_models
    return (model, w.suppressed)


def age_ladder(record: Record, w: Words | None = None) -> tuple[str, ...]:
    """The reports' age band (the age reached in the year of the visit, from the birth
    year), then a wider band, then suppressed."""
    w = w or words()
    years = record.day.year - record.birth_year if record.birth_year is not None else None
    found = w.bands.get(years)
    if found is None:
        band = str(age_band(years))
        wide = band
        if years is not None and band != w.not_recorded:
            wide = next(label for below, label in w.wide_bands if below is None or years < below)
        found = w.bands[years] = (band, wide)
    return (*found, w.suppressed)


def _labelled(value, labels: dict, w: Words) -> str:
    return labels[value] if value is not None else w.not_recorded


def gender_ladder(record: Record, w: Words | None = None) -> tuple[str, ...]:
    """Gender as the person describes it, then suppressed."""
    w = w or words()
    return (_labelled(record.gender, w.genders, w), w.suppressed)


def race_ladder(record: Record, w: Words | None = None) -> tuple[str, ...]:
    """Race or ethnicity, then suppressed."""
    w = w or words()
    return (_labelled(record.race_ethnicity, w.races, w), w.suppressed)


def substance_ladder(record: Record, w: Words | None = None) -> tuple[str, ...]:
    """The substance the person says they use most, then suppressed."""
    w = w or words()
    return (_labelled(record.primary_substance, w.substances, w), w.suppressed)


def injects_ladder(record: Record, w: Words | None = None) -> tuple[str, ...]:
    """Whether the person injects (Yes, No, Not recorded), then suppressed."""
    w = w or words()
    injects = {True: w.yes, False: w.no, None: w.not_recorded}[record.injects]
    return (injects, w.suppressed)
