"""Roles, the sign-in requirement, password hashing and security headers. (The
server-side session rows and their limits are ``ssp.staff.sessions``.)"""

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
    has_app_context,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from ssp.i18n import _, _l

F = TypeVar("F", bound=Callable[..., Any])


class Role(enum.StrEnum):
    """What a staff account may do; see DESIGN.md section 7."""

    FRONT_DESK = "front_desk"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role as staff read it (looked up in the reader's language when shown)."""
        return _ROLE_LABELS[self.value]


_ROLE_LABELS = {
    "front_desk": _l("Front desk"),
    "manager": _l("Program manager"),
    "admin": _l("Administrator"),
}


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


# zxcvbn's score (0 to 4) a new password must reach: 3 is "safely unguessable" against
# an attacker who has the hashes and guesses about 10^8 times (argon2 makes that slow).
PASSWORD_MIN_SCORE = 3
_ZXCVBN_MAX = 72  # zxcvbn refuses longer input; the first 72 characters decide


def _contains_name(password: str, name: str | None) -> bool:
    """Whether the password is built on ``name`` (ignoring case, spaces and punctuation)."""
    letters = "".join(ch for ch in (name or "").lower() if ch.isalnum())
    return len(letters) >= 3 and letters in "".join(ch for ch in password.lower() if ch.isalnum())


# Words of a program's name that say what it is, not which program: not refused alone.
_GENERIC_NAME_WORDS = {
    "syringe",
    "syringes",
    "services",
    "service",
    "program",
    "programme",
    "project",
    "exchange",
    "needle",
    "needles",
    "harm",
    "reduction",
    "center",
    "centre",
    "health",
    "community",
    "outreach",
    "coalition",
    "alliance",
    "network",
    "the",
    "and",
    "for",
    "ssp",
}


def _name_parts(program: str) -> list[str]:
    """The program's whole name and its distinctive words ("Harbor" of "Harbor SSP")."""
    words = [w for w in program.replace("-", " ").split() if len(w) >= 4]
    return [program, *(w for w in words if w.lower() not in _GENERIC_NAME_WORDS)]


def password_problem(
    password: str, username: str | None = None, min_length: int | None = None
) -> str | None:
    """Why a new password is not acceptable, or None when it is: too short or long, built
    on the username or the program's name, or easy to guess (zxcvbn's estimate, which
    knows tens of thousands of common passwords, names, words and keyboard patterns)."""
    from zxcvbn import zxcvbn

    minimum = min_length or current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return _("Use at least %(minimum)s characters.", minimum=minimum)
    if len(password) > 256:
        return _("Use at most %(maximum)s characters.", maximum=256)
    if username and _contains_name(password, username):
        return _("The password must not contain the username.")
    # `ssp quickstart` checks the first admin's password before any app exists.
    program = (current_app.config.get("PROGRAM_NAME") if has_app_context() else "") or ""
    if any(_contains_name(password, part) for part in _name_parts(program)):
        return _("The password must not contain the name of the program.")
    known = [u for u in (username, program) if u] + list(SPANISH_GUESSES)
    estimate = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=known)
    if estimate["score"] < PASSWORD_MIN_SCORE:
        feedback = estimate["feedback"]
        # zxcvbn speaks English only: its sentences are looked up in our catalogue.
        warning = feedback.get("warning")
        why = _(warning) if warning else _("It would be quick to guess.")
        advice = " ".join(_(tip) for tip in feedback.get("suggestions") or []) or _(
            "A few unrelated words make a strong password."
        )
        return _("This password is easy to guess. %(why)s %(advice)s", why=why, advice=advice)
    return None


def N_(text: str) -> str:
    """Mark ``text`` for the catalogue without looking it up (it is looked up later)."""
    return text


# zxcvbn's lists are English: the Spanish words and phrases people pick first, and the
# words of this work, are guessed as early as "password" is (both spellings of ñ).
SPANISH_GUESSES = (
    "contraseña", "contrasena", "clave", "micontraseña", "micontrasena", "miclave",
    "secreto", "bienvenido", "bienvenida", "hola", "holamundo", "tequiero", "teamo", "amor",
    "amorcito", "corazon", "corazón", "cariño", "carino", "princesa", "mariposa", "estrella",
    "familia", "futbol", "fútbol", "america", "méxico", "mexico", "españa", "espana",
    "dios", "jesus", "jesús", "feliz", "abcdef", "qwerty", "usuario", "admin",
    "administrador", "recepcion", "recepción", "jeringa", "jeringas", "naloxona",
    "programa", "salud", "clinica", "clínica", "sede", "visita", "participante",
)  # fmt: skip


# Every sentence zxcvbn's feedback can give (zxcvbn/feedback.py), in its English words,
# so that the catalogue holds them and password_problem can say them in any language.
ZXCVBN_SENTENCES = (
    N_("Add another word or two. Uncommon words are better."),
    N_("Capitalization doesn't help very much."),
    N_("Reversed words aren't much harder to guess."),
    N_("Predictable substitutions like '@' instead of 'a' don't help very much."),
    N_("Use a few words, avoid common phrases."),
    N_("No need for symbols, digits, or uppercase letters."),
    N_("Straight rows of keys are easy to guess."),
    N_("Short keyboard patterns are easy to guess."),
    N_("This is a top-10 common password."),
    N_("This is similar to a commonly used password."),
    N_("A word by itself is easy to guess."),
    N_("All-uppercase is almost as easy to guess as all-lowercase."),
    N_("Use a longer keyboard pattern with more turns."),
    N_('Repeats like "aaa" are easy to guess.'),
    N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
    N_("This is a top-100 common password."),
    N_("This is a very common password."),
    N_("Names and surnames by themselves are easy to guess."),
    N_("Common names and surnames are easy to guess."),
    N_("Avoid repeated words and characters."),
    N_('Sequences like "abc" or "6543" are easy to guess.'),
    N_("Avoid sequences."),
    N_("Recent years are easy to guess."),
    N_("Dates are often easy to guess."),
    N_("Avoid recent years."),
    N_("Avoid years that are associated with you."),
    N_("Avoid dates and years that are associated with you."),
)


def set_security_headers(response: Any) -> Any:
    """Add the headers every response carries (pages, files and errors alike)."""
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin: no other site ever learns which page linked to it, and a form posted
    # over HTTPS carries the Referer that Flask-WTF's CSRF check requires there (with
    # no-referrer, every POST over HTTPS was refused).
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Pages show staff and participant data: never keep them in a shared computer's cache.
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


def register_security(app: Flask) -> None:
    """Install the sign-in requirement, session limits, secure cookies and headers."""
    from ssp.staff.sessions import enforce_limits

    app.session_interface = SessionInterface()
    app.before_request(enforce_limits)  # the session row's limits (ssp.staff.sessions)
    app.before_request(require_sign_in)
    app.after_request(set_security_headers)


def safe_next_url(target: str | None) -> str | None:
    """``target`` when it is a path inside this app, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    return target


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag whenever the request came over
    HTTPS (behind a proxy too, once PROXY_FIX_X_PROTO is set), not only when configured."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, or when this request is HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )
