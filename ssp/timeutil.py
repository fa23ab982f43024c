"""Time helpers: everything is stored in UTC and shown in the program's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored time as aware UTC (SQLite hands back naive datetimes)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def program_zone() -> ZoneInfo:
    """The program's time zone (config TIMEZONE)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_time(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time in the program's time zone, for display."""
    if value is None:
        return None
    return as_utc(value).astimezone(program_zone())


def day_start(day: dt.date, zone: ZoneInfo | None = None) -> dt.datetime:
    """The first instant of ``day`` in the program's time zone (or ``zone``), as aware
    UTC: the bound of every "from this day" and "before this day" query."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone or program_zone()).astimezone(dt.UTC)


def program_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in the program's time zone (which day a due date falls on)."""
    return as_utc(now or utcnow()).astimezone(program_zone()).date()
