"""Writing a checked plan, and undoing a batch: each is one transaction.

The writer runs after the plan has been worked out in a read phase, so the write lock
is held only for the inserts (bulk statements, no row-by-row ORM work). Under the lock
it looks again at what may have changed since the preview: codes enrolled meanwhile
are used, not enrolled twice, and rows another import has added meanwhile fail the
whole file (the unique row key), so nothing is ever imported twice. The caller commits.

Imported visits move no stock unless asked: they are history, and today's shelves
were counted after them. Referrals imported with a visit are recorded as made at the
visit's time, with no follow-up (a follow-up due today on a referral from years ago
would only fill the worklist).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ssp.audit import record
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _, format_number, ngettext
from ssp.imports.models import ImportBatch
from ssp.imports.plan import Plan, known_codes
from ssp.participants.codes import chunked
from ssp.participants.models import Participant, ParticipantAlias
from ssp.referrals.models import FollowUp, Referral, ReferralStatus, ReferralStatusChange
from ssp.staff.models import User
from ssp.supplies.models import MovementReason, StockMovement
from ssp.timeutil import utcnow
from ssp.visits.models import Visit, VisitItem, VisitService

Progress = Callable[[int, int], None]
CHUNK = 5_000


class ImportRefused(RuleError):
    """An import that cannot go ahead as asked; the message says what to do."""


@dataclass(frozen=True)
class Choices:
    """What the manager confirmed with the preview."""

    move_stock: bool = False
    leave_out_refused: bool = False
    near_duplicates_checked: bool = False


def already_imported_batch(sha256: str) -> ImportBatch | None:
    """The batch that imported this very file, unless it was undone."""
    return db.session.scalar(
        select(ImportBatch)
        .where(ImportBatch.file_sha256 == sha256, ImportBatch.undone_at.is_(None))
        .order_by(ImportBatch.id)
        .limit(1)
    )


def write_plan(
    plan: Plan,
    user: User,
    choices: Choices,
    *,
    source: str,
    mapping_name: str | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    """Write ``plan`` as one batch (flushed, not committed); ``ImportRefused`` when the
    preview's conditions were not accepted or the file was imported meanwhile."""
    if plan.mapping_problems:
        raise ImportRefused(plan.mapping_problems[0])
    if plan.refused and not choices.leave_out_refused:
        raise ImportRefused(
            ngettext(
                "%(rows)s row is refused: correct it in the file, or choose to leave it out.",
                "%(rows)s rows are refused: correct them in the file, or choose to leave them out.",
                len(plan.refused),
                rows=format_number(len(plan.refused)),
            )
        )
    if plan.near_duplicates and not choices.near_duplicates_checked:
        raise ImportRefused(
            ngettext(
                "%(codes)s new code is one edit away from another code: check it, then "
                "confirm they are different people.",
                "%(codes)s new codes are one edit away from another code: check them, then "
                "confirm they are different people.",
                len(plan.near_duplicates),
                codes=format_number(len(plan.near_duplicates)),
            )
        )
    if not plan.visits:
        raise ImportRefused(_("Nothing to import: every row is already imported or refused."))
    earlier = already_imported_batch(plan.sha256)
    if earlier is not None:
        raise ImportRefused(
            _(
                "This file was already imported (batch %(batch)s): nothing to add. Undo that "
                "batch first to import it again.",
                batch=earlier.id,
            )
        )
    now = utcnow()
    batch = ImportBatch(
        file_name=plan.file_name[:255],
        file_sha256=plan.sha256,
        source=source,
        shape=plan.mapping.shape,
        mapping_name=mapping_name,
        spec=plan.mapping.as_spec(),
        user_id=user.id,
        imported_at=now,
        rows_read=plan.rows_read,
        rows_imported=plan.rows_to_import,
        rows_already_imported=plan.rows_already_imported,
        rows_left_out=len(plan.refused),
        moved_stock=choices.move_stock,
    )
    db.session.add(batch)
    db.session.flush()
    try:
        participants = _participant_ids(plan, batch, now)
        _write_visits(plan, batch, user, participants, choices, now, progress)
        db.session.flush()
    except (IntegrityError, *_driver_integrity_errors()):
        db.session.rollback()
        raise ImportRefused(
            _(
                "Some of these rows were imported meanwhile (another import ran at the same "
                "time): preview the file again."
            )
        ) from None
    batch.visits = len(plan.visits)
    batch.participants_created = len(plan.new_codes - set(participants.existing))
    batch.referrals = sum(len(visit.referrals) for visit in plan.visits)
    record(
        "import_completed",
        object_type="import_batch",
        object_id=batch.id,
        user_id=user.id,
        detail={
            "sha256": plan.sha256,
            "shape": plan.mapping.shape.value,
            "source": source,
            "rows_read": plan.rows_read,
            "rows_imported": plan.rows_to_import,
            "rows_already_imported": plan.rows_already_imported,
            "rows_left_out": len(plan.refused),
            "visits": batch.visits,
            "participants_created": batch.participants_created,
            "referrals": batch.referrals,
            "moved_stock": choices.move_stock,
            "near_duplicates_confirmed": len(plan.near_duplicates),
        },
    )
    return batch


