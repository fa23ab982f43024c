"""Database wiring: SQLite connection settings and portable column types.

SQLite settings are applied to every connection the app opens.

pysqlite starts transactions lazily and in DEFERRED mode: two read-then-write
transactions can then both read, and the second writer fails at once with "database is
locked" (busy_timeout does not apply to a lock upgrade). So the driver is put in
autocommit mode and every transaction is started explicitly with BEGIN IMMEDIATE,
which takes the write lock up front and waits for it under busy_timeout.

Writers queue for that lock in the app before they ask SQLite. SQLite's busy handler
makes a waiting writer sleep and poll (up to 100 ms between tries), so under load a
writer that started waiting early keeps losing to newcomers: seconds of wait for a few,
while the rest are quick. ``WriterQueue`` makes the waits short and even instead: the
threads of a process take a lock in turn, and processes take an ``flock`` on a file
beside the database, which the kernel hands over as soon as it is free. busy_timeout
stays for writers outside the app (``ssp backup``, the sqlite3 shell). ``ssp serve`` also
moves the write-ahead log into the database file in the background (``WalCheckpointer``)
instead of in whichever save crosses the log's size limit.

Every GET request, and a request to a view marked ``reads_first`` (logging a visit:
many reads, then a short write; the search box), starts in a read phase: its
transaction is a plain BEGIN, which in WAL mode takes no lock at all, so a manager's
report preview never holds up the desks, and a desk loading a form never waits for
another desk's save. Code that then writes calls ``start_writing()`` first (the visit
form once it knows what to save; ``audit.record`` on pages whose viewing is audited):
that ends the read transaction (nothing was written) and the next statement begins a
write transaction, which re-reads what it relies on. A flush during the read phase is a
programming error and is refused, because a read transaction cannot safely turn into a
write one.
"""

from __future__ import annotations

import enum
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from sqlalchemy import Enum, event, exc
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session

BUSY_TIMEOUT_MS = 15_000


