"""One's own account: sessions (and ending them), two-step sign-in; and the admin's
buttons to end a person's sessions or reset their second step."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import refresh
from flask_login import current_user

from ssp.database import start_writing
from ssp.extensions import db
from ssp.forms import ConfirmForm, require_confirmed_post, show_rule_error
from ssp.i18n import _, format_number, language_choices, ngettext
from ssp.security import Role, role_required, safe_next_url
from ssp.staff import bp, passkeys, services, sessions, two_step
from ssp.staff.forms import LanguageForm, TwoStepOffForm, TwoStepSetupForm
from ssp.staff.models import User
from ssp.staff.services import StaffError
from ssp.staff.sessions import recent_sign_in_required


def _me() -> User:
    return current_user._get_current_object()


def _language_form(*, posted: bool) -> LanguageForm:
    """The Language card's form: as posted, or showing the person's choice."""
    form = LanguageForm() if posted else LanguageForm(formdata=None)
    form.set_language_choices(language_choices())
    if not posted:
        form.language.data = _me().language or ""
    return form


@bp.get("/account")
def account():
    """Password, two-step sign-in, language and the person's sessions."""
    return _account_page()


def _account_page(language_form: LanguageForm | None = None) -> str:
    me = _me()
    return render_template(
        "staff/account.html",
        me=me,
        language_form=language_form or _language_form(posted=False),
        this_session=sessions.current(),
        open_sessions=sessions.open_sessions(me),
        ended_sessions=sessions.recent_sessions(me),
        two_step_on=two_step.enabled(me),
        my_passkeys=passkeys.of(me),
        passkeys_here=passkeys.available(),
        two_step_required=two_step.required(me),
        codes_left=two_step.unused_recovery_codes(me) if two_step.enabled(me) else 0,
        confirm=ConfirmForm(),
        off_form=TwoStepOffForm(formdata=None),
    )


@bp.post("/account/language")
def account_language():
    """Keep the language the person reads the app in; the next page speaks it."""
    form = _language_form(posted=True)
    if form.validate_on_submit():
        try:
            services.set_language(_me(), form.language.data)
        except StaffError as error:
            db.session.rollback()
            show_rule_error(form, error)
        else:
            db.session.commit()
            refresh()  # the message below is already in the new language
            flash(_("Your language is saved."), "success")
            return redirect(url_for("staff.account"))
    return _account_page(language_form=form), 422


@bp.post("/account/sessions/end-others")
def end_other_sessions():
    """Sign out everywhere else."""
    require_confirmed_post()
    ended = services.sign_out_everywhere_else(_me(), sessions.current())
    db.session.commit()
    flash(
        ngettext(
            "Signed out of %(count)s other session.",
            "Signed out of %(count)s other sessions.",
            ended,
            count=format_number(ended),
        )
        if ended
        else _("You had no other sessions."),
        "success",
    )
    return redirect(url_for("staff.account"))


@bp.post("/account/sessions/<int:session_id>/end")
def end_session(session_id: int):
    """End one of one's other sessions."""
    require_confirmed_post()
    this = sessions.current()
    if this is not None and this.id == session_id:
        flash(_("To end this session, sign out."), "info")
        return redirect(url_for("staff.account"))
    if services.end_one_session(_me(), session_id):
        db.session.commit()
        flash(_("That session has ended."), "success")
    else:
        flash(_("That session had already ended."), "info")
    return redirect(url_for("staff.account"))


# --- two-step sign-in ---------------------------------------------------------------------


@bp.route("/account/two-step", methods=["GET", "POST"])
@recent_sign_in_required(fallback="staff.two_step_setup")
def two_step_setup():
    """Set up the authenticator app: scan, type the first code, keep the recovery codes."""
    me = _me()
    if two_step.enabled(me):
        return redirect(url_for("staff.account"))
    form = TwoStepSetupForm()
    if form.validate_on_submit():
        start_writing()
        try:
            codes = two_step.confirm_setup(me, form.code.data)
        except two_step.TwoStepError as error:
            db.session.rollback()
            form.code.errors.append(str(error))
        else:
            services.end_sessions(me, "two_step_changed", keep=sessions.current())
            row = sessions.current()
            if row is not None:
                sessions.confirm(row)
            db.session.commit()
            return render_template("staff/recovery_codes.html", codes=codes, first=True)
    secret = two_step.pending_secret(me)
    if secret is None:
        start_writing()
        secret = two_step.begin_setup(me)
        db.session.commit()
    uri = two_step.provisioning_uri(me, secret)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "staff/two_step_setup.html",
        form=form,
        qr=two_step.qr_svg(uri),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        required=two_step.required(me),
        passkeys_here=passkeys.available(),
    ), status


@bp.post("/account/two-step/recovery-codes")
@recent_sign_in_required(fallback="staff.account")
def two_step_recovery_codes():
    """Ten new recovery codes (the old ones stop working), shown once."""
    require_confirmed_post()
    me = _me()
    if not two_step.enabled(me):
        return redirect(url_for("staff.two_step_setup"))
    codes = two_step.new_recovery_codes(me)
    services.record_recovery_codes_replaced(me)
    db.session.commit()
    return render_template("staff/recovery_codes.html", codes=codes, first=False)


