"""The rules of drug checking: the program's lists, recording and voiding a result, and
the counts the trends page, the signals and the report read.

Everything here is flushed, never committed: the view or command commits once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from ssp.audit import record
from ssp.drugchecking.models import (
    CheckTest,
    DrugCheck,
    Finding,
    Outcome,
    Reaction,
    SampleForm,
    SoldAs,
)
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _, _l, force_locale, ngettext
from ssp.staff.models import Site, User
from ssp.timeutil import as_utc, utcnow

#: What a program starts with, in its ``LANGUAGE``; an admin adds or retires entries.
DEFAULT_SOLD_AS = (
    _l("Fentanyl"),
    _l("Heroin"),
    _l("Meth"),
    _l("Cocaine"),
    _l("Crack"),
    _l("Pressed pill"),
    _l("Other"),
)
DEFAULT_TESTS = (
    (_l("Fentanyl test strip"), _l("Fentanyl")),
    (_l("Xylazine test strip"), _l("Xylazine")),
    (_l("Benzodiazepine test strip"), _l("Benzodiazepines")),
)
NAME_MAX = 60
#: Clock drift tolerated between a device and the server.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


class DrugCheckError(RuleError):
    """A result the rules do not allow; ``field`` names the form field concerned."""


# --- the program's lists ------------------------------------------------------------------


def load_default_lists() -> int:
    """Fill the empty lists with the defaults, named in the program's ``LANGUAGE``;
    returns how many entries were added."""
    added = 0
    with force_locale(current_app.config["LANGUAGE"]):
        if not db.session.scalar(select(func.count()).select_from(SoldAs)):
            for position, name in enumerate(DEFAULT_SOLD_AS):
                db.session.add(SoldAs(name=str(name), position=position, active=True))
                added += 1
        if not db.session.scalar(select(func.count()).select_from(CheckTest)):
            for position, (name, finds) in enumerate(DEFAULT_TESTS):
                db.session.add(
                    CheckTest(name=str(name), finds=str(finds), position=position, active=True)
                )
                added += 1
    if added:
        db.session.flush()
        record("drug_check_lists_loaded", object_type="drug_check_list", detail={"added": added})
    return added


def sold_as_list(*, active_only: bool = True) -> list[SoldAs]:
    """What samples can be sold as, in the program's order."""
    query = select(SoldAs).order_by(SoldAs.position, SoldAs.name)
    if active_only:
        query = query.where(SoldAs.active.is_(True))
    return list(db.session.scalars(query))


def tests_list(*, active_only: bool = True) -> list[CheckTest]:
    """The tests the program runs, in its order."""
    query = select(CheckTest).order_by(CheckTest.position, CheckTest.name)
    if active_only:
        query = query.where(CheckTest.active.is_(True))
    return list(db.session.scalars(query))


def _clean_name(name: str | None, field: str) -> str:
    import unicodedata

    from ssp.participants.codes import normalise_code
    from ssp.participants.services import code_in_use
    from ssp.textinput import has_refused_characters

    name = " ".join((name or "").split())
    if not name:
        raise DrugCheckError(_("Enter a name."), field)
    if len(name) > NAME_MAX:
        raise DrugCheckError(_("At most %(most)d characters.", most=NAME_MAX), field)
    if has_refused_characters(name) or any(unicodedata.category(c) == "Cf" for c in name):
        raise DrugCheckError(_("Remove the invisible or control character from the name."), field)
    if code_in_use(normalise_code(name)):
        raise DrugCheckError(_("That is a participant's code: a list names substances."), field)
    return name


def add_sold_as(name: str, user: User) -> SoldAs:
    """Add an entry to what samples can be sold as."""
    name = _clean_name(name, "name")
    if db.session.scalar(select(SoldAs.id).where(func.lower(SoldAs.name) == name.lower())):
        raise DrugCheckError(_("That is already on the list."), "name")
    position = (db.session.scalar(select(func.max(SoldAs.position))) or 0) + 1
    entry = SoldAs(name=name, position=position, active=True)
    db.session.add(entry)
    db.session.flush()
    record(
        "drug_check_sold_as_added",
        object_type="drug_check_list",
        object_id=entry.id,
        user_id=user.id,
        detail={"name": name},
    )
    return entry


def add_test(name: str, finds: str, user: User) -> CheckTest:
    """Add a test the program runs, and what a positive finds."""
    name = _clean_name(name, "name")
    finds = _clean_name(finds, "finds")
    if db.session.scalar(select(CheckTest.id).where(func.lower(CheckTest.name) == name.lower())):
        raise DrugCheckError(_("That test is already on the list."), "name")
    position = (db.session.scalar(select(func.max(CheckTest.position))) or 0) + 1
    test = CheckTest(name=name, finds=finds, position=position, active=True)
    db.session.add(test)
    db.session.flush()
    record(
        "drug_check_test_added",
        object_type="drug_check_list",
        object_id=test.id,
        user_id=user.id,
        detail={"name": name, "finds": finds},
    )
    return test


def set_active(entry: SoldAs | CheckTest, active: bool, user: User) -> None:
    """Retire an entry (kept for past results) or bring it back."""
    entry.active = active
    db.session.flush()
    record(
        "drug_check_list_changed",
        object_type="drug_check_list",
        object_id=entry.id,
        user_id=user.id,
        detail={
            "list": "sold_as" if isinstance(entry, SoldAs) else "test",
            "name": entry.name,
            "active": active,
        },
    )


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckDetails:
    """Everything a result form says, as plain values."""

    sold_as_id: int | None
    form: SampleForm | str | None
    outcomes: Mapping[int, Outcome | str]  # test id -> outcome; tests not run are absent
    reaction: Reaction | str = Reaction.NOT_ASKED
    site_id: int | None = None
    zone_id: int | None = None
    checked_at: dt.datetime | None = None
    visit_id: int | None = None
    participant_id: int | None = None


