"""The sealed outbox's cryptography, server side: the program's sealing keys and opening
what a phone sealed.

A phone seals each contact to the server's current public key before it is stored:
an ephemeral ECDH P-256 key pair, HKDF-SHA-256 over the shared secret, AES-256-GCM over
the contact with the envelope's key id, user id and submission key as associated data.
The phone then forgets the ephemeral private key, so it can write contacts but never
read them back; only the server, holding the private key, can open them. The same
scheme runs in the browser with WebCrypto (ssp/static/js/outreach-seal.js).

Keys live in the database (``sealing_keys``): the newest is the one published, older
ones stay to open contacts sealed before a rotation (``ssp outreach rotate-key``) until
they are retired.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ssp.i18n import _l
from ssp.textinput import has_refused_characters

VERSION = 1
INFO = b"ssp-outreach-v1"


class SealError(ValueError):
    """A sealed contact that cannot be opened; the message says why (never its contents).
    The message is looked up when shown (``_l``): the phone reads it in its page's
    language, the log and the audit trail in English."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    if not isinstance(text, str) or len(text) > 200_000:
        raise SealError(_l("The sealed contact is malformed."))
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise SealError(_l("The sealed contact is malformed.")) from None


def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def load_private(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SealError(_l("The sealing key is not an EC key."))
    return key


def public_jwk(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public half as a JWK that WebCrypto imports."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    numbers = public.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }


def _public_from_jwk(jwk: Any) -> ec.EllipticCurvePublicKey:
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise SealError(_l("The sealed contact's key is not a P-256 key."))
    x, y = unb64url(jwk.get("x", "")), unb64url(jwk.get("y", ""))
    if len(x) != 32 or len(y) != 32:
        raise SealError(_l("The sealed contact's key is malformed."))
    try:
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        ).public_key()
    except ValueError:
        raise SealError(_l("The sealed contact's key is not on the curve.")) from None


def associated_data(kid: str, user_id: int, submission_key: str) -> bytes:
    """What the seal binds a contact to: its key, its user, its submission key."""
    return f"ssp-outreach-v{VERSION}|{kid}|{user_id}|{submission_key}".encode()


def _content_key(private: ec.EllipticCurvePrivateKey, peer: ec.EllipticCurvePublicKey) -> bytes:
    shared = private.exchange(ec.ECDH(), peer)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(shared)


@dataclass(frozen=True)
class Envelope:
    """A sealed contact as the phone sends it."""

    kid: str
    user_id: int
    submission_key: str
    epk: dict
    iv: bytes
    ciphertext: bytes

    @classmethod
    def parse(cls, data: Any) -> Envelope:
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise SealError(_l("The sealed contact is not in a format this server reads."))
        kid, user_id, key = data.get("kid"), data.get("uid"), data.get("key")
        if not isinstance(kid, str) or not 1 <= len(kid) <= 32 or has_refused_characters(kid):
            raise SealError(_l("The sealed contact names no key."))
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise SealError(_l("The sealed contact names no user."))
        if (
            not isinstance(key, str)
            or not 8 <= len(key) <= 64
            or not key.isascii()
            or has_refused_characters(key)
        ):
            raise SealError(_l("The sealed contact has no valid submission key."))
        iv = unb64url(data.get("iv", ""))
        if len(iv) != 12:
            raise SealError(_l("The sealed contact is malformed."))
        return cls(kid, user_id, key, data.get("epk"), iv, unb64url(data.get("ct", "")))

    def as_json(self) -> dict:
        return {
            "v": VERSION,
            "kid": self.kid,
            "uid": self.user_id,
            "key": self.submission_key,
            "epk": self.epk,
            "iv": b64url(self.iv),
            "ct": b64url(self.ciphertext),
        }


def open_envelope(envelope: Envelope, private: ec.EllipticCurvePrivateKey) -> dict:
    """The contact inside, or SealError if it was altered, sealed to another key, or
    bound to another user or submission key."""
    peer = _public_from_jwk(envelope.epk)
    key = _content_key(private, peer)
    aad = associated_data(envelope.kid, envelope.user_id, envelope.submission_key)
    try:
        plain = AESGCM(key).decrypt(envelope.iv, envelope.ciphertext, aad)
    except InvalidTag:
        raise SealError(_l("The sealed contact was altered or sealed to another key.")) from None
    try:
        contact = json.loads(plain)
    except ValueError:
        raise SealError(_l("The sealed contact is malformed.")) from None
    if not isinstance(contact, dict):
        raise SealError(_l("The sealed contact is malformed."))
    return contact


def seal(contact: dict, *, kid: str, public: dict, user_id: int, submission_key: str) -> Envelope:
    """Seal a contact as the phone does (used by tests and benchmarks; the phone itself
    runs the same steps with WebCrypto)."""
    ephemeral = new_private_key()
    key = _content_key(ephemeral, _public_from_jwk(public))
    iv = secrets.token_bytes(12)
    ciphertext = AESGCM(key).encrypt(
        iv,
        json.dumps(contact).encode(),
        associated_data(kid, user_id, submission_key),
    )
    return Envelope(kid, user_id, submission_key, public_jwk(ephemeral), iv, ciphertext)
