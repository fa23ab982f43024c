"""Community alerts: drafted by a manager (by hand or from a signal), approved by a
second one, then shown in the desk's header, printed as a flyer and sent as a short text
until they expire; or withdrawn.

The review rule: whoever drafted an alert, or changed its draft, cannot approve it.

Every word an alert prints (the flyer, the text message, the desk's banner) that is not
the program's own (its name, its advice, ``ALERT_ADVICE``) or the alert's (what was found,
in what, where) goes through gettext: the language spoken when it is made (the flyer's is
chosen on its print form), dates written that language's way.

Everything here is flushed, never committed: the view commits once.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Date, Select, bindparam, select, update

from ssp.audit import AuditEvent, record
from ssp.drugchecking import trends
from ssp.drugchecking.models import Alert, AlertStatus, DrugCheck, Finding, Outcome
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import (
    _,
    _l,
    current_language,
    force_locale,
    format_day,
    format_moment,
    program_name,
)
from ssp.security import Role
from ssp.staff.models import Site, User
from ssp.textinput import has_refused_characters
from ssp.timeutil import day_start, local_time, program_today, utcnow

FOUND_MAX, SOLD_AS_MAX, AREA_MAX = 60, 60, 120  # the columns' widths
#: How long an alert may run at most, from the day it is drafted.
MAX_DAYS = 90
#: A text message for the program's messaging groups. As SMS, 320 characters are 3
#: concatenated segments in GSM-7 (153 characters each) or 5 in UCS-2 (67 each), which is
#: what any character outside GSM-7 (a dash, a curly quote) turns the whole message into.
TEXT_MAX = 320
#: The advice ticked on a new alert, and added when what was found is xylazine (only the
#: keys the program keeps in ``ALERT_ADVICE`` are used).
DEFAULT_ADVICE = ("use_with_someone", "start_low", "carry_naloxone", "test_first")
XYLAZINE_ADVICE = ("xylazine_wounds", "xylazine_breathing")


class AlertError(RuleError):
    """An alert the rules do not allow; ``field`` names the form field concerned."""


class AlertNamesSomeone(AlertError):
    """Boxes of the alert hold a participant's code: ``fields`` names every one of them
    (the form must show none of them back); ``field`` is the first."""

    def __init__(self, message: str, fields: Sequence[str]) -> None:
        super().__init__(message, fields[0])
        self.fields = tuple(fields)


class AlertChanged(AlertError):
    """The draft changed (or was approved or withdrawn) since the page was read."""


# --- words ---------------------------------------------------------------------------------


def all_areas() -> str:
    """What an alert says for "where" when it is everywhere: all areas."""
    return _("all areas")


def day_month(day: dt.date) -> str:
    """The day and month: Dec 1 (1 dic)."""
    return format_moment(day, "day_month")


def full_date(day: dt.date) -> str:
    """The date in full: December 1, 2026 (1 de diciembre de 2026)."""
    return format_day(day, "long")


def short_date(day: dt.date) -> str:
    """The date, short: Dec 1, 2026 (1 dic 2026)."""
    return format_day(day, "medium")


def in_sentence(name: str) -> str:
    """A list name as it reads inside a sentence: "Fentanyl" becomes "fentanyl", but an
    abbreviation ("MDMA", "LSD") keeps its capitals."""
    if len(name) > 1 and name[1].isupper():
        return name
    return name[:1].lower() + name[1:]


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _found_in(alert: Alert) -> str:
    """What was found in what, as it reads inside a sentence: xylazine found in fentanyl."""
    return _(
        "%(found)s found in %(sold_as)s",
        found=in_sentence(alert.found),
        sold_as=in_sentence(alert.sold_as),
    )


def headline(alert: Alert) -> str:
    """What was found in what: Xylazine found in fentanyl."""
    return _capitalised(_found_in(alert))


def banner_text(alert: Alert) -> str:
    """The header's words: Xylazine found in fentanyl — all areas, since Dec 1."""
    return _(
        "%(found_in)s — %(area)s, since %(since)s",
        found_in=headline(alert),
        area=alert.area,
        since=day_month(alert.since),
    )


