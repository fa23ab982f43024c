"""k-anonymity by global recoding, then local suppression: pure functions over rows, no
database, no Flask.

Each row carries, for every quasi-identifier (the attributes an outsider could know of a
person: when they came, where, their age band, gender...), a *ladder*: its value at each
level of generalisation, level 0 the most detailed ("2026-W40", then "2026-10"). A row is
*coded* (it has a person, whose number the file shows) or *anonymous* (a walk-in who gave
no code: the file shows an empty person). Since the file shows which rows are anonymous,
that too is a quasi-identifier, one that is never generalised: a row's *group* is the
tuple of its quasi-identifiers at the current levels together with whether it is
anonymous. A coded group's *size* is the number of different people in it, so a group of
11 rows that are all one person's visits is a group of one; an anonymous group's size is
its number of rows (nobody can tell whose they are). Anonymous rows never count towards
the people of a coded group: one coded visit among ten walk-ins is a coded group of one.

:func:`anonymise`:

1. Every quasi-identifier starts at the level the manager asked for.
2. While more rows are in groups smaller than ``k`` than the suppression allowance
   (``floor(allowance × rows)``), the next step of the stated order is taken: one
   quasi-identifier is generalised one level *for every row* (global recoding), so a
   column never mixes weeks and months. Steps for attributes not in the export, or at
   levels already reached, are skipped.
3. Rows still in groups smaller than ``k`` are left out (local suppression). Removing
   whole groups changes no other group, so in the output, for every combination of
   quasi-identifiers, the coded rows (if any) are of ``k`` or more different people and
   the anonymous rows (if any) are ``k`` or more.

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
    """A row before anonymisation: whom it is about (never written out; None for an
    anonymous visit) and, per quasi-identifier, its values from the most detailed level
    to the coarsest."""

    person: Hashable | None
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
    left_out: int  # rows in groups smaller than k at the end
    coarsened: int  # kept rows with a value coarser than asked

    def values(self, candidate: Candidate) -> tuple[str, ...]:
        """A row's quasi-identifiers at the final levels."""
        return group_key(candidate, self.levels)


def group_key(candidate: Candidate, levels: Sequence[int]) -> tuple[str, ...]:
    """The row's quasi-identifiers at ``levels``."""
    return tuple(ladder[level] for ladder, level in zip(candidate.ladders, levels, strict=True))


Group = tuple[tuple[str, ...], bool]  # the quasi-identifiers, and whether anonymous


def group_of(candidate: Candidate, levels: Sequence[int]) -> Group:
    """The row's group at ``levels``: its quasi-identifiers and whether it is anonymous."""
    return group_key(candidate, levels), candidate.person is None


def group_sizes(candidates: Sequence[Candidate], levels: Sequence[int]) -> dict[Group, int]:
    """Each group at ``levels``: its size (a coded group: its different people; an
    anonymous group: its rows)."""
    people: dict[Group, set] = {}
    anonymous: dict[Group, int] = {}
    for candidate in candidates:
        group = group_of(candidate, levels)
        if candidate.person is None:
            anonymous[group] = anonymous.get(group, 0) + 1
        else:
            people.setdefault(group, set()).add(candidate.person)
    return {**{group: len(found) for group, found in people.items()}, **anonymous}


def rows_in_small_groups(
    candidates: Sequence[Candidate], levels: Sequence[int], k: int
) -> list[int]:
    """The indices of the rows whose group at ``levels`` is smaller than ``k``."""
    sizes = group_sizes(candidates, levels)
    return [
        index
        for index, candidate in enumerate(candidates)
        if sizes[group_of(candidate, levels)] < k
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
    are in groups smaller than ``k``, then those rows left out (see the module
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
