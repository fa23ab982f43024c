"""Disclosure control: the only place that decides which figures of a release are printed.

1. Small counts: a count of people or events from 1 to T-1 prints as "<T"; zero prints.
2. The audit (:mod:`ssp.reporting.intervals`) finds every small count, and every small
   correction between versions, that a reader holding this release and the archived
   releases it overlaps could narrow below half of 1..T-1, or keep from 1 or T-1 where
   the printed symbols alone would allow them.
3. For the first such count, one more cell is hidden ("*"): the first candidate in a
   fixed order (breakdown cells before subtotals, headline figures last; declaration
   order within), never chosen by value, so the choice says nothing about hidden
   values. Then the release is audited again.
4. Where no breakdown or subtotal is left to hide, the table is withheld with a plain
   reason rather than hiding a headline figure; headline figures go only when nothing
   else helps. A correction between versions may hide a headline figure: the earlier
   version's figure then stands.
5. A count of people or events that changed by 1 to T-1 since an archived version
   prints as "†" (the earlier figure stands; the change is too small to show), by that
   rule alone, before the audit; the audit reads "†" as exactly that.
6. A count that the archive alone already narrows (published before this method, or
   under a lower threshold) cannot be helped by this release; it is listed as such.

Nothing here knows the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ssp.i18n import _l
from ssp.reporting.intervals import NEW, AuditStats, Failure, Model, audit, check, targets
from ssp.reporting.release import (
    CORRECTED,
    FROZEN,
    HEADLINE,
    HIDDEN,
    SHOWN,
    SMALL,
    UNPRINTED,
    ArchivedRelease,
    Release,
)

# Printed as a withheld table's reason (read in the report's language when it is decided).
WITHHELD = _l("Too few people this period to show this breakdown without revealing a small count.")
MAX_STEPS = 2000


@dataclass
class ViewOutcome:
    """What happened to one printed table."""

    key: str
    title: str
    small: int = 0
    hidden: int = 0
    withheld: str | None = None


@dataclass
class AuditResult:
    """The audit's record for the appendix and the archive."""

    cells: int
    small: int
    hidden: int
    unprinted: int
    frozen: int
    withheld: list[tuple[str, str]]  # (view title, reason)
    overlapping_reports: list[int]
    solves: int
    seconds: float
    targets: int
    exposed_before: list[str] = field(default_factory=list)
    views: list[ViewOutcome] = field(default_factory=list)

    def as_json(self) -> dict:
        """The archive row's ``audit`` column."""
        return {
            "method": "exact interval audit (HiGHS integer programming)",
            "cells": self.cells,
            "small": self.small,
            "hidden": self.hidden,
            "unprinted": self.unprinted,
            "reprinted_as_first_published": self.frozen,
            "withheld": [{"table": t, "reason": r} for t, r in self.withheld],
            "audited_with_reports": self.overlapping_reports,
            "targets": self.targets,
            "solves": self.solves,
            "solver_seconds": round(self.seconds, 4),
            "exposed_before": self.exposed_before,
        }


def initial_status(release: Release, corrected: frozenset[str] = frozenset()) -> None:
    """Small counts of people and events as "<T", the rest shown; cells no view prints
    (or only withheld views print) as unprinted; ``corrected`` cells as "†"."""
    printed = _printed_keys(release)
    t = release.threshold
    for key, cell in release.cells.items():
        if cell.status == FROZEN:
            continue
        if key not in printed:
            cell.status = UNPRINTED
        elif key in corrected:
            cell.status = CORRECTED
        elif cell.sensitive and 0 < cell.value < t:
            cell.status = SMALL
        else:
            cell.status = SHOWN


def small_corrections(release: Release, archived: list[ArchivedRelease]) -> frozenset[str]:
    """Counts of people or events that changed by 1 to T-1 since an earlier version:
    beside that version, the new figure (or its symbol) could give the correction away,
    so it prints "†" and the earlier version's figure stands.

    Decided by that rule alone, never by whether the audit could have protected the
    figure, so a "†" tells a reader exactly "changed by fewer than T" and no more (the
    audit knows it too). A change of T or more prints the new figure.
    """
    found = set()
    for key in release.live_keys():
        cell = release.cells[key]
        for old in archived:
            if key not in old.cells:
                continue
            value, status, sensitive, _ = old.cells[key]
            t = max(release.threshold, old.threshold)
            if (sensitive or cell.sensitive) and 0 < abs(cell.value - value) < t:
                found.add(key)
    return frozenset(found)


def _withhold_breakdowns_of_small_totals(release: Release, corrected: frozenset[str]) -> None:
    """A breakdown of a total that prints as "<T" is always withheld.

    Every part of it would be small too, so it could show nothing; and deciding it by
    the published symbol alone means a withheld breakdown says nothing more (withheld
    only when the audit failed, it would tell a reader that several parts were small).
    """
    changed = False
    for relation in release.relations:
        if relation.kind != "eq" or len(relation.left) != 1:
            continue
        (total,) = relation.left
        if release.cells[total].status != SMALL:
            continue
        parts = set(relation.right)
        for view in release.views:
            if not view.headline and view.withheld is None and parts <= set(view.keys):
                view.withheld = str(WITHHELD)
                changed = True
    if changed:
        initial_status(release, corrected)


