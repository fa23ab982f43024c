"""Two-step sign-in with an authenticator app (TOTP, RFC 6238) and recovery codes.

The shared secret is kept sealed in the database (AES-GCM under a key derived from the
app's SECRET_KEY), so a copy of the database alone gives nobody the codes. A code is
accepted once: the time step it belongs to is remembered, so a code seen over a
shoulder cannot be used again. Ten recovery codes are shown once when two-step sign-in
is turned on, stored hashed (argon2), each usable once. Roles in REQUIRE_TWO_STEP_ROLES
(admins and managers by default) must set it up before they can use the app.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import TYPE_CHECKING

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import DateTime, ForeignKey, String, delete, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ssp import timeutil
from ssp.audit import record
from ssp.extensions import db
from ssp.i18n import _
from ssp.security import Role, hash_password, verify_password

if TYPE_CHECKING:
    from ssp.staff.models import User

ISSUER = "ssp"
RECOVERY_CODES = 10
# Codes from the step before and after are accepted too (a phone clock a little off).
VALID_WINDOW = 1
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


class TwoStepError(ValueError):
    """A code that was not accepted; the message says what to do."""


class RecoveryCode(db.Model):
    """One single-use recovery code (hashed)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- the sealed secret ----------------------------------------------------------------


def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    material = secret.encode() if isinstance(secret, str) else bytes(secret)
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"ssp two-step secrets"
    ).derive(material)


def seal(secret: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key()).encrypt(nonce, secret.encode(), b"totp")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(value: str) -> str | None:
    """The secret, or None when it cannot be opened (SECRET_KEY changed)."""
    try:
        raw = base64.urlsafe_b64decode(value.encode())
        return AESGCM(_key()).decrypt(raw[:12], raw[12:], b"totp").decode()
    except (InvalidTag, ValueError):
        return None


# --- state ----------------------------------------------------------------------------


def enabled(user: User) -> bool:
    return user.two_step_enabled_at is not None and user.totp_secret is not None


def has_second_step(user: User) -> bool:
    """An authenticator app or a passkey: what a sign-in asks for after the password."""
    from ssp.staff import passkeys

    return enabled(user) or passkeys.has_any(user)


def required_roles() -> set[Role]:
    return {Role(r) for r in current_app.config["REQUIRE_TWO_STEP_ROLES"]}


def required(user: User) -> bool:
    return user.role in required_roles()


def setup_required(user: User) -> bool:
    """The person's role needs two-step sign-in and they have not set it up yet."""
    return required(user) and not has_second_step(user)


# --- setting up -----------------------------------------------------------------------


def begin_setup(user: User) -> str:
    """A new secret waiting for its first code (replaces an unconfirmed one); returns it."""
    secret = pyotp.random_base32()
    user.totp_pending = seal(secret)
    return secret


def pending_secret(user: User) -> str | None:
    return unseal(user.totp_pending) if user.totp_pending else None


def provisioning_uri(user: User, secret: str) -> str:
    program = current_app.config.get("PROGRAM_NAME") or ISSUER
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=program)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as a data: URL of an SVG drawn here (never a web service)."""
    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(uri, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    size = 220
    drawing = Drawing(
        size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0]
    )
    drawing.add(widget)
    svg = renderSVG.drawToString(drawing)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def confirm_setup(user: User, code: str, now: dt.datetime | None = None) -> list[str]:
    """Turn two-step sign-in on with the first code from the app; returns the recovery
    codes to show once. Raises TwoStepError for a wrong code."""
    now = now or timeutil.utcnow()
    secret = pending_secret(user)
    if secret is None:
        raise TwoStepError(_("Start again: scan the new code below."))
    step = _matching_step(secret, code, now)
    if step is None:
        raise TwoStepError(_("That code is not right. Type the 6 digits the app shows now."))
    user.totp_secret = user.totp_pending
    user.totp_pending = None
    user.totp_last_step = step
    user.two_step_enabled_at = now
    codes = new_recovery_codes(user, now)
    record("two_step_enabled", object_type="user", object_id=user.id)
    return codes


def new_recovery_codes(user: User, now: dt.datetime | None = None) -> list[str]:
    """Replace the person's recovery codes with ten new ones (shown once)."""
    now = now or timeutil.utcnow()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "".join(secrets.choice(_ALPHABET) for _letter in range(10))
        for _code in range(RECOVERY_CODES)
    ]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_password(code), created_at=now))
    db.session.flush()
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def unused_recovery_codes(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def turn_off(user: User, *, by_admin: bool = False) -> None:
    """Remove the authenticator app (the person, when their role allows); an admin's
    reset (a lost phone) removes the passkeys too."""
    user.totp_secret = None
    user.totp_pending = None
    user.totp_last_step = None
    user.two_step_enabled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    if by_admin:
        from ssp.staff import passkeys

        removed = passkeys.remove_all(user)
        record(
            "two_step_reset", object_type="user", object_id=user.id, detail={"passkeys": removed}
        )
    else:
        record("two_step_disabled", object_type="user", object_id=user.id)


# --- checking a code ------------------------------------------------------------------


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step whose code ``code`` is, within the window, or None."""
    digits = _normalise(code)
    if len(digits) != 6 or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        candidate = step + offset
        if secrets.compare_digest(totp.generate_otp(candidate), digits):
            return candidate
    return None


def check(user: User, code: str, now: dt.datetime | None = None) -> str:
    """Accept an authenticator code or an unused recovery code; returns which ("totp",
    "recovery_code"). Raises TwoStepError otherwise."""
    from ssp.staff.models import User as Account

    now = now or timeutil.utcnow()
    secret = unseal(user.totp_secret) if user.totp_secret else None
    if secret is None:
        raise TwoStepError(
            _("Two-step sign-in cannot be checked. Ask an administrator to reset it.")
        )
    step = _matching_step(secret, code, now)
    if step is not None:
        # One conditional UPDATE: of two requests with the same code at once, only one
        # moves the step on (a read, compare and write would let both through).
        moved = db.session.execute(
            update(Account)
            .where(
                Account.id == user.id,
                or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            raise TwoStepError(_("That code was already used. Wait for the next one."))
        db.session.expire(user, ["totp_last_step"])
        return "totp"
    plain = _normalise(code)
    if len(plain) == 10:
        for row in db.session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ):
            if verify_password(row.code_hash, plain):
                used = db.session.execute(
                    update(RecoveryCode)
                    .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                    .values(used_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if used != 1:
                    break  # used a moment ago by another request
                db.session.expire(row)
                record(
                    "recovery_code_used",
                    object_type="user",
                    object_id=user.id,
                    user_id=user.id,
                    detail={"left": unused_recovery_codes(user)},
                )
                return "recovery_code"
    raise TwoStepError(_("That code is not right. Type the 6 digits the app shows now."))
