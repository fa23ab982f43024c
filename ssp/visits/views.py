"""Log a visit (for a participant or an anonymous walk-in), look at, correct or void one."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ssp.database import reads_first, start_writing
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.forms import posted_ids, save, show_rule_error
from ssp.participants.models import Participant
from ssp.referrals.services import (
    ReferralError,
    active_partners,
    make_referral,
    open_follow_ups,
    record_outcome,
)
from ssp.staff.models import Site
from ssp.staff.services import active_sites
from ssp.supplies.services import active_catalogue, catalogue_items
from ssp.timeutil import local_time, program_today, program_zone, utcnow
from ssp.visits import bp, services
from ssp.visits.forms import VoidForm, visit_form
from ssp.visits.models import Visit, VisitKind
from ssp.visits.services import VisitError

# The visit kind that usually goes with a site's kind.
KIND_FOR_SITE = {
    "fixed": VisitKind.FIXED,
    "satellite": VisitKind.FIXED,
    "mobile": VisitKind.MOBILE,
    "outreach": VisitKind.OUTREACH,
}


def _to_utc(local: dt.datetime | None) -> dt.datetime | None:
    """A naive time typed in the program's time zone, as aware UTC."""
    if local is None:
        return None
    return local.replace(tzinfo=program_zone()).astimezone(dt.UTC)


def _now_local_minute() -> dt.datetime:
    return local_time(utcnow()).replace(second=0, microsecond=0, tzinfo=None)


def _sites_for_form(current_site_id: int | None = None):
    sites = active_sites()
    if current_site_id and all(site.id != current_site_id for site in sites):
        site = db.session.get(Site, current_site_id)  # a since-deactivated site stays
        if site is not None:
            sites.append(site)
    return sites


def _catalogue_for_post() -> list:
    """The active catalogue, plus any item the posted form names that has since gone
    inactive, so that the person sees why it was refused instead of losing it silently."""
    catalogue = active_catalogue()
    if request.method == "POST":
        known = {item.id for item in catalogue}
        posted = posted_ids(request.form, "item_")
        catalogue += catalogue_items(posted - known)
    return catalogue


def _new_form(participant: Participant | None, prefill_from: Visit | None = None):
    """A blank visit form with the user's site, the matching kind and the time now.

    For a participant it also offers a referral and the open follow-ups' outcomes.
    """
    sites = _sites_for_form()
    extras = {}
    if participant is not None:
        extras = {"partners": active_partners(), "follow_ups": open_follow_ups(participant.id)}
    form = visit_form(_catalogue_for_post(), sites, **extras)
    if request.method == "GET":
        site = current_user.site if current_user.site and current_user.site.active else None
        site = site or (sites[0] if sites else None)
        if site is not None:
            form.site_id.data = site.id
            form.kind.data = KIND_FOR_SITE.get(site.kind.value, VisitKind.FIXED).value
        form.occurred_at.data = _now_local_minute()
        if prefill_from is not None:
            _prefill_items(form, prefill_from)
    return form


def _prefill_items(form, visit: Visit) -> None:
    """Copy the last visit's quantities, and nothing that records an event: each
    naloxone reason is chosen afresh (a copied "used on someone" would report a new
    overdose reversal), and services, referrals and outcomes are never copied."""
    for line in visit.items:
        name = f"item_{line.supply_item_id}"
        if name in form:
            form[name].data = line.quantity


def _first_reason_to_choose(form) -> str | None:
    """The id of the first reason box beside a pre-filled quantity (it takes focus)."""
    for _, rows in form.items_by_category():
        for _, quantity, reason in rows:
            if reason is not None and quantity.data and not reason.data:
                return reason.id
    return None


# Where a referral service refusal shows on the visit form.
REFERRAL_FIELDS = {
    "category": "referral_category",
    "partner_id": "referral_partner_id",
    "note": "referral_note",
}


def _saved(participant: Participant | None):
    # No code in the message: flashes travel in the (signed, not encrypted) cookie.
    flash("Visit saved." if participant else "Anonymous walk-in visit saved.", "success")
    return redirect(url_for("dashboard.index"), 303)


