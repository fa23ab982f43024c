"""Roles, the sign-in requirement, password hashing and security headers."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Flask,
    abort,
    current_app,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])


class Role(enum.StrEnum):
    """What a staff account may do; see DESIGN.md section 7."""

    FRONT_DESK = "front_desk"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role as staff read it."""
        return {"front_desk": "Front desk", "manager": "Program manager", "admin": "Administrator"}[
            self.value
        ]


def role_required(*roles: Role) -> Callable[[F], F]:
    """Let only signed-in users with one of ``roles`` reach the view; others get 403."""

    allowed = {Role(r) for r in roles}

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Mark a view as reachable without signing in (sign-in page, health check)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def require_sign_in() -> Any:
    """``before_request`` hook: every endpoint needs a signed-in user unless marked public."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, "is_public", False):
        return None
    if current_user.is_authenticated:
        return None
    if request.method == "GET":
        return redirect(url_for("staff.sign_in", next=request.full_path.rstrip("?")))
    return redirect(url_for("staff.sign_in"))


def _password_hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["PASSWORD_HASH_TIME_COST"],
        memory_cost=cfg["PASSWORD_HASH_MEMORY_KIB"],
        parallelism=cfg["PASSWORD_HASH_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """Hash a password with argon2id (memory-hard)."""
    return _password_hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, burn the same time so unknown users are not revealed."""
    hasher = _password_hasher()
    if password_hash is None:
        hasher.hash(password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with weaker settings than the current ones."""
    return _password_hasher().check_needs_rehash(password_hash)


def password_problem(
    password: str, username: str | None = None, min_length: int | None = None
) -> str | None:
    """Why a new password is not acceptable, or None when it is."""
    minimum = min_length or current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return f"Use at least {minimum} characters."
    if len(password) > 256:
        return "Use at most 256 characters."
    if username and password.strip().lower() == username.strip().lower():
        return "The password must not be the username."
    return None


def set_security_headers(response: Any) -> Any:
    """Add the headers every response carries (pages, files and errors alike)."""
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Pages show staff and participant data: never keep them in a shared computer's cache.
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


def register_security(app: Flask) -> None:
    """Install the sign-in requirement, session limits, secure cookies and headers."""
    app.session_interface = SessionInterface()
    app.before_request(enforce_session_limits)
    app.before_request(require_sign_in)
    app.after_request(set_security_headers)


def safe_next_url(target: str | None) -> str | None:
    """``target`` when it is a path inside this app, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    return target


# --- sessions on shared desk computers ---------------------------------------------------

SESSION_KEYS = ("signed_in_at", "last_seen", "confirmed_at")


def _now() -> float:
    from ssp import timeutil

    return timeutil.utcnow().timestamp()


def start_session_clock() -> None:
    """Call right after signing someone in: the idle, absolute and recent-sign-in clocks."""
    now = _now()
    for key in SESSION_KEYS:
        session[key] = now


def confirm_recent_sign_in() -> None:
    """The person has just typed their password again."""
    session["confirmed_at"] = _now()


def _expired_reason(now: float) -> str | None:
    cfg = current_app.config
    signed_in_at = session.get("signed_in_at")
    last_seen = session.get("last_seen")
    if not isinstance(signed_in_at, int | float) or not isinstance(last_seen, int | float):
        return "stale"
    if now - last_seen > cfg["IDLE_TIMEOUT_MINUTES"] * 60:
        return "idle"
    if now - signed_in_at > cfg["SESSION_MAX_HOURS"] * 3600:
        return "lifetime"
    return None


#: Pages a person who must change their password can still reach.
PASSWORD_CHANGE_ALLOWED = {
    "staff.change_password",
    "staff.sign_out",
    "staff.sign_in",
    "staff.keepalive",
    "static",
    "dashboard.health",
}


def enforce_session_limits() -> Any:
    """``before_request``: sign out idle or too-old sessions; send people whose password
    an admin set to choose their own."""
    from flask import flash, jsonify
    from flask_login import logout_user

    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = _now()
    reason = _expired_reason(now)
    if reason is not None:
        from ssp.audit import record
        from ssp.extensions import db

        record(
            "signed_out_" + reason,
            object_type="user",
            object_id=current_user.id,
            user_id=current_user.id,
        )
        db.session.commit()
        logout_user()
        session.clear()
        message = {
            "idle": "You were signed out after "
            f"{current_app.config['IDLE_TIMEOUT_MINUTES']} minutes without activity, to "
            "protect participants' privacy.",
            "lifetime": "Your session reached its time limit. Please sign in again.",
        }.get(reason, "Please sign in again.")
        if request.path.startswith("/api/") or request.endpoint == "staff.keepalive":
            return jsonify(error=message, status=401), 401
        flash(message, "info")
        return redirect(url_for("staff.sign_in"))
    session["last_seen"] = now
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ALLOWED:
        flash("An administrator set your password. Choose your own to continue.", "info")
        return redirect(url_for("staff.change_password"))
    return None


def recent_sign_in_required(fallback: str | None = None) -> Callable[[F], F]:
    """Ask for the password again when it was last typed more than RECENT_SIGN_IN_MINUTES
    ago (before user admin, report downloads, the audit trail). ``fallback`` is the page
    to return to after a POST, which cannot be replayed."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            window = current_app.config["RECENT_SIGN_IN_MINUTES"] * 60
            confirmed = session.get("confirmed_at")
            if isinstance(confirmed, int | float) and _now() - confirmed <= window:
                return view(*args, **kwargs)
            if request.method == "GET":
                target = request.full_path.rstrip("?")
            else:
                target = url_for(fallback) if fallback else url_for("dashboard.index")
            return redirect(url_for("staff.confirm_password", next=target))

        return wrapped  # type: ignore[return-value]

    return decorator


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag whenever the request came over
    HTTPS (behind a proxy too, once PROXY_FIX_X_PROTO is set), not only when configured."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, or when this request is HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )
