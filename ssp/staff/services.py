"""The rules for staff accounts and sites: sign-in checks, creation, changes.

Functions flush but do not commit; the calling view or command commits once.
Each raises ``StaffError`` with a message for the person at the keyboard.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, func, select

from ssp import timeutil
from ssp.audit import record, record_active
from ssp.database import start_writing
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _, available_languages, language_name
from ssp.security import (
    Role,
    hash_password,
    password_needs_rehash,
    password_problem,
    verify_password,
)
from ssp.staff import sessions, throttle
from ssp.staff.models import Site, SiteKind, User

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


class StaffError(RuleError):
    """A change to accounts or sites that the rules do not allow."""


class WrongPasswordError(StaffError):
    """A signed-in person typed a wrong password; the failure is recorded (commit it)."""


def check_own_password(user: User, password: str, purpose: str) -> bool:
    """A signed-in person types their password again (changing it, turning two-step
    off): wrong ones count with wrong sign-in passwords from this address, and are
    audited; while this address is stopped, nothing is checked."""
    if throttle.refused(user.id) is None and verify_password(user.password_hash, password):
        return True
    failures = throttle.note_failure(user.id)
    record(
        "password_check_failed",
        object_type="user",
        object_id=user.id,
        user_id=user.id,
        detail={"for": purpose, "failed_from_address": failures},
    )
    return False


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: stored and compared in lower case."""
    return (username or "").strip().lower()


def user_by_username(username: str) -> User | None:
    """The account with that username, or None."""
    return db.session.scalar(select(User).where(User.username == normalise_username(username)))


def site_by_name(name: str) -> Site | None:
    """The site with that name (case-insensitive), or None."""
    return db.session.scalar(select(Site).where(func.lower(Site.name) == name.strip().lower()))


@functools.cache
def _active_sites() -> Select:
    return select(Site).where(Site.active).order_by(Site.name)  # built once: every visit form


def active_sites() -> list[Site]:
    """Sites that are in use, by name."""
    return list(db.session.scalars(_active_sites()))


# --- sign-in -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInResult:
    """The outcome of a sign-in attempt: the user, or why not (for the audit trail only)."""

    user: User | None
    reason: str | None = None


def authenticate(username: str, password: str) -> SignInResult:
    """Check a username and password, keeping wrong passwords per account and address
    (:mod:`ssp.staff.throttle`). The password being right does not sign anyone in yet:
    the caller completes the sign-in (:func:`complete_sign_in`), after the second step
    when the account has one.

    Every failure looks the same to the caller's user; ``reason`` is for the audit trail.
    """
    user = user_by_username(username)
    now = timeutil.utcnow()
    if user is None:
        verify_password(None, password)  # same work as a real check: no timing tell
        # The attempted name is not kept: people sometimes type a password into it.
        record("sign_in_failed", detail={"reason": "unknown_user"})
        return SignInResult(None, "unknown_user")
    refusal = "locked" if user.is_locked(now) else throttle.refused(user.id, now)
    if refusal is not None:
        verify_password(None, password)
        return _failed(user, {"reason": refusal})
    correct = verify_password(user.password_hash, password)
    new_hash = (
        hash_password(password) if correct and password_needs_rehash(user.password_hash) else None
    )
    # The slow part (argon2) is done; on a sign-in page, what follows is written under
    # the write lock, with the user's counts read again inside it (on PostgreSQL the
    # account's row is locked first): guesses sent in parallel all passed the first
    # check, and only as many as the limits allow may count.
    start_writing()
    lock_account(user)
    refusal = throttle.refused(user.id, now)
    if refusal is not None:
        return _failed(user, {"reason": refusal})
    if not correct:
        failures = throttle.note_failure(user.id, now)
        detail = {"reason": "wrong_password", "failed_from_address": failures}
        if failures >= current_app.config["LOGIN_MAX_FAILURES"]:
            detail["address_stopped_minutes"] = current_app.config["LOGIN_LOCKOUT_MINUTES"]
        return _failed(user, detail)
    if not user.active:
        return _failed(user, {"reason": "inactive"})
    if new_hash is not None:
        user.password_hash = new_hash
    # This address's failures are forgotten only when the whole sign-in succeeds
    # (complete_sign_in): a right password alone must not reset the count of wrong
    # second-step codes.
    return SignInResult(user)


def lock_account(user: User) -> None:
    """Take the account's row lock for the rest of the transaction (PostgreSQL; SQLite's
    write transactions are one at a time already)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())


def _failed(user: User, detail: dict) -> SignInResult:
    """Audit a refused sign-in to ``user``'s account; the result says why (``reason``)."""
    record("sign_in_failed", object_type="user", object_id=user.id, user_id=user.id, detail=detail)
    return SignInResult(None, detail["reason"])


def second_step_failed(user: User, reason: str) -> None:
    """A wrong second-step code: it counts with wrong passwords from this address."""
    start_writing()
    lock_account(user)
    _failed(user, {"reason": reason, "failed_from_address": throttle.note_failure(user.id)})


