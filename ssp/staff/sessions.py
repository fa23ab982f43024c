"""Server-side sessions: one ``staff_sessions`` row per sign-in, the only thing the cookie
points at.

The cookie carries a random token; the row (found by the token's SHA-256) holds who,
when it started, when it was last used, when it ended and why, the address and browser,
and when the person last proved who they are (password, or password and second step).
The idle and absolute limits are checked against the row on every request, so a copied
cookie dies with its session: at sign-out, at the idle or absolute limit, when the person
signs out everywhere, changes their password or second step, or when an admin ends it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import DateTime, ForeignKey, Select, String, bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, contains_eager, mapped_column, relationship

from ssp import timeutil
from ssp.audit import record
from ssp.database import start_writing, without_waiting
from ssp.extensions import db
from ssp.i18n import _, _l
from ssp.timeutil import as_utc

if TYPE_CHECKING:
    from ssp.staff.models import User

F = TypeVar("F", bound=Callable[..., Any])

# The last-seen time is written at most this often (a write per page would queue every
# desk behind every other); the idle limit is exact to within this.
TOUCH_EVERY = dt.timedelta(seconds=30)

END_REASONS = {
    "signed_out": _l("Signed out"),
    "idle": _l("Idle limit"),
    "lifetime": _l("Time limit"),
    "ended_by_owner": _l("Ended by its owner"),
    "ended_by_admin": _l("Ended by an administrator"),
    "password_changed": _l("Password changed"),  # nosec B105: words, not a password
    "password_reset": _l("Password reset by an administrator"),  # nosec B105: words
    "two_step_changed": _l("Two-step sign-in changed"),
    "deactivated": _l("Account deactivated"),
    "locked": _l("Too many wrong passwords"),
}


class StaffSession(db.Model):
    """One signed-in session of a staff account."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # When the person last typed their password (and second step) in this session.
    confirmed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship("User")

    @property
    def end_label(self) -> str:
        return END_REASONS.get(self.end_reason or "", self.end_reason or "")

    @property
    def browser(self) -> str:
        """The browser and system, in a few words (from the user agent)."""
        return describe_user_agent(self.user_agent)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_agent(value: str | None) -> str | None:
    if not value:
        return None
    kept = "".join(ch for ch in value if ch.isprintable())
    return kept[:200] or None


def start(user: User, now: dt.datetime | None = None) -> str:
    """A new session for ``user`` (flushed); returns the token for the cookie."""
    now = now or timeutil.utcnow()
    token = secrets.token_urlsafe(32)
    row = StaffSession(
        token_hash=_digest(token),
        user_id=user.id,
        started_at=now,
        last_seen_at=now,
        confirmed_at=now,
        remote_addr=request.remote_addr if request else None,
        user_agent=_clean_agent(request.headers.get("User-Agent")) if request else None,
    )
    db.session.add(row)
    db.session.flush()
    return token


@functools.cache
def _open_session_by_hash() -> Select:
    """Built once (every request runs it): the open session with ``token_hash``, and its
    active account in the same query."""
    from ssp.staff.models import User

    return (
        select(StaffSession)
        .join(User, User.id == StaffSession.user_id)
        .options(contains_eager(StaffSession.user))
        .where(
            StaffSession.token_hash == bindparam("token_hash", type_=String),
            StaffSession.ended_at.is_(None),
            User.active,
        )
    )


def find(token: str) -> StaffSession | None:
    """The open session the cookie's token names, with its active account."""
    if not isinstance(token, str) or not token or len(token) > 128:
        return None
    return db.session.scalar(_open_session_by_hash(), {"token_hash": _digest(token)})


def current() -> StaffSession | None:
    """This request's session row (after the user is loaded), or None."""
    if not current_user or not current_user.is_authenticated:
        return None
    return g.get("staff_session")


def end(row: StaffSession, reason: str, now: dt.datetime | None = None) -> None:
    """End one session."""
    if row.ended_at is None:
        row.ended_at = now or timeutil.utcnow()
        row.end_reason = reason


def end_all(user: User, reason: str, *, keep: StaffSession | None = None) -> int:
    """End every open session of ``user`` (but ``keep``); returns how many ended."""
    query = update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(StaffSession.id != keep.id)
    result = db.session.execute(
        query.values(ended_at=timeutil.utcnow(), end_reason=reason).execution_options(
            synchronize_session="fetch"
        )
    )
    return int(result.rowcount or 0)


def open_sessions(user: User) -> list[StaffSession]:
    """``user``'s open sessions, the most recently used first."""
    return list(
        db.session.scalars(
            select(StaffSession)
            .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
            .order_by(StaffSession.last_seen_at.desc(), StaffSession.id.desc())
        )
    )


def recent_sessions(user: User, limit: int = 10) -> list[StaffSession]:
    """``user``'s latest ended sessions."""
    return list(
        db.session.scalars(
            select(StaffSession)
            .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_not(None))
            .order_by(StaffSession.ended_at.desc(), StaffSession.id.desc())
            .limit(limit)
        )
    )


