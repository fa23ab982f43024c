"""A catalogue item's unit ("syringe", "kit") agreeing with a number.

Units are the program's own words (typed by staff, or the default catalogue's in the
program's ``LANGUAGE``), so no translation catalogue holds their plurals: they are made by
the rules of the language they are written in, the program's, whoever reads the page. A
language without a rule here shows the unit as typed.
"""

from __future__ import annotations

import re

from flask import current_app

# Spanish words after which the rest of a unit qualifies it ("caja de jeringas").
_SPANISH_LINKS = {"de", "del", "para", "con", "sin", "en", "a", "por"}
_SPANISH_STRESSED = str.maketrans("áéíóú", "aeiou")
_WORD = re.compile(r"^([^\W\d_]+)(\W*)$")


def _spanish_word(word: str) -> str:
    match = _WORD.match(word)
    if not match:
        return word
    stem, tail = match.groups()
    last = stem[-1].lower()
    if last in "aeiouáéó":
        plural = stem + "s"
    elif last == "z":
        plural = stem[:-1] + ("C" if stem[-1].isupper() else "c") + "es"
    elif last in "sx":
        plural = stem  # la crisis, las crisis
    elif last in "ndlrjy" or (last == "í" or last == "ú"):
        # Stress on the last syllable is written on it in the singular and not needed in
        # the plural: condón, condones.
        if len(stem) >= 2 and stem[-2] in "áéíóú" and last == "n":
            stem = stem[:-2] + stem[-2].translate(_SPANISH_STRESSED) + stem[-1]
        plural = stem + ("es" if last not in "íú" else "s")
    else:
        plural = stem + "s"  # words taken from other languages: kit, kits
    return plural + tail


def _spanish(unit: str) -> str:
    words = unit.split(" ")
    for index, word in enumerate(words):
        if word.lower() in _SPANISH_LINKS:
            break
        words[index] = _spanish_word(word)
    return " ".join(words)


def unit_for(unit: str, number: int | float) -> str:
    """``unit`` as it reads after ``number``: syringe, syringes; jeringa, jeringas (by the
    rules of the program's LANGUAGE, the language units are written in)."""
    if number in (1, -1) or not unit:
        return unit
    language = str(current_app.config.get("LANGUAGE", "en")).split("_")[0]
    if language == "en":
        return unit + "s"
    if language == "es":
        return _spanish(unit)
    return unit
