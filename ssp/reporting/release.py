"""The release model: every figure a report prints, and how the figures are related.

A release is one set of cells (a cell is one quantity: "visits in October 2026", "people
served at the Van site"), with the relationships between them declared: which cells add
up to which, and which bound which. The printed tables and charts are *views* that name
cells by key; the same quantity printed in three tables is one cell, so the audit sees
it once and every table prints it the same way.

Nothing here knows Flask, the database or the page layout; the builder fills a release
from the month's metrics, :mod:`ssp.reporting.disclosure` decides what is printed, and
the document reads the decisions back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# What happens to a cell.
SHOWN = "shown"  # printed as its value
SMALL = "small"  # printed as "<T": a count of people or events from 1 to T-1
HIDDEN = "hidden"  # printed as "*": hidden so that a small count cannot be worked out
UNPRINTED = "unprinted"  # printed nowhere (its tables are withheld, or no view names it)
FROZEN = "frozen"  # a month already published: reprinted as first published
CORRECTED = "corrected"  # printed as "†": corrected since an earlier version, too few to show

# How readily a cell is hidden to protect another (lower first).
BREAKDOWN, SUBTOTAL, HEADLINE = 0, 1, 2

SNAPSHOT_VERSION = 1


@dataclass
class Cell:
    """One quantity of the release."""

    key: str  # unique in the release, period first: "2026-10|visits"
    value: int
    sensitive: bool  # a count of people, or of events that happen to a person
    rank: int = BREAKDOWN
    order: int = 0  # declaration order: the fixed order in which complements are tried
    status: str = SHOWN
    frozen_text: str | None = None  # for FROZEN cells: the text first published


@dataclass(frozen=True)
class Relation:
    """``sum(left) == sum(right)`` (kind "eq") or ``sum(left) <= sum(right)`` ("le")."""

    kind: str
    left: tuple[str, ...]
    right: tuple[str, ...]


@dataclass
class View:
    """A printed table or chart: the cells it prints, by key."""

    key: str
    title: str
    keys: list[str]
    headline: bool = False  # the glance table: never withheld, its cells hidden last
    withheld: str | None = None  # the reason, when the whole view is withheld


@dataclass
class Release:
    """The cells, relations and views of one report, with their suppression decisions."""

    period: str
    threshold: int
    cells: dict[str, Cell] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    views: list[View] = field(default_factory=list)

    # --- declaring ---------------------------------------------------------------------

    def cell(self, key: str, value: int, *, sensitive: bool, rank: int = BREAKDOWN) -> str:
        """Declare a cell (or return the key of one already declared: the same quantity)."""
        full = key if "|" in key else f"{self.period}|{key}"
        existing = self.cells.get(full)
        if existing is not None:
            if existing.value != int(value) or existing.sensitive != sensitive:
                raise ValueError(f"{full} declared twice with different values")
            existing.rank = max(existing.rank, rank)
            return full
        self.cells[full] = Cell(full, int(value), sensitive, rank, order=len(self.cells))
        return full

    def equal(self, total: str, parts: list[str]) -> None:
        """``total`` is the sum of ``parts``."""
        if parts:
            self._check(total, *parts)
            self.relations.append(Relation("eq", (total,), tuple(parts)))

    def at_most(self, smaller: str | list[str], larger: str | list[str]) -> None:
        """``smaller`` (or the sum of a list) is at most ``larger`` (or the sum of a list)."""
        left = (smaller,) if isinstance(smaller, str) else tuple(smaller)
        right = (larger,) if isinstance(larger, str) else tuple(larger)
        if left and right:
            self._check(*left, *right)
            self.relations.append(Relation("le", left, right))

    def _check(self, *keys: str) -> None:
        unknown = [k for k in keys if k not in self.cells]
        if unknown:
            raise KeyError(f"relation names undeclared cells {unknown}")

    def view(self, key: str, title: str, keys: list[str], *, headline: bool = False) -> View:
        """Declare a printed table or chart over cells already declared."""
        unknown = [k for k in keys if k not in self.cells]
        if unknown:
            raise KeyError(f"view {key} names undeclared cells {unknown}")
        view = View(key, title, list(keys), headline=headline)
        self.views.append(view)
        return view

    # --- reading -----------------------------------------------------------------------

    def text(self, key: str) -> str:
        """How a cell is printed."""
        cell = self.cells[key]
        if cell.status == FROZEN:
            return cell.frozen_text or ""
        if cell.status == SMALL:
            return f"<{self.threshold}"
        if cell.status == CORRECTED:
            return "†"
        if cell.status in (HIDDEN, UNPRINTED):
            return "*"
        return f"{cell.value:,}"

    def shown(self, key: str) -> int | None:
        """The value when printed as a number, else None."""
        cell = self.cells[key]
        if cell.status == SHOWN:
            return cell.value
        if cell.status == FROZEN and cell.frozen_text and cell.frozen_text[0].isdigit():
            return int(cell.frozen_text.replace(",", ""))
        return None

    def view_by_key(self, key: str) -> View:
        """The view with that key."""
        return next(v for v in self.views if v.key == key)

    def live_keys(self) -> list[str]:
        """Cells the audit decides (everything but months reprinted as first published)."""
        return [k for k, c in self.cells.items() if c.status != FROZEN]

    def counts(self) -> dict[str, int]:
        """How many cells ended in each state."""
        result = {SHOWN: 0, SMALL: 0, HIDDEN: 0, UNPRINTED: 0, FROZEN: 0, CORRECTED: 0}
        for cell in self.cells.values():
            result[cell.status] += 1
        return result

    def snapshot(self) -> dict[str, Any]:
        """What the archive keeps of this release, to audit later releases against it.

        Every live cell with its value and what was printed, and the relations. The
        values include the hidden ones: the row lives in the database that holds every
        visit, so it holds nothing the database does not, and it is never printed,
        exported or offered for download.
        """
        live = set(self.live_keys())
        return {
            "version": SNAPSHOT_VERSION,
            "period": self.period,
            "threshold": self.threshold,
            "cells": {
                k: [c.value, c.status, c.sensitive, self.text(k) if c.status != UNPRINTED else ""]
                for k, c in self.cells.items()
                if k in live
            },
            "relations": [
                [r.kind, list(r.left), list(r.right)]
                for r in self.relations
                if all(k in live for k in (*r.left, *r.right))
            ],
        }


@dataclass
class ArchivedRelease:
    """A release already archived, as a reader holds it (with the true values beside)."""

    report_id: int
    period: str
    threshold: int
    cells: dict[str, tuple[int, str, bool, str]]  # key -> (value, status, sensitive, text)
    relations: list[Relation]

    @classmethod
    def from_snapshot(cls, report_id: int, data: dict[str, Any]) -> ArchivedRelease:
        """Read a snapshot written by :meth:`Release.snapshot`."""
        return cls(
            report_id=report_id,
            period=data["period"],
            threshold=int(data["threshold"]),
            cells={
                k: (int(v), s, bool(sens), text) for k, (v, s, sens, text) in data["cells"].items()
            },
            relations=[Relation(kind, tuple(a), tuple(b)) for kind, a, b in data["relations"]],
        )
