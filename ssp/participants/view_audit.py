"""Who was shown to whom: every page that shows a participant's code writes an audit row.

After a page (HTML, or the search's JSON; shown normally or with form errors) is
rendered, the participants the request loaded whose code (or alias) appears in it are
recorded in one row ("participants_shown": the page and the participants' ids). Pages
that audit their own view (the participant page, the wallet card) are left to do so.
The row never makes the desk wait: on SQLite, when another writer holds the lock, it is
kept in this process and written with the next page view that gets the lock (with the
time of the view it records). Rows still waiting when the process ends are lost; in
practice the lock is held for milliseconds, so the next view writes them.
"""

from __future__ import annotations

import threading
from collections import deque

from flask import Flask, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import event, exc

from ssp.audit import record
from ssp.database import without_waiting
from ssp.extensions import db
from ssp.participants.models import Participant, ParticipantAlias
from ssp.timeutil import utcnow


def _loaded(target, _context=None, _attrs=None) -> None:
    """Note each participant (or alias) the request loads, with its code."""
    if not has_request_context():
        return
    state = target.__dict__
    code = state.get("code")
    participant_id = (
        state.get("id") if isinstance(target, Participant) else state.get("participant_id")
    )
    if code and participant_id is not None:
        g.setdefault("loaded_codes", set()).add((participant_id, code))


for _model in (Participant, ParticipantAlias):
    event.listen(_model, "load", _loaded)
    event.listen(_model, "refresh", _loaded)


def _shown(body: bytes) -> list[int]:
    return sorted({pid for pid, code in g.get("loaded_codes", set()) if code.encode() in body})


def register_view_audit(app: Flask) -> None:
    """Install the after-request hook."""

    @app.after_request
    def record_participants_shown(response):
        if (
            response.status_code not in (200, 422)
            or response.mimetype not in ("text/html", "application/json")
            or response.direct_passthrough
            or g.get("view_recorded")
            or not g.get("loaded_codes")
        ):
            return response
        shown = _shown(response.get_data())
        if shown:
            _PENDING.append(
                {
                    "detail": {"endpoint": request.endpoint or "", "participants": shown},
                    "user_id": current_user.id if current_user.is_authenticated else None,
                    "remote_addr": request.remote_addr,
                    "occurred_at": utcnow(),
                }
            )
            _write_pending()
        return response


_PENDING: deque[dict] = deque(maxlen=100_000)
_PENDING_LOCK = threading.Lock()


def _write_pending() -> None:
    """Write every waiting view row in one transaction, or keep them all for later."""
    with _PENDING_LOCK:
        rows = list(_PENDING)
        _PENDING.clear()
    try:
        with without_waiting():
            for row in rows:
                record("participants_shown", object_type="page", **row)
            db.session.commit()
    except exc.OperationalError:
        db.session.rollback()
        with _PENDING_LOCK:
            _PENDING.extendleft(reversed(rows))


__all__ = ["register_view_audit"]