def advice_texts(keys: Iterable[str]) -> list[str]:
    """The program's advice for these keys, in order (a key it no longer keeps is left
    out)."""
    advice = current_app.config["ALERT_ADVICE"]
    return [advice_text(advice[key]) for key in keys if key in advice]


def advice_text(text: str) -> str:
    """One piece of advice as printed: the standard texts (ALERT_ADVICE's defaults) in
    the reader's language; a program's own as written."""
    from ssp.config import Defaults

    return _(text) if text in Defaults.ALERT_ADVICE.values() else text


def issued_on(alert: Alert, today: dt.date | None = None) -> dt.date:
    """The alert's date: the day it was approved (today, for a draft)."""
    if alert.approved_at is not None:
        return local_time(alert.approved_at).date()
    return today or program_today()


@dataclass(frozen=True)
class ShortText:
    """The message for the messaging groups, and the advice lines it had no room for."""

    text: str
    left_out: int


def short_text(alert: Alert, today: dt.date | None = None) -> ShortText:
    """The message: who, when, what, where, since, as much advice as fits in
    ``TEXT_MAX`` characters (in order), and the public page when configured."""
    config = current_app.config
    date = short_date(issued_on(alert, today))
    body = _(
        "%(found_in)s, %(area)s, since %(since)s.",
        found_in=_found_in(alert),
        area=alert.area,
        since=day_month(alert.since),
    )
    text = _(
        "Drug alert from %(program)s, %(date)s: %(alert)s",
        program=program_name(),
        date=date,
        alert=body,
    )
    if len(text) > TEXT_MAX:  # a long program name gives way
        text = _("Drug alert, %(date)s: %(alert)s", date=date, alert=body)
    url = (config.get("ALERT_PUBLIC_URL") or "").strip()
    more = " " + _("More: %(url)s", url=url) if url else ""
    if len(text) + len(more) > TEXT_MAX:
        more = ""
    advice = advice_texts(alert.advice)
    left_out = 0
    for line in advice:
        if len(text) + 1 + len(line) + len(more) <= TEXT_MAX:
            text += " " + line
        else:
            left_out += 1
    return ShortText(text + more, left_out)


def alert_text(alert: Alert, today: dt.date | None = None) -> str:
    """The short message for the program's messaging groups (at most ``TEXT_MAX``
    characters, plain text)."""
    return short_text(alert, today).text


# --- drafting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftValues:
    """What a new alert's form starts with."""

    found: str = ""
    sold_as: str = ""
    area: str = ""
    since: dt.date | None = None
    expires_on: dt.date | None = None
    advice: tuple[str, ...] = ()
    test_id: int | None = None
    signal: dict[str, Any] | None = None


def _known_advice(keys: Iterable[str]) -> tuple[str, ...]:
    wanted = set(keys)
    return tuple(key for key in current_app.config["ALERT_ADVICE"] if key in wanted)


def default_advice(found: str = "") -> tuple[str, ...]:
    """The advice a new alert starts with; xylazine's own when that is what was found."""
    keys = list(DEFAULT_ADVICE)
    found = found.lower()
    if "xylazine" in found or _("Xylazine").lower() in found:
        keys += XYLAZINE_ADVICE
    return _known_advice(keys)


def blank_values(today: dt.date | None = None) -> DraftValues:
    """A new alert by hand: all areas, since today, for ``ALERT_DAYS``, the usual advice."""
    today = today or program_today()
    return DraftValues(
        area=all_areas(),
        since=today,
        expires_on=today + dt.timedelta(days=current_app.config["ALERT_DAYS"]),
        advice=default_advice(),
    )


def signal_key(signal: trends.Signal) -> str:
    """How a signal is named in an address: ``<sold_as_id>-<test_id>``."""
    return f"{signal.sold_as_id}-{signal.test_id}"


