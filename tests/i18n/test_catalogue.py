"""The catalogues are complete and current: every text the code marks is in the template
and translated into Spanish, placeholders and tags survive translation, and the compiled
``.mo`` files (which ship in the wheel) hold what the ``.po`` files say."""

from __future__ import annotations

import re

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.i18n.spanish import ROOT, SPANISH_PO, catalogue

TEMPLATE = ROOT / "ssp" / "translations" / "messages.pot"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]|%[sdif]")
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")


def _marked_in_code() -> set[str]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _name, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        text = message if isinstance(message, str) else message[0]
        found.add(f"{context}\x04{text}" if context else text)
    return found


def _ids(messages) -> set[str]:
    found = set()
    for m in messages:
        if m.id:
            text = m.id if isinstance(m.id, str) else m.id[0]
            found.add(f"{m.context}\x04{text}" if m.context else text)
    return found


def test_the_template_holds_every_marked_text():
    with TEMPLATE.open("rb") as handle:
        template = read_po(handle)
    in_code = _marked_in_code()
    missing = sorted(in_code - _ids(template))
    stale = sorted(_ids(template) - in_code)
    assert missing == [], "run the pybabel extract command of docs/translating.md"
    assert stale == [], "run the pybabel extract command of docs/translating.md"


def test_every_text_has_a_spanish_translation():
    with TEMPLATE.open("rb") as handle:
        template = read_po(handle)
    spanish = catalogue()
    assert sorted(_ids(template) - _ids(spanish)) == [], "run pybabel update"
    untranslated = [
        m.id
        for m in spanish
        if m.id and not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]
    assert untranslated == []
    assert [m.id for m in spanish if m.id and m.fuzzy] == []


def test_translations_keep_placeholders_and_tags():
    problems = []
    for message in catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            if set(PLACEHOLDER.findall(text)) - wanted or (
                len(ids) == 1 and set(PLACEHOLDER.findall(text)) != wanted
            ):
                problems.append((ids[0], text))
            if sorted(TAG.findall(ids[0])) != sorted(TAG.findall(text)):
                problems.append((ids[0], text))
    assert problems == []


def _entries(messages) -> dict:
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {(m.context, plain(m.id)): plain(m.string) for m in messages if m.id}


def test_compiled_catalogues_match_their_sources():
    for po_path in (ROOT / "ssp" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.is_file(), f"run pybabel compile: {mo_path} is missing"
        with po_path.open("rb") as handle:
            source = _entries(m for m in read_po(handle) if not m.fuzzy)
        with mo_path.open("rb") as handle:
            compiled = _entries(read_mo(handle))
        assert compiled == source, f"run pybabel compile: {mo_path} is older than its .po"


def test_spanish_po_is_the_file_the_tests_read():
    assert SPANISH_PO.is_file()


def test_a_lazy_text_is_escaped_in_a_template(app):
    """Flask-Babel's own lazy string claims to be safe HTML; ssp's is escaped, so a typed
    name filled into it cannot inject markup."""
    from flask import jsonify, render_template_string

    from ssp.i18n import _l

    with app.test_request_context():
        text = _l("Item %(name)s", name='<img src=x onerror="alert(1)">')
        page = render_template_string("<p>{{ text }}</p>", text=text)
        assert "<img" not in page and "&lt;img" in page
        assert jsonify(text=_l("it's %(n)s", n="<b>")).get_json() == {"text": "it's <b>"}
