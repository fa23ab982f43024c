"""What a text input may hold: the one place that refuses characters no screen, report
or database should receive.

Refused everywhere: NUL and the other C0 control characters, DEL, and unpaired UTF-16
surrogates (PostgreSQL rejects NUL outright, SQLite's LIKE stops at it, and a lone
surrogate cannot be encoded at all). Multi-line notes may also hold tab and newline;
single-line fields may not.
"""

from __future__ import annotations

import re

_ANYWHERE = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff"
_SINGLE_LINE = re.compile(rf"[{_ANYWHERE}\t\n\r]")
_MULTI_LINE = re.compile(rf"[{_ANYWHERE}]")

MESSAGE = (
    "Remove the control character (an invisible character such as NUL or a pasted "
    "line break) from this box."
)


def has_refused_characters(text: str, *, multiline: bool = False) -> bool:
    """True when ``text`` holds a character this kind of input refuses."""
    pattern = _MULTI_LINE if multiline else _SINGLE_LINE
    return pattern.search(text) is not None


def register_input_checks(app) -> None:
    """Refuse, before any view runs, what no view takes: a file part (only a view marked
    ``takes_files``, the spreadsheet import, takes one, up to IMPORT_MAX_BYTES) and a
    control character in the address's query."""
    from flask import abort, request

    @app.before_request
    def refuse_files_and_odd_queries():
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "takes_files", False):
            request.max_content_length = app.config["IMPORT_MAX_BYTES"]
        elif request.files:
            abort(400, "This page takes no files: type the text into the form instead.")
        for value in request.args.values():
            if has_refused_characters(value):
                abort(400, "The address holds a control character. " + MESSAGE)


__all__ = ["MESSAGE", "has_refused_characters", "register_input_checks"]
