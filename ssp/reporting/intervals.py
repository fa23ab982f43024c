"""The exact audit: what a reader who knows the method can learn about each small count.

The reader holds the new release and every archived release it overlaps. For each
quantity the reader sees what was printed: a value, "<T" (1 to T-1), "*" (hidden to
protect another cell: for a count of people or events that means 0 or at least T, since
a small one would read "<T"), or nothing. Every declared relation holds in every
release. Two releases of the same quantity are one unknown when the data behind them
did not change; when it changed, they are two unknowns, and their difference (records
corrected in between) is itself a count to protect.

For every small count (and every small correction) the smallest and largest values
consistent with all of that are found with integer programming (HiGHS, through
highspy). :func:`audit` returns the counts that are not protected.

Nothing here knows Flask or the database.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from ssp.reporting.release import (
    FROZEN,
    HIDDEN,
    SHOWN,
    SMALL,
    UNPRINTED,
    ArchivedRelease,
    Relation,
    Release,
)

NEW = 0  # the source id of the release being audited; archived releases use report ids
BIG = 10_000_000  # above any count of people or events; with the tolerance below, exact
INF = highspy.kHighsInf


@dataclass
class Member:
    """One release's printing of one quantity."""

    source: int
    key: str
    value: int
    status: str
    sensitive: bool
    threshold: int


@dataclass
class Failure:
    """A small count (or a small correction) a reader could narrow too far."""

    kind: str  # "small" or "change"
    key: str
    sources: tuple[int, ...]
    low: int
    high: int
    candidates: list[str]  # keys of the new release whose hiding could help
    nearby: set[str]  # keys of the new release that are unknowns tied to this one
    exposed_before: bool = False  # already narrowed by the archive alone
    own: list[str] = field(default_factory=list)  # the new release's keys of the count


@dataclass
class AuditStats:
    """What the audit did."""

    solves: int = 0
    seconds: float = 0.0
    targets: int = 0


@dataclass
class _Constraint:
    """sum(coef * x) == 0 ("eq"), <= 0 ("le"), or a correction ("near"): between -slack
    and slack and not zero."""

    kind: str
    terms: list[tuple[tuple[str, int], int]]
    slack: int = 0


@dataclass
class _Class:
    """One unknown: a quantity in every release whose data gave it the same value."""

    key: str
    value: int
    members: list[Member] = field(default_factory=list)

    def fixed(self) -> bool:
        return any(m.status == SHOWN for m in self.members)

    def fixed_by_archive(self) -> bool:
        return any(m.status == SHOWN and m.source != NEW for m in self.members)

    def bounds(self) -> tuple[float, float]:
        low, high = 0.0, INF
        for m in self.members:
            if m.status == SMALL:
                low, high = max(low, 1), min(high, m.threshold - 1)
        return low, high

    def excluded_small(self) -> int:
        """x is 0 or at least this (a hidden count of people that would read "<T" if small)."""
        return max(
            (m.threshold for m in self.members if m.status == HIDDEN and m.sensitive), default=0
        )

    def new_key(self) -> str | None:
        return next((m.key for m in self.members if m.source == NEW), None)


def _new_highs() -> highspy.Highs:
    """A silent solver (HiGHS prints a banner when made, before any option can be set)."""
    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        solver = highspy.Highs()
        solver.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    solver.setOptionValue("mip_feasibility_tolerance", 1e-9)
    solver.setOptionValue("primal_feasibility_tolerance", 1e-9)
    solver.setOptionValue("threads", 1)
    return solver


_SOLVER: highspy.Highs | None = None


def _solver() -> highspy.Highs:
    global _SOLVER
    if _SOLVER is None:
        _SOLVER = _new_highs()
    return _SOLVER


