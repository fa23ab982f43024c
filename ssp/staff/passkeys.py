"""Passkeys (WebAuthn, with the ``webauthn`` library): a second step, or a sign-in on
their own, where the app is served over HTTPS or on localhost (browsers offer WebAuthn
only there).

A passkey asks the person to unlock it (fingerprint, face or PIN: user verification is
required), so a passkey alone proves two things, the device and the person, and signs in
without a password. The server keeps each passkey's public key and signature counter;
each challenge is kept on the server (``passkey_challenges``) until it is answered, once,
or two minutes pass, so a recorded answer cannot be replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import current_app, request
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ssp import timeutil
from ssp.audit import record
from ssp.extensions import db
from ssp.i18n import _

if TYPE_CHECKING:
    from ssp.staff.models import User

CEREMONY_SECONDS = 120
MAX_PASSKEYS = 10


class PasskeyError(ValueError):
    """A passkey ceremony that did not succeed; the message says what to do."""


class Passkey(db.Model):
    """One registered passkey of a staff account (its public key only)."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url
    public_key: Mapped[str] = mapped_column(Text)  # base64url COSE key
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class PasskeyChallenge(db.Model):
    """A challenge handed to a browser, kept until it is answered (once) or two minutes
    pass: a replayed answer, or one to a challenge never issued, finds no row."""

    __tablename__ = "passkey_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


# --- where passkeys work ------------------------------------------------------------------


def relying_party() -> tuple[str, str]:
    """(RP id, origin): WEBAUTHN_RP_ID / WEBAUTHN_ORIGIN when set, else this request's host."""
    origin = current_app.config.get("WEBAUTHN_ORIGIN") or request.host_url.rstrip("/")
    rp_id = current_app.config.get("WEBAUTHN_RP_ID") or (urlsplit(origin).hostname or "")
    return rp_id, origin


def available() -> bool:
    """Whether browsers allow passkeys here: HTTPS, or plain HTTP on localhost."""
    rp_id, origin = relying_party()
    return origin.startswith("https://") or rp_id == "localhost"


def of(user: User) -> list[Passkey]:
    return list(
        db.session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id))
    )


def has_any(user: User) -> bool:
    return (
        db.session.scalar(select(func.count(Passkey.id)).where(Passkey.user_id == user.id)) or 0
    ) > 0


def _user_handle(user: User) -> bytes:
    """The opaque id a passkey stores for its account (never the username)."""
    key = current_app.config["SECRET_KEY"]
    material = key.encode() if isinstance(key, str) else bytes(key)
    return hmac.new(material, f"ssp-user-{user.id}".encode(), hashlib.sha256).digest()[:16]


def _challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _remember(purpose: str, challenge: bytes, user_id: int | None) -> None:
    """Keep the challenge on the server (flushed), dropping those past their time."""
    now = timeutil.utcnow()
    db.session.execute(
        delete(PasskeyChallenge).where(
            PasskeyChallenge.created_at < now - dt.timedelta(seconds=CEREMONY_SECONDS)
        )
    )
    db.session.add(
        PasskeyChallenge(
            challenge_hash=_challenge_hash(challenge),
            purpose=purpose,
            user_id=user_id,
            created_at=now,
        )
    )
    db.session.flush()


