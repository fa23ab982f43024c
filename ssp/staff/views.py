"""Sign-in, sign-out, one's own password, and the admin pages for accounts and sites."""

from __future__ import annotations

import hashlib

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ssp import timeutil
from ssp.database import reads_first
from ssp.extensions import db, login_manager
from ssp.forms import ConfirmForm, require_confirmed_post, save, show_rule_error
from ssp.i18n import LANGUAGE_COOKIE, _, _l, ngettext
from ssp.ratelimit import limiter
from ssp.security import Role, public, role_required, safe_next_url
from ssp.staff import bp, passkeys, services, sessions, throttle, two_step
from ssp.staff.forms import (
    ConfirmPasswordForm,
    LanguageSwitchForm,
    PasswordChangeForm,
    PasswordResetForm,
    SecondStepForm,
    SignInForm,
    SiteForm,
    UserCreateForm,
    UserEditForm,
)
from ssp.staff.models import Site, User
from ssp.staff.passkeys import json_body
from ssp.staff.services import StaffError
from ssp.staff.sessions import recent_sign_in_required
from ssp.supplies.services import active_catalogue

SIGN_IN_FAILED = _l("That username and password do not match an active account.")


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The account whose open session the cookie's token names (ssp.staff.sessions)."""
    row = sessions.find(token)
    if row is None:
        return None
    g.staff_session = row
    user = row.user
    user.cookie_token = token
    return user


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


# --- sign-in and sign-out ----------------------------------------------------------------

# How long the second step may wait after a right password.
SECOND_STEP_MINUTES = 5


def _start_session(user: User, second_step: str | None = None) -> None:
    """Sign ``user`` in with a fresh cookie session (nothing carried over)."""
    services.complete_sign_in(user, second_step=second_step)
    db.session.commit()
    session.clear()
    login_user(user)
    session.permanent = True


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@reads_first  # the password check (argon2, the slow part) runs without the write lock
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in():
    """Show the sign-in form; a right password signs in, or leads to the second step."""
    next_url = safe_next_url(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("dashboard.index"))
    form = SignInForm()
    if form.validate_on_submit():
        result = services.authenticate(form.username.data, form.password.data)
        db.session.commit()
        if result.user is not None and two_step.has_second_step(result.user):
            session.clear()
            session["second_step"] = {
                "user_id": result.user.id,
                "at": timeutil.utcnow().timestamp(),
                "next": next_url,
                "password": _password_mark(result.user),
            }
            return redirect(url_for("staff.sign_in_second_step"))
        if result.user is not None:
            _start_session(result.user)
            return redirect(next_url or url_for("dashboard.index"))
        form.form_errors.append(str(SIGN_IN_FAILED))
        return render_template(
            "staff/sign_in.html", form=form, passkeys_here=passkeys.available()
        ), 401
    status = 422 if request.method == "POST" else 200
    return render_template(
        "staff/sign_in.html", form=form, passkeys_here=passkeys.available()
    ), status


