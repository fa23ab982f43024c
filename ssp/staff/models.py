"""The ``sites`` and ``users`` tables."""

from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssp.database import enum_column
from ssp.extensions import db
from ssp.i18n import _l
from ssp.security import Role
from ssp.timeutil import as_utc, utcnow


class SiteKind(enum.StrEnum):
    """Where a site works from."""

    FIXED = "fixed"
    MOBILE = "mobile"
    OUTREACH = "outreach"
    SATELLITE = "satellite"

    @property
    def label(self) -> str:
        """The kind as staff read it (looked up in the reader's language when shown)."""
        return _SITE_KIND_LABELS[self.value]


_SITE_KIND_LABELS = {
    "fixed": _l("Fixed site"),
    "mobile": _l("Mobile unit"),
    "outreach": _l("Outreach"),
    "satellite": _l("Satellite"),
}


class Site(db.Model):
    """A place (or van, or outreach team) where the program serves people."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[SiteKind] = mapped_column(
        enum_column(SiteKind, "site_kind"), default=SiteKind.FIXED
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The supply item ids the outreach screen counts with one tap (None: the defaults).
    quick_items: Mapped[list[int] | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<Site {self.id} {self.name!r}>"


class User(UserMixin, db.Model):
    """A staff account. Never a participant: participants have no login."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when an admin chose the password: the person must pick their own at sign-in.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Two-step sign-in (ssp.staff.two_step): the authenticator secret, sealed; one being
    # set up and not yet confirmed; the last time step whose code was used; since when.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_pending: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    two_step_enabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The language the person reads the app in (ssp.i18n); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(16))

    site: Mapped[Site | None] = relationship()

    # The token of the session this request belongs to (ssp.staff.sessions), set when
    # the session starts or is found; never stored on the account.
    cookie_token = None

    def get_id(self) -> str | None:
        """The value Flask-Login keeps in the session cookie: the session's token."""
        return self.cookie_token

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive accounts."""
        return self.active

    def is_locked(self, now: dt.datetime | None = None) -> bool:
        """Whether too many failed sign-ins have locked the account for now."""
        if self.locked_until is None:
            return False
        return as_utc(self.locked_until) > (now or utcnow())

    def has_role(self, *roles: Role) -> bool:
        """Whether the user holds one of ``roles``."""
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r} {self.role}>"
