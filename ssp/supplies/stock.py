"""Stock: receipts, transfers, physical counts, and what is on hand where.

Stock on hand is always the sum of ``stock_movements.delta`` for a site and item; nothing
stores it. Every function here flushes but does not commit, so a transfer's two
movements or a count's adjustments land together or not at all. Distribution is never
blocked by stock: the desk must not turn anyone away, so stock may go negative and is
then flagged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import selectinload

from ssp.audit import record
from ssp.csvsafe import spreadsheet_safe
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _, ngettext
from ssp.staff.models import Site, User
from ssp.supplies.models import (
    CATEGORY_ORDER,
    AdjustmentReason,
    MovementReason,
    StockMovement,
    SupplyCategory,
    SupplyItem,
)
from ssp.timeutil import day_start, local_time, program_today, program_zone, utcnow

EXPIRY_WARNING_DAYS = 60
MAX_UNITS_PER_LINE = 10_000_000


class StockError(RuleError):
    """A stock change the rules do not allow."""


@dataclass(frozen=True)
class ReceiptLine:
    """Stock arriving: quantity in packs or units, and for naloxone a lot and expiry."""

    supply_item_id: int
    quantity: int
    in_packs: bool = False
    lot: str | None = None
    expires_on: dt.date | None = None


@dataclass(frozen=True)
class CountLine:
    """What is on the shelf for one item, and why it differs from the books."""

    supply_item_id: int
    counted: int
    reason: AdjustmentReason = AdjustmentReason.COUNT


# --- helpers -----------------------------------------------------------------------


def _site(site_id: int | None, field: str = "site_id") -> Site:
    site = db.session.get(Site, site_id) if site_id else None
    if site is None or not site.active:
        raise StockError(_("Choose a site that is in use."), field)
    return site


def _items(ids: Iterable[int]) -> dict[int, SupplyItem]:
    ids = list(ids)
    if not ids:
        return {}
    return {i.id: i for i in db.session.scalars(select(SupplyItem).where(SupplyItem.id.in_(ids)))}


def _moment(day: dt.date | None, now: dt.datetime, field: str = "occurred_on") -> dt.datetime:
    """The stored time of something dated ``day`` (program time zone): now if today."""
    today = program_today(now)
    if day is None:
        raise StockError(_("Enter the date."), field)
    if day > today:
        raise StockError(_("The date cannot be in the future."), field)
    if day == today:
        return now
    noon = dt.datetime.combine(day, dt.time(12, 0), tzinfo=program_zone())
    return noon.astimezone(dt.UTC)


def _text(value: str | None, limit: int, field: str) -> str | None:
    text = " ".join((value or "").split())
    if len(text) > limit:
        raise StockError(
            ngettext("Keep it to %(num)d character.", "Keep it to %(num)d characters.", limit),
            field,
        )
    return text or None


def on_hand(site_id: int, item_id: int, as_of: dt.datetime | None = None) -> int:
    """Units of one item at one site: the sum of its movements (up to ``as_of``)."""
    query = select(func.coalesce(func.sum(StockMovement.delta), 0)).where(
        StockMovement.site_id == site_id, StockMovement.supply_item_id == item_id
    )
    if as_of is not None:
        query = query.where(StockMovement.occurred_at <= as_of)
    return int(db.session.scalar(query))


# --- receipts, transfers, counts ---------------------------------------------------


def receive(
    *,
    site_id: int,
    occurred_on: dt.date,
    lines: Iterable[ReceiptLine],
    source: str | None,
    user: User,
    now: dt.datetime | None = None,
    note: str | None = None,
) -> list[StockMovement]:
    """Record a shipment into a site; packs are converted with the item's units_per_pack."""
    now = now or utcnow()
    site = _site(site_id)
    when = _moment(occurred_on, now)
    source = _text(source, 120, "source")
    note = _text(note, 200, "note")
    lines = [line for line in lines if line.quantity is not None]
    if not lines:
        raise StockError(_("Enter the quantity received of at least one item."))
    items = _items(line.supply_item_id for line in lines)
    movements = []
    for line in lines:
        field = f"qty_{line.supply_item_id}"
        item = items.get(line.supply_item_id)
        if item is None or not item.active:
            raise StockError(_("That item is not in the catalogue any more."), field)
        if line.quantity <= 0:
            raise StockError(_("A quantity received is more than zero."), field)
        units = line.quantity * (item.units_per_pack if line.in_packs else 1)
        if units > MAX_UNITS_PER_LINE:
            raise StockError(_("That is more than any shipment; check the quantity."), field)
        lot = _text(line.lot, 40, f"lot_{item.id}")
        if line.expires_on is not None and line.expires_on <= program_today(now):
            raise StockError(_("That lot has already expired."), f"expires_{item.id}")
        movements.append(
            StockMovement(
                site_id=site.id,
                supply_item_id=item.id,
                delta=units,
                reason=MovementReason.RECEIPT,
                user_id=user.id,
                occurred_at=when,
                recorded_at=now,
                source=source,
                lot=lot,
                expires_on=line.expires_on,
                note=note,
            )
        )
    db.session.add_all(movements)
    db.session.flush()
    record(
        "stock_received",
        object_type="site",
        object_id=site.id,
        user_id=user.id,
        detail={
            "movements": [m.id for m in movements],
            "units": {str(m.supply_item_id): m.delta for m in movements},
        },
    )
    return movements