def find_signal(key: str | None, today: dt.date | None = None) -> trends.Signal | None:
    """The current signal a key names, or None (a malformed key, or no longer a signal)."""
    from ssp.forms import parse_id

    sold_as_id, _dash, test_id = (key or "").partition("-")
    sold_as_id, test_id = parse_id(sold_as_id), parse_id(test_id)
    if sold_as_id is None or test_id is None:
        return None
    return next(
        (
            signal
            for signal in trends.signals(today)
            if (signal.sold_as_id, signal.test_id) == (sold_as_id, test_id)
        ),
        None,
    )


def signal_record(signal: trends.Signal) -> dict[str, Any]:
    """The figures behind a signal, as kept with the alert drafted from it."""
    return {
        "sold_as_id": signal.sold_as_id,
        "test_id": signal.test_id,
        "positive": signal.positive,
        "tested": signal.tested,
        "positive_before": signal.positive_before,
        "tested_before": signal.tested_before,
        "first": signal.first.isoformat(),
        "last": signal.last.isoformat(),
        "sentence": signal.sentence,
    }


def recorded_sentence(recorded: dict[str, Any] | None) -> str | None:
    """The signal an alert was drafted from, in words, in the language spoken now: made
    again from its figures (as it was recorded when they cannot be read back)."""
    from ssp.drugchecking.models import CheckTest, SoldAs

    if not recorded:
        return None
    try:
        sold_as = db.session.get(SoldAs, int(recorded["sold_as_id"]))
        test = db.session.get(CheckTest, int(recorded["test_id"]))
        first = dt.date.fromisoformat(recorded["first"])
        last = dt.date.fromisoformat(recorded["last"])
        figures = {
            key: int(recorded[key])
            for key in ("positive", "tested", "positive_before", "tested_before")
        }
    except (KeyError, TypeError, ValueError):
        sold_as = test = None
    if sold_as is None or test is None:
        sentence = recorded.get("sentence")
        return sentence if isinstance(sentence, str) else None
    return trends.signal_sentence(
        finds=test.finds, sold_as=sold_as.name, days=(last - first).days + 1, **figures
    )


def _signal_area(signal: trends.Signal) -> str:
    """The one zone or site every positive sample of the signal came from, or "all
    areas" (a wider alert is the safer one when they came from several)."""
    from ssp.outreach.models import Zone

    places = db.session.execute(
        select(DrugCheck.zone_id, DrugCheck.site_id)
        .join(Finding, Finding.check_id == DrugCheck.id)
        .where(
            DrugCheck.sold_as_id == signal.sold_as_id,
            Finding.test_id == signal.test_id,
            Finding.outcome == Outcome.POSITIVE,
            DrugCheck.voided_at.is_(None),
            DrugCheck.checked_at >= day_start(signal.first),
            DrugCheck.checked_at < day_start(signal.last + dt.timedelta(days=1)),
        )
        .distinct()
    ).all()
    where = {("zone", zone_id) if zone_id else ("site", site_id) for zone_id, site_id in places}
    if len(where) != 1:
        return all_areas()
    kind, place_id = where.pop()
    place = db.session.get(Zone if kind == "zone" else Site, place_id)
    return place.name[:AREA_MAX] if place is not None else all_areas()


def signal_values(signal: trends.Signal, today: dt.date | None = None) -> DraftValues:
    """A new alert from a signal: what it found in what, where its positives came from,
    since the first day of its window, for ``ALERT_DAYS``, with the usual advice."""
    today = today or program_today()
    return DraftValues(
        found=signal.finds[:FOUND_MAX],
        sold_as=signal.sold_as[:SOLD_AS_MAX],
        area=_signal_area(signal),
        since=min(signal.first, today),
        expires_on=today + dt.timedelta(days=current_app.config["ALERT_DAYS"]),
        advice=default_advice(signal.finds),
        test_id=signal.test_id,
        signal=signal_record(signal),
    )


