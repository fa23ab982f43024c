"""The audit trail: the ``audit_events`` table and ``record()``, which every write calls.

The trail is a hash chain, so that an edit, a removal or a reordering shows. Each row
carries ``prev_hash``, the hash of the row before it (``GENESIS`` for the first), and
``hash``, the sha256 of :func:`canonical` (a version tag, ``prev_hash`` and the row's
own contents: the time in UTC with microseconds, who, what, which object, the detail as
JSON with sorted keys, and the address). :func:`verify_chain` walks the rows in id order
and names the first one whose hash no longer matches its contents (changed after it was
recorded) or whose ``prev_hash`` is not the hash of the row before it (a row removed, or
rows reordered). ``prev_hash`` is unique, so the chain cannot fork even by accident.

Removing the newest rows, or rewriting every hash after an edit, leaves a chain that
verifies: that is what the head printed in each funder report is for (see
:func:`chain_head`). A copy held outside the program fixes the trail as it stood.

Forks: ``record()`` reads the head and inserts the next row in one transaction. On
PostgreSQL it first takes a transaction-scoped advisory lock (``AUDIT_CHAIN_LOCK``), so
audited transactions take turns from there to their commit and ids come out in chain
order; on SQLite every write transaction already holds the database's write lock
(``ssp.database``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import (
    DDL,
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    Select,
    String,
    event,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssp.database import reading_only, start_writing
from ssp.extensions import db
from ssp.i18n import _
from ssp.timeutil import utcnow

if TYPE_CHECKING:
    from ssp.staff.models import User

# Keys that must never reach the audit trail, whatever a caller passes.
_FORBIDDEN_DETAIL_KEYS = ("password", "secret", "token", "code_part")


class AuditEvent(db.Model):
    """One thing that happened: who, what, to which object, when and from where."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    # The chain: the hash of the row before (GENESIS for the first) and this row's own.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))

    # By name: the staff package itself records audit events.
    user: Mapped[User | None] = relationship("User")


# Audit rows cannot be changed or removed, by the app or by a stray UPDATE or DELETE.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events cannot be deleted'); END",
]
POSTGRESQL_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION audit_events_immutable() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit events cannot be changed or deleted'; END $$ "
    "LANGUAGE plpgsql",
    "CREATE TRIGGER audit_events_immutable BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_immutable()",
]

for _statement in SQLITE_TRIGGERS:
    event.listen(AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_TRIGGERS:
    event.listen(
        AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )


# --- the hash chain --------------------------------------------------------------------

#: The ``prev_hash`` of the first event.
GENESIS = "0" * 64
#: Written into every hashed form: a later change of the form gets a new tag.
CHAIN_VERSION = "ssp-audit-v1"
#: The PostgreSQL advisory lock that audited transactions take in turn ("ssp:audt").
AUDIT_CHAIN_LOCK = int.from_bytes(b"ssp:audt", "big")


def canonical_instant(value: dt.datetime) -> dt.datetime:
    """A time as aware UTC (a naive time is taken as UTC, as SQLite hands them back)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def canonical_time(value: dt.datetime) -> str:
    """A time as hashed: UTC, to the microsecond, with a ``Z``."""
    utc = value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
    return utc.isoformat(sep="T", timespec="microseconds") + "Z"


def canonical(
    prev_hash: str,
    occurred_at: dt.datetime,
    user_id: int | None,
    action: str,
    object_type: str | None,
    object_id: int | None,
    detail: dict[str, Any] | None,
    remote_addr: str | None,
) -> bytes:
    """The bytes an event's hash is taken over: one JSON array (so a null and an empty
    text differ, and no field can run into the next), keys sorted at every depth, ASCII
    only, no spaces."""
    fields = [
        CHAIN_VERSION,
        prev_hash,
        canonical_time(occurred_at),
        user_id,
        action,
        object_type,
        object_id,
        detail,
        remote_addr,
    ]
    return json.dumps(
        fields, sort_keys=True, ensure_ascii=True, separators=(",", ":"), allow_nan=False
    ).encode("ascii")


def event_hash(prev_hash: str, **contents: Any) -> str:
    """sha256 (hex) of an event's canonical form."""
    return hashlib.sha256(canonical(prev_hash, **contents)).hexdigest()


