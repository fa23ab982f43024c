"""Settings: the defaults and the order they are loaded in.

Order, later wins: the defaults below < the config file (``instance/config.py``, or the
file named by ``SSP_CONFIG``) < ``SSP_*`` environment variables (``SSP_SECRET_KEY=...``
sets ``SECRET_KEY``; values are parsed as JSON when they can be, so ``SSP_DEBUG=true`` is
a boolean). A mapping passed to ``create_app(config=...)`` replaces the file and is
applied last; the tests use it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

#: The placeholder secret; the app refuses to start with it outside debug or testing
#: (so the linters' "hard-coded password" warning does not apply).
INSECURE_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105  # nosec B105


def N_(text: str) -> str:
    """Marks a default text for translation (it is translated where it is shown)."""
    return text


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says how to fix it."""


class Defaults:
    """Every setting with its default; config.example.py documents each one."""

    SECRET_KEY = INSECURE_SECRET_KEY
    # None means: SQLite file ssp.sqlite3 in the instance folder.
    SQLALCHEMY_DATABASE_URI: str | None = None
    # hide_parameters: an error logged by SQLAlchemy never carries a code or a note.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}

    PROGRAM_NAME = N_("Syringe services program")  # the default is shown translated
    # The title printed on wallet cards; "" prints none. Never PROGRAM_NAME by default: a
    # card in someone's pocket must not say what program they use.
    CARD_TITLE = ""
    TIMEZONE = "America/Los_Angeles"
    # The program's language ("en", "es"): for anyone whose account and browser name none
    # ssp speaks, for commands, and for the default catalogue's names.
    LANGUAGE = "en"

    PASSWORD_MIN_LENGTH = 12
    # argon2id cost; the defaults are RFC 9106's low-memory profile (64 MiB, 3 passes).
    PASSWORD_HASH_TIME_COST = 3
    PASSWORD_HASH_MEMORY_KIB = 65_536
    PASSWORD_HASH_PARALLELISM = 4
    LOGIN_MAX_FAILURES = 10  # wrong passwords from one address, per account
    LOGIN_LOCKOUT_MINUTES = 15
    # Wrong passwords an hour for one account from addresses it never signed in from.
    LOGIN_ACCOUNT_FAILURES_PER_HOUR = 60
    # Roles that must use two-step sign-in (an authenticator app); front desk may.
    REQUIRE_TWO_STEP_ROLES = ["admin", "manager"]
    # Passkeys: the public host and origin, when the request's are not them (a proxy
    # that rewrites the Host header). None: the request's own.
    WEBAUTHN_RP_ID = None
    WEBAUTHN_ORIGIN = None
    SIGN_IN_RATE_LIMIT = "20 per minute"
    IDLE_TIMEOUT_MINUTES = 15
    SESSION_MAX_HOURS = 12
    RECENT_SIGN_IN_MINUTES = 10

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = False

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = 0
    PERMANENT_SESSION_LIFETIME = 12 * 60 * 60
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers to trust.
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0

    # The anonymous code: an ordered list of parts the code builder asks for (see
    # config.example.py). None means the built-in default (mother's first name, birth
    # city, day and year of birth).
    PARTICIPANT_CODE_SCHEME: list[dict[str, Any]] | None = None
    PARTIAL_SEARCH_MIN_LENGTH = 2
    SEARCH_RESULTS_LIMIT = 20

    VISIT_BACKDATE_DAYS = 30
    VISIT_ITEM_MAX = 1000  # most units of one item per visit, unless the item says otherwise
    VISIT_SERVICE_MAX = 50
    VISIT_SYRINGES_COLLECTED_MAX = 20000
    VISIT_SECONDARY_REACH_MAX = 200
    # The visit form folds a supply category that fewer than this share of the site's
    # visits used over the last VISIT_FORM_USAGE_DAYS days (syringes, naloxone and test
    # strips always come first, unfolded).
    VISIT_FORM_FOLD_SHARE = 0.05
    VISIT_FORM_USAGE_DAYS = 90

    # Days after a referral that its follow-up is due, per category (moud, housing, ...);
    # categories not listed use FOLLOW_UP_DEFAULT_DAYS.
    FOLLOW_UP_DAYS: dict[str, int] = {}
    FOLLOW_UP_DEFAULT_DAYS = 7
    # An open follow-up closes as "could not reach" once more than this many days have
    # passed since it was due and since the person's last visit; 0 never closes one.
    FOLLOW_UP_CLOSE_AFTER_DAYS = 60
    WORKLIST_PAGE_SIZE = 25
    REFERRALS_PAGE_SIZE = 50
    LEDGER_PAGE_SIZE = 50
    AUDIT_PAGE_SIZE = 50

    # Low stock, from each site's own use (config.example.py explains each): a line is low
    # when on hand will not last STOCK_LEAD_TIME_DAYS + STOCK_SAFETY_DAYS at the site's
    # average daily use over the last STOCK_USE_WINDOW_DAYS; the suggested order adds
    # STOCK_ORDER_CYCLE_DAYS of use on top, rounded up to whole packs.
    STOCK_USE_WINDOW_DAYS = 90
    STOCK_LEAD_TIME_DAYS = 14
    STOCK_SAFETY_DAYS = 7
    STOCK_ORDER_CYCLE_DAYS = 30

    # Importing spreadsheets (ssp import, Admin > Import a spreadsheet): the largest file the page
    # takes, the most contacts one daily tally line may count, and how long a file
    # uploaded but never imported is kept.
    IMPORT_MAX_BYTES = 64 * 1024 * 1024
    IMPORT_TALLY_CONTACTS_MAX = 2000
    IMPORT_UPLOAD_KEEP_HOURS = 24

    REPORTS_DIR: str | None = None  # None means: reports/ beside the instance folder
    # `ssp backup` encrypts to these age public keys (age1...), or the keys listed in a
    # file named here; [] refuses to back up unless --unencrypted is given.
    BACKUP_RECIPIENTS: list[str] | str = []
    # No funder profile may suppress below this (counts 1 to this-1 print as "<this").
    MIN_SUPPRESSION_THRESHOLD = 11
    # Drug checking (docs/drug-checking.md): whether a result may name the participant
    # (off: results are never tied to a person); the signal rule (a finding positive in at
    # least MIN_POSITIVES samples over the last DAYS days, whose share rose by RISE, a
    # fraction, against the 4 x DAYS days before); where an alert flyer's QR code points
    # (None: no QR code); and the advice an alert can carry, by key.
    DRUG_CHECK_LINK_PARTICIPANTS = False
    DRUG_CHECK_SIGNAL_DAYS = 7
    DRUG_CHECK_SIGNAL_MIN_POSITIVES = 3
    DRUG_CHECK_SIGNAL_RISE = 0.25
    ALERT_PUBLIC_URL: str | None = None
    ALERT_DAYS = 14
    ALERT_ADVICE: dict[str, str] = {
        "use_with_someone": N_("Use with someone, or call a never-use-alone line."),
        "start_low": N_("Start low and go slow: try a small amount first."),
        "carry_naloxone": N_("Carry naloxone and know how to use it. Free kits here."),
        "test_first": N_("Test before you use: free test strips here."),
        "xylazine_wounds": N_("Xylazine can cause wounds: come to us for wound care early."),
        "xylazine_breathing": N_("Naloxone still helps: give it, then rescue breaths."),
    }

    # The evaluator export (ssp export, Reports > Data for evaluators): every combination
    # of its quasi-identifiers is shared by at least this many people (k-anonymity).
    EXPORT_MIN_GROUP_SIZE = 11
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    DEBUG = False


