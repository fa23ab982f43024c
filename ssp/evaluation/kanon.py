"""k-anonymity by global recoding, then local suppression: pure functions over rows, no
database, no Flask.

Each row carries, for every quasi-identifier (the attributes an outsider could know of a
person: when they came, where, their age band, gender...), a *ladder*: its value at each
level of generalisation, level 0 the most detailed ("2026-W40", then "2026-10"). A row's
*group* is the tuple of its quasi-identifiers at the current levels, and a group's *size*
is the number of different people in it (a row of an anonymous visit counts as a person
of its own), so a group of 11 rows that are all one person's visits is a group of one.

:func:`anonymise`:

1. Every quasi-identifier starts at the level the manager asked for.
2. While more rows are in groups of fewer than ``k`` people than the suppression
   allowance (``floor(allowance × rows)``), the next step of the stated order is taken:
   one quasi-identifier is generalised one level *for every row* (global recoding), so a
   column never mixes weeks and months. Steps for attributes not in the export, or at
   levels already reached, are skipped.
3. Rows still in groups of fewer than ``k`` people are left out (local suppression).
   Removing whole groups changes no other group, so every group left has ``k`` or more
   people, hence ``k`` or more rows.

The order of the steps and the allowance are fixed in advance and never look at which
values are rare, so the method can be published (docs/evaluator-export.md) without
helping anyone undo it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """A row before anonymisation: whom it is about (never written out) and, per
    quasi-identifier, its values from the most detailed level to the coarsest."""

    person: Hashable
    ladders: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Step:
    """Generalise quasi-identifier number ``column`` to ``level``; ``says`` tells how."""

    column: int
    level: int
    says: str


@dataclass(frozen=True)
class Outcome:
    """What :func:`anonymise` decided."""

    levels: tuple[int, ...]  # each quasi-identifier's final level
    steps: tuple[Step, ...]  # the steps taken, in order
    kept: tuple[int, ...]  # the indices of the rows kept, in input order
    left_out: int  # rows in groups of fewer than k people at the end
    coarsened: int  # kept rows with a value coarser than asked

    def values(self, candidate: Candidate) -> tuple[str, ...]:
        """A row's quasi-identifiers at the final levels."""
        return group_key(candidate, self.levels)


def group_key(candidate: Candidate, levels: Sequence[int]) -> tuple[str, ...]:
    """The row's quasi-identifiers at ``levels``."""
    return tuple(ladder[level] for ladder, level in zip(candidate.ladders, levels, strict=True))


def group_people(candidates: Sequence[Candidate], levels: Sequence[int]) -> dict[tuple, set]:
    """Each group at ``levels``: its people."""
    groups: dict[tuple, set] = {}
    for candidate in candidates:
        groups.setdefault(group_key(candidate, levels), set()).add(candidate.person)
    return groups


def rows_in_small_groups(
    candidates: Sequence[Candidate], levels: Sequence[int], k: int
) -> list[int]:
    """The indices of the rows whose group at ``levels`` has fewer than ``k`` people."""
    groups = group_people(candidates, levels)
    return [
        index
        for index, candidate in enumerate(candidates)
        if len(groups[group_key(candidate, levels)]) < k
    ]


def anonymise(
    candidates: Sequence[Candidate],
    start: Sequence[int],
    steps: Sequence[Step],
    *,
    k: int,
    allowance: float,
) -> Outcome:
    """Global recoding in the order of ``steps`` until at most ``allowance`` of the rows
    are in groups of fewer than ``k`` people, then those rows left out (see the module
    docstring). ``start``: each quasi-identifier's level as asked."""
    if k < 1:
        raise ValueError("k is at least 1")
    if not 0 <= allowance < 1:
        raise ValueError("the allowance is a share from 0 up to 1")
    levels = list(start)
    if candidates and len(levels) != len(candidates[0].ladders):
        raise ValueError("one start level per quasi-identifier")
    budget = math.floor(allowance * len(candidates))
    small = rows_in_small_groups(candidates, levels, k)
    taken: list[Step] = []
    for step in steps:
        if len(small) <= budget:
            break
        if step.level <= levels[step.column]:
            continue
        levels[step.column] = step.level
        taken.append(step)
        small = rows_in_small_groups(candidates, levels, k)
    left_out = set(small)
    kept = tuple(index for index in range(len(candidates)) if index not in left_out)
    coarsened = sum(
        1
        for index in kept
        if group_key(candidates[index], levels) != group_key(candidates[index], start)
    )
    return Outcome(
        levels=tuple(levels),
        steps=tuple(taken),
        kept=kept,
        left_out=len(left_out),
        coarsened=coarsened,
    )