@dataclass
class _Participants:
    ids: dict[str, int]
    existing: dict[str, int]


def _participant_ids(plan: Plan, batch: ImportBatch, now: dt.datetime) -> _Participants:
    """Code -> id for every code of the plan, enrolling the new ones (as of now: a code
    enrolled at the desk since the preview is used, not enrolled again)."""
    codes = {visit.code for visit in plan.visits if visit.code}
    existing = known_codes(codes)
    # A participant first seen in the file was enrolled at their first visit in it (the
    # report's new enrolments count them in that month, not in the month of the import).
    first_visit: dict[str, tuple[int, dt.datetime]] = {}
    for visit in sorted(plan.visits, key=lambda v: v.occurred_at):
        if visit.code and visit.code not in existing:
            first_visit.setdefault(visit.code, (visit.site_id, visit.occurred_at))
    rows = [
        {
            "code": code,
            "created_at": enrolled_at,
            "enrolled_site_id": site_id,
            "import_batch_id": batch.id,
            "enrolled_in_field": False,
            "review_pending": False,
        }
        for code, (site_id, enrolled_at) in sorted(first_visit.items())
    ]
    _insert(Participant, rows)
    ids = dict(existing)
    ids.update(
        db.session.execute(
            select(Participant.code, Participant.id).where(Participant.import_batch_id == batch.id)
        ).all()
    )
    return _Participants(ids, existing)


def _insert(model, rows: list[dict], progress: Callable[[int], None] | None = None) -> None:
    """Insert rows in bulk, in the session's transaction: COPY on PostgreSQL (a few times
    faster than batched INSERTs), plain multi-row INSERTs on SQLite (no RETURNING:
    SQLite would then insert row by row)."""
    if not rows:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        _copy(model.__table__, rows, progress)
        return
    for part in _parts(rows):
        db.session.execute(model.__table__.insert(), part)
        if progress:
            progress(len(part))


def _copy(table, rows: list[dict], progress: Callable[[int], None] | None) -> None:
    from psycopg import sql

    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    connection = db.session.connection().connection.dbapi_connection
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for number, row in enumerate(rows, start=1):
            copy.write_row([_plain(row[column]) for column in columns])
            if progress and number % CHUNK == 0:
                progress(CHUNK)
    if progress and len(rows) % CHUNK:
        progress(len(rows) % CHUNK)


def _plain(value):
    """An enum member as the value stored (COPY takes values, not SQLAlchemy types)."""
    return value.value if isinstance(value, enum.Enum) else value


def _write_visits(
    plan: Plan,
    batch: ImportBatch,
    user: User,
    participants: _Participants,
    choices: Choices,
    now: dt.datetime,
    progress: Progress | None,
) -> None:
    items_count = sum(len(visit.items) + len(visit.services) for visit in plan.visits)
    total = len(plan.visits) + items_count
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        if progress:
            progress(done, total)

    _insert(
        Visit,
        [
            {
                "participant_id": participants.ids[visit.code] if visit.code else None,
                "site_id": visit.site_id,
                "user_id": user.id,
                "occurred_at": visit.occurred_at,
                "kind": visit.kind,
                "secondary_reach": 0,
                "syringes_collected": visit.syringes_collected,
                "created_at": now,
                "people_count": 1,
                "import_batch_id": batch.id,
                "import_key": visit.key,
            }
            for visit in plan.visits
        ],
        advance,
    )
    ids = dict(
        db.session.execute(
            select(Visit.import_key, Visit.id).where(Visit.import_batch_id == batch.id)
        ).all()
    )
    items, services, movements, referrals = [], [], [], []
    for visit in plan.visits:
        visit_id = ids[visit.key]
        for item_id, quantity, reason in visit.items:
            items.append(
                {
                    "visit_id": visit_id,
                    "supply_item_id": item_id,
                    "quantity": quantity,
                    "reason": reason,
                }
            )
            if choices.move_stock:
                movements.append(
                    {
                        "site_id": visit.site_id,
                        "supply_item_id": item_id,
                        "delta": -quantity,
                        "reason": MovementReason.DISTRIBUTION,
                        "visit_id": visit_id,
                        "user_id": user.id,
                        "occurred_at": visit.occurred_at,
                        "recorded_at": now,
                    }
                )
        services += [
            {"visit_id": visit_id, "service": service, "count": count}
            for service, count in visit.services.items()
        ]
        referrals += [
            {
                "participant_id": participants.ids[visit.code],
                "visit_id": visit_id,
                "category": category,
                "status": ReferralStatus.MADE,
                "made_at": visit.occurred_at,
                "user_id": user.id,
                "site_id": visit.site_id,
            }
            for category in visit.referrals
        ]
    _insert(VisitItem, items, advance)
    _insert(VisitService, services, advance)
    _insert(StockMovement, movements)
    _write_referrals(referrals, batch, user)


