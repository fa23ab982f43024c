"""The audit trail: the ``audit_events`` table and ``record()``, which every write calls."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import DDL, JSON, DateTime, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssp.database import start_writing
from ssp.extensions import db
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
    event = AuditEvent(
        occurred_at=occurred_at or utcnow(),
        user_id=user_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=_scrub(detail),
        remote_addr=remote_addr,
    )
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