#: Each box's refusals: empty, too long, a control character, an invisible character.
_BOX_MESSAGES = {
    "found": (
        _l("Enter what was found."),
        _l("Use at most %(most)d characters for what was found."),
        _l(
            "Remove the control character (an invisible character such as NUL or a pasted "
            "line break) from what was found."
        ),
        _l(
            "Remove the invisible character (a zero-width space or joiner, a direction mark) "
            "from what was found: the alert is printed and sent as it is typed."
        ),
    ),
    "sold_as": (
        _l("Enter what it was found in."),
        _l("Use at most %(most)d characters for what it was found in."),
        _l(
            "Remove the control character (an invisible character such as NUL or a pasted "
            "line break) from what it was found in."
        ),
        _l(
            "Remove the invisible character (a zero-width space or joiner, a direction mark) "
            "from what it was found in: the alert is printed and sent as it is typed."
        ),
    ),
    "area": (
        _l("Enter where: a zone or site, or “all areas”."),
        _l("Use at most %(most)d characters for where (a zone or site, or “all areas”)."),
        _l(
            "Remove the control character (an invisible character such as NUL or a pasted "
            "line break) from where (a zone or site, or “all areas”)."
        ),
        _l(
            "Remove the invisible character (a zero-width space or joiner, a direction mark) "
            "from where (a zone or site, or “all areas”): the alert is printed and sent as "
            "it is typed."
        ),
    ),
}


def _clean(text: str | None, field: str, most: int) -> str:
    empty, too_long, control, invisible = _BOX_MESSAGES[field]
    text = text or ""
    if has_refused_characters(text):
        raise AlertError(str(control), field)
    if any(unicodedata.category(char) == "Cf" for char in text):
        raise AlertError(str(invisible), field)
    text = " ".join(text.split())
    if not text:
        raise AlertError(str(empty), field)
    if len(text) > most:
        raise AlertError(too_long % {"most": most}, field)
    return text


def _words(text: str) -> list[str]:
    """The runs of letters and digits a code could be written in: compatibility forms
    folded (full-width "ＣＡＮ" is "CAN"), and anything else, a space, a dash, a dot, a
    zero-width or other format character, a control character, taken as a separator."""
    return re.findall(r"[0-9A-Za-z]+", unicodedata.normalize("NFKC", text))


def _code_candidates(values: dict[str, str]) -> dict[str, set[str]]:
    """Every run of adjacent words, across the boxes in the order the alert reads them,
    joined as a code is normalised ("CANA RY99 camp", "C A N A R Y 9 9" and
    "CANARY\u200b99" all give CANARY99), with the boxes each came from."""
    from ssp.participants.codes import MAX_LENGTH, MIN_LENGTH

    words = [(field, word.upper()) for field, text in values.items() for word in _words(text)]
    found: dict[str, set[str]] = {}
    for start in range(len(words)):
        joined, fields = "", set()
        for field, word in words[start:]:
            joined += word
            fields.add(field)
            if len(joined) > MAX_LENGTH:
                break
            if len(joined) >= MIN_LENGTH:
                found.setdefault(joined, set()).update(fields)
    return found


def _codes_in_use(candidates: Iterable[str]) -> set[str]:
    """Those of ``candidates`` that are someone's code or alias."""
    from ssp.participants.models import Participant, ParticipantAlias

    candidates = sorted(candidates)
    hits: set[str] = set()
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        hits.update(db.session.scalars(select(Participant.code).where(Participant.code.in_(chunk))))
        hits.update(
            db.session.scalars(
                select(ParticipantAlias.code).where(ParticipantAlias.code.in_(chunk))
            )
        )
    return hits


NAMES_SOMEONE = _l(
    "That looks like a participant's code. An alert never names anyone: "
    "say what was found, in what and where."
)


