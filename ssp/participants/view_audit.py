"""Who was shown to whom: every page that shows a participant's code writes an audit row.

After a page (HTML, or the search's JSON; shown normally or with form errors) is
rendered, the participants the request loaded whose code (or alias) appears in it are
recorded in one row ("participants_shown": the page and the participants' ids). Pages
that audit their own view (the participant page, the wallet card) are left to do so.
Written and committed before the page is sent: if the row cannot be written, the page
is not shown.
"""

from __future__ import annotations

from flask import Flask, g, has_request_context, request
from sqlalchemy import event

from ssp.audit import record
from ssp.extensions import db
from ssp.participants.models import Participant, ParticipantAlias


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
            record(
                "participants_shown",
                object_type="page",
                detail={"endpoint": request.endpoint or "", "participants": shown},
            )
            db.session.commit()
        return response


__all__ = ["register_view_audit"]