def _as_stored(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """The detail as it will read back from the JSON column (tuples become lists,
    number keys become text), so the hash is taken over what is kept."""
    return None if detail is None else json.loads(json.dumps(detail, allow_nan=False))


def _take_turn() -> None:
    """On PostgreSQL, wait for the chain: held until this transaction ends."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_CHAIN_LOCK})


@functools.cache
def _newest_hash() -> Select:
    return select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)  # every write


def _last_hash() -> str:
    return db.session.scalar(_newest_hash()) or GENESIS


@dataclass(frozen=True)
class ChainHead:
    """Where the trail stood: the newest event's id and hash (None and GENESIS when
    nothing has been recorded yet)."""

    event_id: int | None
    hash: str


def chain_head() -> ChainHead:
    """The newest event of the trail, read in the current transaction."""
    row = db.session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return ChainHead(None, GENESIS) if row is None else ChainHead(row.id, row.hash)


@dataclass(frozen=True)
class Verification:
    """What walking the chain found. ``problem`` is None when every event checked out;
    ``head`` is the last event that did."""

    events: int
    head: ChainHead
    problem: str | None = None
    event_id: int | None = None  # the first event that does not check out
    found_head: ChainHead | None = None  # the event carrying the ``expected_head`` asked for

    @property
    def intact(self) -> bool:
        """Whether the whole trail checked out."""
        return self.problem is None


def _changed(event_id: int) -> str:
    return _("Event #%(id)s was changed after it was recorded", id=event_id)


def _missing(event_id: int) -> str:
    return _("An event before #%(id)s is missing (or events were reordered)", id=event_id)


def _rows(batch: int) -> Any:
    columns = [
        AuditEvent.id,
        AuditEvent.occurred_at,
        AuditEvent.user_id,
        AuditEvent.action,
        AuditEvent.object_type,
        AuditEvent.object_id,
        AuditEvent.detail,
        AuditEvent.remote_addr,
        AuditEvent.prev_hash,
        AuditEvent.hash,
    ]
    statement = select(*columns).order_by(AuditEvent.id)
    # Streamed: a server-side cursor on PostgreSQL, SQLite's own stepping on SQLite. Core
    # rows, not the ORM's: a million of them pass through here.
    connection = db.session.connection()
    return connection.execution_options(yield_per=batch).execute(statement)


def verify_chain(expected_head: str | None = None, *, batch: int = 5_000) -> Verification:
    """Walk the whole trail in id order, streamed (a million rows need little memory),
    in a read transaction that holds up no desk.

    ``expected_head``: a hash (or its first 12 or more characters) printed earlier, in a
    report; ``found_head`` is the event that carries it, if one does."""
    wanted = (expected_head or "").strip().lower() or None
    count, head, found = 0, ChainHead(None, GENESIS), None
    problem = None
    with reading_only():
        rows = _rows(batch)
        try:
            for event_id, *contents, prev_hash, own_hash in rows:
                if prev_hash != head.hash:
                    problem = _missing(event_id)
                elif hashlib.sha256(canonical(prev_hash, *contents)).hexdigest() != own_hash:
                    problem = _changed(event_id)
                if problem:
                    return Verification(count, head, problem, event_id, found)
                count += 1
                head = ChainHead(event_id, own_hash)
                if wanted and found is None and own_hash.startswith(wanted):
                    found = head
        finally:
            rows.close()  # a walk that stopped early leaves no cursor open
            db.session.rollback()  # end the read transaction
    return Verification(count, head, None, None, found)


def _scrub(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    if not detail:
        return None
    return {
        key: value
        for key, value in detail.items()
        if not any(word in key.lower() for word in _FORBIDDEN_DETAIL_KEYS)
    }


def record(
    action: str,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    detail: dict[str, Any] | None = None,
    user_id: int | None = None,
    remote_addr: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (flushed, not committed).

    ``user_id`` and ``remote_addr`` default to the signed-in user and the client of the
    current request, so views need not pass them; the CLI passes neither.
    """
    # A page whose viewing is audited leaves its read phase here (the rows it read are
    # kept: an audit row changes none of them) and returns to it after the commit.
    start_writing(keep_loaded=True)
    if has_request_context():
        if action.endswith("_viewed"):
            g.view_recorded = True  # the page audited its own view
        if user_id is None and current_user and current_user.is_authenticated:
            user_id = current_user.id
        if remote_addr is None:
            remote_addr = request.remote_addr
    contents = {
        # In UTC whatever zone it came in: SQLite keeps the clock time, not the zone.
        "occurred_at": canonical_instant(occurred_at or utcnow()),
        "user_id": user_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "detail": _as_stored(_scrub(detail)),
        "remote_addr": remote_addr,
    }
    _take_turn()
    prev_hash = _last_hash()
    event = AuditEvent(**contents, prev_hash=prev_hash, hash=event_hash(prev_hash, **contents))
    db.session.add(event)
    db.session.flush()
    return event


def record_active(obj: Any, active: bool, object_type: str) -> None:
    """Set ``obj.active`` and audit it as ``<object_type>_reactivated`` or
    ``<object_type>_deactivated``; nothing at all when it already was so."""
    if obj.active == active:
        return
    obj.active = active
    record(
        f"{object_type}_{'reactivated' if active else 'deactivated'}",
        object_type=object_type,
        object_id=obj.id,
    )
