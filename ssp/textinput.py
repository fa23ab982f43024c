"""What a text input may hold: the one place that refuses characters no screen, report
or database should receive.

Refused everywhere: NUL and the other C0 control characters, DEL, and unpaired UTF-16
surrogates (PostgreSQL rejects NUL outright, SQLite's LIKE stops at it, and a lone
surrogate cannot be encoded at all). Multi-line notes may also hold tab and newline;
single-line fields may not.

Every string in a JSON body (values and keys, however deep) is checked the same way,
with the multi-line rule and a length limit, before any view sees it; contacts a phone
sealed are checked the same way once opened (``json_text_fault``).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from ssp.i18n import _, _l, format_number

_ANYWHERE = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff"
_SINGLE_LINE = re.compile(rf"[{_ANYWHERE}\t\n\r]")
_MULTI_LINE = re.compile(rf"[{_ANYWHERE}]")

MESSAGE = _l(
    "Remove the control character (an invisible character such as NUL or a pasted "
    "line break) from this box."
)


def has_refused_characters(text: str, *, multiline: bool = False) -> bool:
    """True when ``text`` holds a character this kind of input refuses."""
    pattern = _MULTI_LINE if multiline else _SINGLE_LINE
    return pattern.search(text) is not None


#: The longest string a JSON body may hold, value or key: none the app takes comes close
#: (a passkey's answer is a few thousand characters, a sealed contact a few hundred).
JSON_TEXT_MAX = 20_000


JsonFault = Literal["control", "too_long"]


def json_text_fault(
    value: Any, *, multiline: bool = True, max_length: int = JSON_TEXT_MAX
) -> JsonFault | None:
    """What is wrong with the strings in parsed JSON: "control" (a refused character),
    "too_long" (longer than ``max_length``), or None. Every string, each value and each
    key however deep, must pass the rule (multi-line by default: a view decides whether
    its field is one line) and be at most ``max_length`` characters. The caller says it
    in a whole sentence of its own."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if has_refused_characters(item, multiline=multiline):
                return "control"
            if len(item) > max_length:
                return "too_long"
    return None


def checks_own_json(view):
    """Mark a view that checks its JSON body itself, item by item, with
    ``json_text_fault`` (the outreach sync answers each contact on its own, so one bad
    contact never holds back the others)."""
    view.checks_own_json = True
    return view


def register_input_checks(app) -> None:
    """Refuse, before any view runs, what no view takes: a file part (only a view marked
    ``takes_files``, the spreadsheet import, takes one, up to IMPORT_MAX_BYTES), a
    control character in the address's query, and a refused string in a JSON body."""
    from flask import abort, request

    @app.before_request
    def refuse_files_and_odd_queries():
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "takes_files", False):
            request.max_content_length = app.config["IMPORT_MAX_BYTES"]
        elif request.files:
            abort(400, _("This page takes no files: type the text into the form instead."))
        for value in request.args.values():
            if has_refused_characters(value):
                abort(
                    400,
                    _(
                        "The address holds a control character. Remove the control "
                        "character (an invisible character such as NUL or a pasted line "
                        "break) from this box."
                    ),
                )

    @app.before_request
    def refuse_odd_json():
        """Every JSON body, whichever view takes it, passes the text rule first."""
        view = app.view_functions.get(request.endpoint or "")
        if not request.is_json or getattr(view, "checks_own_json", False):
            return None
        try:
            fault = json_text_fault(request.get_json(silent=True))
        except RecursionError:  # nested deeper than the parser goes
            message = _("The request is nested too deeply to read; nothing was done.")
        else:
            if fault is None:
                return None
            message = (
                _(
                    "The request holds a control character (an invisible character such "
                    "as NUL); nothing was done."
                )
                if fault == "control"
                else _(
                    "The request holds a value longer than %(limit)s characters; nothing was done.",
                    limit=format_number(JSON_TEXT_MAX),
                )
            )
        return {"error": message, "status": 400}, 400


__all__ = [
    "JSON_TEXT_MAX",
    "MESSAGE",
    "checks_own_json",
    "has_refused_characters",
    "json_text_fault",
    "register_input_checks",
]
