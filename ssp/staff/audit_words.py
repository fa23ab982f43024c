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
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.i18n import (
    _,
    _l,
    format_day,
    format_moment,
    format_number,
    lazy_pgettext,
    ngettext,
)
from ssp.timeutil import local_time

# --- what a describer returns ----------------------------------------------------------


@dataclass(frozen=True)
class ParticipantRef:
    """A participant an event names, by record number (pages link it to their page)."""

    participant_id: int
    on_record: bool = True

    def __str__(self) -> str:
        return _("participant #%(number)s", number=self.participant_id)


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
        participants.update(p for p, _unused in referrals.values())
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
            return _("no site")
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


_UNKNOWN = {
    "account": _l("account #%(id)s"),
    "site": _l("site #%(id)s"),
    "item": _l("item #%(id)s"),
    "partner": _l("partner #%(id)s"),
    "profile": _l("profile #%(id)s"),
    "zone": _l("zone #%(id)s"),
}


def _unknown(kind: str, object_id: Any) -> str:
    """Something no longer (or never) on record: "site #4", or "(unknown)" with no id."""
    if object_id is None:
        return _("(unknown)")
    return str(_UNKNOWN[kind]) % {"id": object_id}


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

_SLOT = re.compile(r"%\((\w+)\)s|%%")


def fill(template: str, **values: Part | None) -> Line:
    """A line from a sentence already in the reader's language (``_()`` with no
    variables) whose ``%(name)s`` slots take text or participants (kept as themselves,
    so pages can link them); ``None`` values are left out."""
    parts: list[Part | None] = []
    position = 0
    for match in _SLOT.finditer(template):
        parts.append(template[position : match.start()])
        if match.group(0) == "%%":
            parts.append("%")
        else:
            value = values[match.group(1)]
            parts.append(
                value if value is None or isinstance(value, ParticipantRef) else str(value)
            )
        position = match.end()
    parts.append(template[position:])
    return say(*parts)


def slot(name: str) -> str:
    """A ``%(name)s`` slot kept through ``ngettext`` (which fills the others), for ``fill``."""
    return f"%({name})s"


def _lower_first(text: str) -> str:
    """ "Front desk" → "front desk", but "HIV care" stays "HIV care"."""
    text = str(text)
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _count(value: Any) -> int:
    return _int(value) or 0


def _num(value: Any) -> str:
    """A count as the reader writes it (1,000 / 1.000)."""
    return format_number(_count(value))


def _label(enum_type: type, value: Any, default: str = "") -> str:
    """An enum member's label by value (the value itself when unknown)."""
    try:
        return str(enum_type(value).label)
    except (ValueError, TypeError, AttributeError):
        return str(value) if value not in (None, "") else str(default)


def _when(value: Any) -> str:
    """An ISO time from a detail, in the program's time zone, as the reader writes it."""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return format_moment(local_time(moment), "minute")