def _printed_keys(release: Release) -> set[str]:
    return {k for v in release.views if v.withheld is None for k in v.keys}


def protect(release: Release, archived: list[ArchivedRelease]) -> AuditResult:
    """Decide every live cell's status so that the audit passes; returns its record."""
    if release.threshold < 2:
        raise ValueError("A suppression threshold is at least 2.")
    corrected = small_corrections(release, archived)
    initial_status(release, corrected)
    _withhold_breakdowns_of_small_totals(release, corrected)
    model = Model(release, archived)
    settled: set[tuple] = set()
    exposed: list[str] = []
    # Hiding a cell or withholding a table only widens what a reader could believe, so a
    # count found protected stays protected; a last full audit confirms it.
    protected: set[tuple] = set()
    for _ in range(MAX_STEPS):
        failure = _first_failure(model, protected, settled)
        if failure is None:
            remaining = [f for f in audit(model) if _identity(f) not in settled]
            if not remaining:
                break
            protected.clear()
            failure = remaining[0]
        if failure.exposed_before:
            settled.add(_identity(failure))
            exposed.append(_label(failure))
            continue
        choice = _first_candidate(release, failure, headline=failure.kind == "change")
        if choice is None and failure.kind == "small" and _withhold_one(release, model, failure):
            continue
        if choice is None:
            choice = _first_candidate(release, failure, headline=True)
        if choice is None:
            # Nothing this release prints ties the count down any more: the archive does.
            settled.add(_identity(failure))
            exposed.append(_label(failure))
            continue
        release.cells[choice].status = HIDDEN
        model.set_status(choice, HIDDEN)
    else:  # pragma: no cover - a safeguard; each step hides a cell or withholds a table
        raise RuntimeError("disclosure audit did not settle")
    return _result(release, archived, model.stats, exposed)


def _identity(failure) -> tuple:
    return (failure.kind, failure.key, failure.sources)


def _first_failure(model: Model, protected: set[tuple], settled: set[tuple]) -> Failure | None:
    """The first target, in the fixed order, that is not protected (None: all are)."""
    for target in targets(model):
        identity = _identity(target)
        if identity in protected or identity in settled:
            continue
        failure = check(model, target)
        if failure is not None:
            return failure
        protected.add(identity)
    return None


def _label(failure: Failure) -> str:
    what = "correction to" if failure.kind == "change" else "small count"
    return (
        f"{what} {failure.key.split('|', 1)[-1]} (reports {', '.join(map(str, failure.sources))})"
    )


def _first_candidate(release: Release, failure: Failure, *, headline: bool) -> str | None:
    """The first shown cell, in the fixed structural order, that could protect the count."""
    options = [
        release.cells[k]
        for k in failure.candidates
        if release.cells[k].status == SHOWN and (headline or release.cells[k].rank < HEADLINE)
    ]
    if not options:
        return None
    return min(options, key=lambda c: (c.rank, c.order)).key


def _withhold_one(release: Release, model: Model, failure: Failure) -> bool:
    """Withhold the first table that prints the count (or its neighbours) and whose
    withholding takes something off the page; True when one was withheld."""
    nearby = failure.nearby | ({failure.key} if NEW in failure.sources else set())
    ordered = [v for v in release.views if failure.key in v.keys] + [
        v for v in release.views if failure.key not in v.keys and nearby & set(v.keys)
    ]
    for view in ordered:
        if view.headline or view.withheld is not None:
            continue
        before = _printed_keys(release)
        view.withheld = str(WITHHELD)
        gone = before - _printed_keys(release)
        if not gone:
            view.withheld = None
            continue
        for key in gone:
            if release.cells[key].status == FROZEN:
                continue  # the archive's figure: its printing changes nothing
            release.cells[key].status = UNPRINTED
            model.set_status(key, UNPRINTED)
        return True
    return False


def _result(
    release: Release, archived: list[ArchivedRelease], stats: AuditStats, exposed: list[str]
) -> AuditResult:
    counts = release.counts()
    views = []
    for view in release.views:
        cells = [release.cells[k] for k in dict.fromkeys(view.keys)]
        views.append(
            ViewOutcome(
                view.key,
                view.title,
                small=sum(1 for c in cells if c.status == SMALL) if not view.withheld else 0,
                hidden=sum(1 for c in cells if c.status == HIDDEN) if not view.withheld else 0,
                withheld=view.withheld,
            )
        )
    return AuditResult(
        cells=len(release.cells) - counts[FROZEN],
        small=counts[SMALL],
        hidden=counts[HIDDEN],
        unprinted=counts[UNPRINTED],
        frozen=counts[FROZEN],
        withheld=[(v.title, v.withheld) for v in release.views if v.withheld],
        overlapping_reports=sorted({a.report_id for a in archived}),
        solves=stats.solves,
        seconds=stats.seconds,
        targets=stats.targets,
        exposed_before=exposed,
        views=views,
    )
