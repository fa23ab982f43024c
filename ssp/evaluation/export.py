"""The evaluator export, as a service: a manager's request checked, the period's visits
read (``records``), made k-anonymous (``kanon``, over the columns of ``columns``),
written (``writers``) and audited.

:func:`make_export` is what the page and ``ssp export`` call. It reads in a read phase
and ends that read transaction (on SQLite it takes no lock: the desks never wait for an
export), then writes one audit row,
``evaluation_export_made``, with the purpose and the recipient the manager stated, the
period, the options, the row counts and the sha256 of the zip exactly as handed over.
It flushes and never commits: the caller commits, then hands the file over.

Each export draws new random person numbers (:mod:`secrets`), never derived from a code
or an id, so two exports cannot be joined on them. The method: docs/evaluator-export.md.

The cover note and the values are in the language the export is made in (the page's, or
the command's); the file's column names are always the same.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Hashable
from dataclasses import dataclass

from flask import current_app

from ssp.audit import record
from ssp.database import reading_only
from ssp.errors import RuleError
from ssp.evaluation import records as rec
from ssp.evaluation.choices import (
    ATTRIBUTES,
    FORMATS,
    GRANULARITIES,
    LOCATIONS,
    UNIT_NOTES,
    UNITS,
)
from ssp.evaluation.columns import QUASI_IDENTIFIERS, STEP_ORDER
from ssp.evaluation.kanon import Candidate, Step, anonymise
from ssp.evaluation.writers import CoverNote, csv_bytes, package, parquet_bytes, sha256
from ssp.extensions import db
from ssp.forms import EARLIEST_YEAR, LATEST_YEAR
from ssp.i18n import _, format_day
from ssp.reporting.narratives import _names_a_code as names_a_code
from ssp.reporting.periods import MONTH, QUARTER, YEAR, parse_period
from ssp.textinput import has_refused_characters
from ssp.timeutil import program_today, program_zone

PERIOD_KINDS = (MONTH, QUARTER, YEAR)
PURPOSE_MAX = 500
RECIPIENT_MAX = 200
# At most this share of the rows may be left out before another column is coarsened for
# every row (see kanon); 5% is a usual suppression limit.
SUPPRESSION_ALLOWANCE = 0.05
MIN_K = 2


class ExportError(RuleError):
    """An export that cannot be made as asked; ``field`` names the form box."""


def cleared(name: str) -> str:
    """Why the purpose or the recipient (``name``) was cleared: it named a code."""
    if name == "purpose":
        return _(
            "The purpose contains a participant code, so it was cleared rather than shown "
            "again. It is kept in the audit trail, which never names anyone by code: type it "
            "again without the code."
        )
    return _(
        "The recipient contains a participant code, so it was cleared rather than shown "
        "again. It is kept in the audit trail, which never names anyone by code: type it "
        "again without the code."
    )


class NamesACode(ExportError):
    """A purpose or recipient that names a participant code: refused, and never shown
    back (see :func:`withheld`)."""


@dataclass(frozen=True)
class ExportRequest:
    """What a manager asks for. ``period`` is a report period key (a month, a quarter,
    a calendar year) or empty, and then ``first_day`` and ``last_day`` (both included)."""

    purpose: str
    recipient: str
    period: str = ""
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    unit: str = "visit"
    granularity: str = "month"
    location: str = "kind"
    attributes: tuple[str, ...] = ("age_band", "gender")
    file_format: str = "csv"


@dataclass(frozen=True)
class MadeExport:
    """The zip as handed over, its name and sha256, and what its cover note says."""

    data: bytes
    filename: str
    sha256: str
    note: CoverNote


@dataclass(frozen=True)
class _Period:
    first_day: dt.date
    last_day: dt.date
    key: str
    label: str  # as the cover note says it
    audited: str = ""  # as the audit trail records it (dates as YYYY-MM-DD); else the label


def min_group_size() -> int:
    """k: the smallest group of people a row may belong to (``EXPORT_MIN_GROUP_SIZE``)."""
    k = int(current_app.config["EXPORT_MIN_GROUP_SIZE"])
    if k < MIN_K:
        raise ExportError(
            _(
                "EXPORT_MIN_GROUP_SIZE is %(k)s; it must be at least %(least)s (11 is usual). "
                "Ask an administrator to set it.",
                k=k,
                least=MIN_K,
            )
        )
    return k


def _period(request: ExportRequest, today: dt.date) -> _Period:
    key = (request.period or "").strip()
    dates = request.first_day is not None or request.last_day is not None
    if key and dates:
        raise ExportError(_("Choose a period or give the dates, not both."), "period")
    if key:
        try:
            period = parse_period(key)
        except ValueError as error:
            raise ExportError(str(error), "period") from None
        if period.kind not in PERIOD_KINDS:
            raise ExportError(
                _(
                    "Choose a month, a quarter or a calendar year, or give the first and last "
                    "day (for a fiscal year)."
                ),
                "period",
            )
        first, last = period.first_day, period.end_day - dt.timedelta(days=1)
        chosen = _Period(first, last, period.key, str(period.label))
    else:
        if request.first_day is None or request.last_day is None:
            raise ExportError(
                _("Give the first and the last day, or choose a period."), "first_day"
            )
        first, last = request.first_day, request.last_day
        label = _("%(first)s to %(last)s", first=format_day(first), last=format_day(last))
        chosen = _Period(first, last, f"{first}_to_{last}", label, f"{first} to {last}")
    for day, name in ((first, "first_day"), (last, "last_day")):
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise ExportError(
                _(
                    "Give a day between %(first)s and %(last)s.",
                    first=str(EARLIEST_YEAR),
                    last=str(LATEST_YEAR),
                ),
                name,
            )
    if first > last:
        raise ExportError(_("The first day is after the last day."), "last_day")
    if first > today:
        raise ExportError(_("The period has not begun yet."), "first_day")
    return chosen


def _refusal(name: str, problem: str, most: int = 0) -> str:
    """What is wrong with the purpose or the recipient (``name``), as one sentence."""
    purpose = name == "purpose"
    if problem == "control":
        if purpose:
            return _("Remove the control characters from the purpose.")
        return _("Remove the control characters from the recipient.")
    if problem == "empty":
        return _("Say what the data is for.") if purpose else _("Say who receives the data.")
    if problem == "long":
        if purpose:
            return _("Keep the purpose to %(most)s characters.", most=most)
        return _("Keep the recipient to %(most)s characters.", most=most)
    if problem == "far_too_long":
        if purpose:
            return _(
                "The purpose was cleared: it is far longer than %(most)s characters, too long "
                "to check for participant codes before showing it again.",
                most=most,
            )
        return _(
            "The recipient was cleared: it is far longer than %(most)s characters, too long "
            "to check for participant codes before showing it again.",
            most=most,
        )
    if purpose:
        return _(
            "The purpose contains a participant code. It is kept in the audit trail, which "
            "never names anyone by code: leave the code out."
        )
    return _(
        "The recipient contains a participant code. It is kept in the audit trail, which "
        "never names anyone by code: leave the code out."
    )


def _text(value: str, name: str, most: int, *, multiline: bool) -> str:
    """A stated purpose or recipient: the text-input rule, a length, no participant code."""
    text = (value or "").replace("\r\n", "\n").strip()
    if has_refused_characters(text, multiline=multiline):
        raise ExportError(_refusal(name, "control"), name)
    if not multiline:
        text = " ".join(text.split())
    if not text:
        raise ExportError(_refusal(name, "empty"), name)
    if len(text) > most:
        raise ExportError(_refusal(name, "long", most), name)
    if names_a_code(text):
        raise NamesACode(_refusal(name, "code"), name)
    return text


def withheld(value: str | None, name: str, most: int) -> str | None:
    """Why a refused form's purpose or recipient must not be shown back (None: it may).

    A page that showed a participant's code would have to audit it; this one never shows
    one instead: a text naming a code is cleared, whichever check refused the form. A
    text far longer than allowed is cleared unchecked (checking it would cost a query
    per 500 words)."""
    text = value or ""
    if len(text) > 4 * most:
        return _refusal(name, "far_too_long", most)
    if text.strip() and names_a_code(text):
        return cleared(name)
    return None


def _check_options(request: ExportRequest) -> tuple[str, ...]:
    for value, allowed, name in (
        (request.unit, UNITS, "unit"),
        (request.granularity, GRANULARITIES, "granularity"),
        (request.location, LOCATIONS, "location"),
        (request.file_format, FORMATS, "file_format"),
    ):
        if value not in allowed:
            raise ExportError(_("Choose one of: %(values)s.", values=", ".join(allowed)), name)
    unknown = [a for a in request.attributes if a not in ATTRIBUTES]
    if unknown:
        raise ExportError(
            _("Choose attributes among: %(values)s.", values=", ".join(ATTRIBUTES)),
            "attributes",
        )
    if request.unit == "person_month" and request.granularity == "week":
        raise ExportError(
            _("A row per person and month counts whole months: choose Month."), "granularity"
        )
    return tuple(a for a in ATTRIBUTES if a in request.attributes)


def _surrogates(people: list[Hashable]) -> dict[Hashable, str]:
    """A fresh random number for each person, unique within the export."""
    made: dict[Hashable, str] = {}
    used: set[str] = set()
    for person in people:
        if person in made:
            continue
        surrogate = secrets.token_hex(8)
        while surrogate in used:
            surrogate = secrets.token_hex(8)
        used.add(surrogate)
        made[person] = surrogate
    return made


def _plan(request: ExportRequest, attributes: tuple[str, ...]):
    """The quasi-identifiers included (in column order), the level each starts at, and
    the method's steps that concern them."""
    names = ["period", *([] if request.location == "none" else ["location"]), *attributes]
    starts = {
        "period": 0 if request.granularity == "week" else 1,
        "location": 0 if request.location == "site" else 1,
    }
    start = [starts.get(name, 0) for name in names]
    steps = [
        Step(names.index(column), level, str(says))
        for column, level, says in STEP_ORDER
        if column in names
    ]
    return [QUASI_IDENTIFIERS[name] for name in names], start, steps