class Model:
    """All releases' members, grouped into unknowns, with every relation over them."""

    def __init__(self, release: Release, archived: list[ArchivedRelease]) -> None:
        self.release = release
        self.classes: dict[tuple[str, int], _Class] = {}
        self.member_class: dict[tuple[int, str], tuple[str, int]] = {}
        self.relations: list[tuple[int, Relation]] = []
        self.by_key: dict[str, list[tuple[str, int]]] = {}
        for key, cell in release.cells.items():
            # A quantity reprinted as first published is printed by the archive; here
            # it is an unknown (its value now may differ), still bound by the relations.
            status = UNPRINTED if cell.status == FROZEN else cell.status
            self._add(Member(NEW, key, cell.value, status, cell.sensitive, release.threshold))
        self.relations += [(NEW, rel) for rel in release.relations]
        for old in archived:
            for key, (value, status, sensitive, _) in old.cells.items():
                self._add(Member(old.report_id, key, value, status, sensitive, old.threshold))
            self.relations += [(old.report_id, rel) for rel in old.relations]
        self.constraints: list[_Constraint] = [
            _Constraint(rel.kind, self._terms(source, rel)) for source, rel in self.relations
        ]
        self.constraints += self._small_corrections()
        self._touching: dict[tuple[str, int], list[int]] = {}
        for index, constraint in enumerate(self.constraints):
            for cid, _ in constraint.terms:
                self._touching.setdefault(cid, []).append(index)
        self.stats = AuditStats()
        self._cache: dict[tuple, tuple[float, float]] = {}

    def _add(self, member: Member) -> None:
        cid = (member.key, member.value)
        if cid not in self.classes:
            self.classes[cid] = _Class(member.key, member.value)
            self.by_key.setdefault(member.key, []).append(cid)
        self.classes[cid].members.append(member)
        self.member_class[(member.source, member.key)] = cid

    def set_status(self, key: str, status: str) -> None:
        """Change how the new release prints a cell."""
        cid = self.member_class[(NEW, key)]
        for m in self.classes[cid].members:
            if m.source == NEW:
                m.status = status

    # --- structure ---------------------------------------------------------------------

    def _terms(self, source: int, rel: Relation) -> list[tuple[tuple[str, int], int]]:
        """sum(left) - sum(right) as coefficients over unknowns."""
        sign: dict[tuple[str, int], int] = {}
        for k in rel.left:
            cid = self.member_class[(source, k)]
            sign[cid] = sign.get(cid, 0) + 1
        for k in rel.right:
            cid = self.member_class[(source, k)]
            sign[cid] = sign.get(cid, 0) - 1
        return [(cid, coef) for cid, coef in sign.items() if coef]

    def _small_corrections(self) -> list[_Constraint]:
        """The reader's prior that corrections are few: every quantity whose versions
        differ by less than the threshold is taken to differ by at most T-1, all such
        quantities at once (a reader may assume it of any of them, and one who assumes
        it of exactly those that changed is the strongest such reader)."""
        found = []
        for cids in self.by_key.values():
            for i, a in enumerate(cids):
                for b in cids[i + 1 :]:
                    members = self.classes[a].members + self.classes[b].members
                    t = max(m.threshold for m in members)
                    if 0 < abs(self.classes[b].value - self.classes[a].value) < t:
                        found.append(_Constraint("near", [(b, 1), (a, -1)], t - 1))
        return found

    def _relation_classes(self, index: int) -> list[tuple[tuple[str, int], int]]:
        return self.constraints[index].terms

    def component(self, start: list[tuple[str, int]]) -> set:
        """The unknowns tied to ``start`` through relations."""
        seen = {c for c in start if not self.classes[c].fixed()}
        queue = list(seen)
        while queue:
            cid = queue.pop()
            for index in self._touching.get(cid, []):
                for other, _ in self._relation_classes(index):
                    if other in seen or self.classes[other].fixed():
                        continue
                    seen.add(other)
                    queue.append(other)
        return seen

    def with_neighbours(self, comp: set) -> set:
        """``comp`` and the printed quantities in its relations (for the symbols-only
        reader: dropping the relations further out only widens that reader's bounds,
        which makes the audit stricter, never laxer)."""
        out = set(comp)
        for r in self.relations_of(comp):
            out |= {cid for cid, _ in self._relation_classes(r)}
        return out

    def relations_of(self, classes: set) -> list[int]:
        return sorted({i for c in classes for i in self._touching.get(c, [])})

    # --- solving -----------------------------------------------------------------------

    def bounds(
        self, classes: set, objective: dict, relaxed: bool = False, scope: set | None = None
    ) -> tuple[float, float]:
        """Least and greatest value of sum(coef * x) over the unknowns ``classes``, under
        the relations touching ``scope`` (default: ``classes``). ``relaxed``: the reader
        who sees only the symbols (a printed number says only "0" or "not small")."""
        order = sorted(classes)
        signature = (
            relaxed,
            tuple(sorted(scope)) if scope is not None else None,
            tuple(sorted(objective.items())),
            tuple((c, tuple(m.status for m in self.classes[c].members)) for c in order),
        )
        if signature in self._cache:
            return self._cache[signature]
        started = time.perf_counter()
        index = {c: i for i, c in enumerate(order)}
        low, high, integer = [], [], []
        rows: list[tuple[float, float, list[int], list[float]]] = []
        for c in order:
            cls = self.classes[c]
            if cls.fixed() and not relaxed:
                lo = hi = float(cls.value)
            elif cls.fixed():  # relaxed: a printed value only says "zero" or "not small"
                sensitive_t = [
                    m.threshold for m in cls.members if m.status == SHOWN and m.sensitive
                ]
                lo, hi = (0.0, 0.0) if cls.value == 0 else (float(min(sensitive_t, default=1)), INF)
            else:
                lo, hi = cls.bounds()
            low.append(lo)
            high.append(hi)
            integer.append(True)
        for c in order:
            cls = self.classes[c]
            t = cls.excluded_small()
            if t and not (cls.fixed() and not relaxed) and low[index[c]] < t:
                z = len(low)
                low.append(0.0)
                high.append(1.0)
                integer.append(True)
                i = index[c]
                upper = high[i] if high[i] < INF else BIG
                rows.append((0.0, INF, [i, z], [1.0, -float(t)]))  # x >= t z
                rows.append((-INF, 0.0, [i, z], [1.0, -float(upper)]))  # x <= upper z
        for r in self.relations_of(classes if scope is None else scope):
            constraint = self.constraints[r]
            constant, idx, vals = 0.0, [], []
            for cid, coef in constraint.terms:
                if cid in index:
                    idx.append(index[cid])
                    vals.append(float(coef))
                else:
                    constant += coef * self.classes[cid].value
            if not idx:
                continue
            # sum(coef * x) (== 0, <= 0, or within +-slack), the fixed part moved across
            if constraint.kind == "eq":
                rows.append((-constant, -constant, idx, vals))
            elif constraint.kind == "le":
                rows.append((-INF, -constant, idx, vals))
            else:  # a correction: between -slack and slack, and not zero
                slack = float(constraint.slack)
                rows.append((-slack - constant, slack - constant, idx, vals))
                z = len(low)  # z = 1: the correction is negative
                low.append(0.0)
                high.append(1.0)
                integer.append(True)
                big = 2 * slack + 2
                rows.append((1.0 - constant, INF, [*idx, z], [*vals, big]))  # >= 1 - big z
                # <= -1 + big (1 - z)
                rows.append((-INF, big - 1.0 - constant, [*idx, z], [*vals, big]))
        solver = _solver()
        solver.clearModel()
        n = len(low)
        solver.addVars(n, np.array(low), np.array(high))
        solver.changeColsIntegrality(
            n,
            np.arange(n, dtype=np.int32),
            np.array([highspy.HighsVarType.kInteger] * n),
        )
        for lo, hi, idx, vals in rows:
            solver.addRow(lo, hi, len(idx), np.array(idx, dtype=np.int32), np.array(vals))
        costs = np.zeros(n)
        for c, coef in objective.items():
            costs[index[c]] = coef
        result = []
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            solver.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
            solver.changeObjectiveSense(sense)
            solver.run()
            self.stats.solves += 1
            status = solver.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                result.append(round(solver.getInfo().objective_function_value))
            elif status in (
                highspy.HighsModelStatus.kUnbounded,
                highspy.HighsModelStatus.kUnboundedOrInfeasible,
            ):
                result.append(-math.inf if sense == highspy.ObjSense.kMinimize else math.inf)
            else:
                raise RuntimeError(
                    f"disclosure audit: the model is {solver.modelStatusToString(status)}"
                )
        self.stats.seconds += time.perf_counter() - started
        self._cache[signature] = (result[0], result[1])
        return result[0], result[1]

    def expression_bounds(self, objective: dict) -> tuple[float, float]:
        """Bounds of sum(coef * x) over any unknowns, solving each web of relations alone."""
        low = high = 0.0
        pending = dict(objective)
        while pending:
            cid = next(iter(pending))
            cls = self.classes[cid]
            if cls.fixed():
                coef = pending.pop(cid)
                low += coef * cls.value
                high += coef * cls.value
                continue
            comp = self.component([cid])
            part = {c: pending.pop(c) for c in list(pending) if c in comp}
            lo, hi = self.bounds(comp, part)
            low += lo
            high += hi
        return low, high

    # --- what the new release can change -----------------------------------------------

    def _around(self, classes: list) -> tuple[list[str], set[str]]:
        """New-release keys shown nearby that hiding would unfix, and all new keys nearby."""
        comp = set()
        for c in classes:
            comp |= self.component([c]) | {c}
        touched = set(comp)
        for r in self.relations_of(comp):
            touched |= {cid for cid, _ in self._relation_classes(r)}
        candidates, nearby = [], set()
        for cid in touched:
            key = self.classes[cid].new_key()
            if key is None:
                continue
            if cid in comp:
                nearby.add(key)
            cls = self.classes[cid]
            if cls.fixed() and not cls.fixed_by_archive():
                candidates.append(key)
        return candidates, nearby


