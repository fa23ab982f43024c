"""Synthetic data for demos and benchmarks: a living program in seconds, a million visits
in about a minute.

Everything is random but reproducible (``seed``), plausible (a few people come often,
most now and then; syringes on most visits, naloxone on some; referrals that progress;
ids that follow time, as in a real program), and written in bulk straight through the
database driver: batches of plain tuples with ids assigned here, multi-row ``INSERT``s on
SQLite and ``COPY`` on PostgreSQL, inside the session's transaction, never one ORM object
at a time. Values are stored exactly as SQLAlchemy stores them (enums as their values,
SQLite times as ``YYYY-MM-DD HH:MM:SS.ffffff`` text), so the app reads them as its own.
No real person is in it: codes are random letters and digits.
"""

from __future__ import annotations

import datetime as dt
import queue
import random
import secrets
import string
import threading
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, combinations, count
from operator import itemgetter
from typing import Any

from sqlalchemy import exists, func, select, text
from sqlalchemy.exc import DBAPIError

from ssp.extensions import db
from ssp.participants.models import Gender, Participant, RaceEthnicity, Substance
from ssp.referrals.models import (
    FollowUp,
    FollowUpOutcome,
    FollowUpStatus,
    Partner,
    Referral,
    ReferralCategory,
    ReferralStatus,
    ReferralStatusChange,
)
from ssp.security import Role, hash_password
from ssp.staff.models import Site, SiteKind, User
from ssp.supplies.models import MovementReason, StockMovement, SupplyCategory, SupplyItem
from ssp.supplies.services import load_default_catalogue
from ssp.timeutil import as_utc, utcnow
from ssp.visits.models import (
    NaloxoneReason,
    Service,
    Visit,
    VisitItem,
    VisitKind,
    VisitService,
)

BATCH = 20_000
DEMO_SITES = [
    ("Main site", SiteKind.FIXED),
    ("Van", SiteKind.MOBILE),
    ("Outreach team", SiteKind.OUTREACH),
]
DEMO_PARTNERS = [
    ("Bridge Clinic", ["moud", "sud_treatment", "hcv_treatment", "primary_care"]),
    ("Harbor Health", ["hiv_care", "prep", "primary_care", "wound_care"]),
    ("Safe Homes", ["housing", "benefits"]),
    ("Open Door Counseling", ["mental_health", "sud_treatment"]),
]

# How often things happen: per visit unless said otherwise.
SYRINGE_COUNTS = (10, 20, 20, 30, 40, 50, 100)
NALOXONE_KITS = (1, 1, 2)
SECONDARY_REACH = (1, 2, 3, 4, 5)  # people a participant also collects for
STRIP_COUNTS = (2, 5, 10)
EXTRA_COUNTS = (1, 2, 5, 10)
SERVICE_ODDS = (
    (Service.HIV_TEST.value, 0.03),
    (Service.HCV_TEST.value, 0.03),
    (Service.NALOXONE_TRAINING.value, 0.04),
    (Service.WOUND_CARE.value, 0.05),
    (Service.DRUG_CHECKING.value, 0.05),
)
FOLLOW_UP_OUTCOMES = {
    ReferralStatus.COMPLETED: FollowUpOutcome.LINKED.value,
    ReferralStatus.DECLINED: FollowUpOutcome.DECLINED.value,
    ReferralStatus.LOST: FollowUpOutcome.UNREACHABLE.value,
}
VOID_REASON = "Entered twice (demo)"
# Enum values the hot loop writes, looked up once.
DISTRIBUTION = MovementReason.DISTRIBUTION.value
RECEIPT = MovementReason.RECEIPT.value
USED = NaloxoneReason.USED.value
REVERSAL = Service.OVERDOSE_REVERSAL_REPORTED.value


class _Weighted:
    """Values drawn by relative weight, each draw costing one random number."""

    def __init__(self, values: Iterable[Any], weights: Iterable[float]) -> None:
        self.values = list(values)
        self.cum_weights = list(accumulate(weights))
        if len(self.cum_weights) != len(self.values):
            raise ValueError("one weight per value")

    def draw(self, random_: Callable[[], float]) -> Any:
        """One value."""
        return self.values[bisect(self.cum_weights, random_() * self.cum_weights[-1])]


def _values(kind: Iterable[Any]) -> list[str]:
    """An enum's members as SQLAlchemy stores them (see ``enum_column``): their values."""
    return [member.value for member in kind]


