"""The rules of a visit: ``record_visit`` and its corrections, each one transaction.

A visit, its items, its services, its stock movements and its audit event are flushed
together; the view or command that called commits once, so they land whole or not at
all. Stock movements follow the visit: after any change the visit's movements add up to
minus what it handed out (nothing once it is voided).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload

from ssp.audit import record
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _, format_number, ngettext
from ssp.participants.models import Participant
from ssp.security import Role
from ssp.staff.models import Site, User
from ssp.supplies.models import MovementReason, StockMovement, SupplyCategory, SupplyItem
from ssp.supplies.units import unit_for
from ssp.timeutil import as_utc, program_zone, utcnow
from ssp.visits.models import (
    NaloxoneReason,
    Service,
    Visit,
    VisitItem,
    VisitKind,
    VisitService,
)

#: Clock drift tolerated between a desk computer and the server.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


class VisitError(RuleError):
    """A visit the rules do not allow; ``field`` names the form field concerned."""


class VisitProblems(VisitError):
    """Every rule a visit breaks at once, so the desk fixes them in one go; each of
    ``problems`` names its own field. Its message is the first problem's."""

    def __init__(self, problems: list[VisitError]) -> None:
        super().__init__(str(problems[0]), problems[0].field)
        self.problems = problems


class _Problems:
    """Collects refusals instead of stopping at the first one."""

    def __init__(self) -> None:
        self.found: list[VisitError] = []

    def check(self, rule, *args, default=None):
        """``rule(*args)``, or ``default`` after noting its refusal."""
        try:
            return rule(*args)
        except VisitError as error:
            self.found.append(error)
            return default

    def raise_any(self) -> None:
        if self.found:
            raise VisitProblems(self.found)


@dataclass(frozen=True)
class ItemLine:
    """One supply handed out: item, quantity in the item's unit, naloxone reason."""

    supply_item_id: int
    quantity: int
    reason: NaloxoneReason | None = None


@dataclass(frozen=True)
class VisitDetails:
    """Everything a visit form says, as plain values."""

    site_id: int
    kind: VisitKind
    occurred_at: dt.datetime | None
    items: tuple[ItemLine, ...] = ()
    services: Mapping[Service, int] | None = None
    syringes_collected: int = 0
    secondary_reach: int = 0


# --- reading -------------------------------------------------------------------------


def visit_with_details(visit_id: int) -> Visit | None:
    """A visit with its items, services, site and participant loaded."""
    return db.session.scalar(
        select(Visit)
        .where(Visit.id == visit_id)
        .options(
            selectinload(Visit.items).selectinload(VisitItem.supply_item),
            selectinload(Visit.services),
        )
    )


def visit_by_submission_key(key: str) -> Visit | None:
    """The visit a form with this one-time key already created, if any."""
    return db.session.scalar(select(Visit).where(Visit.submission_key == key))


def recent_visits(participant_id: int, limit: int = 10) -> list[Visit]:
    """A participant's latest visits (voided ones included, marked), newest first."""
    return list(
        db.session.scalars(
            select(Visit)
            .where(Visit.participant_id == participant_id)
            .order_by(Visit.occurred_at.desc(), Visit.id.desc())
            .limit(limit)
            .options(
                selectinload(Visit.items).selectinload(VisitItem.supply_item),
                selectinload(Visit.services),
                selectinload(Visit.site),
            )
        )
    )


def previous_visit(participant_id: int) -> Visit | None:
    """The participant's last visit that counts (not voided)."""
    return db.session.scalar(
        select(Visit)
        .where(Visit.participant_id == participant_id, Visit.voided_at.is_(None))
        .order_by(Visit.occurred_at.desc(), Visit.id.desc())
        .limit(1)
        .options(selectinload(Visit.items))
    )


