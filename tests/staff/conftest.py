"""Fixtures the staff tests share: a clock the test moves by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from ssp import timeutil

START = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch):
    """``ssp.timeutil.utcnow`` frozen at START, moved on with ``clock.advance(...)``."""

    class Clock:
        now = START

        def advance(self, **delta) -> None:
            self.now += dt.timedelta(**delta)

    clock = Clock()
    monkeypatch.setattr(timeutil, "utcnow", lambda: clock.now)
    return clock
