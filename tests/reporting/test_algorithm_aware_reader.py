"""A reader who knows the method, tried exhaustively on small programs.

For small random structures (a few cells with a total, a count of people bounded by a
count of visits) and thresholds from 3 to 5, every dataset in a range is run through
the real release model and disclosure control. Datasets that print the identical
release (or the identical pair of releases, for a month regenerated after one
correction) are what a reader who knows the code cannot tell apart. Every small count,
and every small correction, must still have several possible values among them.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections import defaultdict

import pytest

from ssp.reporting.disclosure import protect
from ssp.reporting.intervals import required_width
from ssp.reporting.release import HEADLINE, SMALL, ArchivedRelease, Release


def _release(structure: dict, values: tuple[int, ...], threshold: int) -> Release:
    """One release of the structure: cells a..., their total, and people <= visits."""
    release = Release("2026-10", threshold)
    parts = [
        release.cell(f"part{i}", v, sensitive=True) for i, v in enumerate(values[: structure["k"]])
    ]
    total = release.cell("visits", sum(values[: structure["k"]]), sensitive=True, rank=HEADLINE)
    release.equal(total, parts)
    views = [total]
    if structure["people"]:
        people = release.cell("people", values[-1], sensitive=True, rank=HEADLINE)
        release.at_most(people, total)
        views.append(people)
    release.view("glance", "At a glance", views, headline=True)
    release.view("parts", "Breakdown", [*parts, total])
    if structure["second_breakdown"]:
        # The same visits split another way, partly: only the first part named.
        release.view("first", "First part", [parts[0]])
    return release


def _algorithm_aware_width(threshold: int) -> int:
    """The issue's rule, at least half of 1..T-1, for a reader who also reruns the method.

    (The audit asks more of the reader who knows the symbols: never a single value. For
    T = 3 a withheld breakdown can tell a reader who reruns the method that every part
    was small; README, Privacy, lists it among the residual risks.)"""
    return math.ceil((threshold - 1) / 2)


def _printed(release: Release) -> tuple:
    return tuple(release.text(k) for k in release.cells) + tuple(
        v.withheld or "" for v in release.views
    )


def _datasets(structure: dict, top: int):
    ranges = [range(top + 1)] * structure["k"]
    for values in itertools.product(*ranges):
        if structure["people"]:
            for people in range(0, sum(values) + 1):
                yield (*values, people)
        else:
            yield values


STRUCTURES = [
    {"k": 2, "people": False, "second_breakdown": False},
    {"k": 3, "people": False, "second_breakdown": False},
    {"k": 2, "people": True, "second_breakdown": False},
    {"k": 2, "people": False, "second_breakdown": True},
]


@pytest.mark.parametrize("threshold", [3, 4, 5])
@pytest.mark.parametrize("structure", STRUCTURES, ids=lambda s: "-".join(map(str, s.values())))
def test_one_release_leaves_every_small_count_several_values(structure, threshold):
    top = 2 * threshold + (1 if structure["k"] == 3 else 3)
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for values in _datasets(structure, top):
        release = _release(structure, values, threshold)
        protect(release, [])
        groups[_printed(release)].append(values)
    need = _algorithm_aware_width(threshold)
    checked = 0
    for members in groups.values():
        for values in members:
            if max(values) > top - threshold:
                continue  # near the edge of the range, the range itself narrows things
            release = _release(structure, values, threshold)
            protect(release, [])
            keys = list(release.cells)
            for key in keys:
                if release.cells[key].status != SMALL:
                    continue
                checked += 1
                possible = {_value(structure, key, m) for m in members}
                assert len(possible) >= need, (structure, threshold, values, key, possible)
    assert checked > 0


def _value(structure: dict, key: str, values: tuple[int, ...]) -> int:
    """The true value of a cell in a dataset."""
    name = key.split("|")[1]
    if name == "people":
        return values[-1]
    if name == "visits":
        return sum(values[: structure["k"]])
    return values[int(name.removeprefix("part"))]


@functools.cache
def _version_pairs(threshold: int):
    """Every archived v1 and every v2 that corrects one cell of it by less than T,
    grouped by the pair of releases they print."""
    structure = {"k": 2, "people": False, "second_breakdown": False}
    top = 2 * threshold + 3
    pairs: dict[tuple, list[tuple[tuple, tuple]]] = defaultdict(list)
    for v1 in _datasets(structure, top):
        first = _release(structure, v1, threshold)
        protect(first, [])
        archived = [ArchivedRelease.from_snapshot(1, first.snapshot())]
        for changed in range(structure["k"]):
            for delta in range(-(threshold - 1), threshold):
                v2 = list(v1)
                v2[changed] += delta
                if not 0 <= v2[changed] <= top or (delta == 0 and changed):
                    continue
                second = _release(structure, tuple(v2), threshold)
                protect(second, archived)
                pairs[(_printed(first), _printed(second))].append((v1, tuple(v2)))
    return structure, top, pairs


@pytest.mark.parametrize("threshold", [3, 4, 5])
def test_a_regenerated_month_leaves_each_versions_small_counts_several_values(threshold):
    """v1 is archived; v2 corrects one cell by less than T. A reader holding both, who
    reruns the method on every such pair, still finds several values for each small
    count of either version."""
    structure, top, pairs = _version_pairs(threshold)
    need = _algorithm_aware_width(threshold)
    checked = 0
    for members in pairs.values():
        for v1, v2 in members:
            if max(v1 + v2) > top - threshold:
                continue
            first = _release(structure, v1, threshold)
            protect(first, [])
            second = _release(structure, v2, threshold)
            protect(second, [ArchivedRelease.from_snapshot(1, first.snapshot())])
            for release, which in ((first, 0), (second, 1)):
                for key, cell in release.cells.items():
                    if cell.status == SMALL:
                        checked += 1
                        possible = {_value(structure, key, pair[which]) for pair in members}
                        assert len(possible) >= need, (threshold, v1, v2, key, possible)
    assert checked > 0


@pytest.mark.parametrize("threshold", [3, 4])
def test_a_regenerated_month_never_shows_a_small_correction_exactly(threshold):
    """A reader holding both versions, who reruns the method on every pair and assumes
    a single correction of fewer than T, still finds several values for it."""
    structure, top, pairs = _version_pairs(threshold)
    for members in pairs.values():
        for v1, v2 in members:
            if max(v1 + v2) > top - threshold:
                continue
            for i in range(structure["k"]):
                if 0 < abs(v2[i] - v1[i]) < threshold:
                    assert len({b[i] - a[i] for a, b in members}) >= 2, (v1, v2)


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_no_small_count_narrowed_below_half(seed):
    """The outside tester's 300 random tables, as 40 seeds of a quick check: for one
    line with its total, the symbols-aware reader's range (by enumeration, not by the
    solver) spans at least half of 1..T-1 for every small cell."""
    rng = random.Random(seed)
    t = 11
    values = [rng.choice([0, 0, 1, 2, 5, 9, 10, 12, 30, 200]) for _ in range(rng.randint(2, 5))]
    release = Release("2026-10", t)
    parts = [release.cell(f"part{i}", v, sensitive=True) for i, v in enumerate(values)]
    total = release.cell("visits", sum(values), sensitive=True, rank=HEADLINE)
    release.equal(total, parts)
    release.view("glance", "At a glance", [total], headline=True)
    release.view("parts", "Breakdown", [*parts, total])
    protect(release, [])
    if release.view_by_key("parts").withheld:
        return
    texts = [release.text(k) for k in parts]
    shown_total = release.shown(total)
    for i, text in enumerate(texts):
        if text != f"<{t}":
            continue
        possible = _line_reader(texts, shown_total, i, t)
        assert len(possible) >= required_width(t), (values, texts, possible)


def _line_reader(texts: list[str], total: int | None, index: int, t: int) -> set[int]:
    """Values of cell ``index`` a reader finds possible from one printed line."""
    if total is None:
        return set(range(1, t))
    rest = total - sum(int(x.replace(",", "")) for x in texts if x[0].isdigit())
    smalls = sum(1 for j, x in enumerate(texts) if x.startswith("<") and j != index)
    stars = sum(1 for x in texts if x == "*")
    possible = set()
    for v in range(1, t):
        remaining = rest - v
        # other small cells sum to smalls..smalls*(t-1); stars to 0 or at least t each
        for small_sum in range(smalls, smalls * (t - 1) + 1):
            star_sum = remaining - small_sum
            if star_sum == 0 or (stars and star_sum >= t):
                possible.add(v)
                break
    return possible