def visit_count(participant_id: int) -> int:
    """How many visits of a participant count (not voided)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Visit)
        .where(Visit.participant_id == participant_id, Visit.voided_at.is_(None))
    )


# --- rules ---------------------------------------------------------------------------


def _check_time(occurred_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if occurred_at is None:
        return now
    occurred_at = as_utc(occurred_at)
    if occurred_at > now + FUTURE_TOLERANCE:
        raise VisitError(_("The time of a visit cannot be in the future."), "occurred_at")
    days = current_app.config["VISIT_BACKDATE_DAYS"]
    if occurred_at < now - dt.timedelta(days=days):
        raise VisitError(
            ngettext(
                "Visits can be entered up to %(num)d day back. For older paper logs, ask a "
                "manager.",
                "Visits can be entered up to %(num)d days back. For older paper logs, ask a "
                "manager.",
                days,
            ),
            "occurred_at",
        )
    return occurred_at


def _check_count(value: int | None, maximum: int, field: str, what: str) -> int:
    value = value or 0
    if value < 0:
        raise VisitError(_("%(what)s cannot be negative.", what=what), field)
    if value > maximum:
        raise VisitError(
            _(
                "%(what)s: at most %(maximum)s on one visit.",
                what=what,
                maximum=format_number(maximum),
            ),
            field,
        )
    return value


def _checked_items(
    lines: Iterable[ItemLine], problems: _Problems, unchanged: Mapping[int, int] | None = None
) -> list[tuple[SupplyItem, ItemLine]]:
    """Check item lines, noting every refusal; ``unchanged`` (item id -> quantity already
    on a visit being corrected) exempts lines left as they were from the active and
    maximum checks."""
    unchanged = unchanged or {}
    lines = [line for line in lines if line.quantity]
    ids = [line.supply_item_id for line in lines]
    if len(ids) != len(set(ids)):
        problems.found.append(VisitError(_("An item is listed twice; give one quantity per item.")))
        return []
    # get() answers from the rows the form already loaded, without a query.
    catalogue = {item_id: db.session.get(SupplyItem, item_id) for item_id in ids}
    checked = []
    for line in lines:
        item = catalogue.get(line.supply_item_id)
        kept = unchanged.get(line.supply_item_id) == line.quantity
        checked_line = problems.check(_checked_line, item, line, kept)
        if checked_line is not None:
            checked.append((item, checked_line))
    return checked


def _checked_line(item: SupplyItem | None, line: ItemLine, kept: bool) -> ItemLine:
    field = f"item_{line.supply_item_id}"
    if item is None or (not item.active and not kept):
        raise VisitError(_("That item is not in the catalogue any more."), field)
    maximum = item.max_per_visit or current_app.config["VISIT_ITEM_MAX"]
    if line.quantity < 0:
        raise VisitError(_("A quantity cannot be negative."), field)
    if line.quantity > maximum and not kept:
        raise VisitError(
            _(
                "At most %(count)s %(units)s of this item on one visit.",
                count=format_number(maximum),
                units=unit_for(item.unit, maximum),
            ),
            field,
        )
    if item.category != SupplyCategory.NALOXONE:
        return ItemLine(item.id, line.quantity, None)
    if line.reason is None:
        raise VisitError(_("Say why this naloxone kit is given."), f"reason_{item.id}")
    return ItemLine(item.id, line.quantity, line.reason)


def _checked_services(
    services: Mapping[Service, int] | None, problems: _Problems
) -> dict[Service, int]:
    maximum = current_app.config["VISIT_SERVICE_MAX"]
    counts = {}
    for service, count in (services or {}).items():
        service = Service(service)
        field = f"service_{service.value}"
        count = problems.check(_check_count, count, maximum, field, service.label, default=0)
        if count:
            counts[service] = count
    return counts


def _checked_site(site_id: int, unchanged: int | None = None) -> Site:
    site = db.session.get(Site, site_id) if site_id else None
    if site is None or (not site.active and site.id != unchanged):
        raise VisitError(_("Choose a site that is in use."), "site_id")
    return site


def _kind(value) -> VisitKind:
    try:
        return VisitKind(value)
    except ValueError:
        raise VisitError(_("Choose how the participant was reached."), "kind") from None


@dataclass(frozen=True)
class _Checked:
    """A visit's values once every rule has passed."""

    site: Site
    kind: VisitKind
    occurred_at: dt.datetime
    syringes_collected: int
    secondary_reach: int
    items: list[tuple[SupplyItem, ItemLine]]
    services: dict[Service, int]