def transfer(
    *,
    from_site_id: int,
    to_site_id: int,
    occurred_on: dt.date,
    quantities: dict[int, int],
    user: User,
    now: dt.datetime | None = None,
    note: str | None = None,
) -> list[StockMovement]:
    """Move stock between sites: a negative and a positive movement per item, together."""
    now = now or utcnow()
    source = _site(from_site_id, "from_site_id")
    target = _site(to_site_id, "to_site_id")
    if source.id == target.id:
        raise StockError(_("Choose two different sites."), "to_site_id")
    when = _moment(occurred_on, now)
    note = _text(note, 200, "note")
    quantities = {item_id: qty for item_id, qty in quantities.items() if qty is not None}
    if not quantities:
        raise StockError(_("Enter the quantity to move of at least one item."))
    items = _items(quantities)
    movements = []
    for item_id, quantity in quantities.items():
        field = f"qty_{item_id}"
        item = items.get(item_id)
        if item is None or not item.active:
            raise StockError(_("That item is not in the catalogue any more."), field)
        if quantity <= 0:
            raise StockError(_("A quantity moved is more than zero."), field)
        if quantity > MAX_UNITS_PER_LINE:
            raise StockError(_("That is more than any shipment; check the quantity."), field)
        for site, other, delta in ((source, target, -quantity), (target, source, quantity)):
            movements.append(
                StockMovement(
                    site_id=site.id,
                    counterpart_site_id=other.id,
                    supply_item_id=item.id,
                    delta=delta,
                    reason=MovementReason.TRANSFER,
                    user_id=user.id,
                    occurred_at=when,
                    recorded_at=now,
                    note=note,
                )
            )
    db.session.add_all(movements)
    db.session.flush()
    record(
        "stock_transferred",
        object_type="site",
        object_id=source.id,
        user_id=user.id,
        detail={"to_site_id": target.id, "units": {str(k): v for k, v in quantities.items()}},
    )
    return movements


def count(
    *,
    site_id: int,
    occurred_on: dt.date,
    lines: Iterable[CountLine],
    user: User,
    now: dt.datetime | None = None,
) -> list[StockMovement]:
    """A physical count: write the adjustments that bring the books to what is on the shelf."""
    now = now or utcnow()
    site = _site(site_id)
    when = _moment(occurred_on, now)
    lines = list(lines)
    if not lines:
        raise StockError(_("Enter what is on the shelf for at least one item."))
    # A count reads the books, then writes the difference: two counts at once must not both
    # read the same figure. Lock the items (in id order, so two counts never deadlock);
    # SQLite needs nothing more, its transactions already start with BEGIN IMMEDIATE.
    items = {
        item.id: item
        for item in db.session.scalars(
            select(SupplyItem)
            .where(SupplyItem.id.in_(sorted({line.supply_item_id for line in lines})))
            .order_by(SupplyItem.id)
            .with_for_update()
        )
    }
    # Today's count is against everything on the books now (the lock is held, so nothing
    # can slip in between); a back-dated count against the books as they stood then.
    as_of = None if occurred_on >= program_today(now) else when
    movements = []
    for line in lines:
        field = f"count_{line.supply_item_id}"
        item = items.get(line.supply_item_id)
        if item is None or not item.active:
            raise StockError(_("Inactive items are not counted; reactivate the item first."), field)
        if line.counted < 0 or line.counted > MAX_UNITS_PER_LINE:
            raise StockError(_("A count is a whole number, 0 or more."), field)
        # A count dated in the past corrects the books as they stood then; what moved
        # since still applies on top.
        delta = line.counted - on_hand(site.id, item.id, as_of=as_of)
        if delta:
            movements.append(
                StockMovement(
                    site_id=site.id,
                    supply_item_id=item.id,
                    delta=delta,
                    reason=MovementReason.ADJUSTMENT,
                    adjustment_reason=AdjustmentReason(line.reason),
                    user_id=user.id,
                    occurred_at=when,
                    recorded_at=now,
                )
            )
    db.session.add_all(movements)
    db.session.flush()
    record(
        "stock_counted",
        object_type="site",
        object_id=site.id,
        user_id=user.id,
        detail={
            "items_counted": len(lines),
            "adjustments": {str(m.supply_item_id): m.delta for m in movements},
        },
    )
    return movements