def check_by_submission_key(key: str) -> DrugCheck | None:
    """The result a form with this one-time key already saved, if any."""
    return db.session.scalar(select(DrugCheck).where(DrugCheck.submission_key == key))


def record_check(
    details: CheckDetails,
    user: User,
    *,
    submission_key: str | None = None,
    now: dt.datetime | None = None,
) -> DrugCheck:
    """Record one sample's result (flushed, not committed), or ``DrugCheckError`` naming
    the first rule it breaks."""
    now = now or utcnow()
    sold_as = db.session.get(SoldAs, details.sold_as_id) if details.sold_as_id else None
    if sold_as is None or not sold_as.active:
        raise DrugCheckError(_("Choose what the sample was sold or bought as."), "sold_as_id")
    try:
        form = SampleForm(details.form)
    except ValueError:
        raise DrugCheckError(_("Choose the sample's form."), "form") from None
    try:
        reaction = Reaction(details.reaction or Reaction.NOT_ASKED)
    except ValueError:
        raise DrugCheckError(_("Choose an answer about a bad reaction."), "reaction") from None
    outcomes = _checked_outcomes(details.outcomes)
    site_id, zone_id = _checked_place(details.site_id, details.zone_id)
    checked_at = _checked_time(details.checked_at, now)
    # A visit points at its participant, so a result keeps neither unless the program
    # links results to people.
    linked = current_app.config["DRUG_CHECK_LINK_PARTICIPANTS"]
    participant_id = details.participant_id if linked else None
    visit_id = details.visit_id if linked else None
    if visit_id is not None:
        from ssp.visits.models import Visit

        visit = db.session.get(Visit, visit_id)
        if visit is None:
            raise DrugCheckError(_("That visit is not on record."))
        participant_id = visit.participant_id
    check = DrugCheck(
        checked_at=checked_at,
        site_id=site_id,
        zone_id=zone_id,
        sold_as_id=sold_as.id,
        form=form,
        reaction=reaction,
        participant_id=participant_id,
        visit_id=visit_id,
        user_id=user.id,
        created_at=now,
        submission_key=submission_key,
        findings=[Finding(test_id=test_id, outcome=outcome) for test_id, outcome in outcomes],
    )
    db.session.add(check)
    db.session.flush()
    record(
        "drug_check_recorded",
        object_type="drug_check",
        object_id=check.id,
        user_id=user.id,
        detail={
            "sold_as": sold_as.name,
            "form": form.value,
            "site_id": site_id,
            "zone_id": zone_id,
            "tests": len(outcomes),
            "positive": sum(outcome == Outcome.POSITIVE for _, outcome in outcomes),
        },
    )
    return check


def _checked_outcomes(outcomes: Mapping[int, Outcome | str]) -> list[tuple[int, Outcome]]:
    checked = []
    active = {test.id for test in tests_list()}
    for test_id, value in outcomes.items():
        if value in (None, ""):
            continue
        if test_id not in active:
            raise DrugCheckError(_("That test is not on the program's list any more."))
        try:
            checked.append((test_id, Outcome(value)))
        except ValueError:
            raise DrugCheckError(
                _("Choose positive, negative or unclear."), f"test_{test_id}"
            ) from None
    if not checked:
        raise DrugCheckError(_("Give the result of at least one test."), "tests")
    return sorted(checked)


def _checked_place(site_id: int | None, zone_id: int | None) -> tuple[int | None, int | None]:
    from ssp.outreach.models import Zone

    if site_id is not None:
        site = db.session.get(Site, site_id)
        if site is None or not site.active:
            raise DrugCheckError(_("Choose a site that is in use."), "site_id")
    if zone_id is not None:
        zone = db.session.get(Zone, zone_id)
        if zone is None or not zone.active:
            raise DrugCheckError(_("Choose a zone that is in use."), "zone_id")
    if site_id is None and zone_id is None:
        raise DrugCheckError(_("Say where: a site or an outreach zone."), "site_id")
    return site_id, zone_id


def _checked_time(checked_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if checked_at is None:
        return now
    checked_at = as_utc(checked_at)
    if checked_at > now + FUTURE_TOLERANCE:
        raise DrugCheckError(_("The time of a check cannot be in the future."), "checked_at")
    days = current_app.config["VISIT_BACKDATE_DAYS"]
    if checked_at < now - dt.timedelta(days=days):
        raise DrugCheckError(
            ngettext(
                "Results can be entered up to %(num)d day back.",
                "Results can be entered up to %(num)d days back.",
                days,
            ),
            "checked_at",
        )
    return checked_at


def void_check(check: DrugCheck, user: User, now: dt.datetime | None = None) -> None:
    """Take a result entered by mistake out of every count (flushed, not committed)."""
    if check.voided_at is not None:
        raise DrugCheckError(_("This result was already taken out."))
    check.voided_at = now or utcnow()
    check.voided_by = user.id
    db.session.flush()
    record("drug_check_voided", object_type="drug_check", object_id=check.id, user_id=user.id)


def recent_checks(limit: int = 50) -> list[DrugCheck]:
    """The latest results, newest first (voided ones included, marked)."""
    return list(
        db.session.scalars(
            select(DrugCheck)
            .order_by(DrugCheck.checked_at.desc(), DrugCheck.id.desc())
            .limit(limit)
        )
    )
