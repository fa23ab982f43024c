"""`ssp backup PATH`: a consistent copy of the database, taken while the app runs.

SQLite: the online backup API copies the database page by page into a temporary file
beside PATH, which is checked with ``PRAGMA integrity_check`` and then renamed into
place, so PATH is either a whole, checked copy or absent. PostgreSQL is backed up with its
own tool: ``postgresql_instructions`` gives the ``pg_dump`` and ``pg_restore`` commands
for the configured database, and `ssp backup` prints them and exits non-zero, so that a
cron job never mistakes it for a backup taken.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    """The backup could not be made; the message says why. Nothing is left at PATH."""


@dataclass(frozen=True)
class BackupResult:
    """What was written."""

    path: Path
    size: int
    kind: str


def _temporary_beside(target: Path, *, replacing: bool = False) -> Path:
    """An empty temporary file in ``target``'s folder, to be renamed onto it when whole."""
    if target.exists() and not replacing:
        raise BackupError(f"{target} already exists; choose a new file name.")
    folder = target.parent
    if not folder.is_dir():
        raise BackupError(f"The folder {folder} does not exist.")
    if not os.access(folder, os.W_OK):
        raise BackupError(f"Cannot write to {folder}.")
    handle, name = tempfile.mkstemp(dir=folder, prefix=".partial-", suffix=target.suffix)
    os.close(handle)
    return Path(name)


def backup(database_url: str, target: Path) -> BackupResult:
    """Copy the SQLite database at ``database_url`` to ``target`` (which must not exist)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(f"Backups of {url.get_backend_name()} databases are not made by ssp.")
    temporary = _temporary_beside(target)
    try:
        _sqlite_backup(url.database, temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return BackupResult(target, target.stat().st_size, "SQLite database")


def is_postgresql(database_url: str) -> bool:
    """Whether the database is PostgreSQL (backed up with pg_dump, not by ssp)."""
    return make_url(database_url).get_backend_name() == "postgresql"


def postgresql_instructions(database_url: str, target: Path) -> str:
    """How to back up (and restore) the configured PostgreSQL database with its own tools.

    The password is never printed: pg_dump reads it from PGPASSWORD or ~/.pgpass.
    """
    configured = make_url(database_url)
    secret = {"password", "sslpassword"}
    url = URL.create(  # built afresh: URL.set(password=None) would keep the password
        drivername="postgresql",
        username=configured.username,
        host=configured.host,
        port=configured.port,
        database=configured.database,
        query={key: value for key, value in configured.query.items() if key not in secret},
    )
    dsn = url.render_as_string(hide_password=False)
    dump = shlex.join(["pg_dump", "--format=custom", "--file", str(target), "--dbname", dsn])
    restore = shlex.join(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--dbname", dsn, str(target)]
    )
    return (
        "ssp does not back up PostgreSQL itself: use PostgreSQL's pg_dump, which takes a "
        "consistent snapshot while the app runs.\n"
        f"  Back up:  {dump}\n"
        f"  Restore:  {restore}   (stop the app first)\n"
        "Give the password in PGPASSWORD or ~/.pgpass; run the backup from cron and keep "
        "copies off this machine."
    )


def _sqlite_backup(source_path: str | None, destination: Path) -> None:
    if not source_path or not Path(source_path).exists():
        raise BackupError("The SQLite database file does not exist.")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=15)
    copy = sqlite3.connect(destination)
    try:
        # Small steps, so writers at the desk wait milliseconds, not the whole copy.
        source.backup(copy, pages=1024, sleep=0.005)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"The copy failed its integrity check: {result}")
    finally:
        copy.close()
        source.close()


def _lock_path(database_path: str) -> Path:
    return Path(database_path + ".serving")


class ServingLock:
    """Held by `ssp serve` while it runs, so `ssp restore` can tell the database is in use."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.path = (
            _lock_path(url.database)
            if url.get_backend_name() == "sqlite" and url.database
            else None
        )
        self.handle = None

    def __enter__(self) -> ServingLock:
        if self.path is not None:
            import fcntl

            # Read-only and readable by all: whoever created it, any user can lock it.
            self.handle = os.fdopen(os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644))
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self.handle.close()
                self.handle = None  # another server is running: it keeps the lock
        return self

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.handle.close()


def restore(database_url: str, source: Path) -> int:
    """Put a SQLite backup in place of the database; refuses while a server uses it."""
    import fcntl

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError("On PostgreSQL, restore a dump with pg_restore into a new database.")
    if not source.is_file():
        raise BackupError(f"{source} is not a file.")
    check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source} is not an ssp database: {error}") from None
    finally:
        check.close()
    if result != "ok" or "visits" not in tables:
        raise BackupError(f"{source} is not a whole ssp database (integrity: {result}).")
    target = Path(url.database)
    lock = _lock_path(url.database)
    with os.fdopen(os.open(lock, os.O_RDONLY | os.O_CREAT, 0o644)) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BackupError(
                "The server is using this database: stop `ssp serve` first."
            ) from None
        temporary = _temporary_beside(target, replacing=True)
        try:
            shutil.copyfile(source, temporary)
            for suffix in ("-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    return target.stat().st_size