# --- what is on hand, and when to reorder -----------------------------------------

#: A site's use is averaged over the time since it first had the item when that is shorter
#: than STOCK_USE_WINDOW_DAYS (a new site or a new item), but over at least this many days,
#: so one busy day at a site that opened yesterday does not read as its normal use.
MIN_USE_DAYS = 14


@dataclass(frozen=True)
class ReorderRule:
    """When a line is low and how much to order, from the site's own use (see the settings
    STOCK_USE_WINDOW_DAYS, STOCK_LEAD_TIME_DAYS, STOCK_SAFETY_DAYS, STOCK_ORDER_CYCLE_DAYS).

    A line is low when what is on hand will not last ``lead_time_days + safety_days`` at the
    site's average daily use over the last ``use_window_days``: an order placed today would
    arrive with less than ``safety_days`` of use left. The suggested order brings the site up
    to that plus ``order_cycle_days`` of use, rounded up to whole packs.
    """

    use_window_days: int = 90
    lead_time_days: int = 14
    safety_days: int = 7
    order_cycle_days: int = 30

    @classmethod
    def from_config(cls) -> ReorderRule:
        """The rule the program's settings describe (whole days; the window at least 1)."""
        config = current_app.config
        return cls(
            use_window_days=max(1, int(config["STOCK_USE_WINDOW_DAYS"])),
            lead_time_days=max(0, int(config["STOCK_LEAD_TIME_DAYS"])),
            safety_days=max(0, int(config["STOCK_SAFETY_DAYS"])),
            order_cycle_days=max(0, int(config["STOCK_ORDER_CYCLE_DAYS"])),
        )

    @property
    def cover_days(self) -> int:
        """Days of use a site should have on hand when it orders: lead time and safety."""
        return self.lead_time_days + self.safety_days

    @property
    def target_days(self) -> int:
        """Days of use an order brings the site up to."""
        return self.cover_days + self.order_cycle_days


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


@dataclass(frozen=True)
class StockLevel:
    """One item at one site: on hand, recent use, days of supply, when to reorder, flags.

    Use is ``distributed`` units over ``use_days`` days (the window, or less for a site or
    item that is newer than the window); figures are worked out in whole numbers so the
    flag and the page never disagree by a rounding.
    """

    site: Site
    item: SupplyItem
    on_hand: int
    # Units handed out (net of voids and corrections) over the last use_window_days.
    distributed: int = 0
    # Whether the site has ever received this item (by receipt or transfer); items a site
    # does not stock are not flagged as low there.
    stocked: bool = False
    # The days the use is averaged over.
    use_days: int = 90
    rule: ReorderRule = ReorderRule()

    @property
    def in_use(self) -> bool:
        """Whether the site handed the item out in the window."""
        return self.distributed > 0

    @property
    def daily_use(self) -> float:
        """Average units handed out a day (0 when none were)."""
        return self.distributed / self.use_days if self.in_use else 0.0

    @property
    def days_of_supply(self) -> int | None:
        """Whole days until it runs out at that use (None when nothing was handed out)."""
        if not self.in_use:
            return None
        return max(0, self.on_hand) * self.use_days // self.distributed

    @property
    def reorder_at(self) -> int | None:
        """On hand below this is low: lead time and safety days of use (None: no use)."""
        if not self.in_use:
            return None
        return _ceil_div(self.distributed * self.rule.cover_days, self.use_days)

    @property
    def low(self) -> bool:
        """It will run out within the lead time and safety days, at a site that stocks it.
        An item the site has not handed out lately is never low."""
        return self.stocked and self.in_use and self.on_hand < self.reorder_at

    @property
    def negative(self) -> bool:
        """More handed out than the books say arrived: a count is due."""
        return self.on_hand < 0

    @property
    def flagged(self) -> bool:
        """Low or below zero, for an item in use at a site in use: what needs someone."""
        return self.site.active and self.item.active and (self.low or self.negative)

    @property
    def suggested_order(self) -> int | None:
        """Units to order for a low line: enough for lead time, safety and one ordering
        cycle of use, less what is on hand, rounded up to whole packs (None: not low)."""
        if not self.low:
            return None
        target = _ceil_div(self.distributed * self.rule.target_days, self.use_days)
        needed = max(0, target - max(0, self.on_hand))
        pack = max(1, self.item.units_per_pack)
        return _ceil_div(needed, pack) * pack

    @property
    def suggested_packs(self) -> int | None:
        """The suggested order in packs, for an item that comes in packs of more than one."""
        if self.suggested_order is None or self.item.units_per_pack <= 1:
            return None
        return self.suggested_order // self.item.units_per_pack


