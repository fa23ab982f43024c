"""Languages: which one a page, a report, a printout or a command speaks, the gettext
helpers every module marks its words with, and dates and numbers in the reader's locale.

Marking words (the catalogues live in ``ssp/translations``; docs/translating.md):

* in Python, ``_("Text")`` where a request or command is running, ``_l("Text")`` for
  module-level constants (form labels, choices, enum labels): it is looked up each time
  it is shown; ``ngettext("%(num)d visit", "%(num)d visits", n)`` for plurals;
  ``pgettext("follow-up status", "Open")`` (``lazy_pgettext``) where one English word
  has two meanings;
* in templates, ``{{ _("Text") }}``, ``{{ _("%(n)s left", n=count) }}``,
  ``{{ ngettext(...) }}`` or ``{% trans %}...{% endtrans %}`` (trimmed).

Which language, first match wins:

* a page: the person's own choice in their account; else the language picked on the
  sign-in page (a cookie); else the browser's Accept-Language; else ``LANGUAGE``;
* a report: its funder profile's language; else the page's or command's language;
* wallet cards and alert flyers: the language picked on their print form;
* a command: ``SSP_LANGUAGE``, then the usual ``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/
  ``LANG``, then ``LANGUAGE``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from functools import cache
from typing import Any

import flask_babel
from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, has_request_context, request
from flask_babel import LazyString, force_locale, get_locale
from jinja2 import Environment
from markupsafe import escape

from ssp import PACKAGE_DIR

__all__ = [
    "_",
    "_l",
    "force_locale",
    "format_day",
    "format_number",
    "gettext",
    "language_choices",
    "ngettext",
    "pgettext",
]

SOURCE_LANGUAGE = "en"
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"
LANGUAGE_COOKIE = "ssp_language"
# Messages looked up in a language whose catalogue lacks them; set only by the tests.
_missing: set[str] | None = None


@cache
def available_languages() -> tuple[str, ...]:
    """English (the words in the code) and each language with a compiled catalogue."""
    found = sorted(
        entry.name
        for entry in TRANSLATIONS_DIR.iterdir()
        if (entry / "LC_MESSAGES" / "messages.mo").is_file()
    )
    return (SOURCE_LANGUAGE, *[code for code in found if code != SOURCE_LANGUAGE])


def language_name(code: str) -> str:
    """A language's name in that language ("English", "Español")."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def language_choices() -> list[tuple[str, str]]:
    """(code, own name) of each language the app speaks."""
    return [(code, language_name(code)) for code in available_languages()]


def _tag(code: str) -> str:
    """A language tag as Babel writes it, from a browser's (es-MX) or a locale's
    (es_MX.UTF-8@euro) spelling: es_MX."""
    return code.replace("-", "_").split(".")[0].split("@")[0]


def supported(code: str | None) -> str | None:
    """``code`` (or its language part, ``es_MX`` → ``es``) if the app speaks it."""
    if not code:
        return None
    code = _tag(code)
    languages = available_languages()
    if code in languages:
        return code
    base = code.split("_")[0].lower()
    return base if base in languages else None


def _person_language() -> str | None:
    from flask_login import current_user

    try:
        if current_user and current_user.is_authenticated:
            return supported(getattr(current_user, "language", None))
    except Exception:  # noqa: BLE001  (an error page must still render in some language)
        return None
    return None


def with_region(code: str) -> str:
    """The locale to write in for a language the app speaks: the region the reader asked
    for when Babel knows it (``es-MX`` writes 30,300 where ``es`` writes 30.300), else the
    program's region for that language (``LANGUAGE = "es_US"``), else none."""
    base, _, region = _tag(code).partition("_")
    base = base.lower()
    if region:
        try:
            return str(Locale.parse(f"{base}_{region.upper()}"))
        except (ValueError, UnknownLocaleError):
            pass
    program = str(current_app.config.get("LANGUAGE") or SOURCE_LANGUAGE)
    if program.split("_")[0] == base:
        return program
    return base


def _browser_language() -> str | None:
    """The first language of Accept-Language, in the browser's order, that the app
    speaks (``es-MX,en;q=0.9`` is Spanish: Werkzeug's best match would pick English)."""
    for tag, quality in request.accept_languages:
        if quality > 0 and supported(tag):
            return with_region(tag)
    return None


def _environment_language() -> str | None:
    """A command's language: SSP_LANGUAGE (which also sets the LANGUAGE setting), else the
    first usable entry of LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as gettext reads them."""
    chosen = os.environ.get("SSP_LANGUAGE")
    if chosen and supported(chosen):
        return with_region(chosen)
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name) or ""
        # LANGUAGE is a list; of the others, the first that is set decides, as for gettext
        parts = value.split(":") if name == "LANGUAGE" else [value]
        for part in parts:
            usable = part and part not in ("C", "POSIX") and not part.startswith("C.")
            if usable and supported(part):
                return with_region(part)
        if value and name != "LANGUAGE":
            return None
        if name != "LANGUAGE" and value:
            return None
    return None