def _write_referrals(rows: list[dict], batch: ImportBatch, user: User) -> None:
    """The referrals made at imported visits, each with its first status change."""
    if not rows:
        return
    _insert(Referral, rows)
    made = db.session.execute(
        select(Referral.id, Referral.made_at)
        .join(Visit, Visit.id == Referral.visit_id)
        .where(Visit.import_batch_id == batch.id)
    ).all()
    _insert(
        ReferralStatusChange,
        [
            {
                "referral_id": referral_id,
                "from_status": None,
                "to_status": ReferralStatus.MADE,
                "changed_at": made_at,
                "user_id": user.id,
                "correction": False,
            }
            for referral_id, made_at in made
        ],
    )


def _driver_integrity_errors() -> tuple[type[Exception], ...]:
    """psycopg's own, which COPY raises without SQLAlchemy's wrapping."""
    try:
        from psycopg import errors
    except ImportError:  # pragma: no cover (psycopg is a dependency)
        return ()
    return (errors.IntegrityError,)


def _parts(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- undo ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UndoResult:
    """What undoing a batch removed."""

    visits: int
    participants: int
    participants_kept: int
    referrals: int


def undo_batch(batch: ImportBatch, user: User) -> UndoResult:
    """Take a batch back out (flushed, not committed): its visits with their items,
    services, stock movements and referrals, and the participants it enrolled unless
    something else was recorded for them since. The batch row stays, marked undone, and
    its rows' keys are freed, so a corrected file can be imported again."""
    if batch.undone:
        raise ImportRefused(_("This import was already undone."))
    visit_ids = list(db.session.scalars(select(Visit.id).where(Visit.import_batch_id == batch.id)))
    referral_ids: list[int] = []
    for ids in chunked(visit_ids):
        referral_ids += db.session.scalars(select(Referral.id).where(Referral.visit_id.in_(ids)))
    follow_ups = 0
    for ids in chunked(referral_ids):
        follow_ups += (
            db.session.execute(delete(FollowUp).where(FollowUp.referral_id.in_(ids))).rowcount or 0
        )
        db.session.execute(
            delete(ReferralStatusChange).where(ReferralStatusChange.referral_id.in_(ids))
        )
        db.session.execute(delete(Referral).where(Referral.id.in_(ids)))
    for ids in chunked(visit_ids):
        for model in (StockMovement, VisitItem, VisitService):
            db.session.execute(delete(model).where(model.visit_id.in_(ids)))
        db.session.execute(delete(Visit).where(Visit.id.in_(ids)))
    removed, kept = _remove_enrolled(batch)
    batch.undone_at = utcnow()
    batch.undone_by = user.id
    result = UndoResult(len(visit_ids), removed, kept, len(referral_ids))
    record(
        "import_undone",
        object_type="import_batch",
        object_id=batch.id,
        user_id=user.id,
        detail={
            "visits": result.visits,
            "participants_removed": result.participants,
            "participants_kept": result.participants_kept,
            "referrals": result.referrals,
            "follow_ups": follow_ups,
        },
    )
    db.session.flush()
    return result


def _remove_enrolled(batch: ImportBatch) -> tuple[int, int]:
    """Remove the participants the batch enrolled that nothing else points at."""
    from ssp.participants.services import _tables_linked_to_participants

    linked = _tables_linked_to_participants()
    candidates = select(Participant.id).where(Participant.import_batch_id == batch.id)
    enrolled = list(db.session.scalars(candidates))
    links = [
        exists().where(Visit.participant_id == Participant.id),
        exists().where(ParticipantAlias.participant_id == Participant.id),
    ] + [exists().where(table.c.participant_id == Participant.id) for table in linked]
    in_use = select(Participant.id).where(Participant.import_batch_id == batch.id, or_(*links))
    kept = set(db.session.scalars(in_use))
    removable = [pid for pid in enrolled if pid not in kept]
    for ids in chunked(removable):
        db.session.execute(delete(Participant).where(Participant.id.in_(ids)))
    _hand_over(kept)
    return len(removable), len(kept)


def _hand_over(kept: set[int]) -> None:
    """A participant kept because another import's visits remain (and nothing else) now
    belongs to that import, so undoing it removes them too; anyone seen otherwise since
    belongs to no import."""
    from ssp.participants.services import _tables_linked_to_participants

    for participant_id in kept:
        batches = set(
            db.session.scalars(
                select(Visit.import_batch_id).where(Visit.participant_id == participant_id)
            )
        )
        other_links = (
            db.session.scalar(
                select(func.count())
                .select_from(ParticipantAlias)
                .where(ParticipantAlias.participant_id == participant_id)
            )
            or any(
                db.session.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(table.c.participant_id == participant_id)
                )
                for table in _tables_linked_to_participants()
                if table.name != "referrals"
            )
            or db.session.scalar(
                select(func.count())
                .select_from(Referral)
                .where(Referral.participant_id == participant_id)
                .where(
                    Referral.visit_id.not_in(
                        select(Visit.id).where(Visit.import_batch_id.is_not(None))
                    )
                )
            )
        )
        owner = max(batches) if batches and None not in batches and not other_links else None
        db.session.execute(
            update(Participant)
            .where(Participant.id == participant_id)
            .values(import_batch_id=owner)
        )