def stock_levels(
    now: dt.datetime | None = None,
    site_id: int | None = None,
    rule: ReorderRule | None = None,
) -> list[StockLevel]:
    """Every site and item with movements, or active at an active site; one SQL aggregate."""
    now = now or utcnow()
    rule = rule or ReorderRule.from_config()
    since = now - dt.timedelta(days=rule.use_window_days)
    today = program_today(now)
    distributed = case(
        (
            and_(
                StockMovement.reason == MovementReason.DISTRIBUTION,
                StockMovement.occurred_at >= since,
            ),
            -StockMovement.delta,
        ),
        else_=0,
    )
    arrived = case(
        (
            and_(
                StockMovement.reason.in_([MovementReason.RECEIPT, MovementReason.TRANSFER]),
                StockMovement.delta > 0,
            ),
            1,
        ),
        else_=0,
    )
    query = select(
        StockMovement.site_id,
        StockMovement.supply_item_id,
        func.sum(StockMovement.delta),
        func.sum(distributed),
        func.sum(arrived),
        func.min(StockMovement.occurred_at),
    ).group_by(StockMovement.site_id, StockMovement.supply_item_id)
    if site_id:
        query = query.where(StockMovement.site_id == site_id)

    def use_days(first: dt.datetime) -> int:
        since_first = (today - local_time(first).date()).days
        return max(MIN_USE_DAYS, min(rule.use_window_days, since_first))

    totals = {
        (s, i): (int(h), int(d), bool(a), use_days(first))
        for s, i, h, d, a, first in db.session.execute(query)
    }

    sites = {s.id: s for s in db.session.scalars(select(Site))}
    items = {i.id: i for i in db.session.scalars(select(SupplyItem))}
    keys = set(totals)
    for site in sites.values():
        if site.active and (site_id is None or site.id == site_id):
            keys |= {(site.id, item.id) for item in items.values() if item.active}
    nothing = (0, 0, False, rule.use_window_days)
    levels = [
        StockLevel(sites[s], items[i], *totals.get((s, i), nothing), rule=rule) for s, i in keys
    ]
    return sorted(
        levels,
        key=lambda lv: (
            lv.site.name.lower(),
            CATEGORY_ORDER[lv.item.category],
            lv.item.name.lower(),
        ),
    )


def low_stock(now: dt.datetime | None = None) -> list[StockLevel]:
    """Lines that need someone: below zero, or low by the site's own use (``StockLevel.low``),
    for active items at active sites; below zero first, then the fewest days left."""
    return sorted(
        (lv for lv in stock_levels(now) if lv.flagged),
        key=lambda lv: (
            not lv.negative,
            lv.days_of_supply if lv.days_of_supply is not None else 0,
            lv.site.name.lower(),
            lv.item.name.lower(),
        ),
    )


@dataclass(frozen=True)
class ExpiringLot:
    """A naloxone lot expiring soon, with how much of it is estimated to be left."""

    item: SupplyItem
    lot: str | None
    expires_on: dt.date
    received: int
    estimated_left: int


