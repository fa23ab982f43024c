"""The rules of referrals and follow-ups.

Status moves go forward only (made → accepted → completed, or to declined / lost); a
manager or admin may correct a status in any direction. Every change is kept in
``referral_status_changes`` and audited. Functions flush but do not commit.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Date, Integer, Select, bindparam, case, func, select
from sqlalchemy.orm import joinedload, selectinload

from ssp.audit import record, record_active
from ssp.config import ConfigError
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _, ngettext
from ssp.participants.models import Participant
from ssp.referrals.models import (
    FollowUp,
    FollowUpOutcome,
    FollowUpStatus,
    Partner,
    Referral,
    ReferralCategory,
    ReferralStatus,
    ReferralStatusChange,
)
from ssp.security import Role
from ssp.staff.models import User
from ssp.timeutil import as_utc, day_start, local_time, program_today, utcnow

FORWARD_MOVES: dict[ReferralStatus, set[ReferralStatus]] = {
    ReferralStatus.MADE: {
        ReferralStatus.ACCEPTED,
        ReferralStatus.COMPLETED,
        ReferralStatus.DECLINED,
        ReferralStatus.LOST,
    },
    ReferralStatus.ACCEPTED: {
        ReferralStatus.COMPLETED,
        ReferralStatus.DECLINED,
        ReferralStatus.LOST,
    },
    ReferralStatus.COMPLETED: set(),
    ReferralStatus.DECLINED: set(),
    ReferralStatus.LOST: set(),
}
NOTE_MAX = 200
REASON_MAX = 120


class ReferralError(RuleError):
    """A referral or follow-up change the rules do not allow."""


def _clean_text(value: str | None, limit: int, field: str) -> str | None:
    text = " ".join((value or "").split())
    if len(text) > limit:
        raise ReferralError(
            ngettext(
                "Keep it to %(num)d character (no names or other details).",
                "Keep it to %(num)d characters (no names or other details).",
                limit,
            ),
            field,
        )
    return text or None


# --- partners ----------------------------------------------------------------------


def _categories(values) -> list[str]:
    try:
        chosen = {ReferralCategory(v).value for v in values or []}
    except ValueError:
        raise ReferralError(_("Choose categories from the list."), "categories") from None
    if not chosen:
        raise ReferralError(_("Choose at least one category the partner serves."), "categories")
    return [c.value for c in ReferralCategory if c.value in chosen]


def _partner_name(name: str, partner_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 120:
        raise ReferralError(_("A partner's name is 2 to 120 characters."), "name")
    clash = db.session.scalar(select(Partner).where(func.lower(Partner.name) == name.lower()))
    if clash is not None and clash.id != partner_id:
        raise ReferralError(_("There is already a partner called '%(name)s'.", name=name), "name")
    return name


def create_partner(*, name: str, categories, contact: str | None) -> Partner:
    """Add a partner agency to the directory."""
    partner = Partner(
        name=_partner_name(name),
        categories=_categories(categories),
        contact=_clean_text(contact, 200, "contact"),
        active=True,
    )
    db.session.add(partner)
    db.session.flush()
    record(
        "partner_created",
        object_type="partner",
        object_id=partner.id,
        detail={"name": partner.name, "categories": partner.categories},
    )
    return partner


def update_partner(partner: Partner, *, name: str, categories, contact: str | None) -> None:
    """Change a partner's name, categories or contact line."""
    new = {
        "name": _partner_name(name, partner.id),
        "categories": _categories(categories),
        "contact": _clean_text(contact, 200, "contact"),
    }
    changed = [key for key, value in new.items() if getattr(partner, key) != value]
    for key in changed:
        setattr(partner, key, new[key])
    if changed:
        record(
            "partner_updated",
            object_type="partner",
            object_id=partner.id,
            detail={"fields": changed},
        )


def set_partner_active(partner: Partner, active: bool) -> None:
    """Deactivate or reactivate a partner; old referrals keep pointing at it."""
    record_active(partner, active, "partner")


