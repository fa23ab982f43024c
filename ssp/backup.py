"""`ssp backup PATH`: a consistent copy of the database, taken while the app runs,
encrypted to the program's backup key.

SQLite: the online backup API copies the database page by page into a temporary file,
which is checked with ``PRAGMA integrity_check``. Encrypted (the default), that copy is
made beside the *database* (where the same data already lies in plain form), streamed
through age encryption into a temporary file beside PATH, and removed whatever happens:
no plain copy ever reaches the backup folder, which is the one that goes off-site.
Unencrypted (``--unencrypted``, on purpose only), the checked copy is made beside PATH.
Either way the file is renamed into place when whole, so PATH is a whole, checked backup
or absent.

Encryption is age (https://age-encryption.org, through pyrage): X25519 recipients, the
public keys in ``BACKUP_RECIPIENTS``. The identity that opens a backup (made by
`ssp backup-key`) is kept offline, never on the server, so a copy of the server or of a
backup disk opens nothing. ``restore`` decrypts with the identity file it is given.

PostgreSQL is backed up with its own tool: ``postgresql_instructions`` gives the
``pg_dump`` and ``pg_restore`` commands for the configured database (piped through
``age`` when recipients are configured), and `ssp backup` prints them and exits
non-zero, so that a cron job never mistakes it for a backup taken.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from ssp.i18n import _, _l, ngettext

#: How every age file begins (binary, and ASCII-armoured).
AGE_MAGIC = (b"age-encryption.org/v1\n", b"-----BEGIN AGE ENCRYPTED FILE-----")
SQLITE_MAGIC = b"SQLite format 3\x00"
KEY_HELP = _l(
    "Make a key with `ssp backup-key /path/to/ssp-backup.key` (best on another computer: "
    "the key file must not stay on this server), then put the public key it prints "
    "(age1...) in BACKUP_RECIPIENTS in the config."
)


class BackupError(RuntimeError):
    """The backup could not be made; the message says why. Nothing is left at PATH."""


@dataclass(frozen=True)
class BackupResult:
    """What was written."""

    path: Path
    size: int
    kind: str


# --- keys -------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    """The meaningful lines of a key file (age's format: # starts a comment)."""
    return [line.strip() for line in text.splitlines() if line.strip() and line[:1] != "#"]


def parse_recipients(setting: Any) -> list:
    """The age recipients that ``BACKUP_RECIPIENTS`` names: one public key (``age1...``),
    the path of a file of them (one a line, as age reads), or a list of either. An empty
    setting gives []. Anything else is a BackupError that says what to put there."""
    from pyrage import RecipientError, x25519

    if not setting:
        return []
    entries = [setting] if isinstance(setting, str) else setting
    if not isinstance(entries, list | tuple) or not all(isinstance(e, str) for e in entries):
        raise BackupError(
            _(
                "BACKUP_RECIPIENTS must be an age public key (age1...), the path of a file of "
                'them, or a list of those, e.g. BACKUP_RECIPIENTS = ["age1..."].'
            )
        )
    keys: list[str] = []
    for entry in (e.strip() for e in entries):
        if entry.upper().startswith("AGE-SECRET-KEY-"):
            raise BackupError(
                _(
                    "BACKUP_RECIPIENTS holds a secret key (AGE-SECRET-KEY-...): put only the "
                    "public key (age1...) in the config, and keep the key file off this server."
                )
            )
        if entry.startswith("age1"):
            keys.append(entry)
            continue
        path = Path(entry).expanduser()
        try:
            listed = _lines(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            raise BackupError(
                _(
                    "BACKUP_RECIPIENTS: %(entry)s is neither an age public key (age1...) nor "
                    "a readable file of them.",
                    entry=repr(entry),
                )
            ) from None
        if not listed:
            raise BackupError(
                _("BACKUP_RECIPIENTS: the file %(path)s lists no public key.", path=path)
            )
        if any(line.upper().startswith("AGE-SECRET-KEY-") for line in listed):
            raise BackupError(
                _(
                    "BACKUP_RECIPIENTS: %(path)s holds a secret key (AGE-SECRET-KEY-...), not "
                    "public keys: list only the age1... lines, and keep the key file off this "
                    "server.",
                    path=path,
                )
            )
        keys.extend(listed)
    recipients = []
    for key in dict.fromkeys(keys):
        try:
            recipients.append(x25519.Recipient.from_str(key))
        except RecipientError:
            shown = key if len(key) <= 20 else key[:20] + "..."
            raise BackupError(
                _(
                    "BACKUP_RECIPIENTS: %(key)s is not an age public key (they start with "
                    "age1 and are 62 characters long, as `ssp backup-key` prints them).",
                    key=repr(shown),
                )
            ) from None
    return recipients


def describe(recipients: Iterable) -> str:
    """The recipients in a line: 'age1abc...xyz' or '2 keys (age1..., age1...)'."""
    shown = [f"{str(r)[:10]}...{str(r)[-6:]}" for r in recipients]
    if len(shown) == 1:
        return shown[0]
    return ngettext(
        "%(num)d key (%(keys)s)", "%(num)d keys (%(keys)s)", len(shown), keys=", ".join(shown)
    )


@dataclass(frozen=True)
class NewKey:
    """A backup identity just written: its file and the public key to configure."""

    path: Path
    recipient: str


def make_key(path: Path) -> NewKey:
    """Write a new age identity to ``path`` (mode 0600, never over an existing file)."""
    from pyrage import x25519

    folder = path.parent
    if not folder.is_dir():
        raise BackupError(_("The folder %(folder)s does not exist.", folder=folder))
    identity = x25519.Identity.generate()
    recipient = str(identity.to_public())
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = (
        f"# ssp backup key, created {created}. It opens every backup made to the public\n"
        "# key below: keep it offline, never on the server, in two safe places.\n"
        f"# public key: {recipient}\n"
        f"{identity}\n"
    )
    try:
        # O_EXCL: an existing file (or one made meanwhile) is never replaced.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(
            _(
                "%(path)s already exists: choose a new file name (a key file is never "
                "overwritten: the backups made to it could not be restored without it).",
                path=path,
            )
        ) from None
    except OSError as error:
        raise BackupError(
            _("Cannot write %(path)s: %(reason)s.", path=path, reason=error.strerror)
        ) from None
    try:
        with os.fdopen(handle, "w", encoding="ascii") as file:
            file.write(body)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return NewKey(path, recipient)


def read_identities(path: Path) -> list:
    """The age identities in a key file (``AGE-SECRET-KEY-1...`` lines)."""
    from pyrage import IdentityError, x25519

    try:
        lines = _lines(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        raise BackupError(_("Cannot read the key file %(path)s.", path=path)) from None
    keys = [line for line in lines if line.upper().startswith("AGE-SECRET-KEY-")]
    if not keys:
        if any(line.startswith("age1") for line in lines):
            raise BackupError(
                _(
                    "%(path)s holds no backup key (a line AGE-SECRET-KEY-1...). It holds a "
                    "public key (age1...): restoring needs the secret key file that "
                    "`ssp backup-key` wrote.",
                    path=path,
                )
            )
        raise BackupError(
            _("%(path)s holds no backup key (a line AGE-SECRET-KEY-1...).", path=path)
        )
    try:
        return [x25519.Identity.from_str(key) for key in keys]
    except IdentityError:
        raise BackupError(_("%(path)s holds a damaged backup key.", path=path)) from None


def _file_kind(path: Path) -> str:
    """ "encrypted", "sqlite" or "other", from the file's first bytes."""
    try:
        with open(path, "rb") as file:
            start = file.read(64)
    except OSError as error:
        raise BackupError(
            _("Cannot read %(path)s: %(reason)s.", path=path, reason=error.strerror)
        ) from None
    if start.startswith(AGE_MAGIC):
        return "encrypted"
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    return "other"


def _check_target(target: Path, *, replacing: bool = False) -> None:
    if target.exists() and not replacing:
        raise BackupError(_("%(path)s already exists; choose a new file name.", path=target))
    folder = target.parent
    if not folder.is_dir():
        raise BackupError(_("The folder %(folder)s does not exist.", folder=folder))
    if not os.access(folder, os.W_OK):
        raise BackupError(_("Cannot write to %(path)s.", path=folder))


def _temporary_beside(target: Path, *, replacing: bool = False) -> Path:
    """An empty temporary file (mode 0600) in ``target``'s folder, to be renamed onto it
    when whole."""
    _check_target(target, replacing=replacing)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=".partial-", suffix=target.suffix)
    os.close(handle)
    return Path(name)


def backup(database_url: str, target: Path, recipients: list | None = None) -> BackupResult:
    """Copy the SQLite database at ``database_url`` to ``target`` (which must not exist),
    encrypted to ``recipients``; with none, a plain copy (the caller has made sure that
    is what was asked for)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            _(
                "Backups of %(backend)s databases are not made by ssp.",
                backend=url.get_backend_name(),
            )
        )
    if not recipients:
        temporary = _temporary_beside(target)
        try:
            _sqlite_backup(url.database, temporary)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return BackupResult(target, target.stat().st_size, _("SQLite database, not encrypted"))
    _check_target(target)
    if not url.database or not Path(url.database).exists():
        raise BackupError(_("The SQLite database file does not exist."))
    plain = _temporary_beside(Path(url.database), replacing=True)
    sealed = None
    try:
        _sqlite_backup(url.database, plain)
        sealed = _temporary_beside(target)
        _encrypt(plain, sealed, recipients)
        os.replace(sealed, target)
        sealed = None
    finally:
        plain.unlink(missing_ok=True)  # the plain copy never outlives the backup
        if sealed is not None:
            sealed.unlink(missing_ok=True)
    kind = _("SQLite database encrypted to %(keys)s", keys=describe(recipients))
    return BackupResult(target, target.stat().st_size, kind)


def _encrypt(source: Path, destination: Path, recipients: list) -> None:
    """Stream ``source`` through age encryption into ``destination``, synced to disk."""
    import pyrage

    with open(source, "rb") as reader, open(destination, "wb") as writer:
        try:
            pyrage.encrypt_io(reader, writer, recipients)
        except pyrage.EncryptError as error:
            raise BackupError(
                _("The copy could not be encrypted: %(error)s.", error=error)
            ) from None
        writer.flush()
        os.fsync(writer.fileno())


def is_postgresql(database_url: str) -> bool:
    """Whether the database is PostgreSQL (backed up with pg_dump, not by ssp)."""
    return make_url(database_url).get_backend_name() == "postgresql"


def postgresql_instructions(database_url: str, target: Path, recipients: list | None = None) -> str:
    """How to back up (and restore) the configured PostgreSQL database with its own tools;
    with ``recipients``, the dump is piped through ``age`` to them, so no plain dump is
    written.

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
    restore_args = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--dbname", dsn]
    if recipients:
        to = [arg for r in recipients for arg in ("-r", str(r))]
        dump = (
            shlex.join(["pg_dump", "--format=custom", "--dbname", dsn])
            + " | "
            + shlex.join(["age", *to, "--output", str(target)])
        )
        restore = (
            shlex.join(["age", "--decrypt", "--identity", "KEYFILE", str(target)])
            + " | "
            + shlex.join(restore_args)
        )
        keys = _(
            "The dump is encrypted with age (https://age-encryption.org) to %(keys)s; "
            "KEYFILE is the backup key file, kept off this server.",
            keys=describe(recipients),
        )
    else:
        dump = shlex.join(["pg_dump", "--format=custom", "--file", str(target), "--dbname", dsn])
        restore = shlex.join([*restore_args, str(target)])
        keys = _(
            "This dump is not encrypted: set BACKUP_RECIPIENTS to have these commands "
            "encrypt it. %(help)s",
            help=KEY_HELP,
        )
    lines = [
        _(
            "ssp does not back up PostgreSQL itself: use PostgreSQL's pg_dump, which takes "
            "a consistent snapshot while the app runs."
        ),
        "  " + _("Back up:  %(command)s", command=dump),
        "  " + _("Restore:  %(command)s   (stop the app first)", command=restore),
        keys,
        _(
            "Give the password in PGPASSWORD or ~/.pgpass; run the backup from cron and keep "
            "copies off this machine."
        ),
    ]
    return "\n".join(lines)


def _sqlite_backup(source_path: str | None, destination: Path) -> None:
    if not source_path or not Path(source_path).exists():
        raise BackupError(_("The SQLite database file does not exist."))
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=15)
    copy = sqlite3.connect(destination)
    try:
        # Small steps, so writers at the desk wait milliseconds, not the whole copy.
        source.backup(copy, pages=1024, sleep=0.005)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(_("The copy failed its integrity check: %(result)s", result=result))
    except sqlite3.Error as error:
        raise BackupError(_("The database could not be copied: %(error)s.", error=error)) from None
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