def required_width(threshold: int) -> int:
    """How many values a small count must still range over: half of 1..T-1, and never
    a single value unless "<T" itself says so (T = 2)."""
    return min(threshold - 1, max(2, math.ceil((threshold - 1) / 2)))


def _enough(low: float, high: float, threshold: int) -> bool:
    return high - low + 1 >= required_width(threshold)


@dataclass(frozen=True)
class Target:
    """A count to protect: one unknown ("small") or the difference of two ("change")."""

    kind: str
    key: str
    classes: tuple
    sources: tuple[int, ...]
    threshold: int  # for "change"; a small count is judged by each member's threshold


def targets(model: Model) -> list[Target]:
    """Every count to protect, in a fixed order: the new release's in declaration order,
    then the archive's, then corrections between versions."""
    found: list[Target] = []
    for cid in sorted(model.classes, key=lambda c: _target_order(model, c)):
        small = [m for m in model.classes[cid].members if m.status == SMALL]
        if small:
            sources = tuple(sorted({m.source for m in small}))
            found.append(Target("small", cid[0], (cid,), sources, 0))
    for key, cids in model.by_key.items():
        for i, a in enumerate(cids):
            for b in cids[i + 1 :]:
                members = model.classes[a].members + model.classes[b].members
                if not any(m.sensitive for m in members) or not any(
                    m.source == NEW for m in members
                ):
                    continue
                t = max(m.threshold for m in members)
                if 0 < abs(model.classes[b].value - model.classes[a].value) < t:
                    sources = tuple(sorted({m.source for m in members}))
                    found.append(Target("change", key, (a, b), sources, t))
    return found


