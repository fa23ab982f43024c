"""Partner directory (admin), referrals and their status, follow-ups and the worklist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ssp.extensions import db
from ssp.forms import ConfirmForm, date_arg, parse_id, require_confirmed_post, save
from ssp.i18n import _
from ssp.participants.models import Participant
from ssp.referrals import bp, services
from ssp.referrals.forms import (
    FollowUpEditForm,
    FollowUpForm,
    OutcomeForm,
    PartnerForm,
    ReferralForm,
    StatusForm,
    assignee_choices,
    partner_choices,
    status_choices,
)
from ssp.referrals.models import FollowUp, Partner, Referral, ReferralCategory, ReferralStatus
from ssp.referrals.services import DueNow, ReferralError, ReferralFilter, WorklistFilter
from ssp.security import Role, role_required
from ssp.staff.models import Site, User
from ssp.timeutil import program_today


def _status(form=None) -> int:
    return 422 if request.method == "POST" else 200


def _me() -> User:
    return current_user._get_current_object()


def _active_staff() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active).order_by(User.username)))


def _closing_stale_too(change: Callable[[], Any], participant_id: int) -> Callable[[], Any]:
    """``change``, then, in the same transaction, close the follow-ups nobody could
    reach (sparing this participant's: staff are in touch with them now). Saves are the
    app's writes; pages only read, so this and `ssp close-stale-follow-ups` do it."""

    def run():
        result = change()
        services.close_stale_follow_ups(sparing_participant_id=participant_id)
        return result

    return run


# --- the menu badge and the home page's button -----------------------------------------


def _follow_ups_due() -> DueNow | None:
    """The follow-ups to act on now at the signed-in user's site, counted once a
    request; None when the database cannot say (an error page still renders)."""
    if "follow_ups_due" not in g:
        try:
            g.follow_ups_due = services.follow_ups_due_now(_me(), program_today())
        except SQLAlchemyError:
            g.follow_ups_due = None
    return g.follow_ups_due


@bp.app_context_processor
def _templates_count_follow_ups() -> dict[str, Any]:
    return {"follow_ups_due": _follow_ups_due}


# --- partners (admin) --------------------------------------------------------------


@bp.get("/admin/partners")
@role_required(Role.ADMIN)
def partners():
    """The partner directory."""
    rows = db.session.scalars(select(Partner).order_by(Partner.active.desc(), Partner.name))
    return render_template("referrals/partners.html", partners=rows.all(), confirm=ConfirmForm())


@bp.route("/admin/partners/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def partner_new():
    """Add a partner agency."""
    form = PartnerForm()
    if form.validate_on_submit() and save(
        form,
        lambda: services.create_partner(
            name=form.name.data, categories=form.categories.data, contact=form.contact.data
        ),
        lambda partner: _("%(partner)s added to the partner directory.", partner=partner.name),
    ):
        return redirect(url_for("referrals.partners"))
    return render_template("referrals/partner_form.html", form=form, partner=None), _status()


@bp.route("/admin/partners/<int:partner_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def partner_edit(partner_id: int):
    """Change a partner's name, categories or contact line."""
    partner = db.get_or_404(Partner, partner_id)
    form = PartnerForm(obj=partner if request.method == "GET" else None)
    if form.validate_on_submit() and save(
        form,
        lambda: services.update_partner(
            partner,
            name=form.name.data,
            categories=form.categories.data,
            contact=form.contact.data,
        ),
        lambda _result: _("%(partner)s saved.", partner=partner.name),
    ):
        return redirect(url_for("referrals.partners"))
    return render_template("referrals/partner_form.html", form=form, partner=partner), _status()


@bp.post("/admin/partners/<int:partner_id>/deactivate")
@role_required(Role.ADMIN)
def partner_deactivate(partner_id: int):
    """Stop offering a partner for new referrals."""
    return _set_partner_active(partner_id, False)


@bp.post("/admin/partners/<int:partner_id>/reactivate")
@role_required(Role.ADMIN)
def partner_reactivate(partner_id: int):
    """Offer a partner for new referrals again."""
    return _set_partner_active(partner_id, True)


def _set_partner_active(partner_id: int, active: bool):
    require_confirmed_post()
    partner = db.get_or_404(Partner, partner_id)
    services.set_partner_active(partner, active)
    db.session.commit()
    if active:
        flash(_("%(partner)s reactivated.", partner=partner.name), "success")
    else:
        flash(_("%(partner)s deactivated.", partner=partner.name), "success")
    return redirect(url_for("referrals.partners"))


# --- referrals ---------------------------------------------------------------------


@bp.route("/participants/<int:participant_id>/referrals/new", methods=["GET", "POST"])
def referral_new(participant_id: int):
    """Make a referral from the participant page."""
    participant = db.get_or_404(Participant, participant_id)
    form = ReferralForm()
    form.partner_id.choices = partner_choices(services.active_partners())
    if form.validate_on_submit() and save(
        form,
        _closing_stale_too(
            lambda: services.make_referral(
                participant_id=participant.id,
                category=form.category.data,
                partner_id=form.partner_id.data,
                note=form.note.data,
                user=_me(),
                site_id=current_user.site_id,
            ),
            participant.id,
        ),
        _("Referral made; a follow-up is on the worklist."),
    ):
        return redirect(url_for("participants.show", participant_id=participant.id), 303)
    return render_template(
        "referrals/referral_new.html", form=form, participant=participant
    ), _status()


@bp.get("/referrals/<int:referral_id>")
def referral_show(referral_id: int):
    """A referral with its history and the status moves this user may make."""
    referral = db.get_or_404(Referral, referral_id)
    form = StatusForm()
    form.status.choices = status_choices(services.allowed_moves(referral, _me()))
    return render_template("referrals/referral_show.html", referral=referral, form=form)


@bp.post("/referrals/<int:referral_id>/status")
def referral_status(referral_id: int):
    """Move a referral to another status (forward; managers may correct)."""
    referral = db.get_or_404(Referral, referral_id)
    form = StatusForm()
    form.status.choices = status_choices(list(ReferralStatus))
    if form.validate_on_submit() and save(
        form,
        _closing_stale_too(
            lambda: services.change_status(referral, form.status.data, user=_me()),
            referral.participant_id,
        ),
        lambda _result: _("Referral is now: %(status)s.", status=referral.status.label.lower()),
    ):
        return redirect(url_for("referrals.referral_show", referral_id=referral.id), 303)
    form.status.choices = status_choices(services.allowed_moves(referral, _me()))
    return render_template("referrals/referral_show.html", referral=referral, form=form), 422


# --- follow-ups --------------------------------------------------------------------


@bp.route("/participants/<int:participant_id>/follow-ups/new", methods=["GET", "POST"])
def follow_up_new(participant_id: int):
    """Add a follow-up by hand."""
    participant = db.get_or_404(Participant, participant_id)
    form = FollowUpForm()
    form.assigned_user_id.choices = assignee_choices(_active_staff())
    if request.method == "GET":
        form.due_on.data = program_today()
    if form.validate_on_submit() and save(
        form,
        _closing_stale_too(
            lambda: services.add_follow_up(
                participant_id=participant.id,
                due_on=form.due_on.data,
                reason=form.reason.data,
                user=_me(),
                site_id=current_user.site_id,
                assigned_user_id=form.assigned_user_id.data,
            ),
            participant.id,
        ),
        _("Follow-up added."),
    ):
        return redirect(url_for("participants.show", participant_id=participant.id), 303)
    return render_template(
        "referrals/follow_up_new.html", form=form, participant=participant
    ), _status()


def _back_to(default: str) -> str:
    """Where to return after a follow-up action: the page it came from, if inside the app."""
    from ssp.security import safe_next_url

    return safe_next_url(request.form.get("next")) or default


@bp.post("/follow-ups/<int:follow_up_id>/outcome")
def follow_up_outcome(follow_up_id: int):
    """Record what the participant said (from the banner or the worklist)."""
    follow_up = db.get_or_404(FollowUp, follow_up_id)
    form = OutcomeForm()
    back = _back_to(url_for("participants.show", participant_id=follow_up.participant_id))
    if not form.validate_on_submit():
        return render_template(
            "referrals/follow_up_show.html",
            follow_up=follow_up,
            outcome_form=form,
            edit_form=_edit_form(follow_up),
            confirm=ConfirmForm(),
            last_seen=_last_seen(follow_up),
        ), 422
    try:
        services.record_outcome(follow_up, form.outcome.data, note=form.note.data, user=_me())
        services.close_stale_follow_ups(sparing_participant_id=follow_up.participant_id)
    except ReferralError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back, 303)
    db.session.commit()
    flash(follow_up.outcome.recorded, "success")
    return redirect(back, 303)


def _last_seen(follow_up: FollowUp):
    """When the follow-up's participant last visited (None: no visit yet)."""
    return services.last_seen([follow_up.participant_id]).get(follow_up.participant_id)


def _edit_form(follow_up: FollowUp, formdata=None) -> FollowUpEditForm:
    form = FollowUpEditForm(formdata=formdata)
    form.assigned_user_id.choices = assignee_choices(_active_staff())
    if formdata is None:
        form.due_on.data = follow_up.due_on
        form.assigned_user_id.data = follow_up.assigned_user_id
    return form


@bp.route("/follow-ups/<int:follow_up_id>", methods=["GET", "POST"])
def follow_up_show(follow_up_id: int):
    """A follow-up: reschedule, reassign, record an outcome or cancel it."""
    follow_up = db.get_or_404(FollowUp, follow_up_id)
    form = _edit_form(follow_up, request.form if request.method == "POST" else None)
    if (
        request.method == "POST"
        and form.validate_on_submit()
        and save(
            form,
            _closing_stale_too(
                lambda: services.update_follow_up(
                    follow_up,
                    due_on=form.due_on.data,
                    assigned_user_id=form.assigned_user_id.data,
                    user=_me(),
                ),
                follow_up.participant_id,
            ),
            _("Follow-up saved."),
        )
    ):
        return redirect(url_for("referrals.follow_up_show", follow_up_id=follow_up.id), 303)
    return render_template(
        "referrals/follow_up_show.html",
        follow_up=follow_up,
        edit_form=form,
        outcome_form=OutcomeForm(formdata=None),
        confirm=ConfirmForm(),
        last_seen=_last_seen(follow_up),
    ), _status()


@bp.post("/follow-ups/<int:follow_up_id>/cancel")
def follow_up_cancel(follow_up_id: int):
    """Cancel a follow-up that is no longer needed."""
    require_confirmed_post()
    follow_up = db.get_or_404(FollowUp, follow_up_id)
    try:
        services.cancel_follow_up(follow_up, user=_me())
        services.close_stale_follow_ups(sparing_participant_id=follow_up.participant_id)
    except ReferralError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Follow-up cancelled."), "success")
    return redirect(url_for("referrals.follow_up_show", follow_up_id=follow_up.id), 303)


# --- the worklist --------------------------------------------------------------------


def _worklist_filter() -> WorklistFilter:
    """The filters from the query string, checked (unknown values give a 400)."""
    args = request.args
    site = args.get("site", "")
    category = args.get("category", "")
    assignee = args.get("assignee", "")
    when = args.get("when", "")
    site_id = parse_id(site)
    if site and site_id is None:
        abort(400)
    if category and category != "none" and category not in ReferralCategory._value2member_map_:
        abort(400)
    if assignee == "me":
        assignee = str(current_user.id)
    if assignee and assignee != "none" and parse_id(assignee) is None:
        abort(400)
    if when not in ("", "overdue", "today", "upcoming"):
        abort(400)
    if args.get("sort", "due") not in ("due", "-due"):
        abort(400)
    if args.get("page", "1") and parse_id(args.get("page", "1")) is None:
        abort(400)
    return WorklistFilter(
        site_id=site_id,
        category=category or None,
        assignee=assignee or None,
        when=when or None,
        newest_first=args.get("sort") == "-due",
    )


@bp.get("/follow-ups")
def worklist():
    """Open follow-ups: overdue, due today and upcoming, filtered, sorted, paged."""
    filters = _worklist_filter()
    today = program_today()
    page = db.paginate(
        services.worklist_query(filters, today),
        per_page=current_app.config["WORKLIST_PAGE_SIZE"],
        max_per_page=100,
        error_out=False,
    )
    sites = list(db.session.scalars(select(Site).order_by(Site.name)))
    return render_template(
        "referrals/worklist.html",
        page=page,
        rows=services.worklist_rows(page.items, today),
        close_after_days=services.close_after_days(),
        filters=filters,
        today=today,
        counts=services.worklist_counts(today, filters.site_id),
        sites=sites,
        staff=_active_staff(),
        categories=list(ReferralCategory),
        args=request.args,
        query_args={k: v for k, v in request.args.items() if k != "page"},
        outcome_form=OutcomeForm(formdata=None),
    )


# --- the referrals list (managers and admins) ------------------------------------------


def _referral_filter() -> ReferralFilter:
    """The referrals list's filters from the query string (unknown values give a 400)."""
    args = request.args
    status = args.get("status", "")
    if status and status != "open" and status not in ReferralStatus._value2member_map_:
        abort(400)
    partner = args.get("partner", "")
    partner_id = parse_id(partner)
    if partner and partner != "none" and partner_id is None:
        abort(400)
    category = args.get("category", "")
    if category and category not in ReferralCategory._value2member_map_:
        abort(400)
    site = args.get("site", "")
    site_id = parse_id(site)
    if site and site_id is None:
        abort(400)
    start, end = date_arg("start"), date_arg("end")
    if start and end and start > end:
        abort(400)
    if args.get("sort", "-made") not in ("-made", "made"):
        abort(400)
    if args.get("page", "1") and parse_id(args.get("page", "1")) is None:
        abort(400)
    return ReferralFilter(
        status=status or None,
        partner="none" if partner == "none" else (str(partner_id) if partner_id else None),
        category=category or None,
        site_id=site_id,
        made_from=start,
        made_to=end,
        oldest_first=args.get("sort") == "made",
    )


@bp.get("/referrals")
@role_required(Role.MANAGER, Role.ADMIN)
def referral_list():
    """Referrals across participants: status, partner, category, age; filtered, paged."""
    filters = _referral_filter()
    page = db.paginate(
        services.referral_list_query(filters),
        per_page=current_app.config["REFERRALS_PAGE_SIZE"],
        max_per_page=200,
        error_out=False,
    )
    return render_template(
        "referrals/referrals.html",
        page=page,
        filters=filters,
        today=program_today(),
        statuses=list(ReferralStatus),
        partners=list(db.session.scalars(select(Partner).order_by(Partner.name))),
        categories=list(ReferralCategory),
        sites=list(db.session.scalars(select(Site).order_by(Site.name))),
        args=request.args,
        query_args={k: v for k, v in request.args.items() if k != "page"},
    )