def _check(details: VisitDetails, now: dt.datetime, correcting: Visit | None = None) -> _Checked:
    """Check ``details``; raises VisitProblems naming every rule broken.

    When ``correcting`` an existing visit, values left as they were are not checked
    again: a manager can fix one number on an old visit whose site, items or date would
    no longer be accepted for a new one.
    """
    problems = _Problems()
    site = problems.check(_checked_site, details.site_id, correcting and correcting.site_id)
    kind = problems.check(_kind, details.kind)
    same_time = (
        correcting is not None
        and details.occurred_at is not None
        and abs(as_utc(details.occurred_at) - as_utc(correcting.occurred_at))
        < dt.timedelta(minutes=1)
    )
    occurred_at = (
        correcting.occurred_at
        if same_time
        else problems.check(_check_time, details.occurred_at, now)
    )
    config = current_app.config
    collected = problems.check(
        _check_count,
        details.syringes_collected,
        config["VISIT_SYRINGES_COLLECTED_MAX"],
        "syringes_collected",
        _("Used syringes collected"),
    )
    reach = problems.check(
        _check_count,
        details.secondary_reach,
        config["VISIT_SECONDARY_REACH_MAX"],
        "secondary_reach",
        _("People reached through this participant"),
    )
    kept = {line.supply_item_id: line.quantity for line in correcting.items} if correcting else {}
    items = _checked_items(details.items, problems, kept)
    services = _checked_services(details.services, problems)
    problems.raise_any()
    # A kit replaced because it was used on someone is a reported overdose reversal.
    if any(line.reason == NaloxoneReason.USED for _, line in items):
        services[Service.OVERDOSE_REVERSAL_REPORTED] = max(
            services.get(Service.OVERDOSE_REVERSAL_REPORTED, 0), 1
        )
    return _Checked(site, kind, occurred_at, collected, reach, items, services)


def _write_fields(visit: Visit, checked: _Checked) -> None:
    visit.site_id = checked.site.id
    visit.kind = checked.kind
    visit.occurred_at = checked.occurred_at
    visit.syringes_collected = checked.syringes_collected
    visit.secondary_reach = checked.secondary_reach


def _apply(
    visit: Visit, details: VisitDetails, now: dt.datetime, *, correcting: bool = False
) -> None:
    """Check ``details`` and write them onto ``visit`` (items and services replaced);
    raises VisitProblems naming every rule broken, and then writes nothing."""
    checked = _check(details, now, visit if correcting else None)
    _write_fields(visit, checked)
    # Lines kept are updated in place: replacing them would insert the new row before
    # deleting the old one, against the (visit, item) and (visit, service) unique keys.
    old_items = {line.supply_item_id: line for line in visit.items}
    visit.items = [
        _updated(old_items.get(item.id), quantity=line.quantity, reason=line.reason)
        or VisitItem(supply_item_id=item.id, quantity=line.quantity, reason=line.reason)
        for item, line in checked.items
    ]
    old_services = {line.service: line for line in visit.services}
    visit.services = [
        _updated(old_services.get(service), count=count)
        or VisitService(service=service, count=count)
        for service, count in checked.services.items()
    ]


def _insert_lines(visit: Visit, checked: _Checked, user: User) -> None:
    """A new (flushed) visit's items, services and stock movements, one multi-row INSERT
    each: nothing refers to their ids, and the ORM would write them a row at a time on
    SQLite (to read each id back)."""
    items = [
        {
            "visit_id": visit.id,
            "supply_item_id": item.id,
            "quantity": line.quantity,
            "reason": line.reason,
        }
        for item, line in checked.items
    ]
    if items:
        db.session.execute(insert(VisitItem), items)
        db.session.execute(
            insert(StockMovement),
            [
                {
                    "site_id": visit.site_id,
                    "supply_item_id": item.id,
                    "delta": -line.quantity,
                    "reason": MovementReason.DISTRIBUTION,
                    "visit_id": visit.id,
                    "user_id": user.id,
                    "occurred_at": visit.occurred_at,  # a new visit's movements: its time
                }
                for item, line in sorted(checked.items, key=lambda pair: pair[0].id)
            ],
        )
    if checked.services:
        db.session.execute(
            insert(VisitService),
            [
                {"visit_id": visit.id, "service": service, "count": count}
                for service, count in checked.services.items()
            ],
        )


