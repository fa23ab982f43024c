"""Saving what the desk typed: a visit, the referral made at it and the follow-up answers
given, as one unit of work.

The visit form reads in a read phase (no lock); this module ends it, re-reads the rows
it will change inside the write transaction, calls the services, and commits once. It
answers with what happened, never with an exception, so the view only maps the outcome
onto the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from ssp.database import start_writing
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _l
from ssp.referrals.services import (
    ReferralError,
    close_stale_follow_ups_when_due,
    make_referral,
    record_outcome,
)
from ssp.staff.models import User
from ssp.visits import services
from ssp.visits.services import VisitDetails, VisitError, VisitProblems

CHANGED_MEANWHILE = _l(
    "The visit could not be saved because the records changed meanwhile. "
    "Nothing was written; check the form and save again."
)


@dataclass(frozen=True)
class DeskEntry:
    """One save of the visit form, as plain values."""

    participant_id: int | None
    details: VisitDetails
    submission_key: str | None = None
    referral: dict | None = None  # keyword arguments for make_referral
    outcomes: tuple = ()  # (follow-up, outcome) pairs answered on this visit


@dataclass
class DeskResult:
    """What became of a save: the visit's id (new, or the one this same form saved
    before; read before the commit, which expires the row), or the refusals, each naming
    its service field ("referral.<field>" for the referral's).
    """

    visit_id: int | None = None
    already_saved: bool = False
    problems: list[RuleError] = field(default_factory=list)

    @property
    def saved(self) -> bool:
        return self.visit_id is not None


def save_desk_visit(entry: DeskEntry, user: User) -> DeskResult:
    """Record the visit with its referral and follow-up answers, committed together, or
    nothing at all. A form sent twice (a double click, a retry) finds its first save:
    the visit's unique submission key refuses the second, so the common case (a form
    sent once) needs no look-up first."""
    # The rows just read (sites, items, the participant) are only checked; a follow-up
    # and its referral are changed, so they are read again inside the write transaction.
    changing = [follow_up for follow_up, _ in entry.outcomes]
    changing += [follow_up.referral for follow_up in changing if follow_up.referral]
    start_writing(keep_loaded=True)
    for row in changing:
        db.session.expire(row)
    try:
        visit = services.record_visit(
            participant_id=entry.participant_id,
            details=entry.details,
            user=user,
            submission_key=entry.submission_key,
        )
        if entry.participant_id is not None and entry.referral is not None:
            make_referral(
                participant_id=entry.participant_id,
                user=user,
                site_id=visit.site_id,
                visit_id=visit.id,
                made_at=visit.occurred_at,
                **entry.referral,
            )
        for follow_up, outcome in entry.outcomes:
            record_outcome(follow_up, outcome, user=user)
        # The desk's saves keep the worklist true: follow-ups nobody could reach for
        # too long close (never this participant's: they are here now), looked for
        # every few minutes.
        close_stale_follow_ups_when_due(sparing_participant_id=entry.participant_id)
        saved = DeskResult(visit_id=visit.id)
        db.session.commit()
    except (VisitProblems, VisitError, ReferralError, IntegrityError) as refused:
        db.session.rollback()
        # Sent before and saved then (a retry after the rules changed, or two at once).
        earlier = _saved_before(entry.submission_key)
        return earlier or DeskResult(problems=_problems(refused))
    return saved


def _saved_before(submission_key: str | None) -> DeskResult | None:
    earlier = services.visit_by_submission_key(submission_key) if submission_key else None
    if earlier is None:
        return None
    return DeskResult(visit_id=earlier.id, already_saved=True)


def _problems(refused: Exception) -> list[RuleError]:
    if isinstance(refused, VisitProblems):
        return list(refused.problems)
    if isinstance(refused, ReferralError):
        return [RuleError(str(refused), f"referral.{refused.field or ''}")]
    if isinstance(refused, VisitError):
        return [refused]
    return [RuleError(str(CHANGED_MEANWHILE))]  # a row changed under the save
