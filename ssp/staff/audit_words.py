"""The audit trail in words: every recorded action as a sentence a person can read.

``ACTIONS`` maps each action name to a short label (for the trail's filter) and a
describer: a function of the event, and of the ``Names`` its ids stand for, that returns
the sentence and its details ("Created the account sam"; "Recorded a visit for
participant #12 at Main site", with "10 × Syringe 1 mL 28G" below it). Every action name
passed to ``ssp.audit.record()``, and every ``<kind>_deactivated`` / ``<kind>_reactivated``
that ``record_active()`` builds, needs one: ``tests/staff/test_audit_words.py`` reads
every such call in the source and fails for a name missing here. A name with no
describer (a row from an older version) still reads, as its name in plain words.

Participants are named by their record number ("participant #12"), never by their
code: a code on the trail page would itself have to be audited as a view. Pages link
the number to the participant's page, which records its own view when opened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.timeutil import local_time

# --- what a describer returns ----------------------------------------------------------


@dataclass(frozen=True)
class ParticipantRef:
    """A participant an event names, by record number (pages link it to their page)."""

    participant_id: int
    on_record: bool = True

    def __str__(self) -> str:
        return f"participant #{self.participant_id}"


Part = str | ParticipantRef


@dataclass(frozen=True)
class Line:
    """A sentence or a detail: text, with the participants it names in place."""

    parts: tuple[Part, ...]

    def __str__(self) -> str:
        return "".join(str(part) for part in self.parts)


@dataclass(frozen=True)
class Words:
    """What happened: one sentence, and details under it."""

    sentence: Line
    details: tuple[Line, ...] = ()

    def __str__(self) -> str:
        """As one line of text (the CSV's ``what_happened``)."""
        return ". ".join(str(line) for line in (self.sentence, *self.details))


def say(*parts: Part | None) -> Line:
    """A line from text and participants; ``None`` and empty parts are left out."""
    return Line(tuple(part for part in parts if part is not None and part != ""))


def words(sentence: Line | str, *details: Line | str | None) -> Words:
    """A sentence and its details (``None`` details are left out)."""

    def as_line(value: Line | str) -> Line:
        return value if isinstance(value, Line) else say(value)

    return Words(as_line(sentence), tuple(as_line(d) for d in details if d is not None))


# --- the names behind the ids ----------------------------------------------------------


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Names:
    """What events name by id (accounts, sites, items, partners, participants...),
    looked up in a few queries for a batch of events rather than one per row.

    The small tables (accounts, sites, catalogue, partners, funder profiles) are read
    whole once; ``prepare(events)`` reads what a batch of events needs from the others.
    Participants are read by id only, never their code.
    """

    def __init__(self) -> None:
        from ssp.referrals.models import Partner
        from ssp.reporting.models import FunderProfile
        from ssp.staff.models import Site, User
        from ssp.supplies.models import CATEGORY_ORDER, SupplyItem

        self._users = dict(db.session.execute(select(User.id, User.username)).all())
        self._sites = dict(db.session.execute(select(Site.id, Site.name)).all())
        self._partners = dict(db.session.execute(select(Partner.id, Partner.name)).all())
        self._profiles = dict(
            db.session.execute(select(FunderProfile.id, FunderProfile.name)).all()
        )
        self._items: dict[int, str] = {}
        self._item_order: dict[int, tuple[int, str]] = {}
        for item_id, name, category in db.session.execute(
            select(SupplyItem.id, SupplyItem.name, SupplyItem.category)
        ):
            self._items[item_id] = name
            self._item_order[item_id] = (CATEGORY_ORDER.get(category, 99), name.lower())
        self._prepared(participants=set())

    def _prepared(self, **values: Any) -> None:
        self._on_record: set[int] = values.get("participants", set())
        self._visits: dict[int, int | None] = values.get("visits", {})
        self._follow_ups: dict[int, int | None] = values.get("follow_ups", {})
        self._referrals: dict[int, tuple[int | None, str]] = values.get("referrals", {})
        self._reports: dict[int, tuple[str, str]] = values.get("reports", {})
        self._as_recorded: dict[int, dict] = values.get("as_recorded", {})
        self._zones: dict[int, str] = values.get("zones", {})

    def prepare(self, events: Iterable[AuditEvent]) -> Names:
        """Read what these events need; forgets what earlier batches needed."""
        from ssp.participants.models import Participant
        from ssp.referrals.models import FollowUp, Referral
        from ssp.reporting.models import Report
        from ssp.visits.models import Visit

        wanted: dict[str, set[int]] = {
            "visit": set(),
            "follow_up": set(),
            "referral": set(),
            "report": set(),
            "recorded": set(),
            "zone": set(),
        }
        participants: set[int] = set()
        for event in events:
            detail = event.detail if isinstance(event.detail, dict) else {}
            for key in ("participant_id", "absorbed_participant_id"):
                if _int(detail.get(key)) is not None:
                    participants.add(_int(detail[key]))
            if isinstance(detail.get("participants"), list):
                participants.update(i for i in map(_int, detail["participants"]) if i)
            if event.object_id is None:
                continue
            if event.object_type == "participant":
                participants.add(event.object_id)
            elif event.object_type in wanted:
                wanted[event.object_type].add(event.object_id)
            if event.action == "visit_recorded":
                wanted["recorded"].add(event.object_id)

        def rows(*columns, where):
            if where is None:
                return []
            return db.session.execute(select(*columns).where(where)).all()

        visits = dict(rows(Visit.id, Visit.participant_id, where=_in(Visit.id, wanted["visit"])))
        follow_ups = dict(
            rows(
                FollowUp.id,
                FollowUp.participant_id,
                where=_in(FollowUp.id, wanted["follow_up"]),
            )
        )
        referrals = {
            referral_id: (participant_id, category.value if category else "")
            for referral_id, participant_id, category in rows(
                Referral.id,
                Referral.participant_id,
                Referral.category,
                where=_in(Referral.id, wanted["referral"]),
            )
        }
        reports = {
            report_id: (period, funder)
            for report_id, period, funder in rows(
                Report.id, Report.period, Report.funder, where=_in(Report.id, wanted["report"])
            )
        }
        participants.update(visits.values())
        participants.update(follow_ups.values())
        participants.update(p for p, _ in referrals.values())
        participants.discard(None)
        on_record = {
            pid for (pid,) in rows(Participant.id, where=_in(Participant.id, participants))
        }
        # Zones keep no other name than the one their creation recorded.
        zones = {
            zone_id: str(detail.get("name"))
            for zone_id, detail in rows(
                AuditEvent.object_id,
                AuditEvent.detail,
                where=None
                if not wanted["zone"]
                else (AuditEvent.action == "zone_created")
                & AuditEvent.object_id.in_(sorted(wanted["zone"])),
            )
            if isinstance(detail, dict) and detail.get("name")
        }
        self._prepared(
            zones=zones,
            participants=on_record,
            visits=visits,
            follow_ups=follow_ups,
            referrals=referrals,
            reports=reports,
            as_recorded=_visits_as_recorded(wanted["recorded"]),
        )
        return self

    # Each returns words for an id, whatever the id (gone, malformed or None).

    def user(self, user_id: Any) -> str:
        """An account's username."""
        return self._users.get(_int(user_id)) or _unknown("account", user_id)

    def site(self, site_id: Any) -> str:
        """A site's name; no site at all is "no site"."""
        if site_id is None:
            return "no site"
        return self._sites.get(_int(site_id)) or _unknown("site", site_id)

    def item(self, item_id: Any) -> str:
        """A catalogue item's name."""
        return self._items.get(_int(item_id)) or _unknown("item", item_id)

    def item_order(self, item_id: Any) -> tuple:
        """Catalogue order: syringes first, then the other categories, by name."""
        return self._item_order.get(_int(item_id), (99, str(item_id)))

    def partner(self, partner_id: Any) -> str:
        """A partner agency's name."""
        return self._partners.get(_int(partner_id)) or _unknown("partner", partner_id)

    def profile(self, profile_id: Any) -> str:
        """A funder profile's short name."""
        return self._profiles.get(_int(profile_id)) or _unknown("profile", profile_id)

    def zone(self, zone_id: Any) -> str:
        """An outreach zone's name (as its creation recorded it)."""
        return self._zones.get(_int(zone_id)) or _unknown("zone", zone_id)

    def participant(self, participant_id: Any) -> ParticipantRef | None:
        """A participant by record number (``on_record`` False once merged or purged)."""
        participant_id = _int(participant_id)
        if participant_id is None:
            return None
        return ParticipantRef(participant_id, participant_id in self._on_record)

    def participant_of(self, kind: str, object_id: Any) -> ParticipantRef | None:
        """The participant a visit, follow-up or referral is about now."""
        object_id = _int(object_id)
        if kind == "referral":
            return self.participant((self._referrals.get(object_id) or (None, ""))[0])
        table = {"visit": self._visits, "follow_up": self._follow_ups}[kind]
        return self.participant(table.get(object_id))

    def referral_category(self, referral_id: Any) -> str:
        """The category a referral was made for ("" when it is gone)."""
        return (self._referrals.get(_int(referral_id)) or (None, ""))[1]

    def report(self, report_id: Any) -> tuple[str, str] | None:
        """A report's period key and funder profile."""
        return self._reports.get(_int(report_id))

    def visit_as_recorded(self, visit_id: Any) -> dict | None:
        """A visit as it was first saved, in the shape of ``visit_updated``'s summaries."""
        return self._as_recorded.get(_int(visit_id))


def _unknown(kind: str, object_id: Any) -> str:
    """Something no longer (or never) on record: "site #4", or "(unknown)" with no id."""
    return "(unknown)" if object_id is None else f"{kind} #{object_id}"


def _in(column, ids: set):
    return column.in_(sorted(ids)) if ids else None


def _visits_as_recorded(visit_ids: set[int]) -> dict[int, dict]:
    """Each visit as it was saved: the first correction's "before" when it was corrected
    (a correction's audit row keeps the whole visit as it was), else the visit now."""
    from ssp.visits.models import Visit, VisitItem, VisitService

    if not visit_ids:
        return {}
    found: dict[int, dict] = {}
    corrections = db.session.execute(
        select(AuditEvent.object_id, AuditEvent.detail)
        .where(
            AuditEvent.action == "visit_updated",
            AuditEvent.object_type == "visit",
            AuditEvent.object_id.in_(sorted(visit_ids)),
        )
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    for visit_id, detail in corrections:
        before = detail.get("before") if isinstance(detail, dict) else None
        if visit_id not in found and isinstance(before, dict):
            found[visit_id] = before
    rest = sorted(visit_ids - set(found))
    if not rest:
        return found
    for visit_id, collected, reach in db.session.execute(
        select(Visit.id, Visit.syringes_collected, Visit.secondary_reach).where(Visit.id.in_(rest))
    ):
        found[visit_id] = {
            "items": {},
            "services": {},
            "syringes_collected": collected,
            "secondary_reach": reach,
        }
    for visit_id, item_id, quantity in db.session.execute(
        select(VisitItem.visit_id, VisitItem.supply_item_id, VisitItem.quantity).where(
            VisitItem.visit_id.in_(rest)
        )
    ):
        found[visit_id]["items"][str(item_id)] = quantity
    for visit_id, service, count in db.session.execute(
        select(VisitService.visit_id, VisitService.service, VisitService.count).where(
            VisitService.visit_id.in_(rest)
        )
    ):
        found[visit_id]["services"][service.value] = count
    return found


# --- small helpers for sentences --------------------------------------------------------


def _lower_first(text: str) -> str:
    """ "Front desk" → "front desk", but "HIV care" stays "HIV care"."""
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plural(count: Any, one: str, many: str | None = None) -> str:
    count = _int(count) or 0
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _label(enum_type: type, value: Any, default: str = "") -> str:
    """An enum member's label by value (the value itself when unknown)."""
    try:
        return enum_type(value).label
    except (ValueError, TypeError, AttributeError):
        return str(value) if value not in (None, "") else default


def _when(value: Any) -> str:
    """An ISO time from a detail, in the program's time zone."""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return local_time(moment).strftime("%Y-%m-%d %H:%M")


def _change(label: str, old: Any, new: Any) -> Line:
    return say(f"{label}: {old} → {new}")


def _pairs(detail: Mapping, key: str) -> tuple[Any, Any] | None:
    """A ``[old, new]`` change from a detail, or None."""
    value = detail.get(key)
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    return None


def _quantities(names: Names, units: Any, *, signed: bool = False) -> list[Line]:
    """``{item_id: n}`` as "10 × Syringe 1 mL 28G" lines, in catalogue order."""
    if not isinstance(units, dict):
        return []
    lines = []
    for item_id, quantity in sorted(units.items(), key=lambda kv: names.item_order(kv[0])):
        quantity = _int(quantity) or 0
        if signed:
            difference = (
                f"{quantity:,} more than the books"
                if quantity > 0
                else f"{-quantity:,} fewer than the books"
            )
            lines.append(say(f"{names.item(item_id)}: {difference}"))
        else:
            lines.append(say(f"{quantity:,} × {names.item(item_id)}"))
    return lines


def _fields(labels: Mapping[str, str], fields: Any) -> Line | None:
    """``["name", "contact"]`` as "What changed: name, contact line"."""
    if not isinstance(fields, list) or not fields:
        return None
    return say(
        "What changed: " + ", ".join(labels.get(str(f), str(f).replace("_", " ")) for f in fields)
    )


def _with_participant(text: str, ref: ParticipantRef | None, joiner: str, *rest: Part) -> Line:
    if ref is None:
        return say(text, *rest)
    return say(text, joiner, ref, *rest)


# --- the table ---------------------------------------------------------------------------

Describer = Callable[[AuditEvent, Names], Words]


@dataclass(frozen=True)
class Action:
    """What an action name means: a label for lists, a describer for each event."""

    label: str
    describe: Describer


ACTIONS: dict[str, Action] = {}


def describes(name: str, label: str) -> Callable[[Describer], Describer]:
    """Register the decorated function as the describer of ``name``."""

    def register(function: Describer) -> Describer:
        if name in ACTIONS:
            raise ValueError(f"{name} already has a describer")
        ACTIONS[name] = Action(label, function)
        return function

    return register


def _detail(event: AuditEvent) -> dict[str, Any]:
    return event.detail if isinstance(event.detail, dict) else {}


# Staff accounts and signing in --------------------------------------------------------


@describes("sign_in", "Signed in")
def _sign_in(event, names):
    step = _detail(event).get("second_step")
    return words(
        "Signed in",
        {
            "totp": "With the authenticator app",
            "recovery_code": "With a recovery code",
            "passkey": "With a passkey",
        }.get(step)
        if step
        else None,
    )


_SIGN_IN_FAILURES = {
    "wrong_password": "wrong password",  # nosec B105: a reason in words, not a password
    "locked": "the account was locked",
    "inactive": "the account is deactivated",
    "locked_for_address": "too many wrong passwords from this address",
    "account_rate": "too many wrong passwords for this account in the last hour, from an "
    "address it does not usually sign in from",
    "wrong_code": "wrong two-step code",
    "passkey_refused": "the passkey was not accepted",
}


@describes("sign_in_failed", "Sign-in failed")
def _sign_in_failed(event, names):
    detail = _detail(event)
    reason = detail.get("reason")
    if reason == "unknown_user" or event.object_id is None:
        return words("Someone tried to sign in with a username that has no account")
    why = _SIGN_IN_FAILURES.get(reason, str(reason or "").replace("_", " "))
    return words(
        f"A sign-in to the account {names.user(event.object_id)} failed"
        + (f": {why}" if why else ""),
        f"Failure {detail['failed_logins']} in a row" if detail.get("failed_logins") else None,
        f"Failure {detail['failed_from_address']} from this address recently"
        if detail.get("failed_from_address")
        else None,
        f"The account is locked for {detail['locked_minutes']} minutes"
        if detail.get("locked_minutes")
        else None,
        f"This address cannot try this account for up to {detail['address_stopped_minutes']} "
        "minutes"
        if detail.get("address_stopped_minutes")
        else None,
    )


@describes("sessions_ended", "Other sessions ended")
def _sessions_ended(event, names):
    count = _detail(event).get("sessions")
    return words(
        "Ended their other sessions" if count != 1 else "Ended one of their other sessions",
        f"Sessions ended: {count}" if count is not None else None,
    )


@describes("sessions_ended_by_admin", "Signed out everywhere by an administrator")
def _sessions_ended_by_admin(event, names):
    count = _detail(event).get("sessions")
    return words(
        f"Signed {_username(event, names)} out everywhere",
        f"Sessions ended: {count}" if count is not None else None,
    )


@describes("two_step_enabled", "Two-step sign-in turned on")
def _two_step_enabled(event, names):
    return words("Turned on two-step sign-in with an authenticator app")


@describes("two_step_disabled", "Two-step sign-in turned off")
def _two_step_disabled(event, names):
    return words("Turned off their two-step sign-in")


@describes("two_step_reset", "Two-step sign-in reset by an administrator")
def _two_step_reset(event, names):
    removed = _detail(event).get("passkeys")
    return words(
        f"Reset the two-step sign-in of {_username(event, names)}",
        f"Passkeys removed: {removed}" if removed else None,
        "Their sessions ended; they set it up again to sign in",
    )


@describes("recovery_code_used", "Signed in with a recovery code")
def _recovery_code_used(event, names):
    left = _detail(event).get("left")
    return words(
        "Used a recovery code instead of the authenticator app",
        f"Recovery codes left: {left}" if left is not None else None,
    )


@describes("password_check_failed", "Wrong password typed in a session")
def _password_check_failed(event, names):
    detail = _detail(event)
    purpose = {
        "password_change": "when changing it",  # nosec B105: words, not a password
        "two_step_off": "when turning two-step sign-in off",
    }.get(detail.get("for"), "")
    return words(
        f"Typed a wrong password {purpose}".strip(),
        f"Failure {detail['failed_from_address']} from this address recently"
        if detail.get("failed_from_address")
        else None,
    )


@describes("passkey_added", "Passkey added")
def _passkey_added(event, names):
    return words("Added a passkey to their account")


@describes("passkey_removed", "Passkey removed")
def _passkey_removed(event, names):
    return words("Removed a passkey from their account")


@describes("recovery_codes_replaced", "New recovery codes made")
def _recovery_codes_replaced(event, names):
    return words("Made new recovery codes (the old ones stopped working)")


@describes("sign_out", "Signed out")
def _sign_out(event, names):
    return words("Signed out")


@describes("signed_out_idle", "Signed out for inactivity")
def _signed_out_idle(event, names):
    return words("Was signed out after a time without activity")


@describes("signed_out_lifetime", "Signed out at the session's time limit")
def _signed_out_lifetime(event, names):
    return words("Was signed out: the session reached its time limit")


@describes("signed_out_stale", "Signed out from an old session")
def _signed_out_stale(event, names):
    return words("Was signed out: the session was an old one that could not be checked")


def _username(event, names) -> str:
    return names.user(event.object_id)


@describes("user_created", "Account created")
def _user_created(event, names):
    from ssp.security import Role

    detail = _detail(event)
    site = detail.get("site_id")
    return words(
        f"Created the account {detail.get('username') or _username(event, names)}",
        f"Role: {_label(Role, detail.get('role'))}" if detail.get("role") else None,
        f"Default site: {names.site(site)}" if site is not None else "No default site",
    )


@describes("user_updated", "Account changed")
def _user_updated(event, names):
    from ssp.security import Role

    detail = _detail(event)
    changes = []
    role = _pairs(detail, "role")
    if role:
        old, new = (_lower_first(_label(Role, value)) for value in role)
        changes.append(("role", old, new))
    site = _pairs(detail, "site_id")
    if site:
        changes.append(("default site", names.site(site[0]), names.site(site[1])))
    if not changes:
        return words(f"Changed the account {_username(event, names)}")
    (what, old, new), rest = changes[0], changes[1:]
    sentence = f"Changed the {what} of {_username(event, names)} from {old} to {new}"
    sentence += "".join(f", and the {what} from {old} to {new}" for what, old, new in rest)
    return words(sentence)


@describes("password_reset", "Password set by an administrator")
def _password_reset(event, names):
    return words(
        f"Set a new password for {_username(event, names)}",
        "They choose their own when they next sign in",
    )


@describes("password_changed", "Password changed")
def _password_changed(event, names):
    if event.user_id is not None and event.user_id == event.object_id:
        return words("Changed their own password")
    return words(f"Changed the password of {_username(event, names)}")


@describes("password_confirmed", "Password confirmed")
def _password_confirmed(event, names):
    if _detail(event).get("with") == "passkey":
        return words("Confirmed it was them with a passkey to open a protected page")
    return words("Confirmed their password to open a protected page")


@describes("password_confirm_failed", "Password confirmation failed")
def _password_confirm_failed(event, names):
    failures = _detail(event).get("failed_logins")
    return words(
        "Typed a wrong password when asked to confirm it",
        f"Failure {failures} in a row" if failures else None,
    )


@describes("user_unlocked", "Account unlocked")
def _user_unlocked(event, names):
    return words(f"Lifted the sign-in lockout of {_username(event, names)}")


# Sites ------------------------------------------------------------------------------------


@describes("site_created", "Site added")
def _site_created(event, names):
    from ssp.staff.models import SiteKind

    detail = _detail(event)
    return words(
        f"Added the site {detail.get('name') or names.site(event.object_id)}",
        f"Kind: {_label(SiteKind, detail['kind'])}" if detail.get("kind") else None,
    )


@describes("site_updated", "Site changed")
def _site_updated(event, names):
    from ssp.staff.models import SiteKind

    detail = _detail(event)
    name, kind = _pairs(detail, "name"), _pairs(detail, "kind")
    if name and not kind:
        return words(f"Renamed the site {name[0]} to {name[1]}")
    return words(
        f"Changed the site {names.site(event.object_id)}",
        _change("Name", *name) if name else None,
        _change("Kind", *(_label(SiteKind, k) for k in kind)) if kind else None,
    )


# Participants ---------------------------------------------------------------------------

_PARTICIPANT_FIELDS = {
    "birth_year": "birth year",
    "gender": "gender",
    "race_ethnicity": "race or ethnicity",
    "zip3": "first 3 digits of ZIP code",
    "primary_substance": "substance used most",
    "injects": "injects drugs",
}


@describes("participant_enrolled", "Participant enrolled")
def _participant_enrolled(event, names):
    detail = _detail(event)
    site = detail.get("site_id")
    similar = _int(detail.get("near_duplicates"))
    return words(
        say(
            "Enrolled ",
            names.participant(event.object_id),
            " in the field" if detail.get("in_the_field") else None,
            None if site is None else f" at {names.site(site)}",
        ),
        "Confirmed as someone new although a similar code is enrolled"
        if detail.get("confirmed_distinct")
        else None,
        f"Waiting for review: {_plural(similar, 'similar code')} already enrolled"
        if similar
        else None,
    )


@describes("participant_updated", "Participant's details changed")
def _participant_updated(event, names):
    return words(
        say("Changed the details of ", names.participant(event.object_id)),
        _fields(_PARTICIPANT_FIELDS, _detail(event).get("fields")),
    )


@describes("participants_merged", "Participant records merged")
def _participants_merged(event, names):
    detail = _detail(event)
    absorbed = names.participant(detail.get("absorbed_participant_id"))
    return words(
        say("Merged ", absorbed or "a record", " into ", names.participant(event.object_id)),
        f"{_plural(detail['visits_moved'], 'visit')} moved"
        if detail.get("visits_moved")
        else "No visits to move",
    )


@describes("participants_purged", "Participants removed (retention)")
def _participants_purged(event, names):
    detail = _detail(event)
    return words(
        "Removed "
        + _plural(detail.get("participants"), "participant")
        + " not seen for the retention period",
        f"{_plural(detail.get('visits_unlinked'), 'visit')} kept, no longer linked to anyone"
        if detail.get("visits_unlinked")
        else None,
        f"{_plural(detail.get('referrals_removed'), 'referral')} removed"
        if detail.get("referrals_removed")
        else None,
        f"{_plural(detail.get('follow_ups_removed'), 'follow-up')} removed"
        if detail.get("follow_ups_removed")
        else None,
    )


@describes("participant_viewed", "Participant's page viewed")
def _participant_viewed(event, names):
    return words(say("Viewed the page of ", names.participant(event.object_id)))


#: Where ``participants_shown`` rows come from, in words (other pages: their address).
PAGES = {
    "imports.show_upload": "in an import's preview (near-duplicate codes)",
    "imports.mapping": "in an import's column mapping (first values)",
    "ssp import run": "in an import's preview on the command line",
    "dashboard.index": "on the home page",
    "participants.search_api": "in the search results",
    "participants.find": "in the search results",
    "participants.new": "on the enrolment form",
    "participants.edit": "on the details form",
    "participants.merge": "on the merge form",
    "referrals.worklist": "on the follow-up worklist",
    "referrals.referral_list": "on the referrals list",
    "referrals.referral_show": "on a referral's page",
    "referrals.referral_new": "on the referral form",
    "referrals.follow_up_show": "on a follow-up's page",
    "referrals.follow_up_new": "on the new follow-up form",
    "visits.today": "on today's visits",
    "visits.show": "on a visit's page",
    "visits.new": "on the visit form",
    "visits.edit": "on the visit correction form",
}


def _page(endpoint: Any) -> str:
    if not endpoint:
        return ""
    if endpoint in PAGES:
        return PAGES[endpoint]
    rules = [r.rule for r in current_app.url_map.iter_rules() if r.endpoint == endpoint]
    return f"on the page {rules[0] if rules else endpoint}"


@describes("participants_shown", "Participants shown on a page")
def _participants_shown(event, names):
    detail = _detail(event)
    shown = [names.participant(p) for p in detail.get("participants") or []]
    shown = [ref for ref in shown if ref is not None]
    page = _page(detail.get("endpoint"))
    if len(shown) == 1:
        return words(say("Viewed ", shown[0], " ", page))
    listed: list[Part] = []
    for index, ref in enumerate(shown):
        listed += [", "] if index else []
        listed.append(ref)
    return words(
        say(f"Viewed {_plural(len(shown), 'participant')} ", page),
        say(*listed) if listed else None,
    )


@describes("participant_card_printed", "Wallet card printed")
def _participant_card_printed(event, names):
    copies = _int(_detail(event).get("copies")) or 1
    cards = "a wallet card" if copies == 1 else f"{copies} wallet cards"
    return words(say(f"Printed {cards} for ", names.participant(event.object_id)))


# Visits -----------------------------------------------------------------------------------


def _service_lines(services: Any) -> list[Line]:
    from ssp.visits.models import Service

    if not isinstance(services, dict):
        return []
    order = {s.value: i for i, s in enumerate(Service)}
    return [
        say(f"{_int(count) or 0:,} × {_label(Service, name)}")
        for name, count in sorted(services.items(), key=lambda kv: order.get(kv[0], 99))
    ]


_VISIT_COUNTS = {
    "syringes_collected": "Used syringes collected",
    "secondary_reach": "People reached through this participant",
}


@describes("visit_recorded", "Visit recorded")
def _visit_recorded(event, names):
    detail = _detail(event)
    participant = names.participant(detail.get("participant_id"))
    sentence = (
        say("Recorded a visit for ", participant)
        if participant
        else say("Recorded an anonymous walk-in visit")
    )
    if detail.get("site_id") is not None:
        sentence = say(*sentence.parts, " at ", names.site(detail["site_id"]))
    # Older rows and this one keep counts only; the items are read from the visit as saved.
    recorded = names.visit_as_recorded(event.object_id) or {}
    if isinstance(detail.get("items"), dict):
        recorded = {**recorded, "items": detail["items"]}
    lines = _quantities(names, recorded.get("items")) + _service_lines(recorded.get("services"))
    lines += [
        say(f"{label}: {recorded[key]:,}")
        for key, label in _VISIT_COUNTS.items()
        if _int(recorded.get(key))
    ]
    if detail.get("backdated_to"):
        lines.append(say(f"Dated {_when(detail['backdated_to'])}, earlier than it was entered"))
    return words(sentence, *lines)


@describes("visit_updated", "Visit corrected")
def _visit_updated(event, names):
    from ssp.visits.models import Service, VisitKind

    detail = _detail(event)
    before = detail.get("before") if isinstance(detail.get("before"), dict) else {}
    after = detail.get("after") if isinstance(detail.get("after"), dict) else {}
    lines: list[Line] = []
    if before.get("site_id") != after.get("site_id"):
        lines.append(
            _change("Site", names.site(before.get("site_id")), names.site(after.get("site_id")))
        )
    if before.get("kind") != after.get("kind"):
        lines.append(
            _change(
                "Kind", _label(VisitKind, before.get("kind")), _label(VisitKind, after.get("kind"))
            )
        )
    if before.get("occurred_at") != after.get("occurred_at"):
        lines.append(
            _change("Time", _when(before.get("occurred_at")), _when(after.get("occurred_at")))
        )
    old_items = before.get("items") if isinstance(before.get("items"), dict) else {}
    new_items = after.get("items") if isinstance(after.get("items"), dict) else {}
    for item_id in sorted(set(old_items) | set(new_items), key=names.item_order):
        old, new = _int(old_items.get(item_id)) or 0, _int(new_items.get(item_id)) or 0
        if old != new:
            lines.append(_change(names.item(item_id), old, new))
    old_services = before.get("services") if isinstance(before.get("services"), dict) else {}
    new_services = after.get("services") if isinstance(after.get("services"), dict) else {}
    for service in sorted(set(old_services) | set(new_services)):
        old, new = _int(old_services.get(service)) or 0, _int(new_services.get(service)) or 0
        if old != new:
            lines.append(_change(_label(Service, service), old, new))
    for key, label in _VISIT_COUNTS.items():
        if before.get(key) != after.get(key):
            lines.append(_change(label, before.get(key) or 0, after.get(key) or 0))
    ref = names.participant_of("visit", event.object_id)
    return words(
        _with_participant("Corrected a visit", ref, " of "),
        *(lines or [say("Nothing it counts changed")]),
    )


@describes("visit_voided", "Visit voided")
def _visit_voided(event, names):
    ref = names.participant_of("visit", event.object_id)
    return words(
        _with_participant("Voided a visit", ref, " of "),
        "It counts nowhere now and its supplies went back to stock",
    )


# Referrals and follow-ups ---------------------------------------------------------------


def _category(value: Any) -> str:
    from ssp.referrals.models import ReferralCategory

    try:
        return ReferralCategory(value).short
    except ValueError:
        return str(value)


@describes("partner_created", "Partner added")
def _partner_created(event, names):
    detail = _detail(event)
    categories = detail.get("categories")
    return words(
        f"Added the partner {detail.get('name') or names.partner(event.object_id)}",
        "Refers for: " + ", ".join(_category(c) for c in categories)
        if isinstance(categories, list) and categories
        else None,
    )


_PARTNER_FIELDS = {"name": "name", "categories": "what it refers for", "contact": "contact line"}


@describes("partner_updated", "Partner changed")
def _partner_updated(event, names):
    return words(
        f"Changed the partner {names.partner(event.object_id)}",
        _fields(_PARTNER_FIELDS, _detail(event).get("fields")),
    )


@describes("referral_made", "Referral made")
def _referral_made(event, names):
    detail = _detail(event)
    partner = detail.get("partner_id")
    return words(
        say(
            "Referred ",
            names.participant(detail.get("participant_id")) or "someone",
            f" for {_category(detail.get('category'))}" if detail.get("category") else None,
            f" to {names.partner(partner)}" if partner is not None else None,
        ),
        f"Follow-up due {detail['due_on']}" if detail.get("due_on") else None,
        "Made during a visit" if detail.get("visit_id") else None,
    )


@describes("referral_status_changed", "Referral status changed")
def _referral_status_changed(event, names):
    from ssp.referrals.models import ReferralStatus

    detail = _detail(event)
    ref = names.participant_of("referral", event.object_id)
    category = names.referral_category(event.object_id)
    old = _lower_first(_label(ReferralStatus, detail.get("from"), "unknown"))
    new = _lower_first(_label(ReferralStatus, detail.get("to"), "unknown"))
    return words(
        say(
            "Changed the referral",
            *((" of ", ref) if ref else ()),
            f" for {_category(category)}" if category else None,
            f" from {old} to {new}",
        ),
        "A correction by a manager (a step back)" if detail.get("correction") else None,
    )


def _follow_up(event, names, text: str, joiner: str = " for ") -> Line:
    ref = names.participant(_detail(event).get("participant_id")) or names.participant_of(
        "follow_up", event.object_id
    )
    return _with_participant(text, ref, joiner)


def _assignee(names, user_id: Any) -> str:
    return "nobody in particular" if user_id is None else names.user(user_id)


@describes("follow_up_added", "Follow-up added")
def _follow_up_added(event, names):
    detail = _detail(event)
    return words(
        say(
            *_follow_up(event, names, "Added a follow-up").parts,
            f", due {detail['due_on']}" if detail.get("due_on") else None,
        ),
        f"Assigned to {names.user(detail['assigned_user_id'])}"
        if detail.get("assigned_user_id") is not None
        else None,
    )


@describes("follow_up_updated", "Follow-up changed")
def _follow_up_updated(event, names):
    detail = _detail(event)
    before = detail.get("before") if isinstance(detail.get("before"), dict) else {}
    after = detail.get("after") if isinstance(detail.get("after"), dict) else {}
    lines = []
    if before.get("due_on") != after.get("due_on"):
        lines.append(_change("Due", before.get("due_on"), after.get("due_on")))
    if before.get("assigned_user_id") != after.get("assigned_user_id"):
        lines.append(
            _change(
                "Assigned to",
                _assignee(names, before.get("assigned_user_id")),
                _assignee(names, after.get("assigned_user_id")),
            )
        )
    return words(_follow_up(event, names, "Changed a follow-up"), *lines)


_OUTCOMES = {
    "linked": "they got in or were seen",
    "waiting": "still waiting",
    "declined": "they no longer want it",
    "unreachable": "could not reach them",
    "other": "another outcome",
}


@describes("follow_up_outcome", "Follow-up outcome recorded")
def _follow_up_outcome(event, names):
    detail = _detail(event)
    outcome = detail.get("outcome")
    sentence = _follow_up(event, names, "Followed up", " with ")
    if outcome:
        sentence = say(*sentence.parts, ": ", _OUTCOMES.get(outcome, str(outcome)))
    return words(
        sentence,
        f"Asking again on {detail['due_on']}"
        if detail.get("status") == "open" and detail.get("due_on")
        else None,
        "Closed when its referral ended" if detail.get("closed_with_referral") else None,
    )


@describes("follow_up_cancelled", "Follow-up cancelled")
def _follow_up_cancelled(event, names):
    return words(
        _follow_up(event, names, "Cancelled a follow-up"),
        "Its visit was voided" if _detail(event).get("visit_voided") else None,
    )


@describes("follow_up_closed_automatically", "Follow-up closed automatically")
def _follow_up_closed_automatically(event, names):
    detail = _detail(event)
    days = _int(detail.get("days_without_contact"))
    return words(
        say(
            *_follow_up(event, names, "Closed a follow-up").parts,
            " as could not reach",
            f", after {_plural(days, 'day')} without contact" if days is not None else None,
        ),
        f"Last seen {detail['last_seen_on']}"
        if detail.get("last_seen_on")
        else "No visit on record",
        f"Follow-ups close on their own after {_plural(detail['close_after_days'], 'day')}"
        if detail.get("close_after_days")
        else None,
    )


# Stock and the catalogue --------------------------------------------------------------


@describes("supply_item_created", "Catalogue item added")
def _supply_item_created(event, names):
    from ssp.supplies.models import SupplyCategory

    detail = _detail(event)
    return words(
        f"Added the catalogue item {detail.get('name') or names.item(event.object_id)}",
        f"Category: {_label(SupplyCategory, detail['category'])}"
        if detail.get("category")
        else None,
    )


_ITEM_FIELDS = {
    "name": "Name",
    "category": "Category",
    "unit": "Unit",
    "units_per_pack": "Units per pack",
    "reorder_level": "Reorder level",
    "max_per_visit": "Most per visit",
    "doses_per_unit": "Doses per unit",
}


@describes("supply_item_updated", "Catalogue item changed")
def _supply_item_updated(event, names):
    from ssp.supplies.models import SupplyCategory

    detail = _detail(event)

    def shown(field: str, value: Any) -> str:
        if field == "category":
            return _label(SupplyCategory, value)
        if field == "max_per_visit" and value in (None, "None"):
            return "the program's limit"
        return "none" if value in (None, "None") else str(value)

    lines = [
        _change(label, *(shown(field, v) for v in _pairs(detail, field)))
        for field, label in _ITEM_FIELDS.items()
        if _pairs(detail, field)
    ]
    return words(f"Changed the catalogue item {names.item(event.object_id)}", *lines)


@describes("default_catalogue_loaded", "Default catalogue loaded")
def _default_catalogue_loaded(event, names):
    count = _detail(event).get("items")
    return words(
        "Loaded the default catalogue" + (f" of {_plural(count, 'item')}" if count else "")
    )


@describes("stock_received", "Stock received")
def _stock_received(event, names):
    return words(
        f"Received stock at {names.site(event.object_id)}",
        *_quantities(names, _detail(event).get("units")),
    )


@describes("stock_transferred", "Stock moved between sites")
def _stock_transferred(event, names):
    detail = _detail(event)
    return words(
        f"Moved stock from {names.site(event.object_id)} to {names.site(detail.get('to_site_id'))}",
        *_quantities(names, detail.get("units")),
    )


@describes("stock_counted", "Stock counted")
def _stock_counted(event, names):
    detail = _detail(event)
    counted = detail.get("items_counted")
    adjustments = _quantities(names, detail.get("adjustments"), signed=True)
    return words(
        f"Counted stock at {names.site(event.object_id)}"
        + (f": {_plural(counted, 'item')}" if counted is not None else ""),
        *(adjustments or [say("Everything matched the books")]),
    )


# Reports ----------------------------------------------------------------------------------

_PROFILE_FIELDS = {
    "name": "short name",
    "funder_name": "funder's name",
    "grant_number": "grant or contract number",
    "program_name": "program name",
    "sections": "sections",
    "threshold": "suppression threshold",
    "fiscal_year_start": "first month of the fiscal year",
    "contact": "contact line",
}


@describes("funder_profiles_loaded", "Standard funder profiles loaded")
def _funder_profiles_loaded(event, names):
    profiles = _detail(event).get("profiles")
    return words(
        "Loaded the standard funder profiles"
        + (f": {', '.join(map(str, profiles))}" if isinstance(profiles, list) else "")
    )


@describes("funder_profile_created", "Funder profile added")
def _funder_profile_created(event, names):
    from ssp.reporting.funders import SECTIONS

    detail = _detail(event)
    sections = detail.get("sections")
    return words(
        f"Added the funder profile {detail.get('name') or names.profile(event.object_id)}",
        "Sections: " + ", ".join(SECTIONS.get(s, str(s)) for s in sections)
        if isinstance(sections, list) and sections
        else None,
        f"Suppression threshold: {detail['threshold']}" if detail.get("threshold") else None,
    )


@describes("funder_profile_updated", "Funder profile changed")
def _funder_profile_updated(event, names):
    return words(
        f"Changed the funder profile {names.profile(event.object_id)}",
        _fields(_PROFILE_FIELDS, _detail(event).get("fields")),
    )


@describes("report_generated", "Report generated")
def _report_generated(event, names):
    detail = _detail(event)
    return words(
        f"Generated the report {detail.get('period', '')} for {detail.get('funder', '')}".replace(
            "  ", " "
        ),
        f"File: {detail['file']}" if detail.get("file") else None,
        f"SHA-256: {detail['sha256']}" if detail.get("sha256") else None,
    )


@describes("report_downloaded", "Report downloaded")
def _report_downloaded(event, names):
    report = names.report(event.object_id)
    if report is None:
        return words(
            "Downloaded a report"
            if event.object_id is None
            else f"Downloaded report #{event.object_id}"
        )
    return words(f"Downloaded the report {report[0]} for {report[1]}")


@describes("evaluation_export_made", "Data exported for evaluators")
def _evaluation_export_made(event, names):
    detail = _detail(event)
    period = f" for {detail['period']}" if detail.get("period") else ""
    recipient = f" to {detail['recipient']}" if detail.get("recipient") else ""
    shape = [
        str(detail[key]).replace("_", " ")
        for key in ("unit", "granularity", "location", "format")
        if detail.get(key)
    ]
    attributes = detail.get("attributes")
    return words(
        f"Exported line-level data for evaluators{period}{recipient}",
        f"Purpose: {detail['purpose']}" if detail.get("purpose") else None,
        f"{_plural(detail.get('rows'), 'row')}, {_plural(detail.get('people'), 'person', 'people')}"
        if "rows" in detail
        else None,
        f"Smallest group {detail['k']}: {_plural(detail.get('rows_coarsened'), 'row')} "
        f"coarsened, {_plural(detail.get('rows_left_out'), 'row')} left out"
        if detail.get("k")
        else None,
        ("Options: " + ", ".join(shape)) if shape else None,
        "Attributes: " + ", ".join(str(a).replace("_", " ") for a in attributes)
        if isinstance(attributes, list) and attributes
        else None,
        f"File: {detail['file']}" if detail.get("file") else None,
        f"SHA-256: {detail['sha256']}" if detail.get("sha256") else None,
    )


@describes("report_narrative_saved", "Report narrative saved")
def _report_narrative_saved(event, names):
    from ssp.reporting.narratives import PARTS

    detail = _detail(event)
    titles = dict(PARTS)
    parts = detail.get("parts")
    return words(
        "Saved the narrative" + (f" for {detail['period']}" if detail.get("period") else ""),
        "Written: " + ", ".join(titles.get(p, str(p)) for p in parts)
        if isinstance(parts, list) and parts
        else "Every part left empty",
    )


# Outreach: the phones' sealed contacts, zones and the review of held contacts -----------


@describes("sealing_key_created", "Outreach key made")
def _sealing_key_created(event, names):
    return words("Made a new key for the outreach phones to seal contacts to")


@describes("sealing_keys_retired", "Outreach keys retired")
def _sealing_keys_retired(event, names):
    keys = _detail(event).get("keys")
    return words(
        f"Retired {_plural(keys, 'older outreach key')}" if keys else "Retired older outreach keys",
        "Contacts sealed to them are refused from now on",
    )


@describes("outreach_contact_refused", "Outreach contact refused")
def _outreach_contact_refused(event, names):
    reason = _detail(event).get("reason")
    return words(
        "Refused an outreach contact that could not be opened",
        f"Why: {reason}" if reason else None,
    )


@describes("outreach_contact_held", "Outreach contact held for review")
def _outreach_contact_held(event, names):
    return words("Held an outreach contact for a manager's review: the visit rules refused it")


@describes("held_contacts_shown", "Held outreach contacts shown")
def _held_contacts_shown(event, names):
    shown = _detail(event).get("held_contact_ids")
    count = len(shown) if isinstance(shown, list) else 0
    return words(
        f"Viewed {_plural(count, 'held outreach contact')} with their codes on the review list"
    )


@describes("held_contact_discarded", "Held outreach contact discarded")
def _held_contact_discarded(event, names):
    return words("Discarded a held outreach contact: it will not be recorded")


@describes("held_contact_saved", "Held outreach contact saved")
def _held_contact_saved(event, names):
    visit = _detail(event).get("visit_id")
    return words(
        "Saved a held outreach contact as a visit" + (f" (visit #{visit})" if visit else "")
    )


@describes("field_enrolment_reviewed", "Field enrolment reviewed")
def _field_enrolment_reviewed(event, names):
    return words(say("Reviewed the field enrolment of ", names.participant(event.object_id)))


@describes("zone_created", "Outreach zone added")
def _zone_created(event, names):
    return words(
        f"Added the outreach zone {_detail(event).get('name') or names.zone(event.object_id)}"
    )


# The audit trail itself ------------------------------------------------------------------


@describes("audit_exported", "Audit trail downloaded")
def _audit_exported(event, names):
    detail = _detail(event)
    only = []
    if detail.get("user"):
        only.append(f"by {names.user(detail['user'])}")
    if detail.get("action"):
        only.append(f"of the kind “{label_of(str(detail['action']))}”")
    if detail.get("object_type"):
        only.append(f"about {_lower_first(object_type_words(str(detail['object_type'])))}")
    if detail.get("object_id"):
        only.append(f"about object number {detail['object_id']}")
    if detail.get("start"):
        only.append(f"from {detail['start']}")
    if detail.get("end"):
        only.append(f"to {detail['end']}")
    return words(
        ("Downloaded the audit trail" if only else "Downloaded the whole audit trail")
        + " as a spreadsheet (CSV)",
        ("Only events " + ", ".join(only)) if only else None,
    )


# Deactivating and reactivating: ``record_active(obj, active, kind)`` ---------------------

#: Each kind ``record_active()`` is called with (and outreach zones, which write the same
#: names themselves): what it is called, and how to find its name.
_ACTIVE_KINDS: dict[str, tuple[str, Callable[[Names, Any], str]]] = {
    "user": ("account", Names.user),
    "site": ("site", Names.site),
    "partner": ("partner", Names.partner),
    "supply_item": ("catalogue item", Names.item),
    "funder_profile": ("funder profile", Names.profile),
    "zone": ("outreach zone", Names.zone),
}


def _activity_describer(noun: str, name_of: Callable[[Names, Any], str], active: bool):
    def describe(event, names):
        verb = "Reactivated" if active else "Deactivated"
        return words(f"{verb} the {noun} {name_of(names, event.object_id)}")

    return describe


for _kind, (_noun, _name_of) in _ACTIVE_KINDS.items():
    for _active in (False, True):
        describes(
            f"{_kind}_{'reactivated' if _active else 'deactivated'}",
            f"{_upper_first(_noun)} {'reactivated' if _active else 'deactivated'}",
        )(_activity_describer(_noun, _name_of, _active))


# --- reading an event --------------------------------------------------------------------


def _humane(name: str) -> str:
    return _upper_first(name.replace("_", " ").strip()) or "Something"


def _fallback(event: AuditEvent) -> Words:
    """An action with no describer (or a detail it cannot read): its name in words and
    the detail as it was recorded."""
    detail = event.detail if isinstance(event.detail, dict) else {}

    def shown(value: Any) -> str:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

    return words(
        _humane(event.action or ""),
        *(f"{_humane(str(key))}: {shown(value)}" for key, value in sorted(detail.items())),
    )


def describe(event: AuditEvent, names: Names) -> Words:
    """What ``event`` records, in words."""
    action = ACTIONS.get(event.action)
    if action is None:
        return _fallback(event)
    try:
        return action.describe(event, names)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        # A detail in a shape this version does not know (an old row): say it plainly.
        return _fallback(event)


def label_of(action: str) -> str:
    """An action name as a short label (for the filter's list)."""
    return ACTIONS[action].label if action in ACTIONS else _humane(action)


#: Object types on the trail, in words.
@describes("import_completed", "Spreadsheet imported")
def _import_completed(event, names):
    detail = _detail(event)
    how = "on the import page" if detail.get("source") == "page" else "from the command line"
    return words(
        f"Imported {_plural(detail.get('visits'), 'visit')} from a spreadsheet {how}",
        f"{_plural(detail.get('rows_imported'), 'row')} of {detail.get('rows_read', 0):,} "
        f"imported; {_plural(detail.get('rows_already_imported'), 'row')} already imported "
        f"before, {_plural(detail.get('rows_left_out'), 'refused row')} left out",
        f"{_plural(detail.get('participants_created'), 'participant')} enrolled, "
        f"{_plural(detail.get('referrals'), 'referral')}",
        "Stock taken from the shelves" if detail.get("moved_stock") else "Stock not moved",
        f"{_plural(detail['near_duplicates_confirmed'], 'near-duplicate code')} confirmed "
        "as different people"
        if detail.get("near_duplicates_confirmed")
        else None,
        f"SHA-256 of the file: {detail['sha256']}" if detail.get("sha256") else None,
    )


@describes("import_undone", "Import undone")
def _import_undone(event, names):
    detail = _detail(event)
    kept = detail.get("participants_kept")
    return words(
        ("Undid an import" if event.object_id is None else f"Undid import #{event.object_id}")
        + f": removed {_plural(detail.get('visits'), 'visit')}",
        f"{_plural(detail.get('participants_removed'), 'participant')} removed"
        + (f", {_plural(kept, 'participant')} kept (seen since)" if kept else ""),
        f"{_plural(detail.get('referrals'), 'referral')} removed",
    )


@describes("import_mapping_saved", "Import mapping saved")
def _import_mapping_saved(event, names):
    detail = _detail(event)
    return words(
        f"Saved the import mapping “{detail.get('name', '')}”",
        f"{_plural(detail.get('columns'), 'column')}, "
        + ("a daily tally" if detail.get("shape") == "tally" else "a row per visit"),
    )


@describes("drug_check_recorded", "Drug-checking result recorded")
def _drug_check_recorded(event, names):
    detail = _detail(event)
    sold_as = str(detail.get("sold_as") or "").lower()
    return words(
        f"Recorded a drug-checking result{f': sold as {sold_as}' if sold_as else ''}",
        f"{_plural(detail.get('tests'), 'test')}, {_plural(detail.get('positive'), 'positive')}",
    )


@describes("drug_check_voided", "Drug-checking result taken out")
def _drug_check_voided(event, names):
    return words(
        "Took a drug-checking result out of every count"
        + (f" (result #{event.object_id})" if event.object_id is not None else "")
    )


@describes("drug_check_lists_loaded", "Drug-checking lists loaded")
def _drug_check_lists_loaded(event, names):
    added = _plural(_detail(event).get("added"), "entry", "entries")
    return words(f"Loaded the usual drug-checking lists ({added})")


@describes("drug_check_sold_as_added", "Drug-checking list: sold as added")
def _drug_check_sold_as_added(event, names):
    return words(f"Added “{_detail(event).get('name', '')}” to what samples are sold as")


@describes("drug_check_test_added", "Drug-checking test added")
def _drug_check_test_added(event, names):
    detail = _detail(event)
    return words(
        f"Added the test “{detail.get('name', '')}”",
        f"A positive finds {detail['finds']}" if detail.get("finds") else None,
    )


@describes("drug_check_list_changed", "Drug-checking list changed")
def _drug_check_list_changed(event, names):
    detail = _detail(event)
    state = "Brought back" if detail.get("active") else "Retired"
    name = f" “{detail['name']}”" if detail.get("name") else " an entry"
    return words(f"{state}{name} on the drug-checking lists")


# Drug alerts --------------------------------------------------------------------------------


def _drug_alert(event) -> str:
    return "a drug alert" if event.object_id is None else f"drug alert #{event.object_id}"


@describes("drug_alert_drafted", "Drug alert drafted")
def _drug_alert_drafted(event, names):
    detail = _detail(event)
    what = (
        f": {detail['found']} found in {detail['sold_as']}, {detail.get('area', '')}"
        if detail.get("found") and detail.get("sold_as")
        else ""
    )
    return words(
        f"Drafted {_drug_alert(event)}{what}",
        f"Since {detail['since']}, runs until {detail['expires_on']}"
        if detail.get("since") and detail.get("expires_on")
        else None,
        "From a drug-checking signal" if detail.get("from_signal") else None,
        f"{_plural(len(detail['advice']), 'piece')} of advice"
        if isinstance(detail.get("advice"), list)
        else None,
    )


@describes("drug_alert_edited", "Drug alert draft changed")
def _drug_alert_edited(event, names):
    changed = _detail(event).get("changed")
    labels = {
        "found": "what was found",
        "sold_as": "what it was found in",
        "area": "where",
        "since": "since when",
        "expires_on": "its last day",
        "advice": "the advice",
    }
    return words(
        f"Changed the draft of {_drug_alert(event)}",
        "Changed: " + ", ".join(labels.get(str(name), str(name)) for name in changed)
        if isinstance(changed, list) and changed
        else None,
    )


@describes("drug_alert_approved", "Drug alert approved")
def _drug_alert_approved(event, names):
    detail = _detail(event)
    return words(
        f"Approved {_drug_alert(event)}"
        + (f", drafted by {names.user(detail['drafted_by'])}" if detail.get("drafted_by") else ""),
        f"Shown and printed until {detail['expires_on']}" if detail.get("expires_on") else None,
    )


@describes("drug_alert_withdrawn", "Drug alert withdrawn")
def _drug_alert_withdrawn(event, names):
    draft = _detail(event).get("was") == "draft"
    return words(f"Withdrew {'the draft of ' if draft else ''}{_drug_alert(event)}")


@describes("drug_alert_printed", "Drug alert flyer downloaded")
def _drug_alert_printed(event, names):
    return words(f"Downloaded the flyer of {_drug_alert(event)} (PDF)")


OBJECT_TYPES = {
    "user": "Account",
    "site": "Site",
    "participant": "Participant",
    "visit": "Visit",
    "partner": "Partner",
    "referral": "Referral",
    "follow_up": "Follow-up",
    "supply_item": "Catalogue item",
    "report": "Report",
    "report_narrative": "Report narrative",
    "funder_profile": "Funder profile",
    "audit_events": "Audit trail",
    "page": "Page",
    "zone": "Outreach zone",
    "sealing_key": "Outreach key",
    "held_contact": "Held outreach contact",
    "outreach": "Outreach",
    "import_batch": "Import",
    "import_mapping": "Import mapping",
    "drug_alert": "Drug alert",
    "drug_check": "Drug-checking result",
    "drug_check_list": "Drug-checking list",
}


def object_type_words(object_type: str) -> str:
    """An object type as people call it."""
    return OBJECT_TYPES.get(object_type) or _humane(object_type)


def object_words(event: AuditEvent) -> str:
    """The event's object: "Account #3", "Site #1"; "" when it has none."""
    if not event.object_type:
        return ""
    text = object_type_words(event.object_type)
    return f"{text} #{event.object_id}" if event.object_id is not None else text


__all__ = [
    "ACTIONS",
    "Line",
    "Names",
    "ParticipantRef",
    "Words",
    "describe",
    "label_of",
    "object_type_words",
    "object_words",
]