def select_language() -> str:
    """The language of this request or command (see the module docstring)."""
    if has_request_context():
        chosen = _person_language() or supported(request.cookies.get(LANGUAGE_COOKIE))
        if chosen:
            return with_region(chosen)
        chosen = _browser_language()
    else:
        chosen = _environment_language()
    return chosen or current_app.config["LANGUAGE"]


def current_language() -> str:
    """The language being spoken now, as a code ("en", "es")."""
    locale = get_locale()
    return locale.language if locale is not None else SOURCE_LANGUAGE


def _note_lookup(message: str | tuple[str, int]) -> None:
    """Record a marked message the current catalogue lacks (tests only)."""
    if _missing is None:
        return
    locale = get_locale()
    if locale is None or locale.language == SOURCE_LANGUAGE:
        return
    catalogue = getattr(flask_babel.get_translations(), "_catalog", {})
    if not catalogue.get(message):
        text = message if isinstance(message, str) else message[0]
        _missing.add(text.replace("\x04", " | "))


def _translate(string: str) -> str:
    _note_lookup(string)
    return flask_babel.get_translations().ugettext(string)


def _translate_plural(singular: str, plural: str, num: int) -> str:
    _note_lookup((singular, 0))
    return flask_babel.get_translations().ungettext(singular, plural, num)


def _translate_in_context(context: str, string: str) -> str:
    _note_lookup(f"{context}\x04{string}")
    return flask_babel.get_translations().upgettext(context, string)