def _check_database(path: Path, source: Path) -> None:
    """Refuse a file that is not a whole ssp database (``source`` names it for people)."""
    check = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:
        raise BackupError(
            _("%(path)s is not an ssp database: %(error)s", path=source, error=error)
        ) from None
    finally:
        check.close()
    if result != "ok" or "visits" not in tables:
        raise BackupError(
            _(
                "%(path)s is not a whole ssp database (integrity: %(result)s).",
                path=source,
                result=result,
            )
        )


def _decrypt(source: Path, destination: Path, identities: list, key_file: Path) -> None:
    import pyrage

    with open(source, "rb") as reader, open(destination, "wb") as writer:
        try:
            pyrage.decrypt_io(reader, writer, identities)
        except pyrage.DecryptError as error:
            if "no matching keys" in str(error).lower():
                raise BackupError(
                    _(
                        "The key in %(key_file)s does not open %(path)s: it was encrypted to "
                        "another key. Nothing was changed.",
                        key_file=key_file,
                        path=source,
                    )
                ) from None
            raise BackupError(
                _(
                    "%(path)s could not be decrypted: it is damaged or incomplete "
                    "(%(error)s). Nothing was changed.",
                    path=source,
                    error=error,
                )
            ) from None
        except OSError as error:
            if error.errno is not None:
                raise  # a real input or output error (a full disk): the caller says so
            # The payload failed its authentication part way through (cut short or
            # altered): age never hands out unauthenticated data as good.
            raise BackupError(
                _(
                    "%(path)s could not be decrypted: it is damaged or incomplete "
                    "(%(error)s). Nothing was changed.",
                    path=source,
                    error=error,
                )
            ) from None