@bp.post("/account/two-step/off")
@recent_sign_in_required(fallback="staff.account")
def two_step_off():
    """Turn two-step sign-in off (only where the role does not need it)."""
    me = _me()
    form = TwoStepOffForm()
    if two_step.required(me):
        flash(_("Your role needs two-step sign-in; it cannot be turned off."), "error")
        return redirect(url_for("staff.account"))
    if not form.validate_on_submit() or not services.check_own_password(
        me, form.password.data, "two_step_off"
    ):
        db.session.commit()  # a wrong password counts and is audited
        flash(_("That is not your password; two-step sign-in is still on."), "error")
        return redirect(url_for("staff.account"))
    two_step.turn_off(me)
    services.end_sessions(me, "two_step_changed", keep=sessions.current())
    db.session.commit()
    flash(_("Two-step sign-in is off. Your other sessions have ended."), "success")
    return redirect(url_for("staff.account"))


# --- passkeys (JSON, for static/js/passkeys.js) --------------------------------------------


def _not_confirmed_recently():
    """For the passkey JSON calls: the answer that sends the page to confirm it is you,
    when the password was last typed too long ago (a forgotten open session must not
    add a way in)."""
    if sessions.recently_confirmed(sessions.current()):
        return None
    target = request.referrer if request.referrer else url_for("staff.account")
    return {
        "error": _("For your safety, confirm it is you first."),
        "confirm": url_for("staff.confirm_password", next=safe_next_url(_path_of(target))),
    }, 403


def _path_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.post("/account/passkeys/options")
def passkey_options():
    """A challenge for registering a new passkey."""
    if not passkeys.available():
        return {"error": _("Passkeys work only over HTTPS or on localhost.")}, 400
    refused = _not_confirmed_recently()
    if refused is not None:
        return refused
    try:
        options = passkeys.registration_options(_me())
    except passkeys.PasskeyError as error:
        return {"error": str(error)}, 400
    db.session.commit()  # the challenge is kept until answered
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/account/passkeys")
def passkey_add():
    """Keep the passkey the browser made; a second-step change ends the other sessions."""
    refused = _not_confirmed_recently()
    if refused is not None:
        return refused
    body = passkeys.json_body()
    if body is None:
        return {"error": _("The browser's answer was not understood.")}, 400
    me = _me()
    try:
        passkeys.register(me, body.get("credential"), str(body.get("name") or ""))
    except passkeys.PasskeyError as error:
        db.session.rollback()
        return {"error": str(error)}, 400
    services.end_sessions(me, "two_step_changed", keep=sessions.current())
    row = sessions.current()
    if row is not None:
        sessions.confirm(row)
    db.session.commit()
    flash(_("Passkey added. Your other sessions have ended."), "success")
    return {"next": url_for("staff.account")}


@bp.post("/account/passkeys/<int:passkey_id>/remove")
@recent_sign_in_required(fallback="staff.account")
def passkey_remove(passkey_id: int):
    """Remove one of one's passkeys (not the last second step a role needs)."""
    require_confirmed_post()
    me = _me()
    if two_step.required(me) and not two_step.enabled(me) and len(passkeys.of(me)) <= 1:
        flash(_("Your role needs a second step: add another passkey or an app first."), "error")
        return redirect(url_for("staff.account"))
    if passkeys.remove(me, passkey_id):
        services.end_sessions(me, "two_step_changed", keep=sessions.current())
        db.session.commit()
        flash(_("Passkey removed. Your other sessions have ended."), "success")
    return redirect(url_for("staff.account"))


# --- the admin's buttons ------------------------------------------------------------------


@bp.post("/admin/users/<int:user_id>/sessions/end")
@role_required(Role.ADMIN)
@recent_sign_in_required(fallback="staff.users")
def user_end_sessions(user_id: int):
    """Sign a person out everywhere."""
    require_confirmed_post()
    user = db.get_or_404(User, user_id)
    ended = services.admin_end_sessions(user)
    db.session.commit()
    flash(
        ngettext(
            "%(username)s is signed out everywhere (%(count)s session ended).",
            "%(username)s is signed out everywhere (%(count)s sessions ended).",
            ended,
            username=user.username,
            count=format_number(ended),
        ),
        "success",
    )
    return redirect(url_for("staff.user_edit", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/two-step/reset")
@role_required(Role.ADMIN)
@recent_sign_in_required(fallback="staff.users")
def user_reset_two_step(user_id: int):
    """Remove a person's second step (a lost phone); they set it up again at sign-in."""
    require_confirmed_post()
    user = db.get_or_404(User, user_id)
    two_step.turn_off(user, by_admin=True)
    services.end_sessions(user, "two_step_changed")
    db.session.commit()
    flash(
        _(
            "Two-step sign-in of %(username)s is reset; their sessions have ended. They will "
            "set it up again when they next sign in.",
            username=user.username,
        )
        if two_step.required(user)
        else _(
            "Two-step sign-in of %(username)s is reset; their sessions have ended. They can "
            "turn it on again under Account.",
            username=user.username,
        ),
        "success",
    )
    return redirect(url_for("staff.user_edit", user_id=user.id))