class WriterQueue:
    """One process's place in the queue of writers to one SQLite database file.

    ``acquire`` blocks until this thread may write: first the process's lock, then the
    file lock shared with other processes; after the busy timeout it fails as SQLite
    would. A thread that already holds its turn (a
    second write transaction opened inside the first) passes through and then waits for
    SQLite's busy_timeout, exactly as it would without the queue.
    """

    _queues: dict[str, WriterQueue] = {}
    _by_name: dict[str, WriterQueue] = {}  # as the connection names the file
    _queues_lock = threading.Lock()

    def __init__(self, path: str, timeout: float = BUSY_TIMEOUT_MS / 1000) -> None:
        self.path = path
        self.timeout = timeout
        self._turn = threading.Lock()  # a plain lock: any thread may end a turn
        self._owner: int | None = None
        self._depth = 0
        self._file: int | None = None

    @classmethod
    def for_database(cls, database: str) -> WriterQueue:
        """The queue for a database file (one per file and process)."""
        queue = cls._by_name.get(database)  # every write asks: no file system call
        if queue is not None:
            return queue
        path = os.path.realpath(database) + ".writers"  # one file, however it is named
        with cls._queues_lock:
            queue = cls._queues.get(path)
            if queue is None:
                queue = cls._queues[path] = cls(path)
            cls._by_name[database] = queue
            return queue

    def acquire(self) -> None:
        """Wait for this thread's turn to write."""
        me = threading.get_ident()
        if self._owner == me:
            self._depth += 1
            return
        deadline = time.monotonic() + self.timeout
        if not self._turn.acquire(timeout=self.timeout):
            raise _locked()
        try:
            # Opened per turn: the lock belongs to this open file, and closing it ends
            # the turn even in a forked worker that inherited nothing open. Read-only
            # and readable by all, so whichever user created it (a root cron job, say),
            # the server's user can still lock it; it holds nothing.
            self._file = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
            self._lock_file_before(deadline)
        except BaseException:
            self._close_file()
            self._turn.release()
            raise
        self._owner, self._depth = me, 1

    def _lock_file_before(self, deadline: float) -> None:
        """Take the file lock, or fail like SQLite's busy_timeout would at ``deadline``.

        Another process holds it only for one short write transaction, so a quick
        poll (not a blocking flock, which cannot time out) loses little."""
        pause = 0.0005
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _locked() from None
                time.sleep(pause)
                pause = min(pause * 2, 0.005)

    def release(self) -> None:
        """Give the turn to the next writer."""
        self._depth -= 1
        if self._depth > 0:
            return
        self._owner = None
        try:
            self._close_file()  # closing the file releases the flock
        finally:
            self._turn.release()

    def _close_file(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            os.close(file)


def _locked() -> exc.OperationalError:
    """What SQLite's busy_timeout says when its time is up: nobody waits for ever."""
    return exc.OperationalError(
        "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
    )


class QueuedWriterConnection(sqlite3.Connection):
    """A pysqlite connection that leaves the writer queue when its transaction ends."""

    writer_queue: WriterQueue | None = None

    def join_queue(self, queue: WriterQueue) -> None:
        """Wait for this connection's turn to write (before BEGIN IMMEDIATE)."""
        queue.acquire()
        self.writer_queue = queue

    def leave_queue(self) -> None:
        """End the turn, if this connection has one (safe to call twice)."""
        queue, self.writer_queue = self.writer_queue, None
        if queue is not None:
            queue.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self.leave_queue()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_queue()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_queue()


class WalCheckpointer:
    """Copies the write-ahead log into the database file every second, in a background
    thread of the server, so that no save pays for it.

    Left to itself, SQLite checkpoints inside the commit that takes the log past 1,000
    pages: that one save at the desk waits 50-100 ms more (measured: paced p99 87-103 ms
    with, 32-57 ms without). While a checkpointer runs in the process, the app's new
    connections turn automatic checkpoints off. PASSIVE checkpoints never wait for
    readers or writers; whatever they cannot copy yet, the next one does.
    """

    running = False  # read by the connect listener: a checkpointer runs in this process

    def __init__(self, database: str, interval: float = 1.0) -> None:
        self.database = database
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)

    @classmethod
    def for_url(cls, url: str) -> WalCheckpointer | None:
        """A checkpointer for a SQLite database file, or None for any other database."""
        parsed = make_url(url)
        database = parsed.database
        if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return None
        return cls(database)

    def __enter__(self) -> WalCheckpointer:
        # Opened here, so a database that cannot be opened leaves SQLite's own
        # checkpoints on instead of a thread that died; mode=rw never creates a file.
        try:
            self._connection = sqlite3.connect(
                f"{Path(self.database).resolve().as_uri()}?mode=rw",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,  # opened here, used only by the thread
            )
        except sqlite3.Error as error:
            logging.getLogger(__name__).error(
                "No background checkpoints (%s); SQLite checkpoints in saves instead.", error
            )
            return self
        WalCheckpointer.running = True
        self._thread.start()
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        WalCheckpointer.running = False

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # try again next time; never stop the server
                    logging.getLogger(__name__).warning("WAL checkpoint failed: %s", error)
        finally:
            self._connection.close()


@event.listens_for(Engine, "do_connect")
def _queued_sqlite_connections(dialect, _connection_record, _cargs, cparams) -> None:
    if dialect.name == "sqlite":
        cparams.setdefault("factory", QueuedWriterConnection)


