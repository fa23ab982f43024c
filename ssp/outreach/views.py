"""The outreach screen, its service worker and API, zones, and the review list."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from ssp.database import start_writing
from ssp.extensions import db
from ssp.forms import ConfirmForm, require_confirmed_post, save
from ssp.i18n import _
from ssp.outreach import services
from ssp.outreach.forms import ZoneForm
from ssp.outreach.models import HeldContact, HeldStatus, Zone
from ssp.participants.models import Participant
from ssp.security import Role, public, role_required
from ssp.supplies.models import SupplyItem
from ssp.textinput import checks_own_json

bp = Blueprint("outreach", __name__)

MANAGERS = (Role.MANAGER, Role.ADMIN)


@bp.get("/outreach/")
def screen():
    """The phone screen; it works offline once opened (see the service worker)."""
    return render_template(
        "outreach/index.html", scheme=current_app.config["PARTICIPANT_CODE_SCHEME"]
    )


@bp.get("/outreach/sw.js")
@public
def service_worker():
    """The service worker, served from /outreach/ so that it controls only that path."""
    path = current_app.static_folder + "/js/outreach-sw.js"
    with open(path, encoding="utf-8") as source:
        body = source.read()
    # The worker has no page to read its words from: the one sentence it may show is
    # put in here, in the language of whoever loads it.
    body = body.replace('"__NOT_KEPT__"', json.dumps(_("Offline, and this page was not kept.")))
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/outreach/"
    return response


@bp.get("/outreach/api/setup")
def setup():
    """What the screen needs to work offline: the key to seal to, sites, zones, items."""
    if services.current_key() is None:
        start_writing()
        services.rotate_key()
        db.session.commit()
    return jsonify({**services.setup_for(current_user), "csrf_token": generate_csrf()})


@bp.post("/outreach/api/sync")
@checks_own_json  # each contact is checked, and answered, on its own
def sync():
    """Record the sealed contacts sent; one answer per contact, in order."""
    payload = request.get_json(silent=True)
    contacts = payload.get("contacts") if isinstance(payload, dict) else None
    if not isinstance(contacts, list):
        return jsonify(error=_('Send {"contacts": [...]}.')), 400
    try:
        answers = services.sync(contacts, current_user._get_current_object())
    except services.OutreachError as error:
        too_many = isinstance(error, services.BatchTooLarge)
        return jsonify(error=str(error)), 413 if too_many else 400
    return jsonify(results=[answer.as_json() for answer in answers])


# --- zones (admin) ---------------------------------------------------------------------


@bp.route("/outreach/zones", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def zones():
    """The named areas teams choose from; renamed never, retired instead."""
    form = ZoneForm()
    if form.validate_on_submit():
        name = " ".join(form.name.data.split())
        if db.session.scalar(select(Zone.id).where(Zone.name == name)):
            form.name.errors = [_("A zone with this name exists.")]
        elif save(form, lambda: services.add_zone(name), _("Added the zone %(name)s.", name=name)):
            return redirect(url_for("outreach.zones"), 303)
    all_zones = db.session.scalars(select(Zone).order_by(Zone.active.desc(), Zone.name)).all()
    return render_template(
        "outreach/zones.html", form=form, zones=all_zones, confirm_form=ConfirmForm()
    ), (422 if request.method == "POST" else 200)


@bp.post("/outreach/zones/<int:zone_id>/active")
@role_required(Role.ADMIN)
def zone_active(zone_id: int):
    """Retire a zone (or bring it back): history keeps pointing at it."""
    require_confirmed_post()
    zone = db.get_or_404(Zone, zone_id)
    services.set_zone_active(zone, request.form.get("active") == "1")
    db.session.commit()
    return redirect(url_for("outreach.zones"), 303)


# --- review (managers) ------------------------------------------------------------------


@bp.get("/outreach/review")
@role_required(*MANAGERS)
def review():
    """Contacts the rules held back, and people enrolled in the field to review."""
    held = services.held_contacts()
    services.note_codes_shown(held)
    items = {item.id: item for item in db.session.scalars(select(SupplyItem))}
    return render_template(
        "outreach/review.html",
        held=[(contact, services.held_summary(contact.contact, items)) for contact in held],
        enrolments=services.field_enrolments_to_review(),
        confirm_form=ConfirmForm(),
    )


def _held_or_409(held_id: int) -> HeldContact:
    require_confirmed_post()
    held = db.get_or_404(HeldContact, held_id)
    if held.status != HeldStatus.HELD:
        abort(409)
    return held


@bp.post("/outreach/held/<int:held_id>/retry")
@role_required(*MANAGERS)
def held_retry(held_id: int):
    """Record a held contact again under today's rules."""
    held = _held_or_409(held_id)
    saved, outcome = services.retry_held(held, current_user._get_current_object())
    flash(outcome, "success" if saved else "error")
    return redirect(url_for("outreach.review"), 303)


@bp.post("/outreach/held/<int:held_id>/discard")
@role_required(*MANAGERS)
def held_discard(held_id: int):
    """Decide a held contact is not to be recorded (audited)."""
    held = _held_or_409(held_id)
    user = current_user._get_current_object()
    save(ConfirmForm(), lambda: services.discard_held(held, user), _("Discarded the held contact."))
    return redirect(url_for("outreach.review"), 303)


@bp.post("/outreach/enrolments/<int:participant_id>/reviewed")
@role_required(*MANAGERS)
def enrolment_reviewed(participant_id: int):
    """A manager has checked a field enrolment against its near duplicates."""
    require_confirmed_post()
    participant = db.get_or_404(Participant, participant_id)
    save(ConfirmForm(), lambda: services.mark_reviewed(participant), _("Marked as reviewed."))
    return redirect(url_for("outreach.review"), 303)
