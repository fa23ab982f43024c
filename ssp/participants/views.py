"""Find, enrol, show, edit and merge participants.

Codes travel only in POST bodies, never in a URL, so they do not end up in browser
history on a shared desk computer, in proxy logs or in a Referer header.
"""

from __future__ import annotations

from flask import (
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

from ssp.audit import record
from ssp.database import reads_first
from ssp.extensions import db
from ssp.forms import save, show_rule_error
from ssp.i18n import _, available_languages, current_language, force_locale
from ssp.participants import bp, services
from ssp.participants.cards import MAX_CARDS, card_title, render_cards
from ssp.participants.codes import normalise_code
from ssp.participants.forms import DetailsForm, EnrolForm, MergeForm, SearchForm
from ssp.participants.models import Participant
from ssp.participants.services import NearDuplicates, ParticipantError
from ssp.referrals.forms import OutcomeForm
from ssp.referrals.services import open_follow_ups, referrals_of
from ssp.security import Role, role_required
from ssp.textinput import MESSAGE, has_refused_characters
from ssp.timeutil import program_today
from ssp.visits.services import may_change, previous_visit, recent_visits, visit_count


def _status(form) -> int:
    return 422 if request.method == "POST" else 200


@bp.post("/participants/find")
@reads_first
def find():
    """The search box: an exact code (or alias) opens the participant; a part lists matches."""
    form = SearchForm()
    if not form.validate_on_submit():
        return render_template(
            "participants/results.html", search=form, code="", matches=[], enrol=None
        ), 422
    code = normalise_code(form.code.data)
    participant = services.find_by_code(code)
    if participant is not None:
        return redirect(url_for("participants.show", participant_id=participant.id), 303)
    matches = []
    if len(code) >= current_app.config["PARTIAL_SEARCH_MIN_LENGTH"]:
        matches = services.search_partial(code, current_app.config["SEARCH_RESULTS_LIMIT"])
    enrol = EnrolForm(formdata=None, code=code)
    return render_template(
        "participants/results.html", search=form, code=code, matches=matches, enrol=enrol
    )


@bp.post("/api/participants/search")
@reads_first
def search_api():
    """Typeahead: JSON list of participants whose code contains the text (POST, CSRF)."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        payload = {}
    text = normalise_code(str(payload.get("q", ""))[:40])
    if has_refused_characters(text):
        return jsonify(error=str(MESSAGE), matches=[]), 400
    if len(text) < current_app.config["PARTIAL_SEARCH_MIN_LENGTH"]:
        return jsonify(matches=[])
    limit = min(10, current_app.config["SEARCH_RESULTS_LIMIT"])
    matches = services.search_partial(text, limit)
    return jsonify(
        matches=[
            {
                "code": m.matched_code,
                "current_code": m.participant.code,
                "alias": m.via_alias,
                "url": url_for("participants.show", participant_id=m.participant.id),
            }
            for m in matches
        ]
    )


@bp.route("/participants/new", methods=["GET", "POST"])
def new():
    """Enrol a participant with the code builder (or a typed code or card number)."""
    form = EnrolForm()
    similar = []
    # From the "not found" result: show the form with the code filled in, no errors yet.
    if request.method == "POST" and request.form.get("prefill"):
        form = EnrolForm(formdata=None, code=normalise_code(request.form.get("code")))
        return _render_enrol(form, similar), 200
    if form.validate_on_submit():
        try:
            participant = services.enrol(
                code=form.code.data,
                site_id=current_user.site_id,
                confirm_distinct=form.confirm_distinct.data == "yes",
                **form.coarse_values(),
            )
        except NearDuplicates as warning:
            db.session.rollback()
            similar = warning.matches
            form.code.data = normalise_code(form.code.data)
            form.confirm_distinct.data = "yes"  # submitting again confirms "someone new"
        except ParticipantError as error:
            db.session.rollback()
            show_rule_error(form, error)
        else:
            db.session.commit()
            flash(_("Participant enrolled."), "success")
            return redirect(url_for("participants.show", participant_id=participant.id), 303)
    return _render_enrol(form, similar), _status(form)


def _render_enrol(form: EnrolForm, similar):
    return render_template(
        "participants/new.html",
        form=form,
        similar=similar,
        scheme=current_app.config["PARTICIPANT_CODE_SCHEME"],
    )


@bp.get("/participants/<int:participant_id>")
def show(participant_id: int):
    """The participant page: code, visits, and the default action, logging a visit."""
    participant = db.get_or_404(Participant, participant_id)
    user = current_user._get_current_object()
    visits = recent_visits(participant.id)
    # Who looked at whom is part of the audit trail (HIPAA access logging).
    record("participant_viewed", object_type="participant", object_id=participant.id)
    db.session.commit()
    return render_template(
        "participants/show.html",
        participant=participant,
        follow_ups=open_follow_ups(participant.id),
        referrals=referrals_of(participant.id),
        today=program_today(),
        outcome_form=OutcomeForm(formdata=None),
        visits=visits,
        visit_count=visit_count(participant.id),
        has_previous=previous_visit(participant.id) is not None,
        changeable={v.id for v in visits if not v.voided and may_change(user, v)},
    )


@bp.route("/participants/<int:participant_id>/edit", methods=["GET", "POST"])
def edit(participant_id: int):
    """Change a participant's optional details."""
    participant = db.get_or_404(Participant, participant_id)
    if request.method == "GET":
        form = DetailsForm(obj=participant)
        for name in ("gender", "race_ethnicity", "primary_substance"):
            value = getattr(participant, name)
            form[name].data = value.value if value else ""
        form.injects.data = {True: "yes", False: "no"}.get(participant.injects, "")
    else:
        form = DetailsForm()
    if form.validate_on_submit() and save(
        form,
        lambda: services.update_details(participant, **form.coarse_values()),
        _("Details saved."),
    ):
        return redirect(url_for("participants.show", participant_id=participant.id), 303)
    return render_template("participants/edit.html", participant=participant, form=form), _status(
        form
    )


@bp.route("/participants/<int:participant_id>/merge", methods=["GET", "POST"])
@role_required(Role.MANAGER, Role.ADMIN)
def merge(participant_id: int):
    """Fold a duplicate record into this participant (managers and admins)."""
    participant = db.get_or_404(Participant, participant_id)
    form = MergeForm()
    if form.validate_on_submit():
        other = services.find_by_code(form.other_code.data)
        if other is None:
            form.other_code.errors.append(_("No participant has that code."))
        elif other.id == participant.id:
            form.other_code.errors.append(_("That is this participant's own code."))
        elif not form.confirm.data:
            form.confirm.errors.append(_("Tick the box to confirm they are the same person."))
        else:
            services.merge(keep=participant, absorb=other)
            db.session.commit()
            flash(_("Records merged. The other code now finds this participant."), "success")
            return redirect(url_for("participants.show", participant_id=participant.id), 303)
    return render_template("participants/merge.html", participant=participant, form=form), _status(
        form
    )


@bp.get("/participants/<int:participant_id>/card.pdf")
def card(participant_id: int):
    """A sheet of wallet cards (code as text and QR code, CARD_TITLE if set) to print, in
    the language chosen on the print form (``language``; default: the page's)."""
    participant = db.get_or_404(Participant, participant_id)
    copies = request.args.get("copies", "1")
    if not copies.isascii() or not copies.isdigit() or not 1 <= int(copies) <= MAX_CARDS:
        abort(422, description=_("Print 1 to %(most)d cards at a time.", most=MAX_CARDS))
    language = request.args.get("language") or current_language()
    if language not in available_languages():
        abort(422, description=_("Choose the card's language from the list."))
    record(
        "participant_card_printed",
        object_type="participant",
        object_id=participant.id,
        detail={"copies": int(copies)},
    )
    db.session.commit()
    with force_locale(language):
        pdf = render_cards(participant.code, card_title(current_app.config), int(copies))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": 'inline; filename="participant-card.pdf"'},
    )