def _password_mark(user: User) -> str:
    """A short mark of the account's password hash, so a password changed or reset
    while the second step waits makes the wait void."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _waiting_for_second_step() -> tuple[User | None, str | None]:
    """The account whose password was just right, and where to go after, if fresh."""
    pending = session.get("second_step")
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), int | float):
        return None, None
    if timeutil.utcnow().timestamp() - pending["at"] > SECOND_STEP_MINUTES * 60:
        return None, None
    user = (
        db.session.get(User, pending.get("user_id"))
        if isinstance(pending.get("user_id"), int)
        else None
    )
    if user is None or not user.active or not two_step.has_second_step(user):
        return None, None
    if pending.get("password") != _password_mark(user):
        return None, None  # the password changed since it was typed (an admin's reset)
    return user, safe_next_url(pending.get("next"))


@bp.route("/sign-in/second-step", methods=["GET", "POST"])
@public
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in_second_step():
    """The code from the authenticator app (or a recovery code), after a right password."""
    user, next_url = _waiting_for_second_step()
    if user is None:
        session.pop("second_step", None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("staff.sign_in"))
    form = SecondStepForm()
    page = {
        "form": form,
        "uses_code": two_step.enabled(user),
        "uses_passkey": passkeys.has_any(user) and passkeys.available(),
    }
    if form.validate_on_submit() and page["uses_code"]:
        services.lock_account(user)  # parallel guesses are counted one after another
        refusal = throttle.refused(user.id)
        try:
            if refusal is not None:
                raise two_step.TwoStepError(str(SIGN_IN_FAILED))
            used = two_step.check(user, form.code.data)
        except two_step.TwoStepError as error:
            services.second_step_failed(user, refusal or "wrong_code")
            db.session.commit()
            form.code.errors.append(str(error))
            return render_template("staff/second_step.html", **page), 401
        _start_session(user, second_step=used)
        if used == "recovery_code":
            left = two_step.unused_recovery_codes(user)
            flash(
                ngettext(
                    "You used a recovery code; %(num)d is left. Make new ones under Account "
                    "if you are running low.",
                    "You used a recovery code; %(num)d are left. Make new ones under Account "
                    "if you are running low.",
                    left,
                ),
                "info",
            )
        return redirect(next_url or url_for("dashboard.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/second_step.html", **page), status


# --- passkeys at sign-in (JSON, for static/js/passkeys.js) ---------------------------------


@bp.post("/sign-in/passkey/options")
@public
@limiter.limit(_sign_in_limit)
def sign_in_passkey_options():
    """A challenge for a passkey: the waiting account's (second step) or any (alone)."""
    if not passkeys.available():
        return {"error": _("Passkeys work only over HTTPS or on localhost.")}, 400
    user = _waiting_for_second_step()[0]
    options = passkeys.authentication_options("sign_in", user)
    db.session.commit()  # the challenge is kept until answered
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/sign-in/passkey")
@public
@limiter.limit(_sign_in_limit)
def sign_in_passkey():
    """Sign in with the passkey's answer; returns where to go next."""
    waiting, next_url = _waiting_for_second_step()
    body = json_body()
    if body is None:
        return {"error": _("The browser's answer was not understood.")}, 400
    try:
        user = passkeys.authenticate("sign_in", body.get("credential"))
    except passkeys.PasskeyError as error:
        db.session.rollback()
        if waiting is not None:
            services.second_step_failed(waiting, "passkey_refused")
        else:
            services.passkey_sign_in_failed()
        db.session.commit()
        return {"error": str(error)}, 401
    _start_session(user, second_step="passkey")
    return {"next": next_url or url_for("dashboard.index")}


# How long the language picked on a signed-out page is remembered.
LANGUAGE_COOKIE_DAYS = 365


