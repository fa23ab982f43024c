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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select

from ssp.extensions import db
from ssp.participants.models import Gender, Participant, RaceEthnicity, Substance
from ssp.reporting.metrics import NOT_RECORDED
from ssp.reporting.metrics import _age_band as age_band  # the reports' bands, exactly
from ssp.staff.models import Site, SiteKind
from ssp.supplies.models import SupplyCategory, SupplyItem
from ssp.timeutil import as_utc, day_start
from ssp.visits.models import NaloxoneReason, Service, Visit, VisitItem, VisitKind, VisitService

SUPPRESSED = "Suppressed"
SEVERAL_SITES = "More than one site"
SEVERAL_KINDS = "More than one kind"
SEVERAL_MODELS = "More than one"

# The counts of a row, in column order: (column, what it counts).
COUNTS: list[tuple[str, str]] = [
    ("visits", "Visits (1 on a row per visit)"),
    ("syringes_collected", "Used syringes collected"),
    *[(f"supplies_{c.value}", f"Units handed out: {c.label}") for c in SupplyCategory],
    (
        "naloxone_after_reversal",
        "Naloxone units handed out because the last kit was used on someone (an overdose "
        "reversal reported at the visit)",
    ),
    *[(f"service_{s.value}", f"Times given: {s.label}") for s in Service],
]
COUNT_COLUMNS = [name for name, _ in COUNTS]

# Age bands widened (the third step of the method): the reports' bands, three at a time.
WIDE_AGE_BANDS = {
    "Under 18": "Under 35",
    "18 to 24": "Under 35",
    "25 to 34": "Under 35",
    "35 to 44": "35 to 54",
    "45 to 54": "35 to 54",
    "55 to 64": "55 and over",
    "65 and over": "55 and over",
}


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


def location_ladder(record: Record, sites: dict[int, SiteFacts]) -> tuple[str, ...]:
    """The site's name, then its kind, then suppressed (a person-month at several:
    "More than one site", and its kind if they are all of one kind)."""
    facts = [sites[site_id] for site_id in sorted(record.sites)]
    name = facts[0].name if len(facts) == 1 else SEVERAL_SITES
    kinds = {f.kind for f in facts}
    kind = next(iter(kinds)).label if len(kinds) == 1 else SEVERAL_KINDS
    return (name, kind, SUPPRESSED)


def service_model_ladder(record: Record) -> tuple[str, ...]:
    """How the person was reached (fixed site, mobile unit, outreach, delivery)."""
    models = record.models
    return (next(iter(models)).label if len(models) == 1 else SEVERAL_MODELS, SUPPRESSED)


def age_ladder(record: Record) -> tuple[str, ...]:
    """The reports' age band (the age reached in the year of the visit, from the birth
    year), then a wider band, then suppressed."""
    years = record.day.year - record.birth_year if record.birth_year is not None else None
    band = age_band(years)
    return (band, WIDE_AGE_BANDS.get(band, band), SUPPRESSED)


def _labelled(value) -> str:
    return value.label if value is not None else NOT_RECORDED


def gender_ladder(record: Record) -> tuple[str, ...]:
    """Gender as the person describes it, then suppressed."""
    return (_labelled(record.gender), SUPPRESSED)


def race_ladder(record: Record) -> tuple[str, ...]:
    """Race or ethnicity, then suppressed."""
    return (_labelled(record.race_ethnicity), SUPPRESSED)


def substance_ladder(record: Record) -> tuple[str, ...]:
    """The substance the person says they use most, then suppressed."""
    return (_labelled(record.primary_substance), SUPPRESSED)


def injects_ladder(record: Record) -> tuple[str, ...]:
    """Whether the person injects (Yes, No, Not recorded), then suppressed."""
    injects = {True: "Yes", False: "No", None: NOT_RECORDED}[record.injects]
    return (injects, SUPPRESSED)
