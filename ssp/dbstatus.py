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

from ssp.i18n import _


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
            return _("The database has no ssp tables yet: run `ssp db upgrade`.")
        if set(self.current) - self.known:
            return _(
                "The database was migrated by a newer version of ssp (%(revisions)s); "
                "install that version.",
                revisions=", ".join(self.current),
            )
        return _("The database is not at the latest migration: run `ssp db upgrade`.")


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
            return _(
                "The SQLite database %(path)s cannot be created: the folder %(folder)s does "
                "not exist (create it, or run `ssp quickstart`, which does).",
                path=path,
                folder=path.parent,
            )
        return _(
            "The SQLite database %(path)s cannot be opened: check that the file and its "
            "folder can be read and written by this user.",
            path=path,
        )
    if "no such table" in message or "no such column" in message:
        return _(
            "The database %(path)s has no ssp tables, or old ones: run `ssp db upgrade`.",
            path=path,
        )
    if "file is not a database" in message:
        return _("%(path)s is not a SQLite database (check SQLALCHEMY_DATABASE_URI).", path=path)
    if "database is locked" in message:
        return _(
            "The database %(path)s is busy in another program; try again in a moment.",
            path=path,
        )
    return _(
        "The SQLite database %(path)s cannot be used: %(error)s",
        path=path,
        error=_first_line(message),
    )


_ROLE_MISSING = re.compile(r'role "([^"]+)" does not exist')
_DATABASE_MISSING = re.compile(r'database "([^"]+)" does not exist')


def _explain_server(error: DBAPIError, message: str, url: URL) -> str:
    server = f"{url.host or 'localhost'}:{url.port or 5432}"
    if isinstance(error, ProgrammingError) and (
        "does not exist" in message and ("relation" in message or "column" in message)
    ):
        return _(
            "The database %(name)s has no ssp tables, or old ones: run `ssp db upgrade`.",
            name=repr(url.database),
        )
    if not isinstance(error, OperationalError):
        return _(
            "The database cannot be used (%(error)s): run `ssp db upgrade`?",
            error=type(error.orig).__name__,
        )
    if "Connection refused" in message:
        return _(
            "Nothing answers as PostgreSQL at %(server)s: is the PostgreSQL server running there?",
            server=server,
        )
    if "failed to resolve host" in message or "could not translate host name" in message:
        return _(
            "The database host %(host)s cannot be found: check the database URL.",
            host=repr(url.host),
        )
    if match := _DATABASE_MISSING.search(message):
        return _(
            "PostgreSQL at %(server)s has no database %(name)s: create it (%(command)s), "
            "then run `ssp db upgrade`.",
            server=server,
            name=repr(match.group(1)),
            command=f"createdb --owner {url.username or 'ssp'} {match.group(1)}",
        )
    if match := _ROLE_MISSING.search(message):
        return _(
            "PostgreSQL at %(server)s has no user %(name)s: create it (%(command)s) or fix "
            "the user in the database URL.",
            server=server,
            name=repr(match.group(1)),
            command=f"createuser --pwprompt {match.group(1)}",
        )
    if "password authentication failed" in message or "no password supplied" in message:
        return _(
            "PostgreSQL at %(server)s refused the password for user %(name)s: check the "
            "database URL.",
            server=server,
            name=repr(url.username),
        )
    if "timeout" in message.lower():
        return _(
            "PostgreSQL at %(server)s did not answer in time: check the host, the port and "
            "the firewall.",
            server=server,
        )
    return _(
        "PostgreSQL at %(server)s cannot be used: %(error)s",
        server=server,
        error=_first_line(message),
    )


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else _("unknown error")
    return line.removeprefix("connection failed: ")


def app_database_problem(app) -> str | None:
    """:func:`database_problem` for the app's own database and migrations."""
    from ssp import register_migrations
    from ssp.extensions import db

    register_migrations(app)
    with app.app_context():
        return database_problem(db.engine, app.extensions["migrate"].directory)