def load_config(app: Flask, override: Mapping[str, Any] | None) -> None:
    """Fill ``app.config`` in the documented order and check the result."""
    app.config.from_object(Defaults)
    if override is None:
        config_file = os.environ.get("SSP_CONFIG") or str(Path(app.instance_path) / "config.py")
        app.config.from_pyfile(config_file, silent="SSP_CONFIG" not in os.environ)
    app.config.from_prefixed_env(prefix="SSP")
    if override is not None:
        app.config.from_mapping(override)
    _fill_derived(app)
    _check_secret_key(app)


def _fill_derived(app: Flask) -> None:
    """Settings whose default depends on where the instance folder is."""
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        uri = "sqlite:///" + str(Path(app.instance_path) / "ssp.sqlite3")
    app.config["SQLALCHEMY_DATABASE_URI"] = check_database_uri(normalise_database_uri(uri))
    # Keep query values (codes, notes) out of logged database errors, whatever the file says.
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("hide_parameters", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("REPORTS_DIR"):
        app.config["REPORTS_DIR"] = str(Path(app.instance_path).parent / "reports")


def normalise_database_uri(uri: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg 3 driver that ssp installs."""
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix) :]
    return uri


#: The database backends ssp is built and tested for.
SUPPORTED_DATABASES = ("sqlite", "postgresql")
#: The drivers ssp installs for each (None: the URL names none, SQLAlchemy's default).
INSTALLED_DRIVERS = {"sqlite": (None, "pysqlite"), "postgresql": ("psycopg",)}
DATABASE_URI_HELP = (
    "use sqlite:////absolute/path/ssp.sqlite3 or postgresql://user:password@host:5432/name"
)


def check_database_uri(uri: str) -> str:
    """The URI, if SQLAlchemy can parse it and it names a database ssp supports.

    The message never repeats the URI: it may carry a password.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(uri)
        backend = url.get_backend_name()
    except (ArgumentError, ValueError):
        raise ConfigError(
            f"SQLALCHEMY_DATABASE_URI is not a database URL: {DATABASE_URI_HELP}."
        ) from None
    if backend not in SUPPORTED_DATABASES:
        raise ConfigError(
            f"SQLALCHEMY_DATABASE_URI names a {backend!r} database; ssp works with SQLite "
            f"and PostgreSQL: {DATABASE_URI_HELP}."
        )
    driver = url.drivername.partition("+")[2] or None
    if driver not in INSTALLED_DRIVERS[backend]:
        raise ConfigError(
            f"SQLALCHEMY_DATABASE_URI asks for the {driver!r} driver, which ssp does not "
            f"install; leave the driver out: {DATABASE_URI_HELP}."
        )
    if backend == "postgresql" and not (url.database or url.query.get("dbname")):
        # libpq would quietly pick a database named after the user.
        raise ConfigError(
            "SQLALCHEMY_DATABASE_URI needs the database's name at its end, as in "
            "postgresql://user:password@host:5432/name."
        )
    return uri


def _check_secret_key(app: Flask) -> None:
    key = app.config.get("SECRET_KEY")
    if key is not None and not isinstance(key, str | bytes):
        # SSP_SECRET_KEY=1234... is parsed as a JSON number; a key is text.
        key = app.config["SECRET_KEY"] = str(key)
    if app.debug or app.testing:
        return
    if not key or key == INSECURE_SECRET_KEY or len(str(key)) < 16:
        raise ConfigError(
            "SECRET_KEY is not set: put SECRET_KEY = '<long random string>' in "
            f"{Path(app.instance_path) / 'config.py'} or set SSP_SECRET_KEY "
            "(make one with: python -c 'import secrets; print(secrets.token_hex(32))'), "
            "or run `ssp quickstart`, which writes one."
        )
