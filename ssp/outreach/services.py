"""Outreach: the key the phones seal to, what the outreach screen needs, and the sync
that records sealed contacts exactly once.

Each contact is opened, checked against the envelope it came in, and recorded through
the same ``record_visit`` rules as the desk, in its own transaction: a contact the
rules refuse is held for a manager (never dropped), one already saved is answered
"already saved", and one that cannot be opened is refused with the reason, logged
without its contents. A code the server does not know is enrolled "in the field" and
flagged for the near-duplicate review instead of refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ssp.audit import record
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import SOURCE_LANGUAGE, _, _l, force_locale, format_number, ngettext
from ssp.outreach import sealing
from ssp.outreach.models import HeldContact, HeldStatus, SealingKey, Zone
from ssp.participants.codes import CodeError, validated_code
from ssp.participants.models import Participant
from ssp.participants.services import find_by_code, near_duplicates
from ssp.staff.models import Site, SiteKind, User
from ssp.staff.services import active_sites
from ssp.supplies.models import SupplyCategory, SupplyItem
from ssp.supplies.services import active_catalogue
from ssp.textinput import JSON_TEXT_MAX, json_text_fault
from ssp.timeutil import as_utc, utcnow
from ssp.visits.models import NaloxoneReason, Visit, VisitKind
from ssp.visits.services import ItemLine, VisitDetails, VisitError, record_visit

log = logging.getLogger(__name__)

#: Most contacts one sync request may carry (the phone sends in batches of this size).
BATCH_LIMIT = 100
#: Most people one group contact may count.
GROUP_MAX = 200
#: The longest string a contact holds (a code, a time, an item's id, a reason).
CONTACT_TEXT_MAX = 100
#: An item's id as a contact names it: ASCII digits, within the databases' INTEGER.
ITEM_ID = re.compile(r"[0-9]{1,9}")

KIND_FOR_SITE = {SiteKind.MOBILE: VisitKind.MOBILE}


class OutreachError(RuleError):
    """An outreach request the rules do not allow."""


class BatchTooLarge(OutreachError):
    """A sync request carrying more contacts than one request may."""


# --- keys ----------------------------------------------------------------------------


def current_key() -> SealingKey | None:
    """The newest key not retired: the one phones seal to."""
    return db.session.scalar(
        select(SealingKey)
        .where(SealingKey.retired_at.is_(None))
        .order_by(SealingKey.created_at.desc(), SealingKey.id.desc())
        .limit(1)
    )


def rotate_key(now: dt.datetime | None = None) -> SealingKey:
    """A new key to publish (flushed). Earlier keys keep opening what was sealed to them
    until they are retired, so contacts waiting on phones are not lost."""
    now = now or utcnow()
    key = SealingKey(
        kid=secrets.token_hex(8),
        private_pem=sealing.private_pem(sealing.new_private_key()),
        created_at=now,
    )
    db.session.add(key)
    db.session.flush()
    record("sealing_key_created", object_type="sealing_key", object_id=key.id)
    return key


def retire_keys_before(key: SealingKey, now: dt.datetime | None = None) -> int:
    """Retire every key older than ``key``: contacts sealed to them are refused from now
    on. Returns how many were retired."""
    now = now or utcnow()
    older = db.session.scalars(
        select(SealingKey).where(SealingKey.retired_at.is_(None), SealingKey.id != key.id)
    ).all()
    for old in older:
        old.retired_at = now
    if older:
        record("sealing_keys_retired", object_type="sealing_key", detail={"keys": len(older)})
    return len(older)


def published_key() -> dict[str, Any]:
    """What a phone seals to: the key id and the public key as a JWK."""
    key = current_key()
    if key is None:
        raise OutreachError(
            _("The outreach screen is not set up yet: an admin runs `ssp outreach rotate-key`.")
        )
    return {"kid": key.kid, "jwk": sealing.public_jwk(sealing.load_private(key.private_pem))}


# --- what the screen needs -------------------------------------------------------------

DEFAULT_QUICK = (
    (SupplyCategory.SYRINGE, None),
    (SupplyCategory.NALOXONE, "nasal"),
    (SupplyCategory.TEST_STRIP, "fentanyl"),
    (SupplyCategory.TEST_STRIP, "xylazine"),
    (SupplyCategory.SMOKING, "kit"),
)


def quick_items(site: Site | None, catalogue: list[SupplyItem]) -> list[SupplyItem]:
    """The items a site's outreach screen counts with one tap: the site's own choice, or
    the defaults (a syringe, nasal naloxone, fentanyl and xylazine strips, a safer
    smoking kit) found in the catalogue."""
    by_id = {item.id: item for item in catalogue}
    chosen = [by_id[i] for i in (site.quick_items or []) if i in by_id] if site else []
    if chosen:
        return chosen
    picked: list[SupplyItem] = []
    for category, word in DEFAULT_QUICK:
        for item in catalogue:
            if (
                item.category == category
                and item not in picked
                and (word is None or word in item.name.lower())
            ):
                picked.append(item)
                break
    return picked


def outreach_sites() -> list[Site]:
    """Sites a team can work for: outreach and mobile ones first, then the rest."""
    return sorted(active_sites(), key=lambda s: s.kind not in (SiteKind.OUTREACH, SiteKind.MOBILE))


def active_zones() -> list[Zone]:
    return list(db.session.scalars(select(Zone).where(Zone.active).order_by(Zone.name)))


def setup_for(user: User) -> dict[str, Any]:
    """Everything the outreach screen needs to work offline (no participant data)."""
    catalogue = active_catalogue()
    sites = outreach_sites()
    return {
        "user_id": user.id,
        "key": published_key(),
        "sites": [
            {
                "id": site.id,
                "name": site.name,
                "quick": [item.id for item in quick_items(site, catalogue)],
            }
            for site in sites
        ],
        "default_site": user.site_id if any(s.id == user.site_id for s in sites) else None,
        "zones": [{"id": zone.id, "name": zone.name} for zone in active_zones()],
        "items": [
            {
                "id": item.id,
                "name": item.name,
                "unit": item.unit,
                "category": item.category.value,
            }
            for item in catalogue
        ],
        "reasons": [{"value": r.value, "label": str(r.label)} for r in NaloxoneReason],
    }


# --- sync ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncAnswer:
    """What became of one sealed contact."""

    key: str | None
    status: str  # saved, already_saved, held, refused
    message: str = ""

    def as_json(self) -> dict:
        return {"key": self.key, "status": self.status, "message": self.message}


#: Contacts written per commit: fewer commits (each waits for the disk), while the
#: desks never wait long for the write lock.
COMMIT_EVERY = 10


def sync(envelopes: Iterable[Any], user: User, now: dt.datetime | None = None) -> list[SyncAnswer]:
    """Record each sealed contact, in order. Each is its own savepoint (one refused or
    held never undoes another), committed every few contacts and at the end."""
    envelopes = list(envelopes)
    if len(envelopes) > BATCH_LIMIT:
        raise BatchTooLarge(
            ngettext(
                "Send at most %(num)d contact at a time.",
                "Send at most %(num)d contacts at a time.",
                BATCH_LIMIT,
            )
        )
    now = now or utcnow()
    keys: dict[str, Any] = {}
    answers = []
    for index, raw in enumerate(envelopes, start=1):
        answers.append(_sync_one(raw, user, now, keys))
        if index % COMMIT_EVERY == 0:
            db.session.commit()
    db.session.commit()
    return answers


def _sync_one(raw: Any, user: User, now: dt.datetime, keys: dict[str, Any]) -> SyncAnswer:
    # The sync view leaves its body to us (ssp.textinput.checks_own_json): each envelope
    # is checked on its own, so one bad contact never holds back the rest of the batch.
    problem = _text_problem(raw)
    key = raw.get("key") if isinstance(raw, dict) and isinstance(raw.get("key"), str) else None
    try:
        if problem is not None:
            key = None  # not echoed back: it may be what is wrong
            raise sealing.SealError(problem)
        envelope = sealing.Envelope.parse(raw)
        if envelope.user_id != user.id:
            raise sealing.SealError(_l("It was sealed by another account's session."))
        if envelope.kid not in keys:
            keys[envelope.kid] = _private_key_for(envelope.kid)
        contact = checked_contact(sealing.open_envelope(envelope, keys[envelope.kid]))
    except sealing.SealError as error:
        # The log and the audit trail in English; the phone in its page's language.
        with force_locale(SOURCE_LANGUAGE):
            reason = str(error)
        log.warning("Outreach contact refused by sync for user %s: %s", user.id, reason)
        record("outreach_contact_refused", object_type="outreach", detail={"reason": reason})
        return SyncAnswer(key, "refused", str(error))
    key = envelope.submission_key
    if _already_saved(key):
        return SyncAnswer(key, "already_saved", _("Saved before."))
    if db.session.scalar(select(HeldContact.id).where(HeldContact.submission_key == key)):
        return SyncAnswer(key, "held", _("Held for a manager's review."))
    savepoint = db.session.begin_nested()
    try:
        visit = _record(contact, key, user, now)
        savepoint.commit()
    except (VisitError, OutreachError) as error:
        savepoint.rollback()
        return _hold(contact, key, user, str(error), now)
    except IntegrityError:
        savepoint.rollback()
        if _already_saved(key):  # the same contact, sent twice at once
            return SyncAnswer(key, "already_saved", _("Saved before."))
        raise
    return SyncAnswer(key, "saved", _("Saved as visit %(id)s.", id=visit.id))


def _text_problem(value: Any, *, multiline: bool = True, max_length: int = JSON_TEXT_MAX) -> Any:
    """What is wrong with the strings of a sealed contact (``json_text_fault``'s rule),
    as one whole sentence looked up when shown, or None."""
    fault = json_text_fault(value, multiline=multiline, max_length=max_length)
    if fault is None:
        return None
    if fault == "control":
        return _l(
            "The sealed contact holds a control character (an invisible character such as NUL)."
        )
    return _l(
        "The sealed contact holds a value longer than %(most)s characters.",
        most=format_number(max_length),
    )


def checked_contact(contact: dict) -> dict:
    """The opened contact, if every string in it passes the one text rule (single-line,
    at most CONTACT_TEXT_MAX characters) and each field has the type the phone sends;
    else SealError: it is refused, not held, as no change of rule could ever record it.
    Values the rules judge (a quantity over the limit, a site retired) are left to them."""
    problem = _text_problem(contact, multiline=False, max_length=CONTACT_TEXT_MAX)
    if problem is not None:
        raise sealing.SealError(problem)
    expected = {
        "code": (str,),
        "anonymous": (bool,),
        "occurred_at": (str,),
        "people": (int,),
        "site_id": (int,),
        "zone_id": (int,),
        "collected": (int,),
        "others": (int,),
        "items": (dict,),
        "reasons": (dict,),
    }
    for field, types in expected.items():
        value = contact.get(field)
        if value is not None and (
            not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
        ):
            raise sealing.SealError(_l("The sealed contact is malformed (%(field)s).", field=field))
    for item_id, quantity in (contact.get("items") or {}).items():
        if not ITEM_ID.fullmatch(item_id) or not (
            quantity is None or (isinstance(quantity, int) and not isinstance(quantity, bool))
        ):
            raise sealing.SealError(
                _l("The sealed contact is malformed (%(field)s).", field="items")
            )
    for item_id, reason in (contact.get("reasons") or {}).items():
        if not ITEM_ID.fullmatch(item_id) or not (reason is None or isinstance(reason, str)):
            raise sealing.SealError(
                _l("The sealed contact is malformed (%(field)s).", field="reasons")
            )
    return contact


def _already_saved(key: str) -> bool:
    return db.session.scalar(select(Visit.id).where(Visit.submission_key == key)) is not None


def _private_key_for(kid: str):
    key = db.session.scalar(select(SealingKey).where(SealingKey.kid == kid))
    if key is None:
        raise sealing.SealError(_l("It was sealed to a key this server does not have."))
    if key.retired_at is not None:
        raise sealing.SealError(_l("It was sealed to a key that has been retired."))
    return sealing.load_private(key.private_pem)


def _hold(contact: dict, key: str, user: User, reason: str, now: dt.datetime) -> SyncAnswer:
    site_id = contact.get("site_id") if isinstance(contact.get("site_id"), int) else None
    held = HeldContact(
        submission_key=key,
        user_id=user.id,
        site_id=site_id if site_id and db.session.get(Site, site_id) else None,
        received_at=now,
        reason=reason[:300],
        contact=contact,
    )
    db.session.add(held)
    db.session.flush()
    record("outreach_contact_held", object_type="held_contact", object_id=held.id)
    return SyncAnswer(key, "held", _("Held for a manager's review: %(reason)s", reason=reason))


def _whole(value: Any, field: Any, maximum: int) -> int:
    if value in (None, ""):
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise OutreachError(
            _(
                "%(field)s: a whole number from 0 to %(maximum)s.",
                field=str(field),
                maximum=format_number(maximum),
            )
        )
    return value


def _participant_for(contact: dict, site_id: int) -> int | None:
    """The participant a contact names (None for an anonymous one); an unknown code is
    enrolled in the field and flagged for review."""
    if contact.get("anonymous") or not contact.get("code"):
        return None
    try:
        code = validated_code(contact.get("code") if isinstance(contact.get("code"), str) else "")
    except CodeError as error:
        raise OutreachError(str(error)) from None
    found = find_by_code(code)
    if found is not None:
        return found.id
    # The near-duplicate check waits for the review list (it is slow, and the contact
    # must be kept whatever it finds).
    participant = Participant(
        code=code, enrolled_site_id=site_id, enrolled_in_field=True, review_pending=True
    )
    db.session.add(participant)
    db.session.flush()
    record(
        "participant_enrolled",
        object_type="participant",
        object_id=participant.id,
        detail={"site_id": site_id, "in_the_field": True},
    )
    return participant.id


def _occurred_at(value: Any) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise OutreachError(_("The contact has no valid time."))
    return as_utc(when)


def _record(contact: dict, key: str, user: User, now: dt.datetime) -> Visit:
    site_id = contact.get("site_id")
    site = db.session.get(Site, site_id) if isinstance(site_id, int) else None
    if site is None:
        raise OutreachError(_("The contact names no site in use."))
    zone_id = contact.get("zone_id")
    if zone_id is not None and (
        not isinstance(zone_id, int) or db.session.get(Zone, zone_id) is None
    ):
        raise OutreachError(_("The contact names a zone that is not on the list."))
    people = _whole(contact.get("people", 1), _l("People"), GROUP_MAX) or 1
    participant_id = _participant_for(contact, site.id)
    if participant_id is not None and people != 1:
        raise OutreachError(_("A contact with a code is one person; count a group as anonymous."))
    items = contact.get("items") or {}
    reasons = contact.get("reasons") or {}
    if not isinstance(items, dict) or not isinstance(reasons, dict):
        raise OutreachError(_("The contact's supplies are malformed."))
    lines = []
    for item_id, quantity in items.items():
        if not ITEM_ID.fullmatch(str(item_id)):
            raise OutreachError(_("The contact's supplies are malformed."))
        quantity = _whole(quantity, _l("Quantity"), 100_000)
        reason = reasons.get(str(item_id))
        try:
            reason = NaloxoneReason(reason) if reason else None
        except (ValueError, TypeError):
            raise OutreachError(_("The naloxone reason is not one of the list.")) from None
        if quantity:
            lines.append(ItemLine(int(item_id), quantity, reason))
    details = VisitDetails(
        site_id=site.id,
        kind=KIND_FOR_SITE.get(site.kind, VisitKind.OUTREACH),
        occurred_at=_occurred_at(contact.get("occurred_at")),
        items=tuple(lines),
        syringes_collected=_whole(contact.get("collected"), _l("Used syringes collected"), 100_000),
        secondary_reach=_whole(contact.get("others"), _l("People reached through them"), 100_000),
    )
    visit = record_visit(
        participant_id=participant_id,
        details=details,
        user=user,
        submission_key=key,
        now=now,
    )
    visit.zone_id = zone_id
    visit.people_count = people
    visit.received_at = now
    return visit


# --- zones ------------------------------------------------------------------------------


def add_zone(name: str) -> Zone:
    zone = Zone(name=name, active=True)
    db.session.add(zone)
    db.session.flush()
    record("zone_created", object_type="zone", object_id=zone.id, detail={"name": name})
    return zone


def set_zone_active(zone: Zone, active: bool) -> None:
    if zone.active != active:
        zone.active = active
        record(
            "zone_reactivated" if active else "zone_deactivated",
            object_type="zone",
            object_id=zone.id,
        )


# --- the review list ------------------------------------------------------------------


def held_contacts(status: HeldStatus = HeldStatus.HELD) -> list[HeldContact]:
    return list(
        db.session.scalars(
            select(HeldContact)
            .where(HeldContact.status == status)
            .order_by(HeldContact.received_at)
        )
    )


@dataclass(frozen=True)
class HeldSummary:
    """What the review list shows of a held contact, read defensively: it was kept as
    the phone sent it (rows held before contacts were checked may hold anything)."""

    code: str | None
    people: int
    supplies: tuple[tuple[str, str], ...]  # (quantity, item name)
    supplies_unreadable: bool


def held_summary(contact: Any, items: dict[int, SupplyItem]) -> HeldSummary:
    fields = contact if isinstance(contact, dict) else {}
    code = fields.get("code")
    people = fields.get("people")
    raw = fields.get("items")
    supplies = []
    for item_id, quantity in (raw if isinstance(raw, dict) else {}).items():
        item = items.get(int(item_id)) if ITEM_ID.fullmatch(str(item_id)) else None
        shown = (
            str(quantity) if isinstance(quantity, int) and not isinstance(quantity, bool) else "?"
        )
        supplies.append((shown, item.name if item is not None else _("unknown item")))
    return HeldSummary(
        code=code if isinstance(code, str) and code else None,
        people=people if isinstance(people, int) and not isinstance(people, bool) else 1,
        supplies=tuple(supplies),
        supplies_unreadable=raw is not None and not isinstance(raw, dict),
    )


def _held_code(held: HeldContact) -> str | None:
    contact = held.contact if isinstance(held.contact, dict) else {}
    code = contact.get("code")
    return code if isinstance(code, str) and code else None


def note_codes_shown(held: list[HeldContact]) -> None:
    """The review list shows the codes held contacts carry: the people on record are
    loaded (so the page's view audit names them), and one row names the held contacts
    shown (a code may not be on record yet)."""
    with_codes = [h for h in held if _held_code(h)]
    if not with_codes:
        return
    for contact in with_codes:
        with contextlib.suppress(CodeError):
            find_by_code(validated_code(_held_code(contact)))
    record(
        "held_contacts_shown",
        object_type="held_contact",
        detail={"held_contact_ids": [h.id for h in with_codes]},
    )
    db.session.commit()


def discard_held(held: HeldContact, user: User, now: dt.datetime | None = None) -> None:
    """A manager decides a held contact is not to be recorded (audited)."""
    if held.status != HeldStatus.HELD:
        raise OutreachError(_("This contact was already dealt with."))
    held.status = HeldStatus.DISCARDED
    held.resolved_by = user.id
    held.resolved_at = now or utcnow()
    record("held_contact_discarded", object_type="held_contact", object_id=held.id)


def retry_held(held: HeldContact, user: User, now: dt.datetime | None = None) -> tuple[bool, str]:
    """Record a held contact under today's rules (an item brought back, a limit raised);
    commits either way and says whether it is saved, and what happened."""
    now = now or utcnow()
    if _already_saved(held.submission_key):
        return True, _("Saved before.")
    try:
        visit = _record(held.contact, held.submission_key, held.user, now)
    except (VisitError, OutreachError) as error:
        db.session.rollback()
        return False, _("Still held: %(reason)s", reason=str(error))
    held.status = HeldStatus.SAVED
    held.resolved_by = user.id
    held.resolved_at = now
    held.visit_id = visit.id
    record(
        "held_contact_saved",
        object_type="held_contact",
        object_id=held.id,
        detail={"visit_id": visit.id},
    )
    db.session.commit()
    return True, _("Saved as visit %(id)s.", id=visit.id)


def field_enrolments_to_review() -> list[tuple[Participant, list]]:
    """Participants enrolled in the field not yet reviewed, with their near duplicates."""
    people = db.session.scalars(
        select(Participant).where(Participant.review_pending.is_(True)).order_by(Participant.id)
    ).all()
    return [(person, near_duplicates(person.code)) for person in people]


def mark_reviewed(participant: Participant) -> None:
    participant.review_pending = False
    record("field_enrolment_reviewed", object_type="participant", object_id=participant.id)