@event.listens_for(Engine, "connect")
def _configure_sqlite_connection(dbapi_connection, _connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Driver-level autocommit: pysqlite must not issue BEGIN on its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        if WalCheckpointer.running:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
    finally:
        cursor.close()


# --- the read phase of a request --------------------------------------------------------

_read_phase: ContextVar[bool] = ContextVar("ssp_read_phase", default=False)
# Whether the current request began in a read phase: it goes back to one after each
# commit or rollback, so a page that wrote its audit row renders without the lock.
_request_reads: ContextVar[bool] = ContextVar("ssp_request_reads", default=False)


def reads_first(view: Callable) -> Callable:
    """Mark a POST view that reads before it writes, or only reads: it runs in a read
    phase until it calls ``start_writing()`` (see the module docstring). GET views
    always start in one."""
    view.reads_first = True  # type: ignore[attr-defined]
    return view


def start_writing(*, keep_loaded: bool = False) -> None:
    """End the request's read phase, if it is in one.

    On SQLite, close the read transaction, so the next statement begins a write
    transaction. Loaded rows are expired and re-read in it, so the write sees the
    current state, not the read phase's; with ``keep_loaded`` they are kept, for a
    caller that only checks them (constraints guard what must still exist) and expires
    itself whatever it is about to change. PostgreSQL locks rows, not the database: its
    transaction simply goes on, as it would have without a read phase.
    """
    if not _read_phase.get():
        return
    from ssp.extensions import db

    session = db.session()
    if session.get_bind().dialect.name == "sqlite":
        expire_on_commit = session.expire_on_commit
        session.expire_on_commit = expire_on_commit and not keep_loaded
        try:
            session.commit()
        finally:
            session.expire_on_commit = expire_on_commit
    _read_phase.set(False)


@contextmanager
def reading_only() -> Iterator[None]:
    """Run a block in a read phase, outside a request too (a command that only reads a
    large table, such as `ssp audit verify`): a transaction it begins is a plain BEGIN,
    which on SQLite takes no lock, and writing in it is refused. End the transaction
    (``db.session.rollback()``) before the block ends."""
    token = _read_phase.set(True)
    try:
        yield
    finally:
        _read_phase.reset(token)


def register_request_phases(app: Flask) -> None:
    """Start each request in its view's phase and end it with the request (threads are
    reused, so a phase must never outlive its request)."""

    @app.before_request
    def _enter_phase() -> None:
        view = current_app.view_functions.get(request.endpoint or "")
        reading = bool(request.method in ("GET", "HEAD") or getattr(view, "reads_first", False))
        _request_reads.set(reading)
        _read_phase.set(reading)

    @app.teardown_request
    def _leave_phase(_error: Any) -> None:
        _request_reads.set(False)
        _read_phase.set(False)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _back_to_reading(_session: Session) -> None:
    if _request_reads.get():
        _read_phase.set(True)


@event.listens_for(Session, "before_flush")
def _refuse_writes_while_reading(session: Session, _context, _instances) -> None:
    if _read_phase.get() and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a write in a read phase: call database.start_writing() first")


_without_waiting: ContextVar[bool] = ContextVar("ssp_write_without_waiting", default=False)


class without_waiting:  # noqa: N801 (used as a context manager, like contextlib's)
    """Write transactions begun inside fail at once, instead of waiting, when another
    writer holds SQLite's lock (for writes that can be kept for later, such as the
    audit row of a page view: the desk never waits for it)."""

    def __enter__(self) -> None:
        self._token = _without_waiting.set(True)

    def __exit__(self, *_exc) -> None:
        _without_waiting.reset(self._token)


@event.listens_for(Engine, "begin")
def _begin(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    if _read_phase.get():
        conn.exec_driver_sql("BEGIN")  # a read transaction: WAL gives it a snapshot, no lock
        return
    dbapi_connection = conn.connection.dbapi_connection
    if _without_waiting.get():
        dbapi_connection.execute("PRAGMA busy_timeout=0")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            dbapi_connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
        return
    database = conn.engine.url.database
    queued = (
        isinstance(dbapi_connection, QueuedWriterConnection)
        and database
        and database != ":memory:"
        and not database.startswith("file:")
    )
    if queued:
        dbapi_connection.join_queue(WriterQueue.for_database(database))
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        if queued:
            dbapi_connection.leave_queue()
        raise


def enum_column(kind: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: stored as the member's value, checked by a named constraint."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
