"""Funder profiles: who receives which sections, under which name, suppressed how.

Three profiles ship with ssp: the full standard monthly report; one shaped on the
California SSP reporting items; and one on the SHaRP SSP indicators.
"""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import func, select

from ssp.audit import record, record_active
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _, _l, available_languages, force_locale
from ssp.reporting.models import FunderProfile
from ssp.reporting.wording import LabelMap

#: Sections a profile can include, in print order, with their titles (each read in the
#: language of the moment).
SECTIONS = LabelMap(
    {
        "summary": _l("Program summary"),
        "supplies": _l("Supplies"),
        "overdose": _l("Overdose response"),
        "services": _l("Testing and services"),
        "drug_checking": _l("Drug checking"),
        "referrals": _l("Referrals and follow-ups"),
        "demographics": _l("People served"),
        "trends": _l("Trends over 12 months"),
    }
)

# The funders' names are written in the language of whoever creates the profiles (a
# proper name stays as it is).
DEFAULT_PROFILES = [
    {
        "name": "standard",
        "funder_name": _l("Program funders"),
        "sections": list(SECTIONS),
        "threshold": 11,
    },
    {
        "name": "california-ssp",
        "funder_name": "California Department of Public Health, Office of AIDS",
        "sections": ["summary", "supplies", "referrals"],
        "threshold": 11,
    },
    {
        "name": "sharp",
        "funder_name": _l("SHaRP SSP indicators"),
        "sections": ["summary", "overdose", "demographics"],
        "threshold": 11,
    },
]

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


class ProfileError(RuleError):
    """A funder profile the rules do not allow."""


def profile_by_name(name: str) -> FunderProfile | None:
    """The profile with that short name (case-insensitive)."""
    return db.session.scalar(
        select(FunderProfile).where(FunderProfile.name == (name or "").strip().lower())
    )


def active_profiles() -> list[FunderProfile]:
    """Profiles in use, by name."""
    return list(
        db.session.scalars(
            select(FunderProfile).where(FunderProfile.active).order_by(FunderProfile.name)
        )
    )


def load_default_profiles() -> int:
    """Create the three standard profiles when there are none, their funders named in the
    program's LANGUAGE (like everything else ssp sets up); returns how many."""
    if db.session.scalar(select(func.count()).select_from(FunderProfile)):
        return 0
    with force_locale(current_app.config["LANGUAGE"]):
        for values in DEFAULT_PROFILES:
            named = {**values, "funder_name": str(values["funder_name"])}
            db.session.add(FunderProfile(**named, active=True))
    db.session.flush()
    record(
        "funder_profiles_loaded",
        object_type="funder_profile",
        detail={"profiles": [p["name"] for p in DEFAULT_PROFILES]},
    )
    return len(DEFAULT_PROFILES)


def _clean(values: dict, profile_id: int | None = None) -> dict:
    name = (values.get("name") or "").strip().lower()
    if not NAME_PATTERN.match(name):
        raise ProfileError(
            _("A short name is 2 to 40 lower-case letters, digits or dashes."), "name"
        )
    clash = profile_by_name(name)
    if clash is not None and clash.id != profile_id:
        raise ProfileError(_("There is already a profile called %(name)s.", name=name), "name")
    funder = " ".join((values.get("funder_name") or "").split())
    if not 2 <= len(funder) <= 120:
        raise ProfileError(_("The funder's name is 2 to 120 characters."), "funder_name")
    sections = [s for s in SECTIONS if s in (values.get("sections") or [])]
    unknown = set(values.get("sections") or []) - set(SECTIONS)
    if unknown or not sections:
        raise ProfileError(_("Choose at least one section from the list."), "sections")
    threshold = values.get("threshold")
    if not isinstance(threshold, int) or not 2 <= threshold <= 100:
        raise ProfileError(_("The threshold is a whole number from 2 to 100."), "threshold")
    minimum = int(current_app.config.get("MIN_SUPPRESSION_THRESHOLD", 11))
    if threshold < minimum:
        raise ProfileError(
            _(
                "The program's minimum threshold is %(minimum)s: a profile cannot go below it.",
                minimum=minimum,
            ),
            "threshold",
        )
    grant = " ".join((values.get("grant_number") or "").split()) or None
    program = " ".join((values.get("program_name") or "").split()) or None
    if grant and len(grant) > 80:
        raise ProfileError(_("Keep the grant number to 80 characters."), "grant_number")
    if program and len(program) > 120:
        raise ProfileError(_("Keep the program name to 120 characters."), "program_name")
    fiscal = values.get("fiscal_year_start", 7)
    if not isinstance(fiscal, int) or not 1 <= fiscal <= 12:
        raise ProfileError(
            _("The fiscal year starts in a month from 1 (January) to 12."), "fiscal_year_start"
        )
    contact = " ".join((values.get("contact") or "").split()) or None
    if contact and len(contact) > 200:
        raise ProfileError(_("Keep the contact line to 200 characters."), "contact")
    language = (values.get("language") or "").strip() or None
    if language is not None and language not in available_languages():
        raise ProfileError(_("Choose a report language from the list."), "language")
    return {
        "name": name,
        "funder_name": funder,
        "grant_number": grant,
        "program_name": program,
        "sections": sections,
        "threshold": threshold,
        "fiscal_year_start": fiscal,
        "contact": contact,
        "language": language,
    }


def create_profile(**values) -> FunderProfile:
    """Add a funder profile."""
    profile = FunderProfile(**_clean(values), active=True)
    db.session.add(profile)
    db.session.flush()
    detail = {"name": profile.name, "sections": profile.sections, "threshold": profile.threshold}
    if profile.language:
        detail["language"] = profile.language
    record(
        "funder_profile_created",
        object_type="funder_profile",
        object_id=profile.id,
        detail=detail,
    )
    return profile


def update_profile(profile: FunderProfile, **values) -> None:
    """Change a funder profile; reports already archived keep their own parameters."""
    cleaned = _clean(values, profile.id)
    changed = [key for key, value in cleaned.items() if getattr(profile, key) != value]
    for key in changed:
        setattr(profile, key, cleaned[key])
    if changed:
        record(
            "funder_profile_updated",
            object_type="funder_profile",
            object_id=profile.id,
            detail={"fields": changed},
        )


def set_profile_active(profile: FunderProfile, active: bool) -> None:
    """Stop or resume offering a profile."""
    record_active(profile, active, "funder_profile")
