"""Sign-in, sign-out, one's own password, and the admin pages for accounts and sites."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ssp.database import reads_first
from ssp.extensions import db, limiter, login_manager
from ssp.forms import ConfirmForm, require_confirmed_post, save, show_rule_error
from ssp.security import (
    Role,
    confirm_recent_sign_in,
    public,
    recent_sign_in_required,
    role_required,
    safe_next_url,
    start_session_clock,
)
from ssp.staff import bp, services
from ssp.staff.forms import (
    ConfirmPasswordForm,
    PasswordChangeForm,
    PasswordResetForm,
    SignInForm,
    SiteForm,
    UserCreateForm,
    UserEditForm,
)
from ssp.staff.models import Site, User
from ssp.staff.services import StaffError
from ssp.supplies.services import active_catalogue

SIGN_IN_FAILED = "That username and password do not match an active account."


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """Find the user whose current session token is in the cookie."""
    return db.session.scalar(select(User).where(User.session_token == session_token, User.active))


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


# --- sign-in and sign-out ----------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@reads_first  # the password check (argon2, the slow part) runs without the write lock
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in():
    """Show the sign-in form and sign a user in."""
    next_url = safe_next_url(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("dashboard.index"))
    form = SignInForm()
    if form.validate_on_submit():
        result = services.authenticate(form.username.data, form.password.data)
        db.session.commit()
        if result.user is not None:
            session.clear()  # a fresh session: nothing carried over from before sign-in
            login_user(result.user)
            session.permanent = True
            start_session_clock()
            return redirect(next_url or url_for("dashboard.index"))
        form.form_errors.append(SIGN_IN_FAILED)
        return render_template("staff/sign_in.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("staff/sign_in.html", form=form), status


@bp.post("/sign-out")
def sign_out():
    """Sign out and end the session everywhere it was copied."""
    require_confirmed_post()
    services.sign_out(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("staff.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """Let a signed-in user change their own password."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_own_password(user, form.current_password.data, form.new_password.data)
        except StaffError as error:
            db.session.rollback()
            show_rule_error(form, error)
        else:
            db.session.commit()
            session.clear()
            login_user(user)  # keep this session; the user's other sessions have ended
            session.permanent = True
            start_session_clock()
            flash("Your password is changed. Other sessions of yours have ended.", "success")
            return redirect(url_for("dashboard.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("staff/change_password.html", form=form), status


@bp.route("/account/confirm", methods=["GET", "POST"])
def confirm_password():
    """Type the password again before a sensitive page (user admin, downloads, audit)."""
    form = ConfirmPasswordForm()
    next_url = safe_next_url(request.args.get("next")) or url_for("dashboard.index")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if services.confirm_password(user, form.password.data):
            db.session.commit()
            confirm_recent_sign_in()
            return redirect(next_url)
        db.session.commit()  # the failure is audited and counts towards the lockout
        form.password.errors.append("That is not your password.")
    return render_template("staff/confirm_password.html", form=form), (
        422 if request.method == "POST" else 200
    )


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
    return render_template("staff/users.html", users=rows, confirm=ConfirmForm())


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
        lambda user: f"Account {user.username} created.",
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
        f"Account {user.username} saved.",
    ):
        return redirect(url_for("staff.users"))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "staff/user_edit.html",
        user=user,
        form=form,
        reset_form=PasswordResetForm(formdata=None),
        confirm=ConfirmForm(),
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
        f"New password set for {user.username}; their sessions have ended.",
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
    flash(f"Account {user.username} {'reactivated' if active else 'deactivated'}.", "success")
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
    flash(f"Account {user.username} unlocked.", "success")
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
        lambda site: f"Site {site.name} added.",
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
        lambda _: f"Site {site.name} saved.",
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
    flash(f"Site {site.name} {'reactivated' if active else 'deactivated'}.", "success")
    return redirect(url_for("staff.sites"))
