"""The anonymous code: the configurable scheme, normalisation and near-duplicate candidates.

A code is built in the browser from facts a person always remembers (by default: first two
letters of the mother's first name, first two letters of the birth city, two-digit day of
birth, last two digits of the birth year, e.g. ``MAPH0687``). The facts themselves never
reach the server; this module only ever sees the finished code.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import LazyString

from ssp.i18n import _, _l

#: What a scheme part may be built from. Gender is deliberately not among them: a
#: person's gender may change, their code must not.
PART_KINDS = {"letters", "digits", "day", "month", "year"}

# The default scheme's words are looked up when the builder is shown (a configured
# scheme's are the program's own, shown as typed).
DEFAULT_SCHEME: list[dict[str, Any]] = [
    {
        "label": _l("Mother's first name"),
        "kind": "letters",
        "take": 2,
        "help": _l("First two letters"),
    },
    {
        "label": _l("City or town where they were born"),
        "kind": "letters",
        "take": 2,
        "help": _l("First two letters"),
    },
    {"label": _l("Day of birth"), "kind": "day", "help": _l("1 to 31")},
    {
        "label": _l("Year of birth"),
        "kind": "year",
        "take": 2,
        "help": _l("Four digits; the last two are used"),
    },
]

CODE_ALPHABET = string.ascii_uppercase + string.digits
_SEPARATORS = re.compile(r"[\s\-_.·/]+")
_VALID = re.compile(r"^[A-Z0-9]+$")
MIN_LENGTH = 4
MAX_LENGTH = 20


class CodeError(ValueError):
    """A code that cannot be used; the message says why."""


def normalise_code(raw: str | None) -> str:
    """Upper case, with spaces, dashes and similar separators removed."""
    return _SEPARATORS.sub("", (raw or "").strip()).upper()


def validated_code(raw: str | None) -> str:
    """The normalised code, or ``CodeError`` when it is malformed."""
    code = normalise_code(raw)
    if not code:
        raise CodeError(_("Enter the participant's code."))
    if not _VALID.match(code):
        raise CodeError(_("A code has only letters A to Z and digits 0 to 9."))
    if not MIN_LENGTH <= len(code) <= MAX_LENGTH:
        raise CodeError(
            _(
                "A code is %(shortest)d to %(longest)d letters and digits long.",
                shortest=MIN_LENGTH,
                longest=MAX_LENGTH,
            )
        )
    return code


def _text(value: Any) -> str | LazyString:
    """A scheme's text as given: a lazy default stays lazy (shown in the page's language)."""
    return value if isinstance(value, LazyString) else str(value)


def check_scheme(scheme: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate a configured scheme (config ``PARTICIPANT_CODE_SCHEME``) and return it."""
    if not scheme:
        raise ValueError("PARTICIPANT_CODE_SCHEME needs at least one part.")
    checked = []
    for number, part in enumerate(scheme, start=1):
        kind = part.get("kind")
        if kind not in PART_KINDS:
            raise ValueError(
                f"PARTICIPANT_CODE_SCHEME part {number}: kind must be one of "
                f"{', '.join(sorted(PART_KINDS))}, not {kind!r}."
            )
        if not part.get("label"):
            raise ValueError(f"PARTICIPANT_CODE_SCHEME part {number} needs a label.")
        take = 2 if kind in {"day", "month"} else part.get("take", 2)
        if not isinstance(take, int) or not 1 <= take <= (4 if kind == "year" else 8):
            raise ValueError(f"PARTICIPANT_CODE_SCHEME part {number}: 'take' is out of range.")
        checked.append(
            {
                "label": _text(part["label"]),
                "kind": kind,
                "take": take,
                "help": _text(part.get("help", "")),
            }
        )
    return checked


def one_edit_variants(code: str, alphabet: str = CODE_ALPHABET) -> set[str]:
    """Every code one edit away: a substitution, insertion, deletion or neighbour swap."""
    variants: set[str] = set()
    for i in range(len(code) + 1):
        head, tail = code[:i], code[i:]
        for ch in alphabet:
            variants.add(head + ch + tail)  # insertion
        if tail:
            variants.add(head + tail[1:])  # deletion
            for ch in alphabet:
                if ch != tail[0]:
                    variants.add(head + ch + tail[1:])  # substitution
        if len(tail) > 1:
            variants.add(head + tail[1] + tail[0] + tail[2:])  # swap of neighbours
    variants.discard(code)
    return {v for v in variants if MIN_LENGTH <= len(v) <= MAX_LENGTH}


def within_one_edit(a: str, b: str) -> bool:
    """Whether two codes differ by at most one edit (optimal string alignment distance)."""
    return a == b or b in one_edit_variants(a)


def chunked(values: Iterable[str], size: int = 500) -> Iterable[list[str]]:
    """Split values into lists of at most ``size`` (SQL IN lists stay short)."""
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