@bp.post("/language")
@public
def choose_language():
    """The language buttons of signed-out pages: a cookie keeps the choice on this
    browser (and a signed-in person's account keeps it too); back to the page."""
    form = LanguageSwitchForm()
    form.validate_on_submit()
    if form.csrf_token.errors:
        abort(400)
    try:  # the language is judged by the rule itself: anything else is a clear 422
        code = services.language_code(form.language.data)
    except StaffError as error:
        abort(422, str(error))
    if current_user.is_authenticated:
        services.set_language(current_user._get_current_object(), code)
        db.session.commit()
    back = safe_next_url(form.next.data) if not form.next.errors else None
    response = redirect(back or url_for("dashboard.index"))
    secure = request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    if code is None:
        response.delete_cookie(LANGUAGE_COOKIE, secure=secure, httponly=True, samesite="Lax")
    else:
        response.set_cookie(
            LANGUAGE_COOKIE,
            code,
            max_age=LANGUAGE_COOKIE_DAYS * 24 * 3600,
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
    return response


@bp.post("/sign-out")
def sign_out():
    """Sign out: this session ends, wherever its cookie was copied."""
    require_confirmed_post()
    services.sign_out(current_user._get_current_object(), sessions.current())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("staff.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """Let a signed-in user change their own password (their other sessions end)."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_own_password(
                user, form.current_password.data, form.new_password.data, keep=sessions.current()
            )
        except StaffError as error:
            if isinstance(error, services.WrongPasswordError):
                db.session.commit()  # the failure counts and is audited
            else:
                db.session.rollback()
            show_rule_error(form, error)
        else:
            db.session.commit()
            flash(_("Your password is changed. Other sessions of yours have ended."), "success")
            return redirect(url_for("dashboard.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/change_password.html", form=form), status


@bp.route("/account/confirm", methods=["GET", "POST"])
def confirm_password():
    """Type the password (and second-step code) again before a sensitive page."""
    user = current_user._get_current_object()
    form = ConfirmPasswordForm()
    asks_code = two_step.enabled(user)
    passkey_only = not asks_code and passkeys.has_any(user)
    next_url = safe_next_url(request.args.get("next")) or url_for("dashboard.index")
    if form.validate_on_submit() and not passkey_only:
        if services.confirm_password(
            user, form.password.data, form.code.data, row=sessions.current()
        ):
            db.session.commit()
            return redirect(next_url)
        db.session.commit()  # the failure is audited and counts towards the lockout
        message = (
            _("That password or code is not right.")
            if asks_code
            else _("That is not your password.")
        )
        form.password.errors.append(message)
    return render_template(
        "staff/confirm_password.html",
        form=form,
        asks_code=asks_code,
        passkey_only=passkey_only,
        uses_passkey=passkeys.has_any(user) and passkeys.available(),
        next_url=next_url,
    ), (422 if request.method == "POST" else 200)


@bp.post("/account/confirm/passkey/options")
def confirm_passkey_options():
    """A challenge for one's own passkeys, to confirm it is still you."""
    options = passkeys.authentication_options("confirm", current_user._get_current_object())
    db.session.commit()  # the challenge is kept until answered
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/account/confirm/passkey")
def confirm_passkey():
    """Confirm with a passkey (it asks for the fingerprint, face or PIN)."""
    me = current_user._get_current_object()
    body = json_body()
    if body is None:
        return {"error": _("The browser's answer was not understood.")}, 400
    try:
        user = passkeys.authenticate("confirm", body.get("credential"))
        if user.id != me.id:
            raise passkeys.PasskeyError(_("That passkey is not registered for this account."))
    except passkeys.PasskeyError as error:
        db.session.rollback()
        return {"error": str(error)}, 401
    row = sessions.current()
    if row is not None:
        sessions.confirm(row)
    services.record_passkey_confirmed(me)
    db.session.commit()
    return {"next": safe_next_url(body.get("next")) or url_for("dashboard.index")}


@bp.post("/session/keepalive")
def keepalive():
    """The page is in use: the idle clock restarts (the sign-out warning's button)."""
    return {"status": "ok", "idle_minutes": current_app.config["IDLE_TIMEOUT_MINUTES"]}


# --- accounts (admin) ---------------------------------------------------------------------


@bp.get("/admin/users")
@role_required(Role.ADMIN)
@recent_sign_in_required()
def users():
    """List staff accounts."""
    rows = db.session.scalars(select(User).order_by(User.active.desc(), User.username)).all()
    return render_template(
        "staff/users.html",
        users=rows,
        confirm=ConfirmForm(),
        stopped=throttle.stopped_addresses(),
        two_step_roles=two_step.required_roles(),
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@recent_sign_in_required()
def user_new():
    """Create a staff account."""
    form = UserCreateForm()
    form.set_site_choices(services.active_sites())
    if form.validate_on_submit() and save(
        form,
        lambda: services.create_user(
            username=form.username.data,
            password=form.password.data,
            role=form.role.data,
            site_id=form.site_id.data,
            must_change_password=True,  # the admin knows it; the person picks their own
        ),
        lambda user: _("Account %(username)s created.", username=user.username),
    ):
        return redirect(url_for("staff.users"))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/user_new.html", form=form), status


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@recent_sign_in_required()
def user_edit(user_id: int):
    """Change an account's role and default site; reset its password; (de)activate it."""
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user if request.method == "GET" else None)
    sites = services.active_sites()
    if user.site is not None and not user.site.active:
        sites.append(user.site)  # keep showing a deactivated default site
    form.set_site_choices(sites)
    if request.method == "GET":
        form.role.data = user.role.value
    if form.validate_on_submit() and save(
        form,
        lambda: services.update_user(
            user,
            role=form.role.data,
            site_id=form.site_id.data,
        ),
        _("Account %(username)s saved.", username=user.username),
    ):
        return redirect(url_for("staff.users"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "staff/user_edit.html",
        user=user,
        form=form,
        reset_form=PasswordResetForm(formdata=None),
        confirm=ConfirmForm(),
        open_sessions=len(sessions.open_sessions(user)),
        stopped_addresses=throttle.locked_addresses(user.id),
    ), status


@bp.post("/admin/users/<int:user_id>/password")
@role_required(Role.ADMIN)
@recent_sign_in_required(fallback="staff.users")
def user_password(user_id: int):
    """Set a new password for an account."""
    user = db.get_or_404(User, user_id)
    reset_form = PasswordResetForm()
    if reset_form.validate_on_submit() and save(
        reset_form,
        lambda: services.reset_password(user, reset_form.password.data),
        _("New password set for %(username)s; their sessions have ended.", username=user.username),
    ):
        return redirect(url_for("staff.user_edit", user_id=user.id))
    form = UserEditForm(formdata=None, obj=user)
    form.set_site_choices(services.active_sites())
    form.role.data = user.role.value
    return render_template(
        "staff/user_edit.html",
        user=user,
        form=form,
        reset_form=reset_form,
        confirm=ConfirmForm(),
    ), 422


@bp.post("/admin/users/<int:user_id>/deactivate")
@role_required(Role.ADMIN)
@recent_sign_in_required(fallback="staff.users")
def user_deactivate(user_id: int):
    """Deactivate an account: it can no longer sign in and its sessions end."""
    return _set_user_active(user_id, False)


@bp.post("/admin/users/<int:user_id>/reactivate")
@role_required(Role.ADMIN)
@recent_sign_in_required(fallback="staff.users")
def user_reactivate(user_id: int):
    """Let a deactivated account sign in again."""
    return _set_user_active(user_id, True)


def _set_user_active(user_id: int, active: bool):
    require_confirmed_post()
    user = db.get_or_404(User, user_id)
    try:
        services.set_user_active(user, active, acting_user=current_user._get_current_object())
    except StaffError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("staff.user_edit", user_id=user.id))
    db.session.commit()
    flash(
        _("Account %(username)s reactivated.", username=user.username)
        if active
        else _("Account %(username)s deactivated.", username=user.username),
        "success",
    )
    return redirect(url_for("staff.users"))


@bp.post("/admin/users/<int:user_id>/unlock")
@role_required(Role.ADMIN)
@recent_sign_in_required(fallback="staff.users")
def user_unlock(user_id: int):
    """Lift a sign-in lockout."""
    require_confirmed_post()
    user = db.get_or_404(User, user_id)
    services.unlock_user(user)
    db.session.commit()
    flash(_("Account %(username)s unlocked.", username=user.username), "success")
    return redirect(url_for("staff.user_edit", user_id=user.id))


# --- sites (admin) --------------------------------------------------------------------


@bp.get("/admin/sites")
@role_required(Role.ADMIN)
def sites():
    """List sites."""
    rows = db.session.scalars(select(Site).order_by(Site.active.desc(), Site.name)).all()
    return render_template("staff/sites.html", sites=rows, confirm=ConfirmForm())


@bp.route("/admin/sites/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def site_new():
    """Add a site."""
    form = SiteForm()
    form.quick_items.choices = [(item.id, item.name) for item in active_catalogue()]
    if form.validate_on_submit() and save(
        form,
        lambda: services.create_site(
            name=form.name.data, kind=form.kind.data, quick_items=form.quick_items.data
        ),
        lambda site: _("Site %(name)s added.", name=site.name),
    ):
        return redirect(url_for("staff.sites"))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/site_form.html", form=form, site=None), status


@bp.route("/admin/sites/<int:site_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def site_edit(site_id: int):
    """Rename a site or change its kind."""
    site = db.get_or_404(Site, site_id)
    form = SiteForm(obj=site if request.method == "GET" else None)
    form.quick_items.choices = [(item.id, item.name) for item in active_catalogue()]
    if request.method == "GET":
        form.kind.data = site.kind.value
        form.quick_items.data = list(site.quick_items or [])
    if form.validate_on_submit() and save(
        form,
        lambda: services.update_site(
            site, name=form.name.data, kind=form.kind.data, quick_items=form.quick_items.data
        ),
        lambda result: _("Site %(name)s saved.", name=site.name),
    ):
        return redirect(url_for("staff.sites"))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/site_form.html", form=form, site=site), status


@bp.post("/admin/sites/<int:site_id>/deactivate")
@role_required(Role.ADMIN)
def site_deactivate(site_id: int):
    """Stop offering a site; its history stays."""
    return _set_site_active(site_id, False)


@bp.post("/admin/sites/<int:site_id>/reactivate")
@role_required(Role.ADMIN)
def site_reactivate(site_id: int):
    """Offer a deactivated site again."""
    return _set_site_active(site_id, True)


def _set_site_active(site_id: int, active: bool):
    require_confirmed_post()
    site = db.get_or_404(Site, site_id)
    try:
        services.set_site_active(site, active)
    except StaffError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("staff.sites"))
    db.session.commit()
    flash(
        _("Site %(name)s reactivated.", name=site.name)
        if active
        else _("Site %(name)s deactivated.", name=site.name),
        "success",
    )
    return redirect(url_for("staff.sites"))