def restore(
    database_url: str,
    source: Path,
    *,
    identity: Path | None = None,
    unencrypted: bool = False,
) -> int:
    """Put a backup in place of the SQLite database; refuses while a server uses it.

    An encrypted backup needs the ``identity`` file that opens it; a plain one is
    restored only with ``unencrypted``. Whatever fails, the database is left as it was.
    """
    import fcntl

    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(_("On PostgreSQL, restore a dump with pg_restore into a new database."))
    if not source.is_file():
        raise BackupError(_("%(path)s is not a file.", path=source))
    kind = _file_kind(source)
    identities = None
    if kind == "encrypted":
        if identity is None:
            raise BackupError(
                _(
                    "%(path)s is encrypted: give the backup key file that opens it with "
                    "--identity KEYFILE. Nothing was changed.",
                    path=source,
                )
            )
        identities = read_identities(identity)
    elif kind == "sqlite":
        if not unencrypted:
            raise BackupError(
                _(
                    "%(path)s is not encrypted. Restore a plain backup only on purpose: add "
                    "--unencrypted. Nothing was changed.",
                    path=source,
                )
            )
        _check_database(source, source)
    else:
        raise BackupError(
            _(
                "%(path)s is not an ssp backup (neither an encrypted backup nor a SQLite "
                "database). Nothing was changed.",
                path=source,
            )
        )
    target = Path(url.database)
    lock = _lock_path(url.database)
    with os.fdopen(os.open(lock, os.O_RDONLY | os.O_CREAT, 0o644)) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BackupError(
                _("The server is using this database: stop `ssp serve` first.")
            ) from None
        temporary = _temporary_beside(target, replacing=True)
        try:
            if identities is None:
                shutil.copyfile(source, temporary)
            else:
                _decrypt(source, temporary, identities, identity)
                _check_database(temporary, source)
            for suffix in ("-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)  # gone already once renamed into place
    return target.stat().st_size
