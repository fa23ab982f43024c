"""The desk's day: the visits of one day at one site, their running tally, and the
one-line summary of a visit shown after saving it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ssp.extensions import db
from ssp.i18n import _, format_number, ngettext
from ssp.supplies.models import SupplyCategory
from ssp.timeutil import day_start
from ssp.visits.models import Visit, VisitItem


def summary_line(visit: Visit) -> str:
    """What a visit recorded, in one line: "10 Syringe 1 mL 28G, 1 Naloxone nasal spray,
    5 used syringes collected". Names no person."""
    parts = [
        f"{format_number(line.quantity)} {line.supply_item.name}"
        for line in sorted(visit.items, key=lambda line: line.supply_item.name)
    ]
    if visit.syringes_collected:
        collected = visit.syringes_collected
        parts.append(
            ngettext(
                "%(count)s used syringe collected",
                "%(count)s used syringes collected",
                collected,
                count=format_number(collected),
            )
        )
    if visit.services:
        given = sum(line.count for line in visit.services)
        parts.append(
            ngettext("%(count)s service", "%(count)s services", given, count=format_number(given))
        )
    return ", ".join(parts) if parts else _("nothing handed out or collected")


def visits_of_day(day: dt.date, site_id: int) -> list[Visit]:
    """The site's visits that day (voided ones included, marked), latest first."""
    start, end = day_start(day), day_start(day + dt.timedelta(days=1))
    return list(
        db.session.scalars(
            select(Visit)
            .where(Visit.site_id == site_id, Visit.occurred_at >= start, Visit.occurred_at < end)
            .order_by(Visit.occurred_at.desc(), Visit.id.desc())
            .options(
                selectinload(Visit.items).selectinload(VisitItem.supply_item),
                selectinload(Visit.services),
                selectinload(Visit.participant),
                selectinload(Visit.user),
            )
        )
    )


@dataclass(frozen=True)
class DayTally:
    """Counts for a day's list, voided visits left out."""

    visits: int
    people: int  # participants with a code, each once
    walk_ins: int
    syringes_out: int
    syringes_collected: int
    naloxone: int


def tally(visits: list[Visit]) -> DayTally:
    """The running tally of a day's visits."""
    counted = [visit for visit in visits if visit.voided_at is None]

    def handed_out(category: SupplyCategory) -> int:
        return sum(
            line.quantity
            for visit in counted
            for line in visit.items
            if line.supply_item.category == category
        )

    return DayTally(
        visits=len(counted),
        people=len({v.participant_id for v in counted if v.participant_id is not None}),
        walk_ins=sum(1 for visit in counted if visit.participant_id is None),
        syringes_out=handed_out(SupplyCategory.SYRINGE),
        syringes_collected=sum(visit.syringes_collected for visit in counted),
        naloxone=handed_out(SupplyCategory.NALOXONE),
    )
