"""Wrong-password throttling that cannot be turned against staff.

Failures are kept per account and address (``sign_in_failures``). Ten wrong passwords
for one account from one address in LOGIN_LOCKOUT_MINUTES stop that address trying that
account until the oldest of them ages out: the account's owner at another desk signs in
as usual. Across all addresses, an account takes at most LOGIN_ACCOUNT_FAILURES_PER_HOUR
wrong passwords an hour from addresses it has never signed in from (in the last 30 days),
so guesses spread over many addresses stay slow, while the people who use the account
from their usual desks are not locked out by them. A correct password from an address
clears that address's failures.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, request
from sqlalchemy import DateTime, ForeignKey, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ssp import timeutil
from ssp.extensions import db

KNOWN_ADDRESS_DAYS = 30


class SignInFailure(db.Model):
    """One wrong password for an account, from an address."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


def _address() -> str:
    return (request.remote_addr or "unknown")[:64]


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])


def _failures(user_id: int, since: dt.datetime, address: str | None = None) -> int:
    query = select(func.count(SignInFailure.id)).where(
        SignInFailure.user_id == user_id, SignInFailure.failed_at > since
    )
    if address is not None:
        query = query.where(SignInFailure.remote_addr == address)
    return int(db.session.scalar(query) or 0)


def known_address(user_id: int, address: str, now: dt.datetime) -> bool:
    """Whether the account signed in from ``address`` in the last 30 days."""
    from ssp.staff.sessions import StaffSession

    return (
        db.session.scalar(
            select(StaffSession.id)
            .where(
                StaffSession.user_id == user_id,
                StaffSession.remote_addr == address,
                StaffSession.started_at > now - dt.timedelta(days=KNOWN_ADDRESS_DAYS),
            )
            .limit(1)
        )
        is not None
    )


def refused(user_id: int, now: dt.datetime | None = None) -> str | None:
    """Why this address may not try this account's password now (for the audit trail
    only; the person sees the same message as for a wrong password), or None."""
    now = now or timeutil.utcnow()
    address = _address()
    cfg = current_app.config
    if _failures(user_id, now - _window(), address) >= cfg["LOGIN_MAX_FAILURES"]:
        return "locked_for_address"
    hourly = cfg["LOGIN_ACCOUNT_FAILURES_PER_HOUR"]
    if _failures(user_id, now - dt.timedelta(hours=1)) >= hourly and not known_address(
        user_id, address, now
    ):
        return "account_rate"
    return None


def note_failure(user_id: int, now: dt.datetime | None = None) -> int:
    """Keep a wrong password (flushed); returns this address's recent failures."""
    now = now or timeutil.utcnow()
    db.session.add(SignInFailure(user_id=user_id, remote_addr=_address(), failed_at=now))
    db.session.flush()
    return _failures(user_id, now - _window(), _address())


def clear(user_id: int, *, address_only: bool = True) -> None:
    """Forget the account's failures: this address's (a correct password) or all (an
    admin lifting a lock)."""
    query = delete(SignInFailure).where(SignInFailure.user_id == user_id)
    if address_only:
        query = query.where(SignInFailure.remote_addr == _address())
    db.session.execute(query)


def prune(now: dt.datetime | None = None) -> None:
    """Drop failures older than a day (they no longer count for anything)."""
    cutoff = (now or timeutil.utcnow()) - dt.timedelta(days=1)
    db.session.execute(delete(SignInFailure).where(SignInFailure.failed_at < cutoff))


def stopped_addresses(now: dt.datetime | None = None) -> dict[int, int]:
    """Per account, how many addresses are now stopped from trying it (admin pages)."""
    now = now or timeutil.utcnow()
    rows = db.session.execute(
        select(SignInFailure.user_id, SignInFailure.remote_addr, func.count(SignInFailure.id))
        .where(SignInFailure.failed_at > now - _window())
        .group_by(SignInFailure.user_id, SignInFailure.remote_addr)
    ).all()
    stopped: dict[int, int] = {}
    for user_id, _, n in rows:
        if n >= current_app.config["LOGIN_MAX_FAILURES"]:
            stopped[user_id] = stopped.get(user_id, 0) + 1
    return stopped


def locked_addresses(user_id: int, now: dt.datetime | None = None) -> int:
    """How many addresses are now stopped from trying this account."""
    return stopped_addresses(now).get(user_id, 0)
