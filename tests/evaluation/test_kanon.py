"""The k-anonymity algorithm on its own: hand-worked cases, and random data (coded and
anonymous rows mixed) for which, in every combination of values left, the coded rows are
of at least k people and the anonymous rows at least k, nothing is lost or counted
twice, and the method coarsens only while too many rows would be left out."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssp.evaluation.kanon import Candidate, Step, anonymise

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


def test_walk_ins_never_make_up_the_people_of_a_group():
    # One coded visit and ten walk-ins at one site in one week: eleven rows, but one
    # person, whom the file would single out (the only row with a person number).
    rows = [row("a", "W40", "Harbor")] + [row(None, "W40", "Harbor")] * 10
    outcome = anonymise(rows, [0, 0], STEPS, k=11, allowance=0.05)
    assert outcome.kept == () and outcome.left_out == 11
    # With k = 10 the walk-ins are a group of ten anonymous rows and stay; the person,
    # alone, is more than floor(5% of 11) = 0 rows, so every step is taken, and then the
    # person alone is left out.
    ten = anonymise(rows, [0, 0], STEPS, k=10, allowance=0.05)
    assert ten.kept == tuple(range(1, 11)) and ten.left_out == 1


def test_nine_people_and_three_walk_ins_are_not_a_group_of_eleven():
    people = [row(p, "W40", "Harbor") for p in "abcdefghi"]
    rows = [*people, *[row(None, "W40", "Harbor")] * 3]
    outcome = anonymise(rows, [0, 0], STEPS, k=11, allowance=0.05)
    assert outcome.kept == () and outcome.left_out == 12
    # Two more people make eleven: they are kept, and the three walk-ins, a group of
    # three anonymous rows, are left out.
    more = [*people, row("j", "W40", "Harbor"), row("k", "W40", "Harbor"), *rows[9:]]
    outcome = anonymise(more, [0, 0], STEPS, k=11, allowance=0)
    assert outcome.kept == tuple(range(11)) and outcome.left_out == 3


def test_walk_ins_are_a_group_of_their_own_counted_in_rows():
    # Three walk-ins in week 40 with k = 3: a group of three rows (nobody can tell whose
    # they are), beside three coded people with the same values.
    rows = [row(p, "W40", "Harbor") for p in "abc"] + [row(None, "W40", "Harbor")] * 3
    outcome = anonymise(rows, [0, 0], STEPS, k=3, allowance=0)
    assert outcome.steps == () and len(outcome.kept) == 6


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        anonymise([], [], STEPS, k=0, allowance=0)
    with pytest.raises(ValueError):
        anonymise([], [], STEPS, k=3, allowance=1)
    with pytest.raises(ValueError):
        anonymise([row("a", "W40", "Harbor")], [0], STEPS, k=3, allowance=0)


ROWS = st.lists(
    st.tuples(
        # The person (a few people, several rows each), or None: an anonymous visit.
        st.one_of(st.none(), st.integers(0, 12)),
        st.sampled_from(sorted(WEEKS)),
        st.sampled_from(sorted(SITES)),
    ),
    max_size=60,
)


def small_rows(candidates, levels, k):
    """Worked out here, not by kanon: the rows that, at ``levels``, are coded rows of
    fewer than k people with their values, or anonymous rows fewer than k with theirs."""
    people, anonymous = {}, {}
    for c in candidates:
        key = outcome_key(c, levels)
        if c.person is None:
            anonymous[key] = anonymous.get(key, 0) + 1
        else:
            people.setdefault(key, set()).add(c.person)
    return [
        c
        for c in candidates
        if (
            anonymous[outcome_key(c, levels)] < k
            if c.person is None
            else len(people[outcome_key(c, levels)]) < k
        )
    ]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    rows=ROWS,
    k=st.integers(2, 6),
    allowance=st.sampled_from([0, 0.05, 0.2]),
    start=st.sampled_from([(0, 0), (1, 0), (0, 1), (1, 1)]),
)
def test_in_every_combination_left_coded_rows_are_k_people_and_walk_ins_k_rows(
    rows, k, allowance, start
):
    candidates = [row(*r) for r in rows]
    outcome = anonymise(candidates, list(start), STEPS, k=k, allowance=allowance)
    kept = [candidates[i] for i in outcome.kept]
    # The guarantee, on the output as the file shows it: for each combination of values,
    # the rows with a person are of at least k people (walk-ins do not count), and the
    # anonymous rows, if any, at least k rows.
    combinations = {}
    for c in kept:
        combinations.setdefault(outcome_key(c, outcome.levels), []).append(c)
    for members in combinations.values():
        people = {c.person for c in members if c.person is not None}
        anonymous = sum(1 for c in members if c.person is None)
        assert not people or len(people) >= k
        assert not anonymous or anonymous >= k
    assert len(outcome.kept) + outcome.left_out == len(candidates)
    assert len(set(outcome.kept)) == len(outcome.kept)
    # Exactly the rows in small groups at the final levels are left out.
    assert outcome.left_out == len(small_rows(candidates, outcome.levels, k))
    # Each step taken was needed: before it, more rows than allowed were in small groups.
    budget = math.floor(allowance * len(candidates))
    levels = list(start)
    for step in outcome.steps:
        assert len(small_rows(candidates, levels, k)) > budget
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