@functools.cache
def _active_partners() -> Select:
    return select(Partner).where(Partner.active).order_by(Partner.name)


def active_partners() -> list[Partner]:
    """Partners in use, by name."""
    return list(db.session.scalars(_active_partners()))


# --- referrals ---------------------------------------------------------------------


def follow_up_days(category: ReferralCategory) -> int:
    """Days after a referral that its follow-up is due (config FOLLOW_UP_DAYS)."""
    per_category = current_app.config.get("FOLLOW_UP_DAYS") or {}
    return int(per_category.get(category.value, current_app.config["FOLLOW_UP_DEFAULT_DAYS"]))


def make_referral(
    *,
    participant_id: int,
    category: ReferralCategory | str,
    partner_id: int | None,
    user: User,
    site_id: int | None = None,
    visit_id: int | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
    made_at: dt.datetime | None = None,
) -> Referral:
    """Record a referral and the follow-up it needs (flushed, not committed).

    ``made_at`` is when the referral happened (a back-dated visit's time); the follow-up
    is due counted from today, when staff can act on it.
    """
    now = now or utcnow()
    made_at = made_at or now
    try:
        category = ReferralCategory(category)
    except ValueError:
        raise ReferralError(_("Choose a referral category from the list."), "category") from None
    if db.session.get(Participant, participant_id) is None:
        raise ReferralError(_("That participant is not on record."))
    partner = None
    if partner_id:
        partner = db.session.get(Partner, partner_id)
        if partner is None or not partner.active:
            raise ReferralError(_("Choose a partner from the directory."), "partner_id")
        if not partner.serves(category):
            raise ReferralError(
                _(
                    "%(partner)s does not take %(category)s referrals.",
                    partner=partner.name,
                    category=category.short,
                ),
                "partner_id",
            )
    referral = Referral(
        participant_id=participant_id,
        visit_id=visit_id,
        category=category,
        partner_id=partner.id if partner else None,
        status=ReferralStatus.MADE,
        made_at=made_at,
        user_id=user.id,
        site_id=site_id,
        note=_clean_text(note, NOTE_MAX, "note"),
    )
    referral.changes.append(
        ReferralStatusChange(
            from_status=None, to_status=ReferralStatus.MADE, changed_at=made_at, user_id=user.id
        )
    )
    db.session.add(referral)
    db.session.flush()
    follow_up = FollowUp(
        participant_id=participant_id,
        referral_id=referral.id,
        site_id=site_id,
        due_on=program_today(now) + dt.timedelta(days=follow_up_days(category)),
        status=FollowUpStatus.OPEN,
        created_at=now,
        created_by=user.id,
    )
    db.session.add(follow_up)
    db.session.flush()
    record(
        "referral_made",
        object_type="referral",
        object_id=referral.id,
        user_id=user.id,
        detail={
            "participant_id": participant_id,
            "category": category.value,
            "partner_id": referral.partner_id,
            "visit_id": visit_id,
            "follow_up_id": follow_up.id,
            "due_on": follow_up.due_on.isoformat(),
        },
    )
    return referral


def allowed_moves(referral: Referral, user: User) -> list[ReferralStatus]:
    """Statuses this user may move the referral to."""
    if user.role in (Role.MANAGER, Role.ADMIN):
        return [s for s in ReferralStatus if s != referral.status]
    return [s for s in ReferralStatus if s in FORWARD_MOVES[referral.status]]