def expiring_naloxone(
    now: dt.datetime | None = None, within_days: int = EXPIRY_WARNING_DAYS
) -> list[ExpiringLot]:
    """Naloxone lots expiring within ``within_days`` that are probably still in stock.

    Visits do not record lots, so what is left of each lot is an estimate: program-wide
    stock is assumed to be the latest-expiring lots (kits go out first-expiry-first-out).
    """
    now = now or utcnow()
    today = program_today(now)
    horizon = today + dt.timedelta(days=within_days)
    naloxone = list(
        db.session.scalars(select(SupplyItem).where(SupplyItem.category == SupplyCategory.NALOXONE))
    )
    result = []
    for item in naloxone:
        total = int(
            db.session.scalar(
                select(func.coalesce(func.sum(StockMovement.delta), 0)).where(
                    StockMovement.supply_item_id == item.id
                )
            )
        )
        lots = db.session.execute(
            select(StockMovement.lot, StockMovement.expires_on, func.sum(StockMovement.delta))
            .where(
                StockMovement.supply_item_id == item.id,
                StockMovement.reason == MovementReason.RECEIPT,
                StockMovement.expires_on.is_not(None),
            )
            .group_by(StockMovement.lot, StockMovement.expires_on)
            .order_by(StockMovement.expires_on.desc())
        ).all()
        remaining = max(total, 0)
        for lot, expires_on, received in lots:
            left = min(int(received), remaining)
            remaining -= left
            if left > 0 and expires_on <= horizon:
                result.append(ExpiringLot(item, lot, expires_on, int(received), left))
    return sorted(result, key=lambda lot: lot.expires_on)


# --- the ledger --------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerFilter:
    """Which movements the ledger lists."""

    site_id: int | None = None
    supply_item_id: int | None = None
    reason: MovementReason | None = None
    start: dt.date | None = None  # inclusive, program time zone
    end: dt.date | None = None  # inclusive, program time zone


def ledger_query(filters: LedgerFilter) -> Select:
    """Movements matching the filters, newest first."""
    query = select(StockMovement).options(
        selectinload(StockMovement.site),
        selectinload(StockMovement.counterpart_site),
        selectinload(StockMovement.supply_item),
        selectinload(StockMovement.user),
    )
    if filters.site_id:
        query = query.where(StockMovement.site_id == filters.site_id)
    if filters.supply_item_id:
        query = query.where(StockMovement.supply_item_id == filters.supply_item_id)
    if filters.reason:
        query = query.where(StockMovement.reason == filters.reason)
    if filters.start:
        query = query.where(StockMovement.occurred_at >= day_start(filters.start))
    if filters.end:
        query = query.where(
            StockMovement.occurred_at < day_start(filters.end + dt.timedelta(days=1))
        )
    return query.order_by(StockMovement.occurred_at.desc(), StockMovement.id.desc())


LEDGER_COLUMNS = [
    "movement_id",
    "date",
    "time",
    "site",
    "item",
    "category",
    "unit",
    "change",
    "reason",
    "adjustment_reason",
    "other_site",
    "source",
    "lot",
    "expires_on",
    "visit_id",
    "recorded_by",
    "note",
]


def ledger_rows(filters: LedgerFilter) -> Iterator[list]:
    """The ledger as CSV rows (header first), oldest first, streamed in batches."""
    yield LEDGER_COLUMNS
    query = (
        ledger_query(filters).order_by(None).order_by(StockMovement.occurred_at, StockMovement.id)
    )
    for m in db.session.scalars(query.execution_options(yield_per=500)):
        when = local_time(m.occurred_at)
        yield [
            m.id,
            when.date().isoformat(),
            when.strftime("%H:%M"),
            m.site.name,
            m.supply_item.name,
            m.supply_item.category.value,
            m.supply_item.unit,
            m.delta,
            m.reason.value,
            m.adjustment_reason.value if m.adjustment_reason else "",
            m.counterpart_site.name if m.counterpart_site else "",
            m.source or "",
            m.lot or "",
            m.expires_on.isoformat() if m.expires_on else "",
            m.visit_id or "",
            m.user.username if m.user else "",
            m.note or "",
        ]


def csv_text(rows: Iterable[list]) -> Iterator[str]:
    """Rows as CSV text, one line at a time; cells that a spreadsheet would run as a
    formula are prefixed with an apostrophe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