def passkey_sign_in_failed() -> None:
    """A passkey that did not sign anyone in (no account to count it against)."""
    start_writing()
    record("sign_in_failed", detail={"reason": "passkey_refused"})


def record_passkey_confirmed(user: User) -> None:
    record("password_confirmed", object_type="user", object_id=user.id, detail={"with": "passkey"})


def complete_sign_in(user: User, *, second_step: str | None = None) -> str:
    """Start a session for ``user`` (password, and second step when they have one,
    checked); returns the token for the session cookie."""
    start_writing()
    now = timeutil.utcnow()
    user.last_login_at = now
    token = sessions.start(user)
    throttle.clear(user.id)
    throttle.prune(now)
    record(
        "sign_in",
        object_type="user",
        object_id=user.id,
        user_id=user.id,
        detail={"second_step": second_step} if second_step else None,
    )
    user.cookie_token = token
    return token


def end_sessions(user: User, reason: str, *, keep=None) -> int:
    """End every session of ``user`` (but ``keep``): sign-out everywhere, a password or
    second-step change, a reset, deactivation."""
    return sessions.end_all(user, reason, keep=keep)


def sign_out(user: User, row) -> None:
    """Record a sign-out and end this session (a copied cookie of it dies too)."""
    if row is not None:
        sessions.end(row, "signed_out")
    record("sign_out", object_type="user", object_id=user.id, user_id=user.id)


def sign_out_everywhere_else(user: User, keep) -> int:
    """The person ends their other sessions; returns how many."""
    ended = end_sessions(user, "ended_by_owner", keep=keep)
    record("sessions_ended", object_type="user", object_id=user.id, detail={"sessions": ended})
    return ended


def end_one_session(user: User, session_id: int) -> bool:
    """The person ends one of their other sessions; False when it is not theirs or open."""
    row = db.session.get(sessions.StaffSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return False
    sessions.end(row, "ended_by_owner")
    record("sessions_ended", object_type="user", object_id=user.id, detail={"sessions": 1})
    return True


def record_recovery_codes_replaced(user: User) -> None:
    record("recovery_codes_replaced", object_type="user", object_id=user.id)


def admin_end_sessions(user: User) -> int:
    """An admin signs a person out everywhere."""
    ended = end_sessions(user, "ended_by_admin")
    record(
        "sessions_ended_by_admin", object_type="user", object_id=user.id, detail={"sessions": ended}
    )
    return ended


# --- accounts ------------------------------------------------------------------------


def _check_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem:
        raise StaffError(problem, field="password")


def _check_site(site_id: int | None) -> Site | None:
    if site_id is None:
        return None
    site = db.session.get(Site, site_id)
    if site is None or not site.active:
        raise StaffError(_("Choose a site that is in use."), field="site_id")
    return site


def create_user(
    *,
    username: str,
    password: str,
    role: Role | str,
    site_id: int | None,
    must_change_password: bool = False,
) -> User:
    """Create a staff account; the username must be new and the password long enough."""
    username = normalise_username(username)
    if not USERNAME_PATTERN.match(username):
        raise StaffError(
            _(
                "Usernames are 3 to 64 characters: letters, digits, dot, dash or underscore, "
                "starting with a letter or digit."
            ),
            field="username",
        )
    try:
        role = Role(role)
    except ValueError:
        raise StaffError(
            _("Role must be one of: %(roles)s.", roles=", ".join(r.value for r in Role)),
            field="role",
        ) from None
    if user_by_username(username) is not None:
        raise StaffError(
            _("The username %(username)s is taken.", username=repr(username)), field="username"
        )
    _check_password(password, username)
    site = _check_site(site_id)
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        site=site,
        active=True,
        failed_logins=0,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    record(
        "user_created",
        object_type="user",
        object_id=user.id,
        detail={"username": username, "role": role.value, "site_id": site_id},
    )
    return user


def _active_admin_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.active, User.role == Role.ADMIN)
    )


def update_user(user: User, *, role: Role | str, site_id: int | None) -> None:
    """Change an account's role and default site; the last active admin stays an admin."""
    role = Role(role)
    demoting_an_admin = user.role == Role.ADMIN and role != Role.ADMIN and user.active
    if demoting_an_admin and _active_admin_count() <= 1:
        raise StaffError(_("This is the last active administrator; keep the role."), "role")
    if site_id != user.site_id:
        _check_site(site_id)
    changes = {}
    if role != user.role:
        changes["role"] = [user.role.value, role.value]
        user.role = role
    if site_id != user.site_id:
        changes["site_id"] = [user.site_id, site_id]
        user.site_id = site_id
    if changes:
        record("user_updated", object_type="user", object_id=user.id, detail=changes)


def set_user_active(user: User, active: bool, *, acting_user: User) -> None:
    """Deactivate (ending every session) or reactivate an account."""
    if user.active == active:
        return
    if not active:
        if user.id == acting_user.id:
            raise StaffError(_("You cannot deactivate your own account."))
        if user.role == Role.ADMIN and _active_admin_count() <= 1:
            raise StaffError(_("This is the last active administrator; it cannot be deactivated."))
        end_sessions(user, "deactivated")
    record_active(user, active, "user")