def change_status(
    referral: Referral,
    new_status: ReferralStatus | str,
    *,
    user: User,
    now: dt.datetime | None = None,
) -> None:
    """Move a referral forward; managers and admins may also correct it backwards."""
    now = now or utcnow()
    try:
        new_status = ReferralStatus(new_status)
    except ValueError:
        raise ReferralError(_("Choose a status from the list."), "status") from None
    old = referral.status
    if new_status == old:
        raise ReferralError(
            _("The referral is already %(status)s.", status=old.label.lower()), "status"
        )
    forward = new_status in FORWARD_MOVES[old]
    if not forward and user.role not in (Role.MANAGER, Role.ADMIN):
        raise ReferralError(
            _(
                "A referral cannot go from %(old)s to %(new)s. A manager can correct it.",
                old=old.label.lower(),
                new=new_status.label.lower(),
            ),
            "status",
        )
    referral.status = new_status
    referral.closed_at = now if new_status.closed else None
    referral.changes.append(
        ReferralStatusChange(
            from_status=old,
            to_status=new_status,
            changed_at=now,
            user_id=user.id,
            correction=not forward,
        )
    )
    if new_status.closed:
        _close_follow_ups(referral, new_status, user=user, now=now)
    db.session.flush()
    record(
        "referral_status_changed",
        object_type="referral",
        object_id=referral.id,
        user_id=user.id,
        detail={"from": old.value, "to": new_status.value, "correction": not forward},
    )


# What a referral's ending says about its open follow-up.
_OUTCOME_FOR_CLOSED = {
    ReferralStatus.COMPLETED: (FollowUpStatus.DONE, FollowUpOutcome.LINKED),
    ReferralStatus.DECLINED: (FollowUpStatus.DONE, FollowUpOutcome.DECLINED),
    ReferralStatus.LOST: (FollowUpStatus.UNREACHABLE, FollowUpOutcome.UNREACHABLE),
}


def _close_follow_ups(
    referral: Referral, status: ReferralStatus, *, user: User, now: dt.datetime
) -> None:
    """A referral that has ended needs no more asking: close its open follow-ups."""
    follow_up_status, outcome = _OUTCOME_FOR_CLOSED[status]
    for follow_up in db.session.scalars(
        select(FollowUp).where(
            FollowUp.referral_id == referral.id, FollowUp.status == FollowUpStatus.OPEN
        )
    ):
        follow_up.status = follow_up_status
        follow_up.outcome = outcome
        follow_up.done_at = now
        record(
            "follow_up_outcome",
            object_type="follow_up",
            object_id=follow_up.id,
            user_id=user.id,
            detail={**follow_up.summary(), "closed_with_referral": True},
        )


def referrals_of(participant_id: int) -> list[Referral]:
    """A participant's referrals, open ones first, newest first."""
    rows = db.session.scalars(
        select(Referral)
        .where(Referral.participant_id == participant_id)
        .order_by(Referral.made_at.desc())
        .options(selectinload(Referral.partner))
    ).all()
    return sorted(rows, key=lambda r: r.status.closed)


# --- follow-ups --------------------------------------------------------------------


def add_follow_up(
    *,
    participant_id: int,
    due_on: dt.date,
    reason: str | None,
    user: User,
    site_id: int | None = None,
    assigned_user_id: int | None = None,
    now: dt.datetime | None = None,
) -> FollowUp:
    """A follow-up added by hand; it may not be due in the past."""
    now = now or utcnow()
    if db.session.get(Participant, participant_id) is None:
        raise ReferralError(_("That participant is not on record."))
    if due_on is None:
        raise ReferralError(_("Choose the day it is due."), "due_on")
    if due_on < program_today(now):
        raise ReferralError(_("The due date cannot be in the past."), "due_on")
    reason = _clean_text(reason, REASON_MAX, "reason")
    if not reason:
        raise ReferralError(_("Say in a few words what to follow up on."), "reason")
    _check_assignee(assigned_user_id)
    follow_up = FollowUp(
        participant_id=participant_id,
        due_on=due_on,
        reason=reason,
        site_id=site_id,
        assigned_user_id=assigned_user_id,
        status=FollowUpStatus.OPEN,
        created_at=now,
        created_by=user.id,
    )
    db.session.add(follow_up)
    db.session.flush()
    record(
        "follow_up_added",
        object_type="follow_up",
        object_id=follow_up.id,
        user_id=user.id,
        detail={"participant_id": participant_id, **follow_up.summary()},
    )
    return follow_up


def _check_assignee(user_id: int | None) -> None:
    if user_id is None:
        return
    assignee = db.session.get(User, user_id)
    if assignee is None or not assignee.active:
        raise ReferralError(
            _("Assign it to an active staff member, or to nobody."), "assigned_user_id"
        )


