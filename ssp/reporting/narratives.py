"""The narrative a manager writes for a report period: activities, barriers, community
events (as California's SSP reports ask). Printed in every report of the period.

A narrative is free text that reaches funders, so it is checked when saved: no
participant code (any enrolled code or alias, however spaced or cased), no control
characters, a bounded length. A refused narrative is not saved and the form keeps it.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from ssp.audit import record
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _, _l
from ssp.participants.codes import MAX_LENGTH, MIN_LENGTH, normalise_code
from ssp.participants.models import Participant, ParticipantAlias
from ssp.reporting.models import ReportNarrative
from ssp.reporting.wording import LabelPairs, number
from ssp.textinput import has_refused_characters
from ssp.timeutil import utcnow

# (name, heading), each heading read in the language of the moment.
PARTS = LabelPairs(
    (
        ("activities", _l("Activities this period")),
        ("barriers", _l("Barriers and how they were met")),
        ("events", _l("Community events and partnerships")),
    )
)
MAX_CHARACTERS = 3000


class NarrativeError(RuleError):
    """A narrative that cannot be printed in a report."""


def narrative_for(period_key: str) -> ReportNarrative | None:
    """The period's narrative, if one was written."""
    return db.session.scalar(select(ReportNarrative).where(ReportNarrative.period == period_key))


def printed_parts(period_key: str) -> list[tuple[str, str]]:
    """(heading, text) for each part written, in print order (the headings in the
    language being written)."""
    narrative = narrative_for(period_key)
    if narrative is None:
        return []
    return [(title, getattr(narrative, name)) for name, title in PARTS if getattr(narrative, name)]


def _candidates(text: str) -> set[str]:
    """Every run of letters and digits, and every run of such words joined by spaces,
    dashes or dots, normalised as a code would be ("ab-cd 1234" finds ABCD1234)."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    found = set()
    for start in range(len(words)):
        joined = ""
        for word in words[start : start + 4]:
            joined += word
            if MIN_LENGTH <= len(joined) <= MAX_LENGTH:
                found.add(normalise_code(joined))
    return found


def _names_a_code(text: str) -> bool:
    candidates = sorted(_candidates(text))
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        hit = db.session.scalar(
            select(Participant.id).where(Participant.code.in_(chunk)).limit(1)
        ) or db.session.scalar(
            select(ParticipantAlias.id).where(ParticipantAlias.code.in_(chunk)).limit(1)
        )
        if hit is not None:
            return True
    return False


def save_narrative(period_key: str, *, user_id: int | None, **parts: str) -> ReportNarrative:
    """Write (or rewrite) a period's narrative; NarrativeError names the part refused."""
    cleaned = {}
    for name, title in PARTS:
        text = (parts.get(name) or "").replace("\r\n", "\n").strip()
        if has_refused_characters(text, multiline=True):
            raise NarrativeError(_("%(part)s: remove the control characters.", part=title), name)
        if len(text) > MAX_CHARACTERS:
            raise NarrativeError(
                _(
                    "%(part)s: keep it to %(most)s characters.",
                    part=title,
                    most=number(MAX_CHARACTERS),
                ),
                name,
            )
        if _names_a_code(text):
            raise NarrativeError(
                _(
                    "%(part)s contains a participant code. Reports go to funders and never "
                    "name anyone: describe the work without the code.",
                    part=title,
                ),
                name,
            )
        cleaned[name] = text
    narrative = narrative_for(period_key)
    if narrative is None:
        narrative = ReportNarrative(period=period_key)
        db.session.add(narrative)
    for name, text in cleaned.items():
        setattr(narrative, name, text)
    narrative.updated_at = utcnow()
    narrative.updated_by = user_id
    db.session.flush()
    record(
        "report_narrative_saved",
        object_type="report_narrative",
        object_id=narrative.id,
        user_id=user_id,
        detail={"period": period_key, "parts": [n for n, _ in PARTS if cleaned[n]]},
    )
    return narrative


__all__ = ["PARTS", "NarrativeError", "narrative_for", "printed_parts", "save_narrative"]