def _recall(purpose: str, data: dict) -> tuple[bytes, int | None]:
    """The challenge the browser answered, used up now (a second answer finds nothing),
    and the account it was issued for."""
    from webauthn.helpers import base64url_to_bytes

    try:
        client_data = json.loads(base64url_to_bytes(data["response"]["clientDataJSON"]))
        challenge = base64url_to_bytes(client_data["challenge"])
    except (KeyError, TypeError, ValueError):
        raise PasskeyError(_("The browser's answer was not understood.")) from None
    row = db.session.scalar(
        select(PasskeyChallenge).where(
            PasskeyChallenge.challenge_hash == _challenge_hash(challenge),
            PasskeyChallenge.purpose == purpose,
        )
    )
    fresh = row is not None and timeutil.utcnow() - timeutil.as_utc(row.created_at) <= dt.timedelta(
        seconds=CEREMONY_SECONDS
    )
    used = (
        db.session.execute(
            delete(PasskeyChallenge)
            .where(PasskeyChallenge.id == row.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if row is not None
        else 0
    )
    if not fresh or used != 1:
        raise PasskeyError(_("Start again: that passkey request has expired or was used."))
    return challenge, row.user_id


def _credential(data: Any) -> dict:
    """The browser's credential (a JSON object of modest size), or PasskeyError."""
    if not isinstance(data, dict) or len(json.dumps(data)) > 20_000:
        raise PasskeyError(_("The browser's answer was not understood."))
    if not isinstance(data.get("response"), dict) or not isinstance(data.get("id"), str):
        raise PasskeyError(_("The browser's answer was not understood."))
    return data


def json_body() -> dict | None:
    """The request's JSON object, or None for anything else (a list, a number, junk).
    Its strings have passed the text rule already (``ssp.textinput``, before any view)."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


# --- registering ------------------------------------------------------------------------


def registration_options(user: User) -> str:
    """The options for ``navigator.credentials.create`` (JSON), remembered in the session."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    if len(of(user)) >= MAX_PASSKEYS:
        raise PasskeyError(_("You have %(count)s passkeys; remove one first.", count=MAX_PASSKEYS))
    rp_id = relying_party()[0]
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=current_app.config.get("PROGRAM_NAME") or "ssp",
        user_name=user.username,
        user_id=_user_handle(user),
        user_display_name=user.username,
        challenge=secrets.token_bytes(32),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in of(user)
        ],
    )
    _remember("register", options.challenge, user.id)
    return options_to_json(options)


def register(user: User, credential: Any, name: str) -> Passkey:
    """Keep the passkey the browser made (flushed). Raises PasskeyError."""
    from webauthn import verify_registration_response
    from webauthn.helpers import bytes_to_base64url
    from webauthn.helpers.exceptions import WebAuthnException

    data = _credential(credential)
    challenge, user_id = _recall("register", data)
    if user_id != user.id:
        raise PasskeyError(_("Start again: the passkey request was not found."))
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=json.dumps(data),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise PasskeyError(_("The passkey could not be checked. Try again.")) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise PasskeyError(_("That passkey is already registered."))
    clean = "".join(ch for ch in (name or "") if ch.isprintable()).strip()[:60]
    passkey = Passkey(
        user_id=user.id,
        credential_id=credential_id,
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        name=clean or _("Passkey"),
        created_at=timeutil.utcnow(),
    )
    db.session.add(passkey)
    db.session.flush()
    record("passkey_added", object_type="user", object_id=user.id, detail={"passkey": passkey.id})
    return passkey


def remove(user: User, passkey_id: int) -> bool:
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        return False
    db.session.delete(passkey)
    record("passkey_removed", object_type="user", object_id=user.id, detail={"passkey": passkey_id})
    return True


def remove_all(user: User) -> int:
    """Remove every passkey of ``user`` (an admin's reset); returns how many."""
    keys = of(user)
    for passkey in keys:
        db.session.delete(passkey)
    return len(keys)


# --- signing in or confirming ---------------------------------------------------------------


def authentication_options(purpose: str, user: User | None) -> str:
    """Options for ``navigator.credentials.get`` (JSON): for ``user``'s passkeys, or any
    passkey of this app (a sign-in with a passkey alone)."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    rp_id = relying_party()[0]
    allowed = (
        [PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in of(user)]
        if user is not None
        else None
    )
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=secrets.token_bytes(32),
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _remember(purpose, options.challenge, user.id if user is not None else None)
    return options_to_json(options)


def authenticate(purpose: str, credential: Any) -> User:
    """The account whose passkey answered the challenge (its counter moved on). Raises
    PasskeyError."""
    from webauthn import verify_authentication_response
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.exceptions import WebAuthnException

    from ssp.staff.models import User

    data = _credential(credential)
    challenge, user_id = _recall(purpose, data)
    credential_id = data["id"]
    passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == credential_id))
    if passkey is None or (user_id is not None and passkey.user_id != user_id):
        raise PasskeyError(_("That passkey is not registered for this account."))
    user = db.session.get(User, passkey.user_id)
    if user is None or not user.active:
        raise PasskeyError(_("That passkey is not registered for this account."))
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=json.dumps(data),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=base64url_to_bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise PasskeyError(_("The passkey could not be checked. Try again.")) from None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = timeutil.utcnow()
    return user