def update_follow_up(
    follow_up: FollowUp,
    *,
    due_on: dt.date,
    assigned_user_id: int | None,
    user: User,
    now: dt.datetime | None = None,
) -> None:
    """Reschedule or reassign an open follow-up."""
    now = now or utcnow()
    if follow_up.status != FollowUpStatus.OPEN:
        raise ReferralError(_("Only open follow-ups can be changed."))
    if due_on is None:
        raise ReferralError(_("Choose the day it is due."), "due_on")
    if due_on != follow_up.due_on and due_on < program_today(now):
        raise ReferralError(_("The due date cannot be in the past."), "due_on")
    _check_assignee(assigned_user_id)
    before = follow_up.summary()
    follow_up.due_on = due_on
    follow_up.assigned_user_id = assigned_user_id
    record(
        "follow_up_updated",
        object_type="follow_up",
        object_id=follow_up.id,
        user_id=user.id,
        detail={"before": before, "after": follow_up.summary()},
    )


def record_outcome(
    follow_up: FollowUp,
    outcome: FollowUpOutcome | str,
    *,
    user: User,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Record what the participant said; closes or reschedules the follow-up.

    Linked closes it and completes its referral; declined closes both; could not reach
    marks it unreachable; still waiting keeps it open and moves the due date on.
    """
    now = now or utcnow()
    try:
        outcome = FollowUpOutcome(outcome)
    except ValueError:
        raise ReferralError(_("Choose an outcome from the list."), "outcome") from None
    if follow_up.status != FollowUpStatus.OPEN:
        raise ReferralError(_("This follow-up is already closed."))
    follow_up.outcome = outcome
    follow_up.note = _clean_text(note, NOTE_MAX, "note") or follow_up.note
    referral = follow_up.referral
    if outcome == FollowUpOutcome.WAITING:
        days = (
            follow_up_days(referral.category)
            if referral
            else (current_app.config["FOLLOW_UP_DEFAULT_DAYS"])
        )
        follow_up.due_on = program_today(now) + dt.timedelta(days=days)
    else:
        follow_up.status = (
            FollowUpStatus.UNREACHABLE
            if outcome == FollowUpOutcome.UNREACHABLE
            else FollowUpStatus.DONE
        )
        follow_up.done_at = now
    record(
        "follow_up_outcome",
        object_type="follow_up",
        object_id=follow_up.id,
        user_id=user.id,
        detail=follow_up.summary(),
    )
    cascade = {
        FollowUpOutcome.LINKED: ReferralStatus.COMPLETED,
        FollowUpOutcome.DECLINED: ReferralStatus.DECLINED,
    }.get(outcome)
    if referral is not None and cascade and cascade in FORWARD_MOVES[referral.status]:
        change_status(referral, cascade, user=user, now=now)
    db.session.flush()


def cancel_follow_up(follow_up: FollowUp, *, user: User, now: dt.datetime | None = None) -> None:
    """Cancel an open follow-up that is no longer needed."""
    if follow_up.status != FollowUpStatus.OPEN:
        raise ReferralError(_("This follow-up is already closed."))
    follow_up.status = FollowUpStatus.CANCELLED
    follow_up.done_at = now or utcnow()
    record("follow_up_cancelled", object_type="follow_up", object_id=follow_up.id, user_id=user.id)


@functools.cache
def _open_follow_ups() -> Select:
    """Built once: it runs on every visit form and save (one query, with the referral)."""
    return (
        select(FollowUp)
        .where(
            FollowUp.participant_id == bindparam("participant_id", type_=Integer),
            FollowUp.status == FollowUpStatus.OPEN,
        )
        .order_by(FollowUp.due_on, FollowUp.id)
        .options(joinedload(FollowUp.referral))
    )


def open_follow_ups(participant_id: int) -> list[FollowUp]:
    """A participant's open follow-ups, soonest due first (for the banner)."""
    return list(db.session.scalars(_open_follow_ups(), {"participant_id": participant_id}))


# --- the worklist --------------------------------------------------------------------


@dataclass(frozen=True)
class WorklistFilter:
    """What the worklist shows: which open follow-ups, in which order."""

    site_id: int | None = None
    category: str | None = None  # a ReferralCategory value, "none" for hand-made ones
    assignee: str | None = None  # a user id, "none" for unassigned
    when: str | None = None  # "overdue", "today", "upcoming" or None for all
    newest_first: bool = False


def worklist_query(filters: WorklistFilter, today: dt.date) -> Select:
    """Open follow-ups matching the filters, sorted by due date."""
    query = (
        select(FollowUp)
        .outerjoin(Referral, FollowUp.referral_id == Referral.id)
        .where(FollowUp.status == FollowUpStatus.OPEN)
        .options(
            selectinload(FollowUp.referral).selectinload(Referral.partner),
            selectinload(FollowUp.participant),
            selectinload(FollowUp.assignee),
            selectinload(FollowUp.site),
        )
    )
    if filters.site_id:
        query = query.where(FollowUp.site_id == filters.site_id)
    if filters.category == "none":
        query = query.where(FollowUp.referral_id.is_(None))
    elif filters.category:
        query = query.where(Referral.category == ReferralCategory(filters.category))
    if filters.assignee == "none":
        query = query.where(FollowUp.assigned_user_id.is_(None))
    elif filters.assignee:
        query = query.where(FollowUp.assigned_user_id == int(filters.assignee))
    if filters.when == "overdue":
        query = query.where(FollowUp.due_on < today)
    elif filters.when == "today":
        query = query.where(FollowUp.due_on == today)
    elif filters.when == "upcoming":
        query = query.where(FollowUp.due_on > today)
    order = FollowUp.due_on.desc() if filters.newest_first else FollowUp.due_on
    return query.order_by(order, FollowUp.id)


@functools.cache
def _worklist_counts(at_one_site: bool) -> Select:
    """Built once (the menu's badge counts on every page), for all sites or one."""
    today = bindparam("today", type_=Date)
    query = select(
        func.coalesce(func.sum(case((FollowUp.due_on < today, 1), else_=0)), 0),
        func.coalesce(func.sum(case((FollowUp.due_on == today, 1), else_=0)), 0),
        func.coalesce(func.sum(case((FollowUp.due_on > today, 1), else_=0)), 0),
    ).where(FollowUp.status == FollowUpStatus.OPEN)
    if at_one_site:
        query = query.where(FollowUp.site_id == bindparam("site_id", type_=Integer))
    return query


def worklist_counts(today: dt.date, site_id: int | None = None) -> dict[str, int]:
    """How many open follow-ups are overdue, due today and upcoming."""
    values = {"today": today, "site_id": site_id} if site_id else {"today": today}
    overdue, due_today, upcoming = db.session.execute(_worklist_counts(bool(site_id)), values).one()
    return {"overdue": int(overdue), "today": int(due_today), "upcoming": int(upcoming)}


@dataclass(frozen=True)
class WorklistRow:
    """An open follow-up on the worklist, with when its participant was last seen."""

    follow_up: FollowUp
    last_seen_on: dt.date | None  # the day of the last visit (not voided), if any
    days_overdue: int  # 0 when due today or later


def last_seen(participant_ids) -> dict[int, dt.datetime]:
    """Each participant's last visit that was not voided (one query for a page)."""
    from ssp.visits.models import Visit

    ids = set(participant_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Visit.participant_id, func.max(Visit.occurred_at))
        .where(Visit.participant_id.in_(ids), Visit.voided_at.is_(None))
        .group_by(Visit.participant_id)
    )
    return {participant_id: as_utc(at) for participant_id, at in rows if at is not None}