def _day(value: Any) -> str:
    """An ISO day from a detail ("2026-11-27") as the reader writes it."""
    try:
        return format_day(dt.date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _change(label: Any, old: Any, new: Any) -> Line:
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
        quantity = _count(quantity)
        if signed:
            lines.append(
                say(
                    _(
                        "%(item)s: %(count)s more than the books",
                        item=names.item(item_id),
                        count=format_number(quantity),
                    )
                    if quantity > 0
                    else _(
                        "%(item)s: %(count)s fewer than the books",
                        item=names.item(item_id),
                        count=format_number(-quantity),
                    )
                )
            )
        else:
            lines.append(say(f"{format_number(quantity)} × {names.item(item_id)}"))
    return lines


def _fields(labels: Mapping[str, Any], fields: Any) -> Line | None:
    """``["name", "contact"]`` as "What changed: name, contact line"."""
    if not isinstance(fields, list) or not fields:
        return None
    return say(
        _(
            "What changed: %(fields)s",
            fields=", ".join(str(labels.get(str(f), str(f).replace("_", " "))) for f in fields),
        )
    )


def _with_participant(ref: ParticipantRef | None, with_ref: str, without: str) -> Line:
    """``with_ref`` (a sentence with a ``%(participant)s`` slot) when there is a
    participant, else ``without``."""
    if ref is None:
        return say(without)
    return fill(with_ref, participant=ref)


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


@describes("sign_in", _l("Signed in"))
def _sign_in(event, names):
    step = _detail(event).get("second_step")
    return words(
        _("Signed in"),
        {
            "totp": _("With the authenticator app"),
            "recovery_code": _("With a recovery code"),
            "passkey": _("With a passkey"),
        }.get(step)
        if step
        else None,
    )


_SIGN_IN_FAILURES = {
    "wrong_password": _l("wrong password"),  # nosec B105: a reason in words, not a password
    "locked": _l("the account was locked"),
    "inactive": _l("the account is deactivated"),
    "locked_for_address": _l("too many wrong passwords from this address"),
    "account_rate": _l(
        "too many wrong passwords for this account in the last hour, from an address it "
        "does not usually sign in from"
    ),
    "wrong_code": _l("wrong two-step code"),
    "passkey_refused": _l("the passkey was not accepted"),
}


def _failures_from_address(detail: Mapping) -> str | None:
    if not detail.get("failed_from_address"):
        return None
    return _("Failure %(count)s from this address recently", count=detail["failed_from_address"])


@describes("sign_in_failed", _l("Sign-in failed"))
def _sign_in_failed(event, names):
    detail = _detail(event)
    reason = detail.get("reason")
    if reason == "unknown_user" or event.object_id is None:
        return words(_("Someone tried to sign in with a username that has no account"))
    why = str(_SIGN_IN_FAILURES.get(reason, str(reason or "").replace("_", " ")))
    username = names.user(event.object_id)
    locked = _count(detail.get("locked_minutes"))
    stopped = _count(detail.get("address_stopped_minutes"))
    return words(
        _("A sign-in to the account %(username)s failed: %(why)s", username=username, why=why)
        if why
        else _("A sign-in to the account %(username)s failed", username=username),
        _("Failure %(count)s in a row", count=detail["failed_logins"])
        if detail.get("failed_logins")
        else None,
        _failures_from_address(detail),
        ngettext(
            "The account is locked for %(count)s minute",
            "The account is locked for %(count)s minutes",
            locked,
            count=format_number(locked),
        )
        if locked
        else None,
        ngettext(
            "This address cannot try this account for up to %(count)s minute",
            "This address cannot try this account for up to %(count)s minutes",
            stopped,
            count=format_number(stopped),
        )
        if stopped
        else None,
    )


@describes("sessions_ended", _l("Other sessions ended"))
def _sessions_ended(event, names):
    count = _detail(event).get("sessions")
    return words(
        _("Ended their other sessions") if count != 1 else _("Ended one of their other sessions"),
        _("Sessions ended: %(count)s", count=count) if count is not None else None,
    )


@describes("sessions_ended_by_admin", _l("Signed out everywhere by an administrator"))
def _sessions_ended_by_admin(event, names):
    count = _detail(event).get("sessions")
    return words(
        _("Signed %(username)s out everywhere", username=_username(event, names)),
        _("Sessions ended: %(count)s", count=count) if count is not None else None,
    )


@describes("two_step_enabled", _l("Two-step sign-in turned on"))
def _two_step_enabled(event, names):
    return words(_("Turned on two-step sign-in with an authenticator app"))


@describes("two_step_disabled", _l("Two-step sign-in turned off"))
def _two_step_disabled(event, names):
    return words(_("Turned off their two-step sign-in"))


@describes("two_step_reset", _l("Two-step sign-in reset by an administrator"))
def _two_step_reset(event, names):
    removed = _detail(event).get("passkeys")
    return words(
        _("Reset the two-step sign-in of %(username)s", username=_username(event, names)),
        _("Passkeys removed: %(count)s", count=removed) if removed else None,
        _("Their sessions ended; they set it up again to sign in"),
    )


@describes("recovery_code_used", _l("Signed in with a recovery code"))
def _recovery_code_used(event, names):
    left = _detail(event).get("left")
    return words(
        _("Used a recovery code instead of the authenticator app"),
        _("Recovery codes left: %(count)s", count=left) if left is not None else None,
    )


@describes("password_check_failed", _l("Wrong password typed in a session"))
def _password_check_failed(event, names):
    detail = _detail(event)
    purpose = detail.get("for")
    if purpose == "password_change":  # nosec B105: words, not a password
        sentence = _("Typed a wrong password when changing it")
    elif purpose == "two_step_off":
        sentence = _("Typed a wrong password when turning two-step sign-in off")
    else:
        sentence = _("Typed a wrong password")
    return words(sentence, _failures_from_address(detail))


@describes("passkey_added", _l("Passkey added"))
def _passkey_added(event, names):
    return words(_("Added a passkey to their account"))


@describes("passkey_removed", _l("Passkey removed"))
def _passkey_removed(event, names):
    return words(_("Removed a passkey from their account"))


@describes("recovery_codes_replaced", _l("New recovery codes made"))
def _recovery_codes_replaced(event, names):
    return words(_("Made new recovery codes (the old ones stopped working)"))


@describes("sign_out", _l("Signed out"))
def _sign_out(event, names):
    return words(_("Signed out"))


@describes("signed_out_idle", _l("Signed out for inactivity"))
def _signed_out_idle(event, names):
    return words(_("Was signed out after a time without activity"))


@describes("signed_out_lifetime", _l("Signed out at the session's time limit"))
def _signed_out_lifetime(event, names):
    return words(_("Was signed out: the session reached its time limit"))


@describes("signed_out_stale", _l("Signed out from an old session"))
def _signed_out_stale(event, names):
    return words(_("Was signed out: the session was an old one that could not be checked"))


def _username(event, names) -> str:
    return names.user(event.object_id)


@describes("user_created", _l("Account created"))
def _user_created(event, names):
    from ssp.security import Role

    detail = _detail(event)
    site = detail.get("site_id")
    return words(
        _(
            "Created the account %(username)s",
            username=detail.get("username") or _username(event, names),
        ),
        _("Role: %(role)s", role=_label(Role, detail.get("role"))) if detail.get("role") else None,
        _("Default site: %(site)s", site=names.site(site))
        if site is not None
        else _("No default site"),
    )


@describes("user_updated", _l("Account changed"))
def _user_updated(event, names):
    from ssp.security import Role

    detail = _detail(event)
    username = _username(event, names)
    role, site = _pairs(detail, "role"), _pairs(detail, "site_id")
    roles = [_lower_first(_label(Role, value)) for value in role] if role else None
    sites = [names.site(value) for value in site] if site else None
    if roles and sites:
        return words(
            _(
                "Changed the role of %(username)s from %(old_role)s to %(new_role)s, and the "
                "default site from %(old_site)s to %(new_site)s",
                username=username,
                old_role=roles[0],
                new_role=roles[1],
                old_site=sites[0],
                new_site=sites[1],
            )
        )
    if roles:
        return words(
            _(
                "Changed the role of %(username)s from %(old)s to %(new)s",
                username=username,
                old=roles[0],
                new=roles[1],
            )
        )
    if sites:
        return words(
            _(
                "Changed the default site of %(username)s from %(old)s to %(new)s",
                username=username,
                old=sites[0],
                new=sites[1],
            )
        )
    return words(_("Changed the account %(username)s", username=username))


@describes("password_reset", _l("Password set by an administrator"))
def _password_reset(event, names):
    return words(
        _("Set a new password for %(username)s", username=_username(event, names)),
        _("They choose their own when they next sign in"),
    )


@describes("password_changed", _l("Password changed"))
def _password_changed(event, names):
    if event.user_id is not None and event.user_id == event.object_id:
        return words(_("Changed their own password"))
    return words(_("Changed the password of %(username)s", username=_username(event, names)))


@describes("password_confirmed", _l("Password confirmed"))
def _password_confirmed(event, names):
    if _detail(event).get("with") == "passkey":
        return words(_("Confirmed it was them with a passkey to open a protected page"))
    return words(_("Confirmed their password to open a protected page"))


@describes("password_confirm_failed", _l("Password confirmation failed"))
def _password_confirm_failed(event, names):
    failures = _detail(event).get("failed_logins")
    return words(
        _("Typed a wrong password when asked to confirm it"),
        _("Failure %(count)s in a row", count=failures) if failures else None,
    )


@describes("user_unlocked", _l("Account unlocked"))
def _user_unlocked(event, names):
    return words(_("Lifted the sign-in lockout of %(username)s", username=_username(event, names)))


# Sites ------------------------------------------------------------------------------------


@describes("site_created", _l("Site added"))
def _site_created(event, names):
    from ssp.staff.models import SiteKind

    detail = _detail(event)
    return words(
        _("Added the site %(name)s", name=detail.get("name") or names.site(event.object_id)),
        _("Kind: %(kind)s", kind=_label(SiteKind, detail["kind"])) if detail.get("kind") else None,
    )


@describes("site_updated", _l("Site changed"))
def _site_updated(event, names):
    from ssp.staff.models import SiteKind

    detail = _detail(event)
    name, kind = _pairs(detail, "name"), _pairs(detail, "kind")
    if name and not kind:
        return words(_("Renamed the site %(old)s to %(new)s", old=name[0], new=name[1]))
    return words(
        _("Changed the site %(name)s", name=names.site(event.object_id)),
        _change(_("Name"), *name) if name else None,
        _change(_("Kind"), *(_label(SiteKind, k) for k in kind)) if kind else None,
    )


# Participants ---------------------------------------------------------------------------

_PARTICIPANT_FIELDS = {
    "birth_year": _l("birth year"),
    "gender": _l("gender"),
    "race_ethnicity": _l("race or ethnicity"),
    "zip3": _l("first 3 digits of ZIP code"),
    "primary_substance": _l("substance used most"),
    "injects": _l("injects drugs"),
}


@describes("participant_enrolled", _l("Participant enrolled"))
def _participant_enrolled(event, names):
    detail = _detail(event)
    site = detail.get("site_id")
    similar = _count(detail.get("near_duplicates"))
    ref = names.participant(event.object_id)
    if detail.get("in_the_field"):
        sentence = (
            fill(_("Enrolled %(participant)s in the field"), participant=ref)
            if site is None
            else fill(
                _("Enrolled %(participant)s in the field at %(site)s"),
                participant=ref,
                site=names.site(site),
            )
        )
    else:
        sentence = (
            fill(_("Enrolled %(participant)s"), participant=ref)
            if site is None
            else fill(
                _("Enrolled %(participant)s at %(site)s"), participant=ref, site=names.site(site)
            )
        )
    return words(
        sentence,
        _("Confirmed as someone new although a similar code is enrolled")
        if detail.get("confirmed_distinct")
        else None,
        ngettext(
            "Waiting for review: %(count)s similar code already enrolled",
            "Waiting for review: %(count)s similar codes already enrolled",
            similar,
            count=format_number(similar),
        )
        if similar
        else None,
    )


@describes("participant_updated", _l("Participant's details changed"))
def _participant_updated(event, names):
    return words(
        fill(
            _("Changed the details of %(participant)s"),
            participant=names.participant(event.object_id),
        ),
        _fields(_PARTICIPANT_FIELDS, _detail(event).get("fields")),
    )


@describes("participants_merged", _l("Participant records merged"))
def _participants_merged(event, names):
    detail = _detail(event)
    absorbed = names.participant(detail.get("absorbed_participant_id"))
    kept = names.participant(event.object_id)
    moved = _count(detail.get("visits_moved"))
    return words(
        fill(_("Merged %(absorbed)s into %(kept)s"), absorbed=absorbed, kept=kept)
        if absorbed
        else fill(_("Merged a record into %(kept)s"), kept=kept),
        ngettext(
            "%(count)s visit moved", "%(count)s visits moved", moved, count=format_number(moved)
        )
        if moved
        else _("No visits to move"),
    )


@describes("participants_purged", _l("Participants removed (retention)"))
def _participants_purged(event, names):
    detail = _detail(event)
    removed = _count(detail.get("participants"))
    unlinked = _count(detail.get("visits_unlinked"))
    referrals = _count(detail.get("referrals_removed"))
    follow_ups = _count(detail.get("follow_ups_removed"))
    return words(
        ngettext(
            "Removed %(count)s participant not seen for the retention period",
            "Removed %(count)s participants not seen for the retention period",
            removed,
            count=format_number(removed),
        ),
        ngettext(
            "%(count)s visit kept, no longer linked to anyone",
            "%(count)s visits kept, no longer linked to anyone",
            unlinked,
            count=format_number(unlinked),
        )
        if unlinked
        else None,
        _referrals_removed(referrals) if referrals else None,
        ngettext(
            "%(count)s follow-up removed",
            "%(count)s follow-ups removed",
            follow_ups,
            count=format_number(follow_ups),
        )
        if follow_ups
        else None,
    )


def _referrals_removed(count: int) -> str:
    return ngettext(
        "%(count)s referral removed",
        "%(count)s referrals removed",
        count,
        count=format_number(count),
    )


@describes("participant_viewed", _l("Participant's page viewed"))
def _participant_viewed(event, names):
    return words(
        fill(
            _("Viewed the page of %(participant)s"), participant=names.participant(event.object_id)
        )
    )


#: Where ``participants_shown`` rows come from, in words (other pages: their address).
PAGES = {
    "imports.show_upload": _l("in an import's preview (near-duplicate codes)"),
    "imports.mapping": _l("in an import's column mapping (first values)"),
    "ssp import run": _l("in an import's preview on the command line"),
    "dashboard.index": _l("on the home page"),
    "participants.search_api": _l("in the search results"),
    "participants.find": _l("in the search results"),
    "participants.new": _l("on the enrolment form"),
    "participants.edit": _l("on the details form"),
    "participants.merge": _l("on the merge form"),
    "referrals.worklist": _l("on the follow-up worklist"),
    "referrals.referral_list": _l("on the referrals list"),
    "referrals.referral_show": _l("on a referral's page"),
    "referrals.referral_new": _l("on the referral form"),
    "referrals.follow_up_show": _l("on a follow-up's page"),
    "referrals.follow_up_new": _l("on the new follow-up form"),
    "visits.today": _l("on today's visits"),
    "visits.show": _l("on a visit's page"),
    "visits.new": _l("on the visit form"),
    "visits.edit": _l("on the visit correction form"),
}


def _page(endpoint: Any) -> str:
    if not endpoint:
        return ""
    if endpoint in PAGES:
        return str(PAGES[endpoint])
    rules = [r.rule for r in current_app.url_map.iter_rules() if r.endpoint == endpoint]
    return _("on the page %(address)s", address=rules[0] if rules else endpoint)


@describes("participants_shown", _l("Participants shown on a page"))
def _participants_shown(event, names):
    detail = _detail(event)
    shown = [names.participant(p) for p in detail.get("participants") or []]
    shown = [ref for ref in shown if ref is not None]
    page = _page(detail.get("endpoint"))
    if len(shown) == 1:
        return words(fill(_("Viewed %(participant)s %(page)s"), participant=shown[0], page=page))
    listed: list[Part] = []
    for index, ref in enumerate(shown):
        listed += [", "] if index else []
        listed.append(ref)
    return words(
        say(
            ngettext(
                "Viewed %(count)s participant %(page)s",
                "Viewed %(count)s participants %(page)s",
                len(shown),
                count=format_number(len(shown)),
                page=page,
            )
        ),
        say(*listed) if listed else None,
    )


@describes("participant_card_printed", _l("Wallet card printed"))
def _participant_card_printed(event, names):
    copies = _int(_detail(event).get("copies")) or 1
    return words(
        fill(
            ngettext(
                "Printed a wallet card for %(participant)s",
                "Printed %(count)s wallet cards for %(participant)s",
                copies,
                count=format_number(copies),
                participant=slot("participant"),
            ),
            participant=names.participant(event.object_id),
        )
    )


# Visits -----------------------------------------------------------------------------------


def _service_lines(services: Any) -> list[Line]:
    from ssp.visits.models import Service

    if not isinstance(services, dict):
        return []
    order = {s.value: i for i, s in enumerate(Service)}
    return [
        say(f"{_num(count)} × {_label(Service, name)}")
        for name, count in sorted(services.items(), key=lambda kv: order.get(kv[0], 99))
    ]


_VISIT_COUNTS = {
    "syringes_collected": _l("Used syringes collected"),
    "secondary_reach": _l("People reached through this participant"),
}


@describes("visit_recorded", _l("Visit recorded"))
def _visit_recorded(event, names):
    detail = _detail(event)
    participant = names.participant(detail.get("participant_id"))
    site = names.site(detail["site_id"]) if detail.get("site_id") is not None else None
    if participant:
        sentence = (
            fill(_("Recorded a visit for %(participant)s"), participant=participant)
            if site is None
            else fill(
                _("Recorded a visit for %(participant)s at %(site)s"),
                participant=participant,
                site=site,
            )
        )
    else:
        sentence = say(
            _("Recorded an anonymous walk-in visit")
            if site is None
            else _("Recorded an anonymous walk-in visit at %(site)s", site=site)
        )
    # Older rows and this one keep counts only; the items are read from the visit as saved.
    recorded = names.visit_as_recorded(event.object_id) or {}
    if isinstance(detail.get("items"), dict):
        recorded = {**recorded, "items": detail["items"]}
    lines = _quantities(names, recorded.get("items")) + _service_lines(recorded.get("services"))
    lines += [
        say(f"{label}: {_num(recorded[key])}")
        for key, label in _VISIT_COUNTS.items()
        if _int(recorded.get(key))
    ]
    if detail.get("backdated_to"):
        lines.append(
            say(
                _(
                    "Dated %(when)s, earlier than it was entered",
                    when=_when(detail["backdated_to"]),
                )
            )
        )
    return words(sentence, *lines)


@describes("visit_updated", _l("Visit corrected"))
def _visit_updated(event, names):
    from ssp.visits.models import Service, VisitKind

    detail = _detail(event)
    before = detail.get("before") if isinstance(detail.get("before"), dict) else {}
    after = detail.get("after") if isinstance(detail.get("after"), dict) else {}
    lines: list[Line] = []
    if before.get("site_id") != after.get("site_id"):
        lines.append(
            _change(_("Site"), names.site(before.get("site_id")), names.site(after.get("site_id")))
        )
    if before.get("kind") != after.get("kind"):
        lines.append(
            _change(
                _("Kind"),
                _label(VisitKind, before.get("kind")),
                _label(VisitKind, after.get("kind")),
            )
        )
    if before.get("occurred_at") != after.get("occurred_at"):
        lines.append(
            _change(_("Time"), _when(before.get("occurred_at")), _when(after.get("occurred_at")))
        )
    old_items = before.get("items") if isinstance(before.get("items"), dict) else {}
    new_items = after.get("items") if isinstance(after.get("items"), dict) else {}
    for item_id in sorted(set(old_items) | set(new_items), key=names.item_order):
        old, new = _count(old_items.get(item_id)), _count(new_items.get(item_id))
        if old != new:
            lines.append(_change(names.item(item_id), format_number(old), format_number(new)))
    old_services = before.get("services") if isinstance(before.get("services"), dict) else {}
    new_services = after.get("services") if isinstance(after.get("services"), dict) else {}
    for service in sorted(set(old_services) | set(new_services)):
        old, new = _count(old_services.get(service)), _count(new_services.get(service))
        if old != new:
            lines.append(_change(_label(Service, service), format_number(old), format_number(new)))
    for key, label in _VISIT_COUNTS.items():
        if before.get(key) != after.get(key):
            lines.append(_change(label, _num(before.get(key)), _num(after.get(key))))
    ref = names.participant_of("visit", event.object_id)
    return words(
        _with_participant(ref, _("Corrected a visit of %(participant)s"), _("Corrected a visit")),
        *(lines or [say(_("Nothing it counts changed"))]),
    )


@describes("visit_voided", _l("Visit voided"))
def _visit_voided(event, names):
    ref = names.participant_of("visit", event.object_id)
    return words(
        _with_participant(ref, _("Voided a visit of %(participant)s"), _("Voided a visit")),
        _("It counts nowhere now and its supplies went back to stock"),
    )


# Referrals and follow-ups ---------------------------------------------------------------


def _category(value: Any) -> str:
    from ssp.referrals.models import ReferralCategory

    try:
        return str(ReferralCategory(value).short)
    except ValueError:
        return str(value)


@describes("partner_created", _l("Partner added"))
def _partner_created(event, names):
    detail = _detail(event)
    categories = detail.get("categories")
    return words(
        _("Added the partner %(name)s", name=detail.get("name") or names.partner(event.object_id)),
        _("Refers for: %(categories)s", categories=", ".join(_category(c) for c in categories))
        if isinstance(categories, list) and categories
        else None,
    )


_PARTNER_FIELDS = {
    "name": _l("name"),
    "categories": _l("what it refers for"),
    "contact": _l("contact line"),
}


@describes("partner_updated", _l("Partner changed"))
def _partner_updated(event, names):
    return words(
        _("Changed the partner %(name)s", name=names.partner(event.object_id)),
        _fields(_PARTNER_FIELDS, _detail(event).get("fields")),
    )


@describes("referral_made", _l("Referral made"))
def _referral_made(event, names):
    detail = _detail(event)
    partner = detail.get("partner_id")
    participant: Part = names.participant(detail.get("participant_id")) or _("someone")
    category = _category(detail.get("category")) if detail.get("category") else None
    to = names.partner(partner) if partner is not None else None
    if category and to:
        sentence = fill(
            _("Referred %(participant)s for %(category)s to %(partner)s"),
            participant=participant,
            category=category,
            partner=to,
        )
    elif category:
        sentence = fill(
            _("Referred %(participant)s for %(category)s"),
            participant=participant,
            category=category,
        )
    elif to:
        sentence = fill(
            _("Referred %(participant)s to %(partner)s"), participant=participant, partner=to
        )
    else:
        sentence = fill(_("Referred %(participant)s"), participant=participant)
    return words(
        sentence,
        _("Follow-up due %(day)s", day=_day(detail["due_on"])) if detail.get("due_on") else None,
        _("Made during a visit") if detail.get("visit_id") else None,
    )


@describes("referral_status_changed", _l("Referral status changed"))
def _referral_status_changed(event, names):
    from ssp.referrals.models import ReferralStatus

    detail = _detail(event)
    ref = names.participant_of("referral", event.object_id)
    category = names.referral_category(event.object_id)
    old = _lower_first(_label(ReferralStatus, detail.get("from"), _("unknown")))
    new = _lower_first(_label(ReferralStatus, detail.get("to"), _("unknown")))
    if ref and category:
        sentence = fill(
            _("Changed the referral of %(participant)s for %(category)s from %(old)s to %(new)s"),
            participant=ref,
            category=_category(category),
            old=old,
            new=new,
        )
    elif ref:
        sentence = fill(
            _("Changed the referral of %(participant)s from %(old)s to %(new)s"),
            participant=ref,
            old=old,
            new=new,
        )
    elif category:
        sentence = say(
            _(
                "Changed the referral for %(category)s from %(old)s to %(new)s",
                category=_category(category),
                old=old,
                new=new,
            )
        )
    else:
        sentence = say(_("Changed the referral from %(old)s to %(new)s", old=old, new=new))
    return words(
        sentence,
        _("A correction by a manager (a step back)") if detail.get("correction") else None,
    )


def _follow_up_participant(event, names) -> ParticipantRef | None:
    return names.participant(_detail(event).get("participant_id")) or names.participant_of(
        "follow_up", event.object_id
    )


def _assignee(names, user_id: Any) -> str:
    return _("nobody in particular") if user_id is None else names.user(user_id)


@describes("follow_up_added", _l("Follow-up added"))
def _follow_up_added(event, names):
    detail = _detail(event)
    ref = _follow_up_participant(event, names)
    due = _day(detail["due_on"]) if detail.get("due_on") else None
    if ref and due:
        sentence = fill(
            _("Added a follow-up for %(participant)s, due %(day)s"), participant=ref, day=due
        )
    elif ref:
        sentence = fill(_("Added a follow-up for %(participant)s"), participant=ref)
    elif due:
        sentence = say(_("Added a follow-up, due %(day)s", day=due))
    else:
        sentence = say(_("Added a follow-up"))
    return words(
        sentence,
        _("Assigned to %(username)s", username=names.user(detail["assigned_user_id"]))
        if detail.get("assigned_user_id") is not None
        else None,
    )


@describes("follow_up_updated", _l("Follow-up changed"))
def _follow_up_updated(event, names):
    detail = _detail(event)
    before = detail.get("before") if isinstance(detail.get("before"), dict) else {}
    after = detail.get("after") if isinstance(detail.get("after"), dict) else {}
    lines = []
    if before.get("due_on") != after.get("due_on"):
        lines.append(_change(_("Due"), _day(before.get("due_on")), _day(after.get("due_on"))))
    if before.get("assigned_user_id") != after.get("assigned_user_id"):
        lines.append(
            _change(
                _("Assigned to"),
                _assignee(names, before.get("assigned_user_id")),
                _assignee(names, after.get("assigned_user_id")),
            )
        )
    return words(
        _with_participant(
            _follow_up_participant(event, names),
            _("Changed a follow-up for %(participant)s"),
            _("Changed a follow-up"),
        ),
        *lines,
    )


_OUTCOMES = {
    "linked": _l("they got in or were seen"),
    "waiting": _l("still waiting"),
    "declined": _l("they no longer want it"),
    "unreachable": _l("could not reach them"),
    "other": _l("another outcome"),
}


@describes("follow_up_outcome", _l("Follow-up outcome recorded"))
def _follow_up_outcome(event, names):
    detail = _detail(event)
    outcome = detail.get("outcome")
    ref = _follow_up_participant(event, names)
    said = str(_OUTCOMES.get(outcome, str(outcome))) if outcome else None
    if ref and said:
        sentence = fill(
            _("Followed up with %(participant)s: %(outcome)s"), participant=ref, outcome=said
        )
    elif ref:
        sentence = fill(_("Followed up with %(participant)s"), participant=ref)
    elif said:
        sentence = say(_("Followed up: %(outcome)s", outcome=said))
    else:
        sentence = say(_("Followed up"))
    return words(
        sentence,
        _("Asking again on %(day)s", day=_day(detail["due_on"]))
        if detail.get("status") == "open" and detail.get("due_on")
        else None,
        _("Closed when its referral ended") if detail.get("closed_with_referral") else None,
    )


@describes("follow_up_cancelled", _l("Follow-up cancelled"))
def _follow_up_cancelled(event, names):
    return words(
        _with_participant(
            _follow_up_participant(event, names),
            _("Cancelled a follow-up for %(participant)s"),
            _("Cancelled a follow-up"),
        ),
        _("Its visit was voided") if _detail(event).get("visit_voided") else None,
    )


@describes("follow_up_closed_automatically", _l("Follow-up closed automatically"))
def _follow_up_closed_automatically(event, names):
    detail = _detail(event)
    days = _int(detail.get("days_without_contact"))
    ref = _follow_up_participant(event, names)
    if days is None:
        sentence = _with_participant(
            ref,
            _("Closed a follow-up for %(participant)s as could not reach"),
            _("Closed a follow-up as could not reach"),
        )
    elif ref:
        sentence = fill(
            ngettext(
                "Closed a follow-up for %(participant)s as could not reach, after %(count)s "
                "day without contact",
                "Closed a follow-up for %(participant)s as could not reach, after %(count)s "
                "days without contact",
                days,
                count=format_number(days),
                participant=slot("participant"),
            ),
            participant=ref,
        )
    else:
        sentence = say(
            ngettext(
                "Closed a follow-up as could not reach, after %(count)s day without contact",
                "Closed a follow-up as could not reach, after %(count)s days without contact",
                days,
                count=format_number(days),
            )
        )
    close_after = _count(detail.get("close_after_days"))
    return words(
        sentence,
        _("Last seen %(day)s", day=_day(detail["last_seen_on"]))
        if detail.get("last_seen_on")
        else _("No visit on record"),
        ngettext(
            "Follow-ups close on their own after %(count)s day",
            "Follow-ups close on their own after %(count)s days",
            close_after,
            count=format_number(close_after),
        )
        if close_after
        else None,
    )


# Stock and the catalogue --------------------------------------------------------------


@describes("supply_item_created", _l("Catalogue item added"))
def _supply_item_created(event, names):
    from ssp.supplies.models import SupplyCategory

    detail = _detail(event)
    return words(
        _(
            "Added the catalogue item %(name)s",
            name=detail.get("name") or names.item(event.object_id),
        ),
        _("Category: %(category)s", category=_label(SupplyCategory, detail["category"]))
        if detail.get("category")
        else None,
    )


_ITEM_FIELDS = {
    "name": _l("Name"),
    "category": _l("Category"),
    "unit": _l("Unit"),
    "units_per_pack": _l("Units per pack"),
    "reorder_level": _l("Reorder level"),
    "max_per_visit": _l("Most per visit"),
    "doses_per_unit": _l("Doses per unit"),
}


@describes("supply_item_updated", _l("Catalogue item changed"))
def _supply_item_updated(event, names):
    from ssp.supplies.models import SupplyCategory

    detail = _detail(event)

    def shown(field: str, value: Any) -> str:
        if field == "category":
            return _label(SupplyCategory, value)
        if field == "max_per_visit" and value in (None, "None"):
            return _("the program's limit")
        return _("none") if value in (None, "None") else str(value)

    lines = [
        _change(label, *(shown(field, v) for v in _pairs(detail, field)))
        for field, label in _ITEM_FIELDS.items()
        if _pairs(detail, field)
    ]
    return words(_("Changed the catalogue item %(name)s", name=names.item(event.object_id)), *lines)


@describes("default_catalogue_loaded", _l("Default catalogue loaded"))
def _default_catalogue_loaded(event, names):
    count = _count(_detail(event).get("items"))
    return words(
        ngettext(
            "Loaded the default catalogue of %(count)s item",
            "Loaded the default catalogue of %(count)s items",
            count,
            count=format_number(count),
        )
        if count
        else _("Loaded the default catalogue")
    )


@describes("stock_received", _l("Stock received"))
def _stock_received(event, names):
    return words(
        _("Received stock at %(site)s", site=names.site(event.object_id)),
        *_quantities(names, _detail(event).get("units")),
    )


@describes("stock_transferred", _l("Stock moved between sites"))
def _stock_transferred(event, names):
    detail = _detail(event)
    return words(
        _(
            "Moved stock from %(source)s to %(target)s",
            source=names.site(event.object_id),
            target=names.site(detail.get("to_site_id")),
        ),
        *_quantities(names, detail.get("units")),
    )


@describes("stock_counted", _l("Stock counted"))
def _stock_counted(event, names):
    detail = _detail(event)
    counted = detail.get("items_counted")
    adjustments = _quantities(names, detail.get("adjustments"), signed=True)
    site = names.site(event.object_id)
    return words(
        _("Counted stock at %(site)s", site=site)
        if counted is None
        else ngettext(
            "Counted stock at %(site)s: %(count)s item",
            "Counted stock at %(site)s: %(count)s items",
            _count(counted),
            site=site,
            count=_num(counted),
        ),
        *(adjustments or [say(_("Everything matched the books"))]),
    )


# Reports ----------------------------------------------------------------------------------

_PROFILE_FIELDS = {
    "name": _l("short name"),
    "funder_name": _l("funder's name"),
    "grant_number": _l("grant or contract number"),
    "program_name": _l("program name"),
    "sections": _l("sections"),
    "threshold": _l("suppression threshold"),
    "fiscal_year_start": _l("first month of the fiscal year"),
    "contact": _l("contact line"),
}


@describes("funder_profiles_loaded", _l("Standard funder profiles loaded"))
def _funder_profiles_loaded(event, names):
    profiles = _detail(event).get("profiles")
    return words(
        _(
            "Loaded the standard funder profiles: %(profiles)s",
            profiles=", ".join(map(str, profiles)),
        )
        if isinstance(profiles, list)
        else _("Loaded the standard funder profiles")
    )


@describes("funder_profile_created", _l("Funder profile added"))
def _funder_profile_created(event, names):
    from ssp.reporting.funders import SECTIONS

    detail = _detail(event)
    sections = detail.get("sections")
    return words(
        _(
            "Added the funder profile %(name)s",
            name=detail.get("name") or names.profile(event.object_id),
        ),
        _(
            "Sections: %(sections)s",
            sections=", ".join(str(SECTIONS.get(s, str(s))) for s in sections),
        )
        if isinstance(sections, list) and sections
        else None,
        _("Suppression threshold: %(threshold)s", threshold=detail["threshold"])
        if detail.get("threshold")
        else None,
    )


@describes("funder_profile_updated", _l("Funder profile changed"))
def _funder_profile_updated(event, names):
    return words(
        _("Changed the funder profile %(name)s", name=names.profile(event.object_id)),
        _fields(_PROFILE_FIELDS, _detail(event).get("fields")),
    )


@describes("report_generated", _l("Report generated"))
def _report_generated(event, names):
    detail = _detail(event)
    return words(
        _(
            "Generated the report %(period)s for %(funder)s",
            period=detail.get("period", ""),
            funder=detail.get("funder", ""),
        ).replace("  ", " "),
        _("File: %(file)s", file=detail["file"]) if detail.get("file") else None,
        f"SHA-256: {detail['sha256']}" if detail.get("sha256") else None,
    )


@describes("report_downloaded", _l("Report downloaded"))
def _report_downloaded(event, names):
    report = names.report(event.object_id)
    if report is None:
        return words(
            _("Downloaded a report")
            if event.object_id is None
            else _("Downloaded report #%(id)s", id=event.object_id)
        )
    return words(
        _("Downloaded the report %(period)s for %(funder)s", period=report[0], funder=report[1])
    )


def _rows_phrase(count: Any) -> str:
    count = _count(count)
    return ngettext("%(count)s row", "%(count)s rows", count, count=format_number(count))


@describes("evaluation_export_made", _l("Data exported for evaluators"))
def _evaluation_export_made(event, names):
    detail = _detail(event)
    period, recipient = detail.get("period"), detail.get("recipient")
    if period and recipient:
        sentence = _(
            "Exported line-level data for evaluators for %(period)s to %(recipient)s",
            period=period,
            recipient=recipient,
        )
    elif period:
        sentence = _("Exported line-level data for evaluators for %(period)s", period=period)
    elif recipient:
        sentence = _(
            "Exported line-level data for evaluators to %(recipient)s", recipient=recipient
        )
    else:
        sentence = _("Exported line-level data for evaluators")
    shape = [
        str(detail[key]).replace("_", " ")
        for key in ("unit", "granularity", "location", "format")
        if detail.get(key)
    ]
    attributes = detail.get("attributes")
    people = _count(detail.get("people"))
    return words(
        sentence,
        _("Purpose: %(purpose)s", purpose=detail["purpose"]) if detail.get("purpose") else None,
        _(
            "%(rows)s, %(people)s",
            rows=_rows_phrase(detail.get("rows")),
            people=ngettext(
                "%(count)s person", "%(count)s people", people, count=format_number(people)
            ),
        )
        if "rows" in detail
        else None,
        _(
            "Smallest group %(k)s: %(coarsened)s coarsened, %(left_out)s left out",
            k=detail["k"],
            coarsened=_rows_phrase(detail.get("rows_coarsened")),
            left_out=_rows_phrase(detail.get("rows_left_out")),
        )
        if detail.get("k")
        else None,
        _("Options: %(options)s", options=", ".join(shape)) if shape else None,
        _(
            "Attributes: %(attributes)s",
            attributes=", ".join(str(a).replace("_", " ") for a in attributes),
        )
        if isinstance(attributes, list) and attributes
        else None,
        _("File: %(file)s", file=detail["file"]) if detail.get("file") else None,
        f"SHA-256: {detail['sha256']}" if detail.get("sha256") else None,
    )


@describes("report_narrative_saved", _l("Report narrative saved"))
def _report_narrative_saved(event, names):
    from ssp.reporting.narratives import PARTS

    detail = _detail(event)
    titles = dict(PARTS)
    parts = detail.get("parts")
    return words(
        _("Saved the narrative for %(period)s", period=detail["period"])
        if detail.get("period")
        else _("Saved the narrative"),
        _("Written: %(parts)s", parts=", ".join(str(titles.get(p, str(p))) for p in parts))
        if isinstance(parts, list) and parts
        else _("Every part left empty"),
    )


# Outreach: the phones' sealed contacts, zones and the review of held contacts -----------


@describes("sealing_key_created", _l("Outreach key made"))
def _sealing_key_created(event, names):
    return words(_("Made a new key for the outreach phones to seal contacts to"))


@describes("sealing_keys_retired", _l("Outreach keys retired"))
def _sealing_keys_retired(event, names):
    keys = _count(_detail(event).get("keys"))
    return words(
        ngettext(
            "Retired %(count)s older outreach key",
            "Retired %(count)s older outreach keys",
            keys,
            count=format_number(keys),
        )
        if keys
        else _("Retired older outreach keys"),
        _("Contacts sealed to them are refused from now on"),
    )


@describes("outreach_contact_refused", _l("Outreach contact refused"))
def _outreach_contact_refused(event, names):
    reason = _detail(event).get("reason")
    return words(
        _("Refused an outreach contact that could not be opened"),
        _("Why: %(reason)s", reason=reason) if reason else None,
    )


@describes("outreach_contact_held", _l("Outreach contact held for review"))
def _outreach_contact_held(event, names):
    return words(_("Held an outreach contact for a manager's review: the visit rules refused it"))


@describes("held_contacts_shown", _l("Held outreach contacts shown"))
def _held_contacts_shown(event, names):
    shown = _detail(event).get("held_contact_ids")
    count = len(shown) if isinstance(shown, list) else 0
    return words(
        ngettext(
            "Viewed %(count)s held outreach contact with their codes on the review list",
            "Viewed %(count)s held outreach contacts with their codes on the review list",
            count,
            count=format_number(count),
        )
    )


@describes("held_contact_discarded", _l("Held outreach contact discarded"))
def _held_contact_discarded(event, names):
    return words(_("Discarded a held outreach contact: it will not be recorded"))


@describes("held_contact_saved", _l("Held outreach contact saved"))
def _held_contact_saved(event, names):
    visit = _detail(event).get("visit_id")
    return words(
        _("Saved a held outreach contact as a visit (visit #%(id)s)", id=visit)
        if visit
        else _("Saved a held outreach contact as a visit")
    )


@describes("field_enrolment_reviewed", _l("Field enrolment reviewed"))
def _field_enrolment_reviewed(event, names):
    return words(
        fill(
            _("Reviewed the field enrolment of %(participant)s"),
            participant=names.participant(event.object_id),
        )
    )


@describes("zone_created", _l("Outreach zone added"))
def _zone_created(event, names):
    return words(
        _(
            "Added the outreach zone %(name)s",
            name=_detail(event).get("name") or names.zone(event.object_id),
        )
    )


# The audit trail itself ------------------------------------------------------------------


@describes("audit_exported", _l("Audit trail downloaded"))
def _audit_exported(event, names):
    detail = _detail(event)
    only = []
    if detail.get("user"):
        only.append(_("by %(username)s", username=names.user(detail["user"])))
    if detail.get("action"):
        only.append(_("of the kind “%(kind)s”", kind=label_of(str(detail["action"]))))
    if detail.get("object_type"):
        only.append(
            _("about %(what)s", what=_lower_first(object_type_words(str(detail["object_type"]))))
        )
    if detail.get("object_id"):
        only.append(_("about object number %(number)s", number=detail["object_id"]))
    if detail.get("start"):
        only.append(_("from %(day)s", day=_day(detail["start"])))
    if detail.get("end"):
        only.append(_("to %(day)s", day=_day(detail["end"])))
    return words(
        _("Downloaded the audit trail as a spreadsheet (CSV)")
        if only
        else _("Downloaded the whole audit trail as a spreadsheet (CSV)"),
        _("Only events %(conditions)s", conditions=", ".join(only)) if only else None,
    )


# Deactivating and reactivating: ``record_active(obj, active, kind)`` ---------------------

#: Each kind ``record_active()`` is called with (and outreach zones, which write the same
#: names themselves): how to find its name, then the labels and sentences of its
#: deactivation and reactivation.
_ACTIVE_KINDS: dict[str, tuple[Callable[[Names, Any], str], Any, Any, Any, Any]] = {
    "user": (
        Names.user,
        _l("Account deactivated"),
        _l("Account reactivated"),
        _l("Deactivated the account %(name)s"),
        _l("Reactivated the account %(name)s"),
    ),
    "site": (
        Names.site,
        _l("Site deactivated"),
        _l("Site reactivated"),
        _l("Deactivated the site %(name)s"),
        _l("Reactivated the site %(name)s"),
    ),
    "partner": (
        Names.partner,
        _l("Partner deactivated"),
        _l("Partner reactivated"),
        _l("Deactivated the partner %(name)s"),
        _l("Reactivated the partner %(name)s"),
    ),
    "supply_item": (
        Names.item,
        _l("Catalogue item deactivated"),
        _l("Catalogue item reactivated"),
        _l("Deactivated the catalogue item %(name)s"),
        _l("Reactivated the catalogue item %(name)s"),
    ),
    "funder_profile": (
        Names.profile,
        _l("Funder profile deactivated"),
        _l("Funder profile reactivated"),
        _l("Deactivated the funder profile %(name)s"),
        _l("Reactivated the funder profile %(name)s"),
    ),
    "zone": (
        Names.zone,
        _l("Outreach zone deactivated"),
        _l("Outreach zone reactivated"),
        _l("Deactivated the outreach zone %(name)s"),
        _l("Reactivated the outreach zone %(name)s"),
    ),
}


def _activity_describer(name_of: Callable[[Names, Any], str], sentence: Any) -> Describer:
    def describe(event, names):
        return words(str(sentence) % {"name": name_of(names, event.object_id)})

    return describe


for _kind, (_name_of, _off, _on, _off_sentence, _on_sentence) in _ACTIVE_KINDS.items():
    describes(f"{_kind}_deactivated", _off)(_activity_describer(_name_of, _off_sentence))
    describes(f"{_kind}_reactivated", _on)(_activity_describer(_name_of, _on_sentence))


# --- reading an event --------------------------------------------------------------------


def _humane(name: str) -> str:
    return _upper_first(name.replace("_", " ").strip()) or _("Something")


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
    return str(ACTIONS[action].label) if action in ACTIONS else _humane(action)


# Imports ---------------------------------------------------------------------------------


def _participants_phrase(count: Any) -> str:
    count = _count(count)
    return ngettext(
        "%(count)s participant", "%(count)s participants", count, count=format_number(count)
    )


@describes("import_completed", _l("Spreadsheet imported"))
def _import_completed(event, names):
    detail = _detail(event)
    visits = _count(detail.get("visits"))
    refused = _count(detail.get("rows_left_out"))
    referrals = _count(detail.get("referrals"))
    near = _count(detail.get("near_duplicates_confirmed"))
    return words(
        ngettext(
            "Imported %(count)s visit from a spreadsheet on the import page",
            "Imported %(count)s visits from a spreadsheet on the import page",
            visits,
            count=format_number(visits),
        )
        if detail.get("source") == "page"
        else ngettext(
            "Imported %(count)s visit from a spreadsheet from the command line",
            "Imported %(count)s visits from a spreadsheet from the command line",
            visits,
            count=format_number(visits),
        ),
        _(
            "%(imported)s of %(read)s imported; %(already)s already imported before, "
            "%(refused)s left out",
            imported=_rows_phrase(detail.get("rows_imported")),
            read=_num(detail.get("rows_read", 0)),
            already=_rows_phrase(detail.get("rows_already_imported")),
            refused=ngettext(
                "%(count)s refused row",
                "%(count)s refused rows",
                refused,
                count=format_number(refused),
            ),
        ),
        _(
            "%(participants)s enrolled, %(referrals)s",
            participants=_participants_phrase(detail.get("participants_created")),
            referrals=ngettext(
                "%(count)s referral",
                "%(count)s referrals",
                referrals,
                count=format_number(referrals),
            ),
        ),
        _("Stock taken from the shelves") if detail.get("moved_stock") else _("Stock not moved"),
        ngettext(
            "%(count)s near-duplicate code confirmed as different people",
            "%(count)s near-duplicate codes confirmed as different people",
            near,
            count=format_number(near),
        )
        if near
        else None,
        _("SHA-256 of the file: %(hash)s", hash=detail["sha256"]) if detail.get("sha256") else None,
    )


@describes("import_undone", _l("Import undone"))
def _import_undone(event, names):
    detail = _detail(event)
    kept = _count(detail.get("participants_kept"))
    visits = _count(detail.get("visits"))
    removed = _count(detail.get("participants_removed"))
    return words(
        ngettext(
            "Undid an import: removed %(count)s visit",
            "Undid an import: removed %(count)s visits",
            visits,
            count=format_number(visits),
        )
        if event.object_id is None
        else ngettext(
            "Undid import #%(id)s: removed %(count)s visit",
            "Undid import #%(id)s: removed %(count)s visits",
            visits,
            id=event.object_id,
            count=format_number(visits),
        ),
        _(
            "%(removed)s removed, %(kept)s kept (seen since)",
            removed=_participants_phrase(removed),
            kept=_participants_phrase(kept),
        )
        if kept
        else ngettext(
            "%(count)s participant removed",
            "%(count)s participants removed",
            removed,
            count=format_number(removed),
        ),
        _referrals_removed(_count(detail.get("referrals"))),
    )


@describes("import_mapping_saved", _l("Import mapping saved"))
def _import_mapping_saved(event, names):
    detail = _detail(event)
    columns = _count(detail.get("columns"))
    columns_phrase = ngettext(
        "%(count)s column", "%(count)s columns", columns, count=format_number(columns)
    )
    return words(
        _("Saved the import mapping “%(name)s”", name=detail.get("name", "")),
        _("%(columns)s, a daily tally", columns=columns_phrase)
        if detail.get("shape") == "tally"
        else _("%(columns)s, a row per visit", columns=columns_phrase),
    )


# Drug checking ---------------------------------------------------------------------------


@describes("drug_check_recorded", _l("Drug-checking result recorded"))
def _drug_check_recorded(event, names):
    detail = _detail(event)
    sold_as = str(detail.get("sold_as") or "").lower()
    tests = _count(detail.get("tests"))
    positive = _count(detail.get("positive"))
    return words(
        _("Recorded a drug-checking result: sold as %(sold_as)s", sold_as=sold_as)
        if sold_as
        else _("Recorded a drug-checking result"),
        _(
            "%(tests)s, %(positive)s",
            tests=ngettext("%(count)s test", "%(count)s tests", tests, count=format_number(tests)),
            positive=ngettext(
                "%(count)s positive",
                "%(count)s positives",
                positive,
                count=format_number(positive),
            ),
        ),
    )


@describes("drug_check_voided", _l("Drug-checking result taken out"))
def _drug_check_voided(event, names):
    return words(
        _("Took a drug-checking result out of every count (result #%(id)s)", id=event.object_id)
        if event.object_id is not None
        else _("Took a drug-checking result out of every count")
    )


@describes("drug_check_lists_loaded", _l("Drug-checking lists loaded"))
def _drug_check_lists_loaded(event, names):
    added = _count(_detail(event).get("added"))
    return words(
        ngettext(
            "Loaded the usual drug-checking lists (%(count)s entry)",
            "Loaded the usual drug-checking lists (%(count)s entries)",
            added,
            count=format_number(added),
        )
    )


@describes("drug_check_sold_as_added", _l("Drug-checking list: sold as added"))
def _drug_check_sold_as_added(event, names):
    return words(
        _("Added “%(name)s” to what samples are sold as", name=_detail(event).get("name", ""))
    )


@describes("drug_check_test_added", _l("Drug-checking test added"))
def _drug_check_test_added(event, names):
    detail = _detail(event)
    return words(
        _("Added the test “%(name)s”", name=detail.get("name", "")),
        _("A positive finds %(finds)s", finds=detail["finds"]) if detail.get("finds") else None,
    )


@describes("drug_check_list_changed", _l("Drug-checking list changed"))
def _drug_check_list_changed(event, names):
    detail = _detail(event)
    name = detail.get("name")
    if detail.get("active"):
        sentence = (
            _("Brought back “%(name)s” on the drug-checking lists", name=name)
            if name
            else _("Brought back an entry on the drug-checking lists")
        )
    else:
        sentence = (
            _("Retired “%(name)s” on the drug-checking lists", name=name)
            if name
            else _("Retired an entry on the drug-checking lists")
        )
    return words(sentence)


# Drug alerts --------------------------------------------------------------------------------


def _drug_alert(event) -> str:
    if event.object_id is None:
        return _("a drug alert")
    return _("drug alert #%(id)s", id=event.object_id)


@describes("drug_alert_drafted", _l("Drug alert drafted"))
def _drug_alert_drafted(event, names):
    detail = _detail(event)
    advice = detail.get("advice")
    return words(
        _(
            "Drafted %(alert)s: %(found)s found in %(sold_as)s, %(area)s",
            alert=_drug_alert(event),
            found=detail["found"],
            sold_as=detail["sold_as"],
            area=detail.get("area", ""),
        )
        if detail.get("found") and detail.get("sold_as")
        else _("Drafted %(alert)s", alert=_drug_alert(event)),
        _(
            "Since %(since)s, runs until %(until)s",
            since=_day(detail["since"]),
            until=_day(detail["expires_on"]),
        )
        if detail.get("since") and detail.get("expires_on")
        else None,
        _("From a drug-checking signal") if detail.get("from_signal") else None,
        ngettext(
            "%(count)s piece of advice",
            "%(count)s pieces of advice",
            len(advice),
            count=format_number(len(advice)),
        )
        if isinstance(advice, list)
        else None,
    )


@describes("drug_alert_edited", _l("Drug alert draft changed"))
def _drug_alert_edited(event, names):
    changed = _detail(event).get("changed")
    labels = {
        "found": _("what was found"),
        "sold_as": _("what it was found in"),
        "area": _("where"),
        "since": _("since when"),
        "expires_on": _("its last day"),
        "advice": _("the advice"),
    }
    return words(
        _("Changed the draft of %(alert)s", alert=_drug_alert(event)),
        _(
            "Changed: %(fields)s",
            fields=", ".join(labels.get(str(name), str(name)) for name in changed),
        )
        if isinstance(changed, list) and changed
        else None,
    )


@describes("drug_alert_approved", _l("Drug alert approved"))
def _drug_alert_approved(event, names):
    detail = _detail(event)
    return words(
        _(
            "Approved %(alert)s, drafted by %(username)s",
            alert=_drug_alert(event),
            username=names.user(detail["drafted_by"]),
        )
        if detail.get("drafted_by")
        else _("Approved %(alert)s", alert=_drug_alert(event)),
        _("Shown and printed until %(day)s", day=_day(detail["expires_on"]))
        if detail.get("expires_on")
        else None,
    )


@describes("drug_alert_withdrawn", _l("Drug alert withdrawn"))
def _drug_alert_withdrawn(event, names):
    if _detail(event).get("was") == "draft":
        return words(_("Withdrew the draft of %(alert)s", alert=_drug_alert(event)))
    return words(_("Withdrew %(alert)s", alert=_drug_alert(event)))


@describes("drug_alert_printed", _l("Drug alert flyer downloaded"))
def _drug_alert_printed(event, names):
    return words(_("Downloaded the flyer of %(alert)s (PDF)", alert=_drug_alert(event)))


#: Object types on the trail, in words.
OBJECT_TYPES = {
    "user": _l("Account"),
    "site": _l("Site"),
    "participant": _l("Participant"),
    "visit": _l("Visit"),
    "partner": _l("Partner"),
    "referral": _l("Referral"),
    "follow_up": _l("Follow-up"),
    "supply_item": _l("Catalogue item"),
    "report": _l("Report"),
    "report_narrative": _l("Report narrative"),
    "funder_profile": _l("Funder profile"),
    "audit_events": _l("Audit trail"),
    "page": _l("Page"),
    "zone": _l("Outreach zone"),
    "sealing_key": _l("Outreach key"),
    "held_contact": _l("Held outreach contact"),
    "outreach": _l("Outreach"),
    "import_batch": lazy_pgettext("a batch imported", "Import"),
    "import_mapping": _l("Import mapping"),
    "drug_alert": _l("Drug alert"),
    "drug_check": _l("Drug-checking result"),
    "drug_check_list": _l("Drug-checking list"),
}


def object_type_words(object_type: str) -> str:
    """An object type as people call it."""
    found = OBJECT_TYPES.get(object_type)
    return str(found) if found else _humane(object_type)


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
    "fill",
    "label_of",
    "object_type_words",
    "object_words",
]
