"""Whether the database can be used, in words a newcomer can act on.

Two questions: can the configured database be reached (and if not, why: no server, an
unknown user, a missing database, a missing folder), and is its schema at the latest
migration. ``ssp serve`` refuses to start unless both hold, ``/healthz`` answers 503
unless both hold, and every command turns a database failure into the one line from
:func:`explain_failure` instead of a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

UPGRADE_HINT = "run `ssp db upgrade`"


@dataclass(frozen=True)
class SchemaStatus:
    """The migrations the database has against the ones this version of ssp ships."""

    current: tuple[str, ...]
    latest: tuple[str, ...]
    known: frozenset[str]

    @property
    def is_latest(self) -> bool:
        return set(self.current) == set(self.latest)

    def problem(self) -> str | None:
        """None when the schema is the latest, else what to do about it."""
        if self.is_latest:
            return None
        if not self.current:
            return f"The database has no ssp tables yet: {UPGRADE_HINT}."
        if set(self.current) - self.known:
            return (
                "The database was migrated by a newer version of ssp "
                f"({', '.join(self.current)}); install that version."
            )
        return f"The database is not at the latest migration: {UPGRADE_HINT}."


@lru_cache(maxsize=4)
def shipped_revisions(migrations_dir: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The head revisions of the migrations this version ships, and every revision."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(migrations_dir)
    heads = tuple(sorted(scripts.get_heads()))
    return heads, frozenset(revision.revision for revision in scripts.walk_revisions())


def schema_status(engine: Engine, migrations_dir: str) -> SchemaStatus:
    """Read the database's migration revision (raises DBAPIError when unreachable)."""
    from alembic.migration import MigrationContext

    latest, known = shipped_revisions(migrations_dir)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return SchemaStatus(current=tuple(sorted(current)), latest=latest, known=known)


def database_problem(engine: Engine, migrations_dir: str) -> str | None:
    """None when the database answers and is at the latest migration, else the reason."""
    try:
        return schema_status(engine, migrations_dir).problem()
    except DBAPIError as error:
        return explain_failure(error, engine.url)


def explain_failure(error: DBAPIError, url: URL | str) -> str:
    """One line saying which of the usual failures this is and what to do.

    Never repeats the password, nor any query value (only the driver's own message about
    the connection or the schema).
    """
    url = make_url(url) if isinstance(url, str) else url
    message = str(error.orig) if error.orig is not None else str(error)
    if url.get_backend_name() == "sqlite":
        return _explain_sqlite(message, url)
    return _explain_server(error, message, url)


def _explain_sqlite(message: str, url: URL) -> str:
    path = Path(url.database or "")
    if "unable to open database file" in message:
        if url.database and not path.parent.exists():
            return (
                f"The SQLite database {path} cannot be created: the folder {path.parent} "
                "does not exist (create it, or run `ssp quickstart`, which does)."
            )
        return (
            f"The SQLite database {path} cannot be opened: check that the file and its "
            "folder can be read and written by this user."
        )
    if "no such table" in message or "no such column" in message:
        return f"The database {path} has no ssp tables, or old ones: {UPGRADE_HINT}."
    if "file is not a database" in message:
        return f"{path} is not a SQLite database (check SQLALCHEMY_DATABASE_URI)."
    if "database is locked" in message:
        return f"The database {path} is busy in another program; try again in a moment."
    return f"The SQLite database {path} cannot be used: {_first_line(message)}"


_ROLE_MISSING = re.compile(r'role "([^"]+)" does not exist')
_DATABASE_MISSING = re.compile(r'database "([^"]+)" does not exist')


def _explain_server(error: DBAPIError, message: str, url: URL) -> str:
    where = f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}"
    if isinstance(error, ProgrammingError) and (
        "does not exist" in message and ("relation" in message or "column" in message)
    ):
        return f"The database {url.database!r} has no ssp tables, or old ones: {UPGRADE_HINT}."
    if not isinstance(error, OperationalError):
        return f"The database cannot be used ({type(error.orig).__name__}): {UPGRADE_HINT}?"
    if "Connection refused" in message:
        return f"Nothing answers as {where}: is the PostgreSQL server running there?"
    if "failed to resolve host" in message or "could not translate host name" in message:
        return f"The database host {url.host!r} cannot be found: check the database URL."
    if match := _DATABASE_MISSING.search(message):
        return (
            f"{where} has no database {match.group(1)!r}: create it "
            f"(createdb --owner {url.username or 'ssp'} {match.group(1)}), then {UPGRADE_HINT}."
        )
    if match := _ROLE_MISSING.search(message):
        return (
            f"{where} has no user {match.group(1)!r}: create it (createuser --pwprompt "
            f"{match.group(1)}) or fix the user in the database URL."
        )
    if "password authentication failed" in message or "no password supplied" in message:
        return f"{where} refused the password for user {url.username!r}: check the database URL."
    if "timeout" in message.lower():
        return f"{where} did not answer in time: check the host, the port and the firewall."
    return f"{where} cannot be used: {_first_line(message)}"


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return line.removeprefix("connection failed: ")


def app_database_problem(app) -> str | None:
    """:func:`database_problem` for the app's own database and migrations."""
    from ssp.extensions import db

    with app.app_context():
        return database_problem(db.engine, app.extensions["migrate"].directory)