def _day_of(moment: dt.datetime | None) -> dt.date | None:
    return local_time(moment).date() if moment is not None else None


def days_without_contact(due_on: dt.date, last_seen_on: dt.date | None, today: dt.date) -> int:
    """Days since the later of the due date and the last visit (the count that closes a
    follow-up after FOLLOW_UP_CLOSE_AFTER_DAYS); negative while it is not yet due."""
    start = max(due_on, last_seen_on) if last_seen_on else due_on
    return (today - start).days


def worklist_rows(follow_ups, today: dt.date) -> list[WorklistRow]:
    """The worklist's rows: each follow-up with last seen and days overdue."""
    follow_ups = list(follow_ups)
    seen = last_seen(f.participant_id for f in follow_ups)
    return [
        WorklistRow(
            follow_up=f,
            last_seen_on=_day_of(seen.get(f.participant_id)),
            days_overdue=max((today - f.due_on).days, 0),
        )
        for f in follow_ups
    ]


@dataclass(frozen=True)
class DueNow:
    """Open follow-ups to act on now at one site (or every site): the menu's badge and
    the home page's follow-up button both show these."""

    site_id: int | None
    overdue: int
    today: int

    @property
    def total(self) -> int:
        """Overdue and due today together (the badge)."""
        return self.overdue + self.today