def _columns(request: ExportRequest, chosen, levels) -> list[tuple[str, str]]:
    """Each column of the file and what it means, at the levels the method ended at."""
    per_visit = request.unit == "visit"
    return [
        (
            "person",
            _(
                "A random number for the person, made for this export only (empty: an "
                "anonymous visit)"
            ),
        ),
        *[
            (
                qi.column,
                str(qi.meanings[level])
                if qi.column != "period" or per_visit
                else _("The month, e.g. 2026-10"),
            )
            for qi, level in zip(chosen, levels, strict=True)
        ],
        *[
            (name, meaning if name != "visits" or per_visit else _("Visits in the month"))
            for name, meaning in rec.count_meanings()
        ],
    ]


def make_export(
    request: ExportRequest, *, user_id: int | None, today: dt.date | None = None
) -> MadeExport:
    """Check the request, make the export and audit it (flushed, not committed)."""
    today = today or program_today()
    purpose = _text(request.purpose, "purpose", PURPOSE_MAX, multiline=True)
    recipient = _text(request.recipient, "recipient", RECIPIENT_MAX, multiline=False)
    attributes = _check_options(request)
    period = _period(request, today)
    k = min_group_size()

    with reading_only():  # a plain BEGIN on SQLite: no lock while the visits are read
        try:
            visits = rec.read_visits(period.first_day, period.last_day, program_zone())
            sites = rec.read_sites()
        finally:
            db.session.rollback()
    rows = visits if request.unit == "visit" else rec.person_months(visits)

    chosen, start, steps = _plan(request, attributes)
    words = rec.words()  # the values, in the export's language
    candidates = [
        # An anonymous visit has no person (None): kanon groups it with the anonymous
        # rows only, never counting it as one of the people of a coded group.
        Candidate(person=row.person, ladders=tuple(qi.ladder(row, sites, words) for qi in chosen))
        for row in rows
    ]
    outcome = anonymise(candidates, start, steps, k=k, allowance=SUPPRESSION_ALLOWANCE)

    people = [rows[i].person for i in outcome.kept if rows[i].person is not None]
    surrogate = _surrogates(people)
    width = len(chosen)
    lines = sorted(
        (
            (
                surrogate.get(rows[i].person),
                *outcome.values(candidates[i]),
                *(rows[i].counts[name] for name in rec.COUNT_COLUMNS),
            )
            for i in outcome.kept
        ),
        # By the values only (the person's number is random): the order of the file says
        # nothing about the order of the visits or of enrolment.
        key=lambda line: (line[1 : 1 + width], line[0] or "", line[1 + width :]),
    )
    header = ["person", *(qi.column for qi in chosen), *rec.COUNT_COLUMNS]
    if request.file_format == "csv":
        data_file, data = "data.csv", csv_bytes(header, lines)
    else:
        data_file, data = "data.parquet", parquet_bytes(header, lines, set(rec.COUNT_COLUMNS))

    anonymous_kept = sum(1 for line in lines if line[0] is None)
    note = CoverNote(
        program=current_app.config["PROGRAM_NAME"],
        generated_on=today.isoformat(),
        period=period.label,
        first_day=period.first_day.isoformat(),
        last_day=period.last_day.isoformat(),
        time_zone=str(current_app.config["TIMEZONE"]),
        unit=_(UNIT_NOTES[request.unit]),
        asked=[
            (_("Rows"), _(UNITS[request.unit])),
            (_("Dates"), _(GRANULARITIES[request.granularity])),
            (_("Sites"), _(LOCATIONS[request.location])),
            (_("Attributes"), ", ".join(_(ATTRIBUTES[a]) for a in attributes) or _("none")),
            (_("Format"), _(FORMATS[request.file_format])),
        ],
        k=k,
        allowance_percent=round(SUPPRESSION_ALLOWANCE * 100),
        rows_read=len(candidates),
        rows=len(lines),
        people=len(set(people)),
        anonymous_rows=anonymous_kept,
        anonymous_rows_left_out=sum(1 for row in rows if row.person is None) - anonymous_kept,
        rows_coarsened=outcome.coarsened,
        rows_left_out=outcome.left_out,
        steps=[step.says for step in outcome.steps],
        columns=_columns(request, chosen, outcome.levels),
        data_file=data_file,
        data_sha256=sha256(data),
    )
    zipped = package(data_file, data, note, today)
    filename = f"evaluation-export_{period.key}_{today.isoformat()}.zip"
    digest = sha256(zipped)
    record(
        "evaluation_export_made",
        user_id=user_id,
        detail={
            "purpose": purpose,
            "recipient": recipient,
            "file": filename,
            "sha256": digest,
            "period": period.audited or period.label,
            "first_day": note.first_day,
            "last_day": note.last_day,
            "unit": request.unit,
            "granularity": request.granularity,
            "location": request.location,
            "attributes": list(attributes),
            "format": request.file_format,
            "k": k,
            "rows": note.rows,
            "people": note.people,
            "anonymous_rows": note.anonymous_rows,
            "rows_coarsened": note.rows_coarsened,
            "rows_left_out": note.rows_left_out,
            "steps": note.steps,
        },
    )
    return MadeExport(data=zipped, filename=filename, sha256=digest, note=note)