def confirm(row: StaffSession, now: dt.datetime | None = None) -> None:
    """The person has just proved who they are again in this session."""
    row.confirmed_at = now or timeutil.utcnow()


def recently_confirmed(row: StaffSession | None, now: dt.datetime | None = None) -> bool:
    """Whether the person proved who they are within RECENT_SIGN_IN_MINUTES."""
    if row is None:
        return False
    window = dt.timedelta(minutes=current_app.config["RECENT_SIGN_IN_MINUTES"])
    return (now or timeutil.utcnow()) - as_utc(row.confirmed_at) <= window


def expired_reason(row: StaffSession, now: dt.datetime) -> str | None:
    """``idle`` or ``lifetime`` when the session is past a limit, else None."""
    cfg = current_app.config
    if now - as_utc(row.last_seen_at) > dt.timedelta(minutes=cfg["IDLE_TIMEOUT_MINUTES"]):
        return "idle"
    if now - as_utc(row.started_at) > dt.timedelta(hours=cfg["SESSION_MAX_HOURS"]):
        return "lifetime"
    return None


def _touch(row: StaffSession, now: dt.datetime) -> None:
    """Note that the session is in use (its own short write; skipped, never waited for,
    when another writer holds SQLite's lock: the next page will note it)."""
    if now - as_utc(row.last_seen_at) < TOUCH_EVERY:
        return
    start_writing(keep_loaded=True)
    try:
        with without_waiting():
            db.session.execute(
                update(StaffSession).where(StaffSession.id == row.id).values(last_seen_at=now)
            )
            db.session.commit()
    except OperationalError:
        db.session.rollback()


#: Pages a person who must change their password (or set up two-step) can still reach.
LIMITED_SESSION_ALLOWED = {
    "staff.change_password",
    "staff.sign_out",
    "staff.sign_in",
    "staff.keepalive",
    "staff.two_step_setup",
    "staff.two_step_recovery_codes",
    "staff.confirm_password",
    "staff.passkey_options",
    "staff.passkey_add",
    "staff.choose_language",
    "static",
    "dashboard.health",
}


def enforce_limits() -> Any:
    """``before_request``: end idle or too-old sessions; send people whose password an
    admin set to choose their own, and people whose role needs two-step sign-in to set
    it up."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    row = current()
    now = timeutil.utcnow()
    reason = "stale" if row is None else expired_reason(row, now)
    if reason is not None:
        user_id = current_user.id
        if row is not None:
            start_writing(keep_loaded=True)
            end(row, reason, now)
            record("signed_out_" + reason, object_type="user", object_id=user_id, user_id=user_id)
            db.session.commit()
        logout_user()
        session.clear()
        if reason == "idle":
            message = _(
                "You were signed out after %(minutes)s minutes without activity, to protect "
                "participants' privacy.",
                minutes=current_app.config["IDLE_TIMEOUT_MINUTES"],
            )
        elif reason == "lifetime":
            message = _("Your session reached its time limit. Please sign in again.")
        else:
            message = _("Please sign in again.")
        if request.path.startswith("/api/") or request.endpoint == "staff.keepalive":
            return jsonify(error=message, status=401), 401
        flash(message, "info")
        return redirect(url_for("staff.sign_in"))
    _touch(row, now)
    if request.endpoint in LIMITED_SESSION_ALLOWED:
        return None
    if current_user.must_change_password:
        flash(_("An administrator set your password. Choose your own to continue."), "info")
        return redirect(url_for("staff.change_password"))
    from ssp.staff import two_step

    if two_step.setup_required(current_user):
        flash(_("Your role needs two-step sign-in. Set it up to continue."), "info")
        return redirect(url_for("staff.two_step_setup"))
    return None


def recent_sign_in_required(fallback: str | None = None) -> Callable[[F], F]:
    """Ask for the password (and second step) again when they were last given more than
    RECENT_SIGN_IN_MINUTES ago (before user admin and the audit trail). ``fallback`` is
    the page to return to after a POST, which cannot be replayed."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if recently_confirmed(current()):
                return view(*args, **kwargs)
            if request.method == "GET":
                target = request.full_path.rstrip("?")
            else:
                target = url_for(fallback) if fallback else url_for("dashboard.index")
            return redirect(url_for("staff.confirm_password", next=target))

        return wrapped  # type: ignore[return-value]

    return decorator


def describe_user_agent(agent: str | None) -> str:
    """A few words for a user agent string ("Firefox on Windows"), never the raw string."""
    if not agent:
        return _("Unknown browser")
    browsers = (
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("python", _("a script")),
    )
    systems = (
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    )
    browser = next((name for mark, name in browsers if mark in agent), None)
    system = next((name for mark, name in systems if mark in agent), None)
    if browser is None:
        return _("A browser on %(system)s", system=system) if system else _("A browser")
    return _("%(browser)s on %(system)s", browser=browser, system=system) if system else browser
