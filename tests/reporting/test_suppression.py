"""Small-cell suppression on its own: primary, complementary, totals, rates."""

from __future__ import annotations

import itertools

import pytest

from ssp.reporting.suppression import (
    COMPLEMENTARY,
    PRIMARY,
    rate_text,
    small_count_text,
    suppress_small_cells,
)


def texts(table, rows, cols):
    return [[table.text(r, c) for c in range(cols)] for r in range(rows)]


def test_counts_from_one_to_threshold_minus_one_are_hidden_and_zero_is_shown():
    table = suppress_small_cells([[0, 1, 10, 11, 250]], threshold=11)
    assert texts(table, 1, 5) == [["0", "<11", "<11", "11", "250"]]
    assert table.primary_count == 2 and table.complementary_count == 0
    assert small_count_text(0, 11) == "0" and small_count_text(7, 11) == "<11"
    assert small_count_text(1234, 11) == "1,234"


def test_threshold_is_per_profile():
    table = suppress_small_cells([[4, 5]], threshold=5)
    assert texts(table, 1, 2) == [["<5", "5"]]
    with pytest.raises(ValueError):
        suppress_small_cells([[1]], threshold=1)


def test_one_small_cell_in_a_row_with_a_total_hides_the_next_smallest():
    table = suppress_small_cells([[3, 40, 25, 60]], threshold=11, row_totals=True)
    assert texts(table, 1, 4) == [["<11", "40", "*", "60"]]
    assert table.text(0, -1) == "128"
    assert table.suppressed == {(0, 0): PRIMARY, (0, 2): COMPLEMENTARY}


def test_hidden_cells_must_add_up_to_the_threshold():
    # 2 + 3 = 5 could be worked out from the total and would be small: hide one more.
    table = suppress_small_cells([[2, 3, 4, 50, 90]], threshold=11, row_totals=True)
    assert texts(table, 1, 5) == [["<11", "<11", "<11", "*", "90"]]
    # 2 + 9 = 11 already reaches the threshold: nothing more.
    table = suppress_small_cells([[2, 9, 50, 90]], threshold=11, row_totals=True)
    assert texts(table, 1, 4) == [["<11", "<11", "50", "90"]]


def test_two_small_cells_protect_each_other_only_when_nothing_narrows_them():
    # 2 + 9 = 11: each could be anything from 1 to 10.
    table = suppress_small_cells([[2, 9, 40]], threshold=11, row_totals=True)
    assert texts(table, 1, 3) == [["<11", "<11", "40"]]
    assert table.complementary_count == 0
    # 6 + 7 = 13: each is at least 3, which says too much; one more cell is hidden.
    table = suppress_small_cells([[6, 7, 40]], threshold=11, row_totals=True)
    assert texts(table, 1, 3) == [["<11", "<11", "*"]]


def test_all_small_cells_and_a_small_total():
    table = suppress_small_cells([[1, 2, 3]], threshold=11, row_totals=True)
    assert texts(table, 1, 3) == [["<11", "<11", "<11"]]
    assert table.text(0, -1) == "<11"


def test_a_total_that_would_give_one_away_is_hidden_when_no_cell_is_left():
    # The only other cell is zero: hiding it protects nothing, so the total goes.
    table = suppress_small_cells([[4, 0]], threshold=11, row_totals=True, column_totals=False)
    assert texts(table, 1, 2) == [["<11", "0"]]
    assert table.text(0, -1) == "<11"  # small itself
    table = suppress_small_cells([[4], [30]], threshold=11, column_totals=True)
    assert [table.text(0, 0), table.text(1, 0), table.text(-1, 0)] == ["<11", "*", "34"]
    table = suppress_small_cells([[4], [0], [0]], threshold=11, column_totals=True)
    assert table.text(-1, 0) == "<11"
    table = suppress_small_cells([[20, 0], [5, 0]], threshold=11, row_totals=True)
    assert table.text(1, -1) == "<11" and table.text(0, -1) == "20"


def test_rows_and_columns_interact_until_stable():
    values = [[3, 20, 30], [15, 25, 12], [40, 14, 60]]
    table = suppress_small_cells(
        values, threshold=11, row_totals=True, column_totals=True, grand_total=True
    )
    _assert_nothing_derivable(table, values)
    assert table.text(0, 0) == "<11"


def _assert_nothing_derivable(table, values):
    """For every line whose total is shown: at least two hidden cells, and each small
    hidden cell could still be anything from 1 to threshold-1 for a reader who knows the
    hidden sum, that "<t" cells are 1..t-1 and that "*" cells are at least t."""
    t = table.threshold
    rows, cols = len(values), len(values[0])
    lines = []
    if table.row_totals is not None:
        lines += [([(r, c) for c in range(cols)], (r, -1)) for r in range(rows)]
    if table.column_totals is not None:
        lines += [([(r, c) for r in range(rows)], (-1, c)) for c in range(cols)]
    for cells, total in lines:
        hidden = [cell for cell in cells if table.is_suppressed(*cell)]
        if not hidden or table.is_suppressed(*total):
            continue
        assert len(hidden) >= 2, (cells, table.suppressed)
        hidden_sum = sum(values[r][c] for r, c in hidden)
        for cell in hidden:
            if not 0 < values[cell[0]][cell[1]] < t:
                continue
            others = [o for o in hidden if o != cell]
            small = sum(1 for r, c in others if 0 < values[r][c] < t)
            large = len(others) - small
            least = small + large * t
            most = float("inf") if large else small * (t - 1)
            possible = {w for w in range(1, t) if least <= hidden_sum - w <= most}
            assert possible == set(range(1, t)), (cell, hidden, values)


def test_the_examples_that_once_leaked_are_safe():
    # 11 fixed-site visits and 1 mobile: "*", "<11" and a total of 12 gave the 1 away.
    table = suppress_small_cells([[11], [1], [0], [0]], threshold=11, column_totals=True)
    assert table.text(-1, 0) == "*"
    # "<11", 27, "<11" out of 47 forced both hidden cells to 10.
    values = [[10], [27], [10]]
    table = suppress_small_cells(values, threshold=11, column_totals=True)
    _assert_nothing_derivable(table, values)
    assert table.text(1, 0) == "*" or table.text(-1, 0) == "*"


@pytest.mark.parametrize("seed", range(200))
def test_random_tables_never_leak(seed):
    import random

    rng = random.Random(seed)
    rows, cols = rng.randint(1, 5), rng.randint(1, 5)
    values = [
        [rng.choice([0, 0, 1, 2, 5, 9, 12, 30, 200]) for _ in range(cols)] for _ in range(rows)
    ]
    table = suppress_small_cells(
        values, threshold=11, row_totals=True, column_totals=True, grand_total=True
    )
    _assert_nothing_derivable(table, values)
    for r, c in itertools.product(range(rows), range(cols)):
        if 0 < values[r][c] < 11:
            assert table.text(r, c) == "<11"


def test_rates_from_hidden_counts_are_hidden():
    assert rate_text(3, 40, hidden=True) == "*"
    assert rate_text(30, 40, hidden=False) == "75%"
    assert rate_text(0, 0, hidden=False) == "—"