def _updated(row, **values):
    """``row`` with ``values`` set, or None when there is no row."""
    if row is None:
        return None
    for name, value in values.items():
        setattr(row, name, value)
    return row


def visit_problems(details: VisitDetails, now: dt.datetime | None = None) -> list[VisitError]:
    """Every rule a new visit with ``details`` would break, without writing anything (the
    desk's form shows them beside its own checks, all after one save)."""
    try:
        _check(details, now or utcnow())
    except VisitProblems as refused:
        return refused.problems
    return []


def _sync_stock(visit: Visit, user: User, now: dt.datetime, note: str | None = None) -> None:
    """Add the movements that make a corrected or voided visit's stock effect match what
    it handed out (a new visit's are written with it, by ``_insert_lines``).

    A visit imported from a spreadsheet without taking its supplies from stock never
    moves stock, corrected or voided: today's shelves were counted after it.
    """
    if _imported_without_stock(visit):
        return
    current: dict[tuple[int, int], int] = defaultdict(int)
    for site_id, item_id, total in db.session.execute(
        select(StockMovement.site_id, StockMovement.supply_item_id, func.sum(StockMovement.delta))
        .where(StockMovement.visit_id == visit.id)
        .group_by(StockMovement.site_id, StockMovement.supply_item_id)
    ):
        current[(site_id, item_id)] = int(total)
    wanted: dict[tuple[int, int], int] = defaultdict(int)
    if not visit.voided:
        for line in visit.items:
            wanted[(visit.site_id, line.supply_item_id)] -= line.quantity
    # A new visit's movements carry the visit's time; corrections happen now.
    moved_at = visit.occurred_at if not current else now
    for key in sorted(set(current) | set(wanted)):
        delta = wanted[key] - current[key]
        if delta:
            db.session.add(
                StockMovement(
                    site_id=key[0],
                    supply_item_id=key[1],
                    delta=delta,
                    reason=MovementReason.DISTRIBUTION,
                    visit_id=visit.id,
                    user_id=user.id,
                    occurred_at=moved_at,
                    note=note,
                )
            )


def _imported_without_stock(visit: Visit) -> bool:
    if visit.import_batch_id is None:
        return False
    batches = db.metadata.tables["import_batches"]  # ssp.imports; visits do not import it
    moved = db.session.scalar(
        select(batches.c.moved_stock).where(batches.c.id == visit.import_batch_id)
    )
    return not moved


def record_visit(
    *,
    participant_id: int | None,
    details: VisitDetails,
    user: User,
    submission_key: str | None = None,
    now: dt.datetime | None = None,
) -> Visit:
    """Write a visit with its items, services, stock movements and audit event (flushed).

    ``participant_id`` None is an anonymous walk-in. A ``submission_key`` is unique: one
    already used makes the flush fail with IntegrityError and nothing is written (the
    caller finds the first visit with ``visit_by_submission_key``).
    """
    now = now or utcnow()
    if participant_id is not None and db.session.get(Participant, participant_id) is None:
        raise VisitError(_("That participant is not on record."))
    checked = _check(details, now)
    visit = Visit(
        participant_id=participant_id,
        user_id=user.id,
        created_at=now,
        submission_key=submission_key or None,
    )
    _write_fields(visit, checked)
    db.session.add(visit)
    db.session.flush()  # the visit's id (a resent form's key is refused here)
    _insert_lines(visit, checked, user)
    backdated = now - visit.occurred_at > dt.timedelta(hours=1)
    record(
        "visit_recorded",
        object_type="visit",
        object_id=visit.id,
        user_id=user.id,
        detail={
            "participant_id": participant_id,
            "site_id": visit.site_id,
            "items": len(checked.items),
            "services": len(checked.services),
            **({"backdated_to": visit.occurred_at.isoformat()} if backdated else {}),
        },
    )
    return visit