def _save_new(form, participant: Participant | None):
    """Validate and record the visit with its referral and follow-up outcomes, in one
    transaction; returns a redirect on success, else None (the form shows the errors)."""
    if not form.validate_on_submit():
        return None
    key = form.submission_key.data or None
    if key and services.visit_by_submission_key(key) is not None:
        return _saved(participant)  # a resubmitted form: saved the first time
    details = form.details(_to_utc(form.occurred_at.data))
    referral = form.referral_values()
    outcomes = form.follow_up_outcomes()
    participant_id = participant.id if participant else None
    # The rows just read (sites, items, the participant) are only checked; a follow-up
    # and its referral are changed, so they are read again inside the write transaction.
    changing = [follow_up for follow_up, _ in outcomes]
    changing += [follow_up.referral for follow_up in changing if follow_up.referral]
    start_writing(keep_loaded=True)
    for row in changing:
        db.session.expire(row)
    user = current_user._get_current_object()
    try:
        visit = services.record_visit(
            participant_id=participant_id,
            details=details,
            user=user,
            submission_key=key,
        )
        if participant_id is not None and referral is not None:
            make_referral(
                participant_id=participant_id,
                user=user,
                site_id=visit.site_id,
                visit_id=visit.id,
                made_at=visit.occurred_at,
                **referral,
            )
        for follow_up, outcome in outcomes:
            record_outcome(follow_up, outcome, user=user)
        db.session.commit()
    except VisitError as error:
        db.session.rollback()
        show_rule_error(form, error)
        return None
    except ReferralError as error:
        db.session.rollback()
        show_rule_error(form, RuleError(str(error), REFERRAL_FIELDS.get(error.field or "")))
        return None
    except IntegrityError:
        db.session.rollback()
        if key and services.visit_by_submission_key(key) is not None:
            return _saved(participant)  # the same form, submitted twice at once
        form.form_errors.append(
            "The visit could not be saved because the records changed meanwhile. "
            "Nothing was written; check the form and save again."
        )
        return None
    return _saved(participant)


@bp.route("/participants/<int:participant_id>/visits/new", methods=["GET", "POST"])
@reads_first
def new(participant_id: int):
    """The visit form for a participant; ?same=1 pre-fills the last visit's supplies."""
    participant = db.get_or_404(Participant, participant_id)
    prefill = services.previous_visit(participant.id) if request.args.get("same") else None
    form = _new_form(participant, prefill)
    saved = _save_new(form, participant)
    if saved is not None:
        return saved
    return render_template(
        "visits/new.html",
        form=form,
        participant=participant,
        same=prefill is not None,
        focus_reason=_first_reason_to_choose(form) if prefill is not None else None,
        today=program_today(),
    ), (422 if request.method == "POST" else 200)


@bp.route("/visits/walk-in", methods=["GET", "POST"])
@reads_first
def walk_in():
    """A visit with no participant record (an anonymous walk-in), counted separately."""
    form = _new_form(None)
    saved = _save_new(form, None)
    if saved is not None:
        return saved
    return render_template("visits/new.html", form=form, participant=None, same=False), (
        422 if request.method == "POST" else 200
    )


def _visit_or_404(visit_id: int) -> Visit:
    visit = services.visit_with_details(visit_id)
    if visit is None:
        abort(404)
    return visit


@bp.get("/visits/<int:visit_id>")
def show(visit_id: int):
    """One visit in full, with correct and void actions for those allowed."""
    visit = _visit_or_404(visit_id)
    user = current_user._get_current_object()
    return render_template(
        "visits/show.html",
        visit=visit,
        void_form=VoidForm(),
        may_change=not visit.voided and services.may_change(user, visit),
    )


@bp.route("/visits/<int:visit_id>/edit", methods=["GET", "POST"])
def edit(visit_id: int):
    """Correct a visit: front desk their own site's visits of today; managers any."""
    visit = _visit_or_404(visit_id)
    user = current_user._get_current_object()
    if not services.may_change(user, visit) or visit.voided:
        abort(403)
    catalogue = active_catalogue()
    on_visit = {line.supply_item_id for line in visit.items}
    catalogue += [
        line.supply_item
        for line in visit.items
        if not line.supply_item.active and line.supply_item_id in on_visit
    ]
    form = visit_form(catalogue, _sites_for_form(visit.site_id))
    if request.method == "GET":
        form.site_id.data = visit.site_id
        form.kind.data = visit.kind.value
        form.occurred_at.data = local_time(visit.occurred_at).replace(tzinfo=None)
        form.syringes_collected.data = visit.syringes_collected
        form.secondary_reach.data = visit.secondary_reach
        _prefill_items(form, visit)
        for line in visit.services:
            form[f"service_{line.service.value}"].data = line.count
    elif form.validate_on_submit() and save(
        form,
        lambda: services.update_visit(
            visit, details=form.details(_to_utc(form.occurred_at.data)), user=user
        ),
        "Visit corrected.",
    ):
        return redirect(url_for("visits.show", visit_id=visit.id), 303)
    return render_template("visits/edit.html", form=form, visit=visit), (
        422 if request.method == "POST" else 200
    )


@bp.post("/visits/<int:visit_id>/void")
def void(visit_id: int):
    """Void a visit with a reason; it keeps its rows and counts nowhere."""
    visit = _visit_or_404(visit_id)
    user = current_user._get_current_object()
    if not services.may_change(user, visit):
        abort(403)
    form = VoidForm()
    if form.validate_on_submit() and save(
        form,
        lambda: services.void_visit(visit, reason=form.reason.data, user=user),
        "Visit voided. It stays on record and counts nowhere.",
    ):
        return redirect(url_for("visits.show", visit_id=visit.id), 303)
    return render_template(
        "visits/show.html", visit=visit, void_form=form, may_change=not visit.voided
    ), 422
