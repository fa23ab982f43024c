"""Log a visit (for a participant or an anonymous walk-in), look at, correct or void one."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ssp.database import reads_first
from ssp.extensions import db
from ssp.forms import date_arg, parse_id, posted_ids, save
from ssp.i18n import _
from ssp.participants.models import Participant
from ssp.referrals.services import active_partners, open_follow_ups
from ssp.security import Role
from ssp.staff.models import Site
from ssp.staff.services import active_sites
from ssp.supplies.services import active_catalogue, catalogue_items
from ssp.timeutil import local_time, program_today, program_zone, utcnow
from ssp.visits import bp, services
from ssp.visits.day import summary_line, tally, visits_of_day
from ssp.visits.desk import DeskEntry, save_desk_visit
from ssp.visits.forms import VoidForm, visit_form
from ssp.visits.layout import rarely_used_categories
from ssp.visits.models import Visit, VisitKind

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
    for _category, rows in form.items_by_category():
        for _item, quantity, reason in rows:
            if reason is not None and quantity.data and not reason.data:
                return reason.id
    return None


# Where a referral service refusal shows on the visit form.
REFERRAL_FIELDS = {
    "referral.category": "referral_category",
    "referral.partner_id": "referral_partner_id",
    "referral.note": "referral_note",
}


def _saved(visit_id: int, walk_in: bool):
    """Back to the search box, which says what was saved and links to correct it. No
    code in the message: flashes travel in the (signed, not encrypted) cookie."""
    flash(_("Anonymous walk-in visit saved.") if walk_in else _("Visit saved."), "success")
    return redirect(url_for("dashboard.index", saved=visit_id), 303)


def _show_problems(form, problems) -> None:
    """Each refusal beside its field (one message a field: the form's own check first),
    or at the top of the form."""
    for problem in problems:
        name = REFERRAL_FIELDS.get(problem.field or "", problem.field)
        field = form[name] if name and name in form else None
        if field is None:
            form.form_errors.append(str(problem))
        elif not field.errors:
            field.errors = [str(problem)]


def _save_new(form, participant: Participant | None):
    """Check the whole form, showing every problem at once; save it as one unit of work.
    Returns a redirect when saved, else None (the form shows what to fix)."""
    if request.method != "POST":
        return None
    valid = form.validate_on_submit()
    typed_time = None if form.occurred_at.errors else form.occurred_at.data
    details = form.details(_to_utc(typed_time))
    if not valid:
        # The form's own checks failed; the visit's rules are checked too, so the desk
        # sees every problem after one save.
        _show_problems(form, services.visit_problems(details))
        return None
    result = save_desk_visit(
        DeskEntry(
            participant_id=participant.id if participant else None,
            details=details,
            submission_key=form.submission_key.data or None,
            referral=form.referral_values(),
            outcomes=tuple(form.follow_up_outcomes()),
        ),
        current_user._get_current_object(),
    )
    if result.saved:
        return _saved(result.visit_id, walk_in=participant is None)
    _show_problems(form, result.problems)
    return None


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
        rarely_used=rarely_used_categories(form.site_id.data),
    ), (422 if request.method == "POST" else 200)


@bp.route("/visits/walk-in", methods=["GET", "POST"])
@reads_first
def walk_in():
    """A visit with no participant record (an anonymous walk-in), counted separately."""
    form = _new_form(None)
    saved = _save_new(form, None)
    if saved is not None:
        return saved
    return render_template(
        "visits/new.html",
        form=form,
        participant=None,
        same=False,
        rarely_used=rarely_used_categories(form.site_id.data),
    ), (422 if request.method == "POST" else 200)


@bp.get("/visits/today")
def today():
    """The visits of one day at one site, with the day's tally: the user's site today by
    default; anyone may pick another site, managers and admins another day too."""
    sites = active_sites()
    site_id = parse_id(request.args.get("site")) or current_user.site_id
    if site_id is None or all(site.id != site_id for site in sites):
        site_id = sites[0].id if sites else None
    day = program_today()
    if current_user.role in (Role.MANAGER, Role.ADMIN):
        day = date_arg("day") or day
    visits = visits_of_day(day, site_id) if site_id else []
    user = current_user._get_current_object()
    return render_template(
        "visits/today.html",
        sites=sites,
        site_id=site_id,
        day=day,
        is_today=day == program_today(),
        visits=visits,
        tally=tally(visits),
        summary_line=summary_line,
        may_change={v.id for v in visits if not v.voided and services.may_change(user, v)},
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
        for line in visit.items:  # a correction keeps the reasons it had
            if line.reason is not None and f"reason_{line.supply_item_id}" in form:
                form[f"reason_{line.supply_item_id}"].data = line.reason.value
        for line in visit.services:
            form[f"service_{line.service.value}"].data = line.count
    elif form.validate_on_submit() and save(
        form,
        lambda: services.update_visit(
            visit, details=form.details(_to_utc(form.occurred_at.data)), user=user
        ),
        _("Visit corrected."),
    ):
        return redirect(url_for("visits.show", visit_id=visit.id), 303)
    return render_template(
        "visits/edit.html",
        form=form,
        visit=visit,
        rarely_used=rarely_used_categories(form.site_id.data),
    ), (422 if request.method == "POST" else 200)


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
        _("Visit voided. It stays on record and counts nowhere."),
    ):
        return redirect(url_for("visits.show", visit_id=visit.id), 303)
    return render_template(
        "visits/show.html", visit=visit, void_form=form, may_change=not visit.voided
    ), 422