def reset_password(user: User, new_password: str) -> None:
    """Set a new password chosen by an admin; ends the user's sessions and lifts a lockout."""
    _check_password(new_password, user.username)
    user.password_hash = hash_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    throttle.clear(user.id, address_only=False)
    user.must_change_password = True  # an admin knows it: the person picks their own
    end_sessions(user, "password_reset")
    record("password_reset", object_type="user", object_id=user.id)


def change_own_password(user: User, current_password: str, new_password: str, *, keep=None) -> None:
    """A user changes their own password, proving they know the current one; their other
    sessions end (``keep``: this one)."""
    if not check_own_password(user, current_password, "password_change"):
        raise WrongPasswordError(_("The current password is not right."), field="current_password")
    if current_password == new_password:
        raise StaffError(_("Choose a password different from the current one."), "new_password")
    problem = password_problem(new_password, user.username)
    if problem:
        raise StaffError(problem, field="new_password")
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    end_sessions(user, "password_changed", keep=keep)
    record("password_changed", object_type="user", object_id=user.id)


def language_code(value: str | None) -> str | None:
    """The language a person picked: a code the app speaks, or None for "the browser's
    choice" (empty). Anything else is refused with StaffError."""
    value = (value or "").strip()
    if not value:
        return None
    if value not in available_languages():
        raise StaffError(
            _(
                "That language is not offered. Choose one of: %(languages)s.",
                languages=", ".join(language_name(code) for code in available_languages()),
            ),
            field="language",
        )
    return value


def set_language(user: User, value: str | None) -> None:
    """Keep the language ``user`` reads the app in (None: their browser's choice)."""
    user.language = language_code(value)


def confirm_password(user: User, password: str, code: str | None = None, row=None) -> bool:
    """Check a signed-in person's password again, and their second-step code when they
    have one; success marks the session ``row`` as recently confirmed. Failures count
    towards the lockout."""
    from ssp.staff import two_step

    right = verify_password(user.password_hash, password)
    if right and two_step.enabled(user):
        try:
            two_step.check(user, code or "")
        except two_step.TwoStepError:
            right = False
    if right:
        user.failed_logins = 0
        if row is not None:
            sessions.confirm(row)
        record("password_confirmed", object_type="user", object_id=user.id, user_id=user.id)
        return True
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = timeutil.utcnow() + dt.timedelta(
            minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]
        )
        end_sessions(user, "locked")
    record(
        "password_confirm_failed",
        object_type="user",
        object_id=user.id,
        user_id=user.id,
        detail={"failed_logins": user.failed_logins},
    )
    return False


def unlock_user(user: User) -> None:
    """Lift a sign-in lockout before it ends by itself."""
    user.failed_logins = 0
    user.locked_until = None
    throttle.clear(user.id, address_only=False)
    record("user_unlocked", object_type="user", object_id=user.id)


# --- sites ---------------------------------------------------------------------------


def _clean_site_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 80:
        raise StaffError(_("A site name is 2 to 80 characters."), field="name")
    return name


def create_site(
    *, name: str, kind: SiteKind | str = SiteKind.FIXED, quick_items: list[int] | None = None
) -> Site:
    """Add a site; names are unique regardless of case."""
    name = _clean_site_name(name)
    if site_by_name(name) is not None:
        raise StaffError(_("There is already a site called %(name)s.", name=repr(name)), "name")
    site = Site(name=name, kind=SiteKind(kind), active=True, quick_items=quick_items or None)
    db.session.add(site)
    db.session.flush()
    record(
        "site_created",
        object_type="site",
        object_id=site.id,
        detail={"name": name, "kind": site.kind.value},
    )
    return site


def update_site(
    site: Site, *, name: str, kind: SiteKind | str, quick_items: list[int] | None = None
) -> None:
    """Rename a site, change its kind or its outreach screen's quick counters."""
    name = _clean_site_name(name)
    existing = site_by_name(name)
    if existing is not None and existing.id != site.id:
        raise StaffError(_("There is already a site called %(name)s.", name=repr(name)), "name")
    kind = SiteKind(kind)
    changes = {}
    if name != site.name:
        changes["name"] = [site.name, name]
        site.name = name
    if kind != site.kind:
        changes["kind"] = [site.kind.value, kind.value]
        site.kind = kind
    quick_items = list(quick_items or []) or None
    if quick_items != site.quick_items:
        changes["quick_items"] = [site.quick_items, quick_items]
        site.quick_items = quick_items
    if changes:
        record("site_updated", object_type="site", object_id=site.id, detail=changes)


def set_site_active(site: Site, active: bool) -> None:
    """Deactivate or reactivate a site; a deactivated site keeps its history."""
    if site.active == active:
        return
    if not active and len(active_sites()) <= 1:
        raise StaffError(_("This is the only site in use; add another before deactivating it."))
    record_active(site, active, "site")