def check(model: Model, target: Target) -> Failure | None:
    """None when the target is protected, else what went wrong and what could help."""
    if target.kind == "change":
        a, b = target.classes
        low, high = model.expression_bounds({b: 1, a: -1})
        # A reader may take it that corrections are few: only the values from -(T-1) to
        # T-1 count, and several of them must remain.
        t = target.threshold
        if _enough(max(low, -(t - 1)), min(high, t - 1), t):
            return None
        ca, cb = model.classes[a], model.classes[b]
        candidates, nearby = model._around([a, b])
        exposed = ca.fixed_by_archive() and cb.fixed_by_archive()
        own = [k for k in (ca.new_key(), cb.new_key()) if k is not None]
        return Failure(
            "change", target.key, target.sources, low, high, candidates, nearby, exposed, own
        )
    (cid,) = target.classes
    cls = model.classes[cid]
    if cls.fixed():
        candidates, nearby = model._around([cid])
        return Failure(
            "small",
            cls.key,
            target.sources,
            cls.value,
            cls.value,
            candidates,
            nearby,
            exposed_before=cls.fixed_by_archive(),
        )
    comp = model.component([cid])
    low, high = model.bounds(comp, {cid: 1})
    ok = True
    for t in sorted({m.threshold for m in cls.members if m.status == SMALL}):
        if not _enough(low, high, t):
            ok = False
        elif low > 1 or high < t - 1:
            # Where only the printed symbols keep it from 1 or T-1, that is allowed.
            wide = model.with_neighbours(comp)
            pattern_low, pattern_high = model.bounds(wide, {cid: 1}, relaxed=True, scope=comp)
            if (low > 1 and pattern_low <= 1) or (high < t - 1 and pattern_high >= t - 1):
                ok = False
    if ok:
        return None
    candidates, nearby = model._around([cid])
    return Failure("small", cls.key, target.sources, low, high, candidates, nearby)


def audit(model: Model) -> list[Failure]:
    """Every small count and every small correction that a reader could narrow too far."""
    found = targets(model)
    model.stats.targets = len(found)
    return [f for f in (check(model, t) for t in found) if f is not None]


def _target_order(model: Model, cid: tuple[str, int]) -> tuple:
    """Targets in declaration order of the new release, archived ones after."""
    key = model.classes[cid].new_key()
    if key is not None:
        return (0, model.release.cells[key].order, cid)
    return (1, 0, cid)


__all__ = ["Failure", "Model", "Target", "audit", "check", "targets"]