def follow_ups_due_now(user: User, today: dt.date | None = None) -> DueNow:
    """The open follow-ups overdue or due today at the user's site; every site for a
    user without one. The one count behind the menu badge and the home page button."""
    counts = worklist_counts(today or program_today(), user.site_id)
    return DueNow(site_id=user.site_id, overdue=counts["overdue"], today=counts["today"])


# --- follow-ups nobody could reach ---------------------------------------------------


def close_after_days(config=None) -> int | None:
    """FOLLOW_UP_CLOSE_AFTER_DAYS as a number of days, or None when closing is off (0)."""
    value = (config if config is not None else current_app.config).get("FOLLOW_UP_CLOSE_AFTER_DAYS")
    if value in (None, "", 0, False):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"FOLLOW_UP_CLOSE_AFTER_DAYS is {value!r}; use a whole number of days, such as "
            "60, or 0 to never close a follow-up automatically."
        )
    return value


def stale_follow_ups_query(
    today: dt.date, days: int, *, sparing_participant_id: int | None = None
) -> Select:
    """Open follow-ups with no contact for more than ``days`` days: due before
    ``today - days`` and no visit (not voided) by the person on that day or since.

    The count starts at the later of the due date and the last visit, so a follow-up
    is never closed before it has been overdue that long, and a "still waiting" answer
    (which moves the due date on) or any visit starts it again.
    """
    from ssp.visits.models import Visit

    limit_day = today - dt.timedelta(days=days)
    since = day_start(limit_day)
    seen_since = (
        select(Visit.id)
        .where(
            Visit.participant_id == FollowUp.participant_id,
            Visit.voided_at.is_(None),
            Visit.occurred_at >= since,
        )
        .exists()
    )
    query = select(FollowUp).where(
        FollowUp.status == FollowUpStatus.OPEN, FollowUp.due_on < limit_day, ~seen_since
    )
    if sparing_participant_id is not None:
        query = query.where(FollowUp.participant_id != sparing_participant_id)
    return query.order_by(FollowUp.id)


def stale_follow_ups(now: dt.datetime | None = None) -> list[FollowUp]:
    """The follow-ups ``close_stale_follow_ups`` would close now (for a dry run)."""
    days = close_after_days()
    if days is None:
        return []
    return list(db.session.scalars(stale_follow_ups_query(program_today(now), days)))