GENDERS = _Weighted(_values(Gender), [30, 55, 4, 2, 3, 1, 5])
RACES = _Weighted(_values(RaceEthnicity), [4, 3, 18, 22, 1, 1, 40, 6, 2, 3])
SUBSTANCES = _values(Substance)
NALOXONE_REASONS = _Weighted(_values(NaloxoneReason), [40, 25, 15, 5, 5, 10])
REFERRAL_CATEGORIES = _Weighted(ReferralCategory, [20, 10, 5, 8, 4, 10, 15, 10, 8, 8, 2])
REFERRAL_STATUSES = _Weighted(ReferralStatus, [25, 15, 40, 10, 10])


def _pick(values: Sequence[Any], random_: Callable[[], float]) -> Any:
    """One of ``values``, uniformly (as ``random.choice``, for the hot loops)."""
    return values[int(random_() * len(values))]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: cheap in hot loops
class _Table:
    """A table the seed writes and the columns of its rows, in order (others stay NULL)."""

    model: type
    name: str
    columns: tuple[str, ...]

    @classmethod
    def of(cls, model: type, *columns: str) -> _Table:
        """The model's table; a column it does not have fails here, not mid-load."""
        table = model.__table__
        missing = [c for c in columns if c not in table.c]
        if missing:
            raise KeyError(f"{table.name} has no {', '.join(missing)}")
        return cls(model, table.name, columns)


PARTICIPANTS = _Table.of(
    Participant,
    "id",
    "code",
    "created_at",
    "enrolled_site_id",
    "birth_year",
    "gender",
    "race_ethnicity",
    "zip3",
    "primary_substance",
    "injects",
)
VISITS = _Table.of(
    Visit,
    "id",
    "participant_id",
    "site_id",
    "user_id",
    "occurred_at",
    "kind",
    "secondary_reach",
    "syringes_collected",
    "created_at",
    "voided_at",
    "voided_by",
    "void_reason",
)
VISIT_ITEMS = _Table.of(VisitItem, "id", "visit_id", "supply_item_id", "quantity", "reason")
VISIT_SERVICES = _Table.of(VisitService, "id", "visit_id", "service", "count")
STOCK_MOVEMENTS = _Table.of(
    StockMovement,
    "id",
    "site_id",
    "supply_item_id",
    "delta",
    "reason",
    "visit_id",
    "user_id",
    "occurred_at",
    "recorded_at",
    "source",
)
REFERRALS = _Table.of(
    Referral,
    "id",
    "participant_id",
    "visit_id",
    "category",
    "partner_id",
    "status",
    "made_at",
    "closed_at",
    "user_id",
    "site_id",
)
REFERRAL_CHANGES = _Table.of(
    ReferralStatusChange,
    "id",
    "referral_id",
    "from_status",
    "to_status",
    "changed_at",
    "user_id",
    "correction",
)
FOLLOW_UPS = _Table.of(
    FollowUp,
    "id",
    "participant_id",
    "referral_id",
    "site_id",
    "due_on",
    "status",
    "done_at",
    "outcome",
    "created_at",
    "created_by",
)
# Parents before the rows that point at them.
VISIT_TABLES = (
    VISITS,
    VISIT_ITEMS,
    VISIT_SERVICES,
    STOCK_MOVEMENTS,
    REFERRALS,
    REFERRAL_CHANGES,
    FOLLOW_UPS,
)


def _sqlite_time(value: dt.datetime) -> str:
    """A time as SQLAlchemy's SQLite ``DateTime`` stores it: the clock time, with
    microseconds always, without the offset."""
    return value.isoformat(" ", "microseconds")[:26]


def _sqlite_day(value: dt.date) -> str:
    """A date as SQLAlchemy's SQLite ``Date`` stores it."""
    return value.isoformat()


def _as_is(value: Any) -> Any:
    """A value the driver adapts itself, as it does for SQLAlchemy (psycopg)."""
    return value


# SQLite runs one INSERT of many rows much faster than as many one-row INSERTs. 999 is
# the most parameters one statement may hold on every SQLite version.
SQLITE_PARAMETERS = 999
# SQLite's page cache while loading, in KiB (the default is 2 MiB): the visits' index by
# participant is written all over, and its pages would otherwise be read again and again.
SQLITE_LOAD_CACHE_KIB = 65_536


