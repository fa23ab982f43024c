"""The k-anonymity algorithm on its own: hand-worked cases, and random data for which every
group left has at least k people, nothing is lost or counted twice, and the method
coarsens only while too many rows would be left out."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssp.evaluation.kanon import Candidate, Step, anonymise, group_people

# Two quasi-identifiers: a period (week, month) and a site (name, kind, suppressed).
STEPS = [
    Step(0, 1, "weeks to months"),
    Step(1, 1, "sites to kinds"),
    Step(1, 2, "kind suppressed"),
]
WEEKS = {"W40": "Oct", "W41": "Oct", "W45": "Nov"}
SITES = {"Harbor": "Fixed", "Dock": "Fixed", "Van": "Mobile"}


def row(person, week, site):
    return Candidate(person, ((week, WEEKS[week]), (site, SITES[site], "Suppressed")))


def test_nothing_to_do_when_every_group_is_large_enough():
    rows = [row(p, "W40", "Harbor") for p in "abc"]
    outcome = anonymise(rows, [0, 0], STEPS, k=3, allowance=0)
    assert outcome.steps == () and outcome.kept == (0, 1, 2)
    assert outcome.left_out == outcome.coarsened == 0


def test_a_group_is_counted_in_people_not_rows():
    rows = [row("a", "W40", "Harbor")] * 5 + [row(p, "W41", "Harbor") for p in "bcd"]
    outcome = anonymise(rows, [0, 0], STEPS, k=3, allowance=0)
    # a's five visits in week 40 are one person: weeks become months, and then a is
    # one of four people in October at Harbor.
    assert [s.says for s in outcome.steps] == ["weeks to months"]
    assert outcome.left_out == 0 and outcome.coarsened == 8


def test_steps_stop_once_the_rows_left_out_are_within_the_allowance():
    common = [row(p, "W40", "Harbor") for p in "abcdefghijklmnopqrst"]  # 20 people
    rows = [*common, row("u", "W45", "Van")]  # 21 rows: floor(5% of 21) = 1 may go
    outcome = anonymise(rows, [0, 0], STEPS, k=3, allowance=0.05)
    assert outcome.steps == () and outcome.left_out == 1 and len(outcome.kept) == 20
    # With no allowance, every step is taken and u is still alone in November.
    strict = anonymise(rows, [0, 0], STEPS, k=3, allowance=0)
    assert [s.says for s in strict.steps] == [
        "weeks to months",
        "sites to kinds",
        "kind suppressed",
    ]
    assert strict.left_out == 1 and strict.coarsened == 20


def test_a_step_below_the_level_asked_is_skipped():
    rows = [row(p, "W40", "Harbor") for p in "ab"] + [row("c", "W41", "Dock")]
    outcome = anonymise(rows, [1, 1], STEPS, k=3, allowance=0)  # months and kinds asked
    assert outcome.steps == ()  # October, Fixed: three people already
    assert outcome.coarsened == 0 and outcome.left_out == 0


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        anonymise([], [], STEPS, k=0, allowance=0)
    with pytest.raises(ValueError):
        anonymise([], [], STEPS, k=3, allowance=1)
    with pytest.raises(ValueError):
        anonymise([row("a", "W40", "Harbor")], [0], STEPS, k=3, allowance=0)


ROWS = st.lists(
    st.tuples(
        st.integers(0, 12),  # the person (a few people, several rows each)
        st.sampled_from(sorted(WEEKS)),
        st.sampled_from(sorted(SITES)),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    rows=ROWS,
    k=st.integers(2, 6),
    allowance=st.sampled_from([0, 0.05, 0.2]),
    start=st.sampled_from([(0, 0), (1, 0), (0, 1), (1, 1)]),
)
def test_every_group_left_has_k_people_and_no_row_is_lost(rows, k, allowance, start):
    candidates = [row(*r) for r in rows]
    outcome = anonymise(candidates, list(start), STEPS, k=k, allowance=allowance)
    kept = [candidates[i] for i in outcome.kept]
    for people in group_people(kept, outcome.levels).values():
        assert len(people) >= k
    assert len(outcome.kept) + outcome.left_out == len(candidates)
    assert len(set(outcome.kept)) == len(outcome.kept)
    # Each step taken was needed: before it, more rows than allowed were in small groups.
    budget = math.floor(allowance * len(candidates))
    levels = list(start)
    for step in outcome.steps:
        before = group_people(candidates, levels)
        small = sum(1 for c in candidates if len(before[outcome_key(c, levels)]) < k)
        assert small > budget
        levels[step.column] = step.level
    # Stopped early only within the allowance (or with no step left).
    if outcome.left_out > budget:
        assert all(outcome.levels[s.column] >= s.level for s in STEPS)
    coarsened = sum(
        1 for c in kept if outcome_key(c, outcome.levels) != outcome_key(c, list(start))
    )
    assert outcome.coarsened == coarsened


def outcome_key(candidate, levels):
    return tuple(ladder[level] for ladder, level in zip(candidate.ladders, levels, strict=True))