def _local_date(value: dt.datetime) -> dt.date:
    return as_utc(value).astimezone(program_zone()).date()


def may_change(user: User, visit: Visit, now: dt.datetime | None = None) -> bool:
    """Front desk: visits of their own site logged today. Managers and admins: any. An
    imported visit is history, whenever it was imported: managers and admins only."""
    if user.role in (Role.MANAGER, Role.ADMIN):
        return True
    now = now or utcnow()
    return (
        visit.import_batch_id is None
        and user.site_id is not None
        and visit.site_id == user.site_id
        and _local_date(visit.created_at) == _local_date(now)
    )


def _require_change_allowed(user: User, visit: Visit, now: dt.datetime) -> None:
    if not may_change(user, visit, now):
        raise PermissionError("front desk may change only their own site's visits of today")
    if visit.voided:
        raise VisitError(_("This visit is voided; it cannot be changed."))


def update_visit(
    visit: Visit, *, details: VisitDetails, user: User, now: dt.datetime | None = None
) -> None:
    """Correct a visit; stock follows the change. Raises PermissionError when not allowed."""
    now = now or utcnow()
    _require_change_allowed(user, visit, now)
    if user.role == Role.FRONT_DESK and details.site_id != user.site_id:
        raise VisitError(_("Front desk staff keep a visit at their own site."), "site_id")
    before = _summary(visit)
    _apply(visit, details, now, correcting=True)
    db.session.flush()
    _sync_stock(visit, user, now, note=f"Correction of visit {visit.id}")
    record(
        "visit_updated",
        object_type="visit",
        object_id=visit.id,
        user_id=user.id,
        detail={"before": before, "after": _summary(visit)},
    )


def void_visit(visit: Visit, *, reason: str, user: User, now: dt.datetime | None = None) -> None:
    """Void a visit: it keeps its rows, counts nowhere, and its stock comes back."""
    now = now or utcnow()
    _require_change_allowed(user, visit, now)
    reason = " ".join((reason or "").split())
    if not 3 <= len(reason) <= 200:
        raise VisitError(
            _("Say in a few words why the visit is voided (up to 200 characters)."), "reason"
        )
    visit.voided_at = now
    visit.voided_by = user.id
    visit.void_reason = reason
    db.session.flush()
    _sync_stock(visit, user, now, note=f"Visit {visit.id} voided")
    _cancel_follow_ups_of_voided(visit, user, now)
    # The reason stays on the visit row; the trail keeps no free text.
    record("visit_voided", object_type="visit", object_id=visit.id, user_id=user.id)


def _cancel_follow_ups_of_voided(visit: Visit, user: User, now: dt.datetime) -> None:
    """Referrals recorded on a voided visit count nowhere; nobody should chase them."""
    from ssp.referrals.models import FollowUp, FollowUpStatus, Referral

    follow_ups = db.session.scalars(
        select(FollowUp)
        .join(Referral, Referral.id == FollowUp.referral_id)
        .where(Referral.visit_id == visit.id, FollowUp.status == FollowUpStatus.OPEN)
    )
    for follow_up in follow_ups:
        follow_up.status = FollowUpStatus.CANCELLED
        follow_up.done_at = now
        record(
            "follow_up_cancelled",
            object_type="follow_up",
            object_id=follow_up.id,
            user_id=user.id,
            detail={"visit_voided": visit.id},
        )


def _summary(visit: Visit) -> dict:
    return {
        "site_id": visit.site_id,
        "kind": visit.kind.value if visit.kind else None,
        "occurred_at": as_utc(visit.occurred_at).isoformat() if visit.occurred_at else None,
        "syringes_collected": visit.syringes_collected,
        "secondary_reach": visit.secondary_reach,
        "items": {str(i.supply_item_id): i.quantity for i in visit.items},
        "services": {s.service.value: s.count for s in visit.services},
    }
