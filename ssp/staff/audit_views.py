"""The audit trail for administrators: filter by user, action, object and dates; CSV.

Each event reads as a sentence (``ssp.staff.audit_words``); the CSV keeps the raw columns
for machines and adds the sentence beside the action.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, current_app, render_template, request, stream_with_context
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.forms import date_arg, parse_id
from ssp.security import Role, role_required
from ssp.staff import bp
from ssp.staff.audit_words import Names, describe, label_of, object_type_words, object_words
from ssp.staff.models import User
from ssp.staff.sessions import recent_sign_in_required
from ssp.supplies.stock import csv_text
from ssp.timeutil import day_start, local_time, utcnow


def _filtered() -> Select:
    """Audit events matching the query string, newest first (bad values give 400)."""
    query = select(AuditEvent).options(selectinload(AuditEvent.user))
    user = request.args.get("user", "")
    if user:
        user_id = parse_id(user)
        if user_id is None:
            abort(400)
        query = query.where(AuditEvent.user_id == user_id)
    action = request.args.get("action", "").strip()
    if action:
        if len(action) > 64:
            abort(400)
        query = query.where(AuditEvent.action == action)
    object_type = request.args.get("object_type", "").strip()
    if object_type:
        if len(object_type) > 64:
            abort(400)
        query = query.where(AuditEvent.object_type == object_type)
    object_id = request.args.get("object_id", "")
    if object_id:
        number = parse_id(object_id)
        if number is None:
            abort(400)
        query = query.where(AuditEvent.object_id == number)
    start, end = date_arg("start"), date_arg("end")
    if start and end and start > end:
        abort(400)
    if start:
        query = query.where(AuditEvent.occurred_at >= day_start(start))
    if end:
        query = query.where(AuditEvent.occurred_at < day_start(end + dt.timedelta(days=1)))
    if request.args.get("page", "1") and parse_id(request.args.get("page", "1")) is None:
        abort(400)
    return query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


@bp.get("/admin/audit")
@role_required(Role.ADMIN)
@recent_sign_in_required()
def audit():
    """Every recorded action, filtered and paged."""
    page = db.paginate(
        _filtered(),
        per_page=current_app.config["AUDIT_PAGE_SIZE"],
        max_per_page=500,
        error_out=False,
    )
    names = Names().prepare(page.items)
    actions = db.session.scalars(select(AuditEvent.action).distinct())
    object_types = db.session.scalars(select(AuditEvent.object_type).distinct())
    return render_template(
        "staff/audit.html",
        page=page,
        rows=[(event, describe(event, names), object_words(event)) for event in page.items],
        args=request.args,
        users=list(db.session.scalars(select(User).order_by(User.username))),
        actions=sorted(((a, label_of(a)) for a in actions), key=lambda pair: pair[1].lower()),
        object_types=sorted(
            ((t, object_type_words(t)) for t in object_types if t),
            key=lambda pair: pair[1].lower(),
        ),
        query_args={k: v for k, v in request.args.items() if k != "page"},
    )


AUDIT_COLUMNS = [
    "event_id",
    "occurred_at_local",
    "user",
    "action",
    "what_happened",
    "object_type",
    "object_id",
    "remote_addr",
    "detail",
]


def _rows(query: Select):
    import json

    yield AUDIT_COLUMNS
    names = Names()
    events = db.session.scalars(query.execution_options(yield_per=1000))
    for batch in events.partitions():
        names.prepare(batch)
        for event in batch:
            yield [
                event.id,
                local_time(event.occurred_at).isoformat(timespec="seconds"),
                event.user.username if event.user else "",
                event.action,
                str(describe(event, names)),
                event.object_type or "",
                event.object_id or "",
                event.remote_addr or "",
                json.dumps(event.detail, sort_keys=True) if event.detail else "",
            ]


@bp.get("/admin/audit.csv")
@role_required(Role.ADMIN)
@recent_sign_in_required()
def audit_csv():
    """The filtered audit trail as CSV."""
    from ssp.audit import record

    query = _filtered()
    record(
        "audit_exported",
        object_type="audit_events",
        detail={k: v for k, v in request.args.items() if k != "page"},
    )
    db.session.commit()
    name = f"audit-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(csv_text(_rows(query))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