class _BulkWriter:
    """Writes rows of plain values through the session's own database connection, so they
    are part of the transaction the caller commits, without SQLAlchemy's per-row work.

    Rows must hold what SQLAlchemy would hand the driver: enum values, not members; and
    times and dates through ``time`` and ``day``, which store them as SQLAlchemy does.
    Use it as a context manager: on SQLite it enlarges the page cache for the load.
    """

    def __init__(self) -> None:
        connection = db.session.connection()
        self._driver = connection.connection.driver_connection
        self._postgresql = connection.dialect.name == "postgresql"
        self._cache_size: int | None = None
        self._checks_deferred = False
        self._written: dict[str, _Table] = {}
        self._types: dict[str, list[int]] = {}
        self._sender: _Sender | None = None
        self._load: Any = None  # PostgreSQL: the savepoint the load began at
        self.time: Callable[[dt.datetime], Any] = _as_is if self._postgresql else _sqlite_time
        self.day: Callable[[dt.date], Any] = _as_is if self._postgresql else _sqlite_day

    def __enter__(self) -> _BulkWriter:
        """Ready for a big load: on SQLite a bigger page cache on this connection; on
        PostgreSQL a savepoint, then, where the role may, the foreign keys checked once
        at the end instead of row by row (see ``_check_foreign_keys``)."""
        if self._postgresql:
            self._load = db.session.begin_nested()
            self._checks_deferred = _skip_row_by_row_checks()
        else:
            self._cache_size = self._driver.execute("PRAGMA cache_size").fetchone()[0]
            self._driver.execute(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc_info: object) -> None:
        """Wait for the batches still being sent; check the foreign keys a load left
        unchecked; put the connection back as it was (it goes back to the pool). On
        PostgreSQL a load that fails, here or in the ``with`` body, is rolled back to its
        savepoint, with the session's setting: no row of it stays, checked or not,
        whatever the caller does next."""
        failed = exc_type is not None
        try:
            self.wait(quietly=failed)
            if not failed:
                self._finish_load()
        except BaseException:
            failed = True
            raise
        finally:
            if self._cache_size is not None:
                self._driver.execute(f"PRAGMA cache_size = {int(self._cache_size)}")
            if failed and self._load is not None:
                self.wait(quietly=True)  # a sender left running by an interrupted wait
                self._load.rollback()

    def _finish_load(self) -> None:
        if self._checks_deferred:
            db.session.execute(text("SET LOCAL session_replication_role = origin"))
            _check_foreign_keys(self._written.values())
        if self._load is not None:
            self._load.commit()  # releases the savepoint; the caller's transaction goes on

    def write_batch(self, batch: dict[_Table, list[tuple]]) -> None:
        """Add rows to several tables, parents first. On PostgreSQL a second thread sends
        them while the caller makes the next batch (the server's work on one batch
        overlaps Python's on the next: the wait for the server lets go of the GIL); the
        caller hands the lists over and must ``wait`` before using the connection itself."""
        if not self._postgresql:
            for table, rows in batch.items():
                self.write(table, rows)
            return
        if self._sender is None:
            self._sender = _Sender(self)
        self._sender.send(batch)

    def wait(self, *, quietly: bool = False) -> None:
        """Until every batch is written; raises what writing one raised (unless
        ``quietly``: the caller is already failing for another reason)."""
        if self._sender is not None:
            self._sender.close(quietly=quietly)
            self._sender = None  # only once its thread has ended

    def write(self, table: _Table, rows: list[tuple]) -> None:
        """Add ``rows`` to ``table``."""
        if rows:
            self._written[table.name] = table
            (self._copy if self._postgresql else self._insert)(table, rows)

    def _copy(self, table: _Table, rows: list[tuple]) -> None:
        """PostgreSQL: one binary COPY, the fastest way in. The columns' types come from
        the server, so each value is encoded once for its column, with no parsing of
        text on either side (five times the speed of text COPY); a value that does not
        fit its column is refused, never stored otherwise."""
        # Table and column names come from our own models (see _Table), never from input.
        statement = f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN (FORMAT BINARY)"
        with self._driver.cursor() as cursor:
            types = self._column_types(cursor, table)
            with cursor.copy(statement) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)

    def _column_types(self, cursor: Any, table: _Table) -> list[int]:
        """The type (oid) of each of ``table``'s columns, as the server has them."""
        if table.name not in self._types:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (table.name,),
            )
            oids = dict(cursor.fetchall())
            self._types[table.name] = [oids[column] for column in table.columns]
        return self._types[table.name]

    def _insert(self, table: _Table, rows: list[tuple]) -> None:
        """SQLite: INSERTs of as many rows each as the parameter limit allows."""
        per_statement = max(1, SQLITE_PARAMETERS // len(table.columns))
        whole = len(rows) - len(rows) % per_statement
        cursor = self._driver.cursor()
        try:
            for part in (rows[:whole], rows[whole:]):
                if part:
                    statement = _insert_statement(table, min(per_statement, len(part)))
                    cursor.executemany(statement, _flat_chunks(part, per_statement))
        finally:
            cursor.close()


class _Sender:
    """A thread that writes batches through a _BulkWriter, one at a time, in order; at
    most one batch waits for it (memory holds three: the one being written, the one
    waiting, the one being made). After a failure it drops what comes next, and ``send``
    or ``close`` raises the failure."""

    def __init__(self, writer: _BulkWriter) -> None:
        self._writer = writer
        self._queue: queue.Queue[dict[_Table, list[tuple]] | None] = queue.Queue(maxsize=1)
        self._failure: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="ssp-seed-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._failure is not None:
                continue
            try:
                for table, rows in batch.items():
                    self._writer.write(table, rows)
            except BaseException as failure:  # noqa: BLE001 (handed to the caller's thread)
                self._failure = failure

    def send(self, batch: dict[_Table, list[tuple]]) -> None:
        """Queue a batch (waits while the one before is still waiting)."""
        if self._failure is not None:
            self.close()
        self._queue.put(batch)

    def close(self, *, quietly: bool = False) -> None:
        """Wait for every batch (again, after an interrupted wait); raise the failure, if
        any (unless ``quietly``)."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        self._thread.join()
        if self._failure is not None and not quietly:
            raise self._failure


class SeedError(Exception):
    """The synthetic data would break the database's rules; nothing of it is kept."""


def _skip_row_by_row_checks() -> bool:
    """PostgreSQL checks each row's foreign keys as it arrives (a trigger per row and
    key), which is most of a big load's time. A superuser's session can leave those
    triggers out (``session_replication_role = replica``, until the transaction ends or
    ``origin`` is set); the keys are then checked in bulk at the end. Returns whether it
    could; any other role loads row by row, as before."""
    try:
        with db.session.begin_nested():
            db.session.execute(text("SET LOCAL session_replication_role = replica"))
    except DBAPIError:
        return False  # not permitted: the savepoint is rolled back, nothing changed
    return True


def _check_foreign_keys(tables: Iterable[_Table]) -> None:
    """Every foreign key of the tables loaded, checked in one query each (an anti-join
    over the whole table, which PostgreSQL answers with a hash join): a row pointing
    nowhere refuses the load with SeedError. The other tables they point at are locked
    against changes first (until the transaction ends), as the row-by-row checks would
    have locked the rows pointed at, so none can go between the check and the commit."""
    tables = list(tables)
    loaded = {table.name for table in tables}
    pointed_at = {
        key.referred_table.name
        for table in tables
        for key in table.model.__table__.foreign_key_constraints
    }
    others = ", ".join(sorted(pointed_at - loaded))  # our own models' names, never input
    if others:
        db.session.execute(text(f"LOCK TABLE {others} IN SHARE MODE"))
    for table in tables:
        child = table.model.__table__
        for key in child.foreign_key_constraints:
            referred = key.referred_table.alias("referred")
            pairs = [(element.parent, referred.c[element.column.name]) for element in key.elements]
            pointing = [column.is_not(None) for column, _ in pairs]
            found = exists().where(*[target == column for column, target in pairs])
            orphan = select(*[column for column, _ in pairs]).where(*pointing, ~found).limit(1)
            row = db.session.execute(orphan).first()
            if row is not None:
                names = ", ".join(column.name for column, _ in pairs)
                raise SeedError(
                    f"{child.name}.{names} = {tuple(row)} points at no row of "
                    f"{key.referred_table.name}; nothing was kept"
                )


def _insert_statement(table: _Table, rows: int) -> str:
    """An INSERT of ``rows`` rows into ``table``, with ``?`` parameters."""
    columns = ", ".join(table.columns)
    values = ", ".join([f"({', '.join('?' * len(table.columns))})"] * rows)
    # Table and column names come from our own models (see _Table), never from input.
    return f"INSERT INTO {table.name} ({columns}) VALUES {values}"  # noqa: S608  # nosec B608


def _flat_chunks(rows: list[tuple], size: int) -> Iterator[list]:
    """``rows``, ``size`` at a time, each chunk's values in one flat list."""
    for at in range(0, len(rows), size):
        yield list(chain.from_iterable(rows[at : at + size]))


def kinds_for_site(kind: SiteKind) -> VisitKind:
    """The visit kind that goes with a site's kind."""
    return {
        SiteKind.FIXED: VisitKind.FIXED,
        SiteKind.SATELLITE: VisitKind.FIXED,
        SiteKind.MOBILE: VisitKind.MOBILE,
        SiteKind.OUTREACH: VisitKind.OUTREACH,
    }[kind]


@dataclass
class SeedResult:
    """What was written."""

    participants: int = 0
    visits: int = 0
    visit_items: int = 0
    stock_movements: int = 0
    referrals: int = 0


@dataclass(frozen=True)
class _Basics:
    """What the synthetic rows point at, as plain values (the hot loop reads them a lot)."""

    sites: list[tuple[int, str]]  # (id, visit kind value)
    site_weights: _Weighted  # of indexes into ``sites``
    users: list[int]
    items: dict[SupplyCategory, list[int]]  # active supply item ids by category
    partners: dict[ReferralCategory, list[int]]  # active partner ids by what they serve

    def item_ids(self, *categories: SupplyCategory, but: bool = False) -> list[int]:
        """Item ids in ``categories`` (or, with ``but``, in every other category)."""
        return [
            item
            for category, ids in self.items.items()
            if (category in categories) != but
            for item in ids
        ]


def _next_id(model) -> int:
    """The first id after the table's highest (ids are assigned here, not by the database)."""
    return int(db.session.scalar(select(func.coalesce(func.max(model.id), 0)))) + 1


def _ensure_basics() -> _Basics:
    """Sites, catalogue, a staff member and partners to hang the data on."""
    load_default_catalogue()
    sites = list(db.session.scalars(select(Site).where(Site.active).order_by(Site.id)))
    for name, kind in DEMO_SITES[len(sites) :]:
        if db.session.scalar(select(Site).where(Site.name == name)) is None:
            db.session.add(Site(name=name, kind=kind, active=True))
    db.session.flush()
    sites = list(db.session.scalars(select(Site).where(Site.active).order_by(Site.id)))
    users = list(db.session.scalars(select(User.id).where(User.active).order_by(User.id)))
    if not users:
        worker = User(
            username="demo.worker",
            password_hash=hash_password(secrets.token_urlsafe(24)),
            role=Role.FRONT_DESK,
            site_id=sites[0].id,
            active=True,
            failed_logins=0,
        )
        db.session.add(worker)
        db.session.flush()
        users = [worker.id]
    for name, categories in DEMO_PARTNERS:
        if db.session.scalar(select(Partner).where(Partner.name == name)) is None:
            db.session.add(
                Partner(
                    name=name, categories=categories, contact="Intake line, weekdays", active=True
                )
            )
    db.session.flush()
    items: dict[SupplyCategory, list[int]] = {}
    for item in db.session.scalars(
        select(SupplyItem).where(SupplyItem.active).order_by(SupplyItem.id)
    ):
        items.setdefault(item.category, []).append(item.id)
    partners = list(db.session.scalars(select(Partner).where(Partner.active).order_by(Partner.id)))
    # The first sites are the busiest.
    site_weights = [6, 3, 2, 1, 1, 1, 1, 1][: len(sites)] + [1] * max(0, len(sites) - 8)
    return _Basics(
        sites=[(s.id, kinds_for_site(s.kind).value) for s in sites],
        site_weights=_Weighted(range(len(sites)), site_weights),
        users=users,
        items=items,
        partners={c: [p.id for p in partners if p.serves(c)] for c in ReferralCategory},
    )


def _codes(rng: random.Random, count: int, taken: set[str]) -> Iterator[str]:
    """``count`` new participant codes: four letters and four digits, none in ``taken``."""
    letters = string.ascii_uppercase
    made = 0
    while made < count:
        code = (
            "".join(rng.choices(letters, k=4)) + f"{rng.randint(1, 31):02d}{rng.randint(0, 99):02d}"
        )
        if code not in taken:
            taken.add(code)
            made += 1
            yield code


def seed(
    *,
    participants: int,
    visits: int,
    months: int,
    seed_value: int = 1,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Add synthetic participants, visits, supplies, stock, referrals and follow-ups.

    Flushes but does not commit; ``progress`` is called with the number of visits made.
    """
    # Reproducible synthetic data, not secrets: a seeded, non-cryptographic generator.
    rng = random.Random(seed_value)  # noqa: S311  # nosec B311
    now = as_utc(now or utcnow())
    start = now - dt.timedelta(days=30 * months)
    basics = _ensure_basics()
    with _BulkWriter() as writer:
        first_participant = _next_id(Participant)
        enrolled = _write_participants(
            writer, rng, basics, first_participant, participants, start, now
        )
        schedule = _schedule(rng, enrolled, first_participant, start, now, visits)
        maker = _VisitMaker(writer, rng, basics, now)
        for at in range(0, len(schedule), BATCH):
            batch = schedule[at : at + BATCH]
            for when, participant in batch:
                maker.add(dt.datetime.fromtimestamp(when, dt.UTC), participant)
            maker.write()
            if progress:
                progress(len(batch))
        writer.wait()
        receipts = _write_receipts(writer, rng, maker.handed_out, basics.users[0], start, now)
    _reset_sequences()
    db.session.flush()
    # Fresh statistics after a bulk load, or the planners guess (PostgreSQL badly).
    db.session.execute(text("ANALYZE"))
    return SeedResult(
        participants=participants,
        visits=visits,
        visit_items=maker.written[VISIT_ITEMS],
        stock_movements=maker.written[STOCK_MOVEMENTS] + receipts,
        referrals=maker.written[REFERRALS],
    )


def _write_participants(
    writer: _BulkWriter,
    rng: random.Random,
    basics: _Basics,
    first_id: int,
    count: int,
    start: dt.datetime,
    now: dt.datetime,
) -> list[float]:
    """Add ``count`` participants, ids in order of enrolment; return when each enrolled
    (POSIX seconds, by id from ``first_id``)."""
    rnd = rng.random
    taken = set(db.session.scalars(select(Participant.code)))
    codes = _codes(rng, count, taken)
    # Most people were already coming when the period starts; a steady trickle joins
    # later, up to this month. (Enrolments spread evenly would make early months nearly
    # empty.)
    begin, span = start.timestamp(), (now - start).total_seconds()
    enrolled = sorted(begin + span * rnd() ** 3 for _ in range(count))
    rows = []
    for offset, created in enumerate(enrolled):
        rows.append(
            (
                first_id + offset,
                next(codes),
                writer.time(dt.datetime.fromtimestamp(created, dt.UTC)),
                _pick(basics.sites, rnd)[0],
                rng.randint(1950, 2004) if rnd() < 0.8 else None,
                GENDERS.draw(rnd) if rnd() < 0.85 else None,
                RACES.draw(rnd) if rnd() < 0.8 else None,
                f"{rng.randint(900, 961):03d}" if rnd() < 0.5 else None,
                _pick(SUBSTANCES, rnd) if rnd() < 0.7 else None,
                rnd() < 0.7 if rnd() < 0.8 else None,
            )
        )
        if len(rows) == BATCH:
            writer.write(PARTICIPANTS, rows)
            rows = []
    writer.write(PARTICIPANTS, rows)
    return enrolled


def _schedule(
    rng: random.Random,
    enrolled: list[float],
    first_participant: int,
    start: dt.datetime,
    now: dt.datetime,
    count: int,
) -> list[tuple[float, int | None]]:
    """When each visit happens (POSIX seconds) and whose it is (None: an anonymous walk-in),
    in time order. A few people come often, most now and then; never before enrolling."""
    rnd = rng.random
    begin, end = start.timestamp(), now.timestamp()
    people = range(first_participant, first_participant + len(enrolled))
    # Weights follow a long tail.
    weights = [1.0 / (1 + (i % 97)) ** 0.8 for i in range(len(people))]
    chosen = rng.choices(people, weights=weights, k=count) if people else []
    schedule: list[tuple[float, int | None]] = []
    for n in range(count):
        if not people or rnd() < 0.04:
            schedule.append((begin + rnd() * (end - begin), None))
        else:
            person = chosen[n]
            earliest = enrolled[person - first_participant]
            schedule.append((earliest + rnd() * (end - earliest), person))
    schedule.sort(key=itemgetter(0))
    return schedule


class _Sets:
    """Sets of distinct items, drawn uniformly as ``random.sample`` would, but with every
    possible set listed once up front (the catalogue is small; the loop is long)."""

    def __init__(self, items: Sequence[int], sizes: Sequence[int]) -> None:
        """``sizes``: how many items a set holds, each as likely (at most all of them)."""
        self._by_size = [list(combinations(items, min(size, len(items)))) for size in sizes]

    def draw(self, random_: Callable[[], float]) -> tuple[int, ...]:
        """One set."""
        return _pick(_pick(self._by_size, random_), random_)


class _VisitMaker:
    """Makes visits and what hangs off them (items, services, stock movements, referrals
    with their history and follow-ups) as plain rows, and writes them batch by batch."""

    def __init__(
        self, writer: _BulkWriter, rng: random.Random, basics: _Basics, now: dt.datetime
    ) -> None:
        self.writer, self.rng, self.basics, self.now = writer, rng, basics, now
        self.random = rng.random
        syringes = basics.item_ids(SupplyCategory.SYRINGE)
        self.syringe_ids = frozenset(syringes)
        self.syringe_sets = _Sets(syringes, (1, 1, 2))
        self.naloxone = basics.item_ids(SupplyCategory.NALOXONE)
        self.strips = basics.item_ids(SupplyCategory.TEST_STRIP)
        special = (SupplyCategory.SYRINGE, SupplyCategory.NALOXONE, SupplyCategory.TEST_STRIP)
        self.extra_sets = _Sets(basics.item_ids(*special, but=True), (1, 2, 3))
        self.rows: dict[_Table, list[tuple]] = {table: [] for table in VISIT_TABLES}
        self.ids = {table: count(_next_id(table.model)) for table in VISIT_TABLES}
        self.written: Counter[_Table] = Counter()
        # (site id, item id) -> quantity handed out, for the receipts that cover it.
        self.handed_out: Counter[tuple[int, int]] = Counter()

    def add(self, when: dt.datetime, participant: int | None) -> None:
        """One visit at ``when``, buffered until ``write``."""
        rnd, rows, ids = self.random, self.rows, self.ids
        site_id, kind = self.basics.sites[self.basics.site_weights.draw(rnd)]
        user_id = _pick(self.basics.users, rnd)
        voided = rnd() < 0.005
        stamp = self.writer.time(when)
        visit_id = next(ids[VISITS])
        syringes, used = 0, False
        for item, quantity, reason in self._lines():
            rows[VISIT_ITEMS].append((next(ids[VISIT_ITEMS]), visit_id, item, quantity, reason))
            if item in self.syringe_ids:
                syringes += quantity
            used = used or reason == USED
            if not voided:
                self.handed_out[site_id, item] += quantity
                rows[STOCK_MOVEMENTS].append(
                    (
                        next(ids[STOCK_MOVEMENTS]),
                        site_id,
                        item,
                        -quantity,
                        DISTRIBUTION,
                        visit_id,
                        user_id,
                        stamp,
                        stamp,
                        None,
                    )
                )
        rows[VISITS].append(
            (
                visit_id,
                participant,
                site_id,
                user_id,
                stamp,
                kind,
                _pick(SECONDARY_REACH, rnd) if rnd() < 0.1 else 0,
                int(syringes * self.rng.uniform(0.4, 1.2)) if rnd() < 0.6 else 0,
                stamp,
                self.writer.time(when + dt.timedelta(hours=1)) if voided else None,
                user_id if voided else None,
                VOID_REASON if voided else None,
            )
        )
        services = [service for service, odds in SERVICE_ODDS if rnd() < odds]
        if used:
            services.append(REVERSAL)
        for service in services:
            rows[VISIT_SERVICES].append((next(ids[VISIT_SERVICES]), visit_id, service, 1))
        if participant is not None and not voided and rnd() < 0.03:
            self._referral(visit_id, participant, site_id, user_id, when)

    def _lines(self) -> list[tuple[int, int, str | None]]:
        """What one visit hands out: (item id, quantity, naloxone reason or None)."""
        rnd = self.random
        lines = []
        if rnd() < 0.9:
            for item in self.syringe_sets.draw(rnd):
                lines.append((item, _pick(SYRINGE_COUNTS, rnd), None))
        if self.naloxone and rnd() < 0.12:
            kits = _pick(NALOXONE_KITS, rnd)
            lines.append((_pick(self.naloxone, rnd), kits, NALOXONE_REASONS.draw(rnd)))
        if self.strips and rnd() < 0.3:
            lines.append((_pick(self.strips, rnd), _pick(STRIP_COUNTS, rnd), None))
        if rnd() < 0.5:
            for item in self.extra_sets.draw(rnd):
                lines.append((item, _pick(EXTRA_COUNTS, rnd), None))
        return lines

    def _referral(
        self, visit_id: int, participant: int, site_id: int, user_id: int, when: dt.datetime
    ) -> None:
        """A referral made at the visit, its status history so far and its follow-up."""
        rnd, time = self.random, self.writer.time
        category = REFERRAL_CATEGORIES.draw(rnd)
        status = REFERRAL_STATUSES.draw(rnd)
        days = self.rng.randint(1, 30)
        closed = min(when + dt.timedelta(days=days), self.now) if status.closed else None
        servers = self.basics.partners[category]
        referral_id = next(self.ids[REFERRALS])
        self.rows[REFERRALS].append(
            (
                referral_id,
                participant,
                visit_id,
                category.value,
                _pick(servers, rnd) if servers else None,
                status.value,
                time(when),
                time(closed) if closed else None,
                user_id,
                site_id,
            )
        )
        changes = self.rows[REFERRAL_CHANGES]
        made = ReferralStatus.MADE.value
        changes.append(
            (next(self.ids[REFERRAL_CHANGES]), referral_id, None, made, time(when), user_id, False)
        )
        if status != ReferralStatus.MADE:
            changed = closed or min(when + dt.timedelta(days=2), self.now)
            changes.append(
                (
                    next(self.ids[REFERRAL_CHANGES]),
                    referral_id,
                    made,
                    status.value,
                    time(changed),
                    user_id,
                    False,
                )
            )
        if status == ReferralStatus.LOST:
            follow_up = FollowUpStatus.UNREACHABLE
        else:
            follow_up = FollowUpStatus.DONE if status.closed else FollowUpStatus.OPEN
        self.rows[FOLLOW_UPS].append(
            (
                next(self.ids[FOLLOW_UPS]),
                participant,
                referral_id,
                site_id,
                self.writer.day((when + dt.timedelta(days=7)).date()),
                follow_up.value,
                time(closed) if closed else None,
                FOLLOW_UP_OUTCOMES.get(status),
                time(when),
                user_id,
            )
        )

    def write(self) -> None:
        """Hand the buffered rows to the writer, parents first, and start new buffers."""
        batch, self.rows = self.rows, {table: [] for table in VISIT_TABLES}
        for table, rows in batch.items():
            self.written[table] += len(rows)
        self.writer.write_batch(batch)


def _write_receipts(
    writer: _BulkWriter,
    rng: random.Random,
    handed_out: Counter[tuple[int, int]],
    user_id: int,
    start: dt.datetime,
    now: dt.datetime,
) -> int:
    """Monthly receipts that roughly cover what each site handed out, so stock looks real;
    return how many."""
    months = max(1, round((now - start).days / 30))
    first_id = _next_id(StockMovement)
    rows = []
    for (site_id, item_id), quantity in sorted(handed_out.items()):
        per_month = quantity // months
        for m in range(months):
            received = writer.time(start + dt.timedelta(days=30 * m))
            rows.append(
                (
                    first_id + len(rows),
                    site_id,
                    item_id,
                    int(per_month * rng.uniform(0.9, 1.25)) + 1,
                    RECEIPT,
                    None,
                    user_id,
                    received,
                    received,
                    "Demo supplier",
                )
            )
    for at in range(0, len(rows), BATCH):
        writer.write(STOCK_MOVEMENTS, rows[at : at + BATCH])
    return len(rows)


def _reset_sequences() -> None:
    """Ids were given explicitly; PostgreSQL's sequences must move past them. (The table
    names in the SQL come from our own models, never from input.)"""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (
        Participant,
        Visit,
        VisitItem,
        VisitService,
        StockMovement,
        Referral,
        ReferralStatusChange,
        FollowUp,
        Site,
        Partner,
        User,
    ):
        table = model.__tablename__
        statement = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"  # noqa: E501, S608  # nosec B608
        db.session.execute(text(statement))