def gettext(string: str, **variables: Any) -> str:
    """``string`` in the current language, with ``%(name)s`` filled from ``variables``."""
    _note_lookup(string)
    return flask_babel.gettext(string, **variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for ``num``; ``%(num)d`` is filled in."""
    _note_lookup((singular, 0))
    return flask_babel.ngettext(singular, plural, num, **variables)


class LazyText(LazyString):
    """A text looked up in the current language each time it is used. In a template it is
    escaped like any other text (Flask-Babel's own lazy string claims to be safe HTML,
    which would let a typed name filled into it inject markup)."""

    def __html__(self) -> str:
        return str(escape(str(self)))


def pgettext(context: str, string: str, **variables: Any) -> str:
    """``string`` as meant in ``context`` ("Open" a status, not "Open" a link)."""
    _note_lookup(f"{context}\x04{string}")
    return flask_babel.pgettext(context, string, **variables)


def lazy_pgettext(context: str, string: str, **variables: Any) -> LazyText:
    """``pgettext`` looked up when the text is shown."""
    return LazyText(pgettext, context, string, **variables)


def lazy_gettext(string: str, **variables: Any) -> LazyText:
    """``gettext`` looked up when the text is shown, for module-level constants."""
    return LazyText(gettext, string, **variables)


_ = gettext
_l = lazy_gettext


@cache
def _wtforms_catalogue(locale: str) -> Any:
    from babel import support
    from wtforms.i18n import messages_path

    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class WTFormsMessages:
    """WTForms' own messages ("Not a valid integer value.") in the current language.

    Flask-WTF reads WTForms' catalogue from disk once per request; each language's is
    read here once per process (forms are built on every desk save)."""

    def gettext(self, string: str) -> str:
        return _wtforms_catalogue(str(get_locale())).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _wtforms_catalogue(str(get_locale())).ungettext(singular, plural, n)


wtforms_messages = WTFormsMessages()


def program_name(name: str | None = None) -> str:
    """The program's name (``PROGRAM_NAME``, or ``name``) as shown: the default name in
    the reader's language, a program's own as written."""
    from ssp.config import Defaults

    name = name if name is not None else str(current_app.config["PROGRAM_NAME"])
    return gettext(name) if name == Defaults.PROGRAM_NAME else name


def format_number(value: int | float | Decimal | None) -> str:
    """A number as the reader writes it (12,345 / 12.345)."""
    if value is None:
        return ""
    return flask_babel.format_decimal(value)


def format_day(value: dt.date | dt.datetime | None, style: str = "medium") -> str:
    """A day as the reader writes it: "medium" "Dec 4, 2026" / "4 dic 2026"; "full",
    "long", "short" as CLDR has them; "day_month" "Dec 4"; "month" "Dec 2026"."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if style in ("day_month", "month"):
        return format_moment(value, style)
    return flask_babel.format_date(value, style)


def format_clock(value: dt.datetime | dt.time | None) -> str:
    """A time of day as the reader writes it ("6:44 PM" / "18:44")."""
    if value is None:
        return ""
    return _plain_spaces(flask_babel.format_time(value, "short"))


# How a moment is written, by what the reader needs of it.
MOMENT_STYLES = ("minute", "second", "day", "day_month", "month", "time")


def format_moment(value: dt.datetime | dt.date, style: str = "minute") -> str:
    """A moment (already in the program's time zone) written for the reader:
    minute "Dec 4, 2026, 6:44 PM" / "4 dic 2026, 18:44"; second (with seconds); day
    "Dec 4, 2026"; day_month "Dec 4"; month "Dec 2026"; time "6:44 PM" / "18:44"."""
    from babel import dates

    locale = get_locale() or Locale.parse(SOURCE_LANGUAGE)
    if style == "day":
        return dates.format_date(value, "medium", locale=locale)
    if style == "day_month":
        return dates.format_skeleton("MMMd", value, locale=locale)
    if style == "month":
        return dates.format_skeleton("yMMM", value, locale=locale)
    if style == "time":
        return _plain_spaces(dates.format_time(value, "short", locale=locale))
    if style == "second":
        return _plain_spaces(dates.format_datetime(value, "medium", locale=locale))
    if style != "minute":
        raise ValueError(f"unknown moment style {style!r}; use one of {MOMENT_STYLES}")
    return _plain_spaces(
        str(locale.datetime_formats["medium"])
        .replace("{1}", dates.format_date(value, "medium", locale=locale))
        .replace("{0}", dates.format_time(value, "short", locale=locale))
    )


def _plain_spaces(text: str) -> str:
    """CLDR writes a narrow no-break space before "PM": a plain space copies, pastes and
    searches as people expect (and prints in every font)."""
    return text.replace("\u202f", " ")


@contextmanager
def recording_missing() -> Iterator[set[str]]:
    """Collect the marked messages that have no translation (for the tests)."""
    global _missing
    previous, _missing = _missing, set()
    try:
        yield _missing
    finally:
        _missing = previous


def _let_sessions_keep_lazy_texts() -> None:
    """A flash message given as ``_l(...)`` is stored in the session as the text it reads
    as now (the session cookie is JSON)."""
    from flask.json.tag import JSONTag
    from flask.sessions import session_json_serializer

    class LazyTextTag(JSONTag):
        __slots__ = ()
        key = " lz"

        def check(self, value: Any) -> bool:
            return isinstance(value, LazyString)

        def to_json(self, value: Any) -> str:
            return str(value)

        def to_python(self, value: Any) -> str:
            return value

    session_json_serializer.register(LazyTextTag, force=True, index=0)


def install_in_templates(environment: Environment) -> None:
    """``_``, ``ngettext`` and ``pgettext`` in a Jinja environment, through this module's
    helpers (so the tests see every lookup), ``{% trans %}`` blocks trimmed as babel.cfg
    extracts them. Jinja's newstyle callables fill in the variables themselves, escaped."""
    if "jinja2.ext.InternationalizationExtension" not in environment.extensions:
        environment.add_extension("jinja2.ext.i18n")
    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_translate,
        ngettext=_translate_plural,
        pgettext=_translate_in_context,
        newstyle=True,
    )


def _let_json_write_lazy_texts(app: Flask) -> None:
    """``jsonify`` writes a lazy text as plain text (not through ``__html__``)."""
    plain_default = app.json.default  # type: ignore[attr-defined]

    def default(value: Any) -> Any:
        if isinstance(value, LazyString):
            return str(value)
        return plain_default(value)

    app.json.default = default  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Bind Flask-Babel and install the template helpers."""
    from ssp.config import ConfigError

    configured = str(app.config.get("LANGUAGE") or SOURCE_LANGUAGE)
    language = supported(configured)
    if language is None:
        raise ConfigError(
            f"LANGUAGE {app.config.get('LANGUAGE')!r} is not one ssp speaks; use one of "
            + ", ".join(available_languages())
            + ' (with a region if you like, e.g. "es_US").'
        )
    tag = _tag(configured)
    if "_" in tag:  # keep a region Babel knows: it decides how numbers are written
        with suppress(ValueError, UnknownLocaleError):
            language = str(Locale.parse(tag))
    app.config["LANGUAGE"] = language
    app.config["BABEL_DEFAULT_LOCALE"] = language
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    flask_babel.Babel(app, locale_selector=select_language)
    install_in_templates(app.jinja_env)
    _let_sessions_keep_lazy_texts()
    _let_json_write_lazy_texts(app)
    app.jinja_env.filters.update(day=format_day, number=format_number, clock=format_clock)
    app.jinja_env.globals.update(
        current_language=current_language, language_choices=language_choices
    )