def close_stale_follow_ups(
    *, now: dt.datetime | None = None, sparing_participant_id: int | None = None
) -> list[FollowUp]:
    """Close as could not reach every open follow-up with no contact for more than
    FOLLOW_UP_CLOSE_AFTER_DAYS days; one audit row for each. Flushed, not committed.

    Idempotent: what it closes is no longer open, so a second run closes nothing. Rows
    another transaction is closing are skipped (PostgreSQL), never closed twice. A save
    about one participant spares that participant's follow-ups: staff are in touch with
    them right now. Their referrals stay as they are: a manager decides whether one is
    lost (the referrals list shows how old the open ones are).
    """
    days = close_after_days()
    if days is None:
        return []
    now = now or utcnow()
    today = program_today(now)
    query = stale_follow_ups_query(
        today, days, sparing_participant_id=sparing_participant_id
    ).with_for_update(skip_locked=True, of=FollowUp)
    follow_ups = list(db.session.scalars(query))
    if not follow_ups:
        return []
    seen = last_seen(f.participant_id for f in follow_ups)
    for follow_up in follow_ups:
        last = _day_of(seen.get(follow_up.participant_id))
        follow_up.status = FollowUpStatus.UNREACHABLE
        follow_up.outcome = FollowUpOutcome.UNREACHABLE
        follow_up.done_at = now
        follow_up.closed_automatically = True
        record(
            "follow_up_closed_automatically",
            object_type="follow_up",
            object_id=follow_up.id,
            detail={
                **follow_up.summary(),
                "participant_id": follow_up.participant_id,
                "referral_id": follow_up.referral_id,
                "last_seen_on": last.isoformat() if last else None,
                "days_without_contact": days_without_contact(follow_up.due_on, last, today),
                "close_after_days": days,
            },
        )
    db.session.flush()
    return follow_ups


#: How often a desk's visit save also looks for follow-ups to close, per process. They
#: go stale by the day, so looking on every save (about a tenth of the save's time) finds
#: nothing new; the worklist's own writes and `ssp close-stale-follow-ups` look every time.
SWEEP_EVERY_SECONDS = 300.0
_sweep_clock = time.monotonic


def close_stale_follow_ups_when_due(*, sparing_participant_id: int | None = None) -> None:
    """``close_stale_follow_ups`` at most once every SWEEP_EVERY_SECONDS in this process
    (the first save after start-up always looks)."""
    state = current_app.extensions.setdefault("ssp_follow_up_sweep", {})
    started = _sweep_clock()
    last = state.get("at")
    if last is not None and started - last < SWEEP_EVERY_SECONDS:
        return
    close_stale_follow_ups(sparing_participant_id=sparing_participant_id)
    state["at"] = started


# --- the referrals list (managers and admins) -------------------------------------------


@dataclass(frozen=True)
class ReferralFilter:
    """Which referrals the referrals list shows."""

    status: str | None = None  # a ReferralStatus value, or "open" (made or accepted)
    partner: str | None = None  # a partner id, or "none" for no partner
    category: str | None = None  # a ReferralCategory value
    site_id: int | None = None
    made_from: dt.date | None = None  # made on or after this day (program time zone)
    made_to: dt.date | None = None  # made on or before this day
    oldest_first: bool = False


def referral_list_query(filters: ReferralFilter) -> Select:
    """Referrals across participants, newest first (or oldest first). A referral made
    on a visit that was later voided counts nowhere, as in reports, so it is left out."""
    from ssp.visits.models import Visit

    query = (
        select(Referral)
        .outerjoin(Visit, Visit.id == Referral.visit_id)
        .where(Visit.voided_at.is_(None))
        .options(
            selectinload(Referral.participant),
            selectinload(Referral.partner),
            selectinload(Referral.site),
        )
    )
    if filters.status == "open":
        query = query.where(Referral.status.in_([ReferralStatus.MADE, ReferralStatus.ACCEPTED]))
    elif filters.status:
        query = query.where(Referral.status == ReferralStatus(filters.status))
    if filters.partner == "none":
        query = query.where(Referral.partner_id.is_(None))
    elif filters.partner:
        query = query.where(Referral.partner_id == int(filters.partner))
    if filters.category:
        query = query.where(Referral.category == ReferralCategory(filters.category))
    if filters.site_id:
        query = query.where(Referral.site_id == filters.site_id)
    if filters.made_from:
        query = query.where(Referral.made_at >= day_start(filters.made_from))
    if filters.made_to:
        query = query.where(Referral.made_at < day_start(filters.made_to + dt.timedelta(days=1)))
    order = Referral.made_at if filters.oldest_first else Referral.made_at.desc()
    return query.order_by(order, Referral.id if filters.oldest_first else Referral.id.desc())
