"""What the Spanish tests share: the catalogue's words, and the words a Spanish page must
not show (English words of the interface that Spanish never uses)."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
SPANISH_PO = ROOT / "ssp" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
# Placeholders, tags and entities are not words of either language.
NOT_TEXT = re.compile(r"%\(\w+\)[sdifr]|<[^>]*>|&\w+;|\{\{.*?\}\}|\{\w+\}")

# Words that are the same, or have no other name, in both languages, or are names.
SHARED = {
    "ssp",
    "csv",
    "pdf",
    "html",
    "https",
    "json",
    "xlsx",
    "parquet",
    "sha",
    "utc",
    "totp",
    "url",
    "qr",
    "id",
    "ok",
    "mime",
    "sqlite",
    "postgresql",
    "zip",
    "age",
    "cdc",
    "naloxona",
    "narcan",
    "fentanyl",
    "xylazine",
    "moud",
    "hiv",
    "hcv",
    "std",
    "sti",
}


@cache
def catalogue():
    with SPANISH_PO.open("rb") as handle:
        return read_po(handle, locale="es")


def _words(text: str) -> set[str]:
    return {word.lower() for word in WORD.findall(NOT_TEXT.sub(" ", text))}


@cache
def english_only_words() -> frozenset[str]:
    """Words of the English messages that no Spanish message uses."""
    english: set[str] = set()
    spanish: set[str] = set()
    for message in catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in ids:
            english |= _words(text)
        for text in strings:
            spanish |= _words(text or "")
    return frozenset(english - spanish - SHARED)


# A data- attribute listing keys for a script ("moud hiv_care"), not words.
IDENTIFIERS = re.compile(r"[a-z0-9_\- ]+")


class _Text(HTMLParser):
    """The words a person sees or hears: text, and titles, labels, placeholders."""

    SPOKEN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
    # Scripts, styles, and text set as code: commands, keys, codes, JSON details.
    MACHINE_TEXT = ("script", "style", "code", "pre", "kbd", "samp")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        words_for_a_script = tag == "script" and values.get("type") == "application/json"
        if tag in self.MACHINE_TEXT and not words_for_a_script:
            self._skip += 1
        for name in self.SPOKEN_ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name])
        for name, value in values.items():
            # Words handed to a script: a sentence, not a URL or a JSON document.
            if (
                name.startswith("data-")
                and value
                and " " in value
                and value[0] not in "/{["
                and not IDENTIFIERS.fullmatch(value)
            ):
                self.parts.append(value)
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in self.MACHINE_TEXT and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(part.strip() for part in parser.parts if part.strip())


def english_left(html: str, data_words: set[str] = frozenset()) -> list[str]:
    """The text fragments of a page that still hold an English word of the interface."""
    english = english_only_words()
    found = []
    for fragment in visible_text(html).split("\n"):
        words = _words(fragment) - data_words
        if words & english:
            found.append(fragment[:120])
    return found


def spanish(message: str) -> str:
    """The Spanish catalogue's translation of ``message`` (KeyError if it has none)."""
    for entry in catalogue():
        if entry.id == message and entry.string:
            return entry.string
    raise KeyError(message)