def boxes_naming_codes(values: dict[str, str | None]) -> list[str]:
    """The boxes (in order) that hold a participant's code, however it is spaced,
    dashed, cased or split by invisible characters, alone or with the next box."""
    candidates = _code_candidates(
        {field: text if isinstance(text, str) else "" for field, text in values.items()}
    )
    hits = _codes_in_use(candidates)
    named = set().union(*(candidates[code] for code in hits))
    return [field for field in values if field in named]


def _refuse_codes(values: dict[str, str | None]) -> None:
    """No box of an alert may hold a participant's code: an alert never names anyone.
    ``AlertNamesSomeone`` names every box a code was found in."""
    named = boxes_naming_codes(values)
    if named:
        raise AlertNamesSomeone(str(NAMES_SOMEONE), named)


@dataclass(frozen=True)
class _Checked:
    found: str
    sold_as: str
    area: str
    since: dt.date
    expires_on: dt.date
    advice: list[str]


def _checked(
    found: str | None,
    sold_as: str | None,
    area: str | None,
    since: dt.date | None,
    expires_on: dt.date | None,
    advice: Sequence[str] | None,
    today: dt.date,
) -> _Checked:
    # Codes first, on the text as typed: any other refusal shows the boxes back.
    _refuse_codes({"found": found, "sold_as": sold_as, "area": area})
    found = _clean(found, "found", FOUND_MAX)
    sold_as = _clean(sold_as, "sold_as", SOLD_AS_MAX)
    area = _clean(area, "area", AREA_MAX)
    if not isinstance(since, dt.date) or isinstance(since, dt.datetime):
        raise AlertError(_("Enter the day it was first found."), "since")
    if since > today:
        raise AlertError(_("The day it was first found cannot be in the future."), "since")
    if not isinstance(expires_on, dt.date) or isinstance(expires_on, dt.datetime):
        raise AlertError(_("Enter the last day the alert runs."), "expires_on")
    if expires_on <= since:
        raise AlertError(
            _("The alert must run until after the day it was first found."), "expires_on"
        )
    if expires_on < today:
        raise AlertError(_("The last day the alert runs has already passed."), "expires_on")
    if expires_on > today + dt.timedelta(days=MAX_DAYS):
        raise AlertError(
            _(
                "An alert runs at most %(days)d days; draft a new one if it is still needed.",
                days=MAX_DAYS,
            ),
            "expires_on",
        )
    keys = list(advice or [])
    known = current_app.config["ALERT_ADVICE"]
    if any(not isinstance(key, str) or key not in known for key in keys):
        raise AlertError(_("Choose advice from the program's list."), "advice")
    ordered = list(_known_advice(keys))
    if not ordered:
        raise AlertError(_("Choose at least one piece of advice."), "advice")
    return _Checked(found, sold_as, area, since, expires_on, ordered)


def _values_detail(alert: Alert) -> dict[str, Any]:
    return {
        "found": alert.found,
        "sold_as": alert.sold_as,
        "area": alert.area,
        "since": alert.since.isoformat(),
        "expires_on": alert.expires_on.isoformat(),
        "advice": list(alert.advice),
    }


def draft_version(alert: Alert) -> str:
    """A fingerprint of everything the alert says: the approve form carries the one the
    approver read, and an approval of anything else is refused."""
    words = json.dumps({"id": alert.id, **_values_detail(alert)}, sort_keys=True)
    return hashlib.sha256(words.encode()).hexdigest()[:32]


def _is_withdrawn(alert: Alert) -> bool:
    return alert.status == AlertStatus.WITHDRAWN or alert.withdrawn_at is not None


def _reread(alert: Alert) -> Alert:
    """The alert as the database has it now (whatever was loaded before is replaced),
    its row locked until the transaction ends: ``FOR UPDATE`` on PostgreSQL; SQLite
    ignores it, and needs nothing more, because a write transaction there begins with
    ``BEGIN IMMEDIATE`` and so holds the whole database. Two managers acting on the
    same alert at once thus take turns, and the second sees what the first did."""
    fresh = db.session.execute(
        select(Alert)
        .where(Alert.id == alert.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if fresh is None:
        raise AlertChanged(_("This alert is no longer here."))
    return fresh


def _set_if(alert: Alert, condition, **values: Any) -> None:
    """Write ``values`` only while ``condition`` still holds in the database (a second
    guard beside the lock), or ``AlertChanged``."""
    result = db.session.execute(
        update(Alert)
        .where(Alert.id == alert.id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise AlertChanged(_("Someone else changed this alert at the same time: read it again."))
    db.session.refresh(alert)


_MANAGERS_ONLY = {
    "draft": _l("Only a program manager or an administrator can draft an alert."),
    "change": _l("Only a program manager or an administrator can change an alert."),
    "approve": _l("Only a program manager or an administrator can approve an alert."),
    "withdraw": _l("Only a program manager or an administrator can withdraw an alert."),
}


def _require_manager(user: User, doing: str) -> None:
    if user.role not in (Role.MANAGER, Role.ADMIN):
        raise AlertError(str(_MANAGERS_ONLY[doing]))


def draft_alert(
    user: User,
    found: str | None,
    sold_as: str | None,
    area: str | None,
    since: dt.date | None,
    expires_on: dt.date | None,
    advice: Sequence[str] | None,
    test_id: int | None = None,
    signal: dict[str, Any] | None = None,
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Alert:
    """Draft an alert (flushed, not committed), or ``AlertError`` naming the first rule
    it breaks. It shows and prints only once another manager approves it."""
    _require_manager(user, "draft")
    now = now or utcnow()
    today = today or program_today(now)
    checked = _checked(found, sold_as, area, since, expires_on, advice, today)
    alert = Alert(
        status=AlertStatus.DRAFT,
        test_id=test_id,
        found=checked.found,
        sold_as=checked.sold_as,
        area=checked.area,
        since=checked.since,
        expires_on=checked.expires_on,
        advice=checked.advice,
        signal=signal,
        drafted_by=user.id,
        drafted_at=now,
    )
    db.session.add(alert)
    db.session.flush()
    record(
        "drug_alert_drafted",
        object_type="drug_alert",
        object_id=alert.id,
        user_id=user.id,
        detail={**_values_detail(alert), "from_signal": signal is not None},
    )
    return alert


def draft_from_signal(signal: trends.Signal, user: User, *, today: dt.date | None = None) -> Alert:
    """Draft an alert with what a signal says (flushed, not committed)."""
    values = signal_values(signal, today)
    return draft_alert(
        user,
        values.found,
        values.sold_as,
        values.area,
        values.since,
        values.expires_on,
        values.advice,
        test_id=values.test_id,
        signal=values.signal,
        today=today,
    )


def edit_draft(
    alert: Alert,
    user: User,
    found: str | None,
    sold_as: str | None,
    area: str | None,
    since: dt.date | None,
    expires_on: dt.date | None,
    advice: Sequence[str] | None,
    *,
    today: dt.date | None = None,
) -> Alert:
    """Change a draft (flushed, not committed). Whoever changes it cannot approve it."""
    _require_manager(user, "change")
    alert = _reread(alert)
    if alert.status != AlertStatus.DRAFT or _is_withdrawn(alert):
        raise AlertError(
            _("Only a draft can be changed. Withdraw this alert and draft a new one instead.")
        )
    checked = _checked(found, sold_as, area, since, expires_on, advice, today or program_today())
    before = _values_detail(alert)
    alert.found, alert.sold_as, alert.area = checked.found, checked.sold_as, checked.area
    alert.since, alert.expires_on, alert.advice = checked.since, checked.expires_on, checked.advice
    after = _values_detail(alert)
    changed = sorted(key for key in after if after[key] != before[key])
    db.session.flush()
    if changed:
        record(
            "drug_alert_edited",
            object_type="drug_alert",
            object_id=alert.id,
            user_id=user.id,
            detail={"changed": changed, **{key: after[key] for key in changed}},
        )
    return alert


def authors(alert: Alert) -> set[int]:
    """Who drafted the alert or changed its draft (none of them may approve it)."""
    editors = db.session.scalars(
        select(AuditEvent.user_id).where(
            AuditEvent.action == "drug_alert_edited",
            AuditEvent.object_type == "drug_alert",
            AuditEvent.object_id == alert.id,
        )
    )
    return {alert.drafted_by, *(user_id for user_id in editors if user_id is not None)}


def may_approve(alert: Alert, user: User) -> bool:
    """Whether ``user`` is a manager who neither drafted nor changed this draft."""
    return (
        alert.status == AlertStatus.DRAFT
        and alert.withdrawn_at is None
        and user.role in (Role.MANAGER, Role.ADMIN)
        and user.id not in authors(alert)
    )


def approve(
    alert: Alert,
    user: User,
    *,
    version: str | None = None,
    now: dt.datetime | None = None,
    today: dt.date | None = None,
) -> Alert:
    """A second manager approves a draft: from now it shows and prints until it expires
    (flushed, not committed).

    ``version`` is the draft's ``draft_version()`` as the approver read it (the approve form
    carries it): a draft changed since is refused with ``AlertChanged``. Only a caller
    that shows nothing to anyone (a script) passes None."""
    _require_manager(user, "approve")
    now = now or utcnow()
    today = today or program_today(now)
    alert = _reread(alert)
    if _is_withdrawn(alert):
        raise AlertChanged(_("This alert is withdrawn, not a draft: it cannot be approved."))
    if alert.status != AlertStatus.DRAFT:  # approved (a withdrawn one is refused above)
        raise AlertChanged(_("This alert is approved, not a draft."))
    if user.id in authors(alert):
        raise AlertError(
            _(
                "You drafted or changed this alert, so you cannot approve it: another manager "
                "reads it and approves it."
            )
        )
    if version is not None and version != draft_version(alert):
        raise AlertChanged(
            _(
                "This draft was changed since you opened it. Read it again below; approve it "
                "if it is right."
            )
        )
    if alert.expires_on < today:
        raise AlertError(_("This alert's last day has passed. Change the draft before approving."))
    _set_if(
        alert,
        (Alert.status == AlertStatus.DRAFT) & Alert.withdrawn_at.is_(None),
        status=AlertStatus.APPROVED,
        approved_by=user.id,
        approved_at=now,
    )
    record(
        "drug_alert_approved",
        object_type="drug_alert",
        object_id=alert.id,
        user_id=user.id,
        detail={"drafted_by": alert.drafted_by, "expires_on": alert.expires_on.isoformat()},
    )
    return alert


def withdraw(alert: Alert, user: User, *, now: dt.datetime | None = None) -> Alert:
    """Take an alert (approved or still a draft) out of the header, the flyers and the
    texts (flushed, not committed)."""
    _require_manager(user, "withdraw")
    alert = _reread(alert)
    if _is_withdrawn(alert):
        raise AlertError(_("This alert was already withdrawn."))
    was = alert.status
    _set_if(
        alert,
        (Alert.status != AlertStatus.WITHDRAWN) & Alert.withdrawn_at.is_(None),
        status=AlertStatus.WITHDRAWN,
        withdrawn_by=user.id,
        withdrawn_at=now or utcnow(),
    )
    record(
        "drug_alert_withdrawn",
        object_type="drug_alert",
        object_id=alert.id,
        user_id=user.id,
        detail={"was": was.value},
    )
    return alert


# --- showing and printing --------------------------------------------------------------------


def is_current(alert: Alert, today: dt.date | None = None) -> bool:
    """Approved, not withdrawn, and not past its last day."""
    return (
        alert.status == AlertStatus.APPROVED
        and alert.withdrawn_at is None
        and alert.expires_on >= (today or program_today())
    )


@functools.cache
def _current_alerts() -> Select:
    """Built once: the banner asks on every page."""
    return (
        select(Alert)
        .where(
            Alert.status == AlertStatus.APPROVED,
            Alert.withdrawn_at.is_(None),
            Alert.expires_on >= bindparam("today", type_=Date),
        )
        .order_by(Alert.approved_at.desc(), Alert.id.desc())
    )


def current_alerts(today: dt.date | None = None) -> list[Alert]:
    """The alerts the desk shows now, newest approval first."""
    return list(db.session.scalars(_current_alerts(), {"today": today or program_today()}))


@dataclass(frozen=True)
class AlertLists:
    """The alerts page: drafts to approve, current alerts, and past ones."""

    drafts: list[Alert]
    current: list[Alert]
    past: list[Alert]


def alert_lists(today: dt.date | None = None, past_limit: int = 50) -> AlertLists:
    """Drafts (oldest first), current (newest first), past: expired or withdrawn
    (newest first, the last ``past_limit``)."""
    today = today or program_today()
    drafts = db.session.scalars(
        select(Alert)
        .where(Alert.status == AlertStatus.DRAFT, Alert.withdrawn_at.is_(None))
        .order_by(Alert.drafted_at, Alert.id)
    )
    past = db.session.scalars(
        select(Alert)
        .where(
            (Alert.status == AlertStatus.WITHDRAWN)
            | Alert.withdrawn_at.is_not(None)
            | ((Alert.status == AlertStatus.APPROVED) & (Alert.expires_on < today))
        )
        .order_by(Alert.drafted_at.desc(), Alert.id.desc())
        .limit(past_limit)
    )
    return AlertLists(list(drafts), current_alerts(today), list(past))


def check_printable(alert: Alert, today: dt.date | None = None) -> None:
    """``AlertError`` unless the alert may print: approved, not withdrawn (by its status
    or its withdrawal time), not expired."""
    if _is_withdrawn(alert):
        raise AlertError(_("This alert was withdrawn: it no longer prints."))
    if alert.status == AlertStatus.DRAFT:
        raise AlertError(_("A draft does not print: another manager approves it first."))
    if alert.expires_on < (today or program_today()):
        raise AlertError(_("This alert has expired: it no longer prints."))


def flyer_content(alert: Alert, today: dt.date | None = None):
    """What the flyer prints, as plain values (``ssp.drugchecking.flyer`` draws it)."""
    from ssp.drugchecking.flyer import FlyerContent

    config = current_app.config
    issued = issued_on(alert, today)
    return FlyerContent(
        title=_("Drug checking alert"),
        headline=headline(alert),
        lines=(
            (_("Where"), _capitalised(alert.area)),
            (_("Since"), full_date(alert.since)),
        ),
        advice_heading=_("What to do"),
        advice=tuple(advice_texts(alert.advice)),
        footer=(
            _(
                "Issued %(date)s by %(program)s",
                date=full_date(issued),
                program=program_name(),
            ),
            _("This alert runs until %(date)s.", date=full_date(alert.expires_on)),
        ),
        url=(config.get("ALERT_PUBLIC_URL") or "").strip() or None,
        scan=_("Scan for more:"),
        author=program_name(),
        issued=issued,
        language=current_language(),
    )


def print_flyer(
    alert: Alert, user: User, today: dt.date | None = None, language: str | None = None
) -> bytes:
    """The flyer's PDF in ``language`` (default: the one spoken now), its download
    audited (flushed, not committed); ``AlertError`` unless the alert may print."""
    from ssp.drugchecking.flyer import render_flyer

    check_printable(alert, today)
    language = language or current_language()
    with force_locale(language):
        pdf = render_flyer(flyer_content(alert, today))
    record(
        "drug_alert_printed",
        object_type="drug_alert",
        object_id=alert.id,
        user_id=user.id,
        detail={"language": language},
    )
    return pdf
