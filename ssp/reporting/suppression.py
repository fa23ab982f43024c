"""Small-cell suppression for de-identified tables.

Rules (DESIGN.md section 6 and the report issue):

1. Primary: a count from 1 to threshold-1 is suppressed and shown as "<threshold".
   Zero is shown as 0: it reveals nobody.
2. Complementary: where a line (a row or a column) shows a total, the hidden cells'
   sum is known (total minus the visible cells), so further cells are suppressed, the
   smallest non-zero visible cells first, until no small cell can be narrowed down: a
   reader who also knows that each "<t" cell is 1 to t-1 and each "*" cell at least t
   must still find every value from 1 to t-1 possible for every small cell (and there are
   at least two hidden cells). If the line runs out of cells, its total is suppressed
   too. Rows and columns interact, so the rules are applied again until nothing changes.
3. A total that is itself small is suppressed like any other cell.
4. A percentage or rate derived from a suppressed count is suppressed.

Complementary cells are shown as "*" rather than "<threshold": they are not small, they
are hidden to protect a small one, and the report's footer says so.

This module knows nothing about Flask, the database or the report's layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRIMARY = "primary"
COMPLEMENTARY = "complementary"


@dataclass
class SuppressedTable:
    """A grid of counts with optional row and column totals, after suppression."""

    values: list[list[int]]
    row_totals: list[int] | None = None
    column_totals: list[int] | None = None
    grand_total: int | None = None
    threshold: int = 11
    # (row, col) -> PRIMARY or COMPLEMENTARY; totals use col == -1 (row totals),
    # row == -1 (column totals) and (-1, -1) for the grand total.
    suppressed: dict[tuple[int, int], str] = field(default_factory=dict)

    def is_suppressed(self, row: int, col: int) -> bool:
        """Whether the cell (or total, with -1) is hidden."""
        return (row, col) in self.suppressed

    def text(self, row: int, col: int) -> str:
        """How the cell (or total) is printed."""
        kind = self.suppressed.get((row, col))
        if kind == PRIMARY:
            return f"<{self.threshold}"
        if kind == COMPLEMENTARY:
            return "*"
        return f"{self._value(row, col):,}"

    def _value(self, row: int, col: int) -> int:
        if row == -1 and col == -1:
            return self.grand_total or 0
        if col == -1:
            return self.row_totals[row]
        if row == -1:
            return self.column_totals[col]
        return self.values[row][col]

    @property
    def primary_count(self) -> int:
        """Cells hidden because they are small."""
        return sum(1 for kind in self.suppressed.values() if kind == PRIMARY)

    @property
    def complementary_count(self) -> int:
        """Cells hidden so that a small one cannot be worked out."""
        return sum(1 for kind in self.suppressed.values() if kind == COMPLEMENTARY)


def is_small(value: int, threshold: int) -> bool:
    """A count that must not be shown: 1 to threshold-1."""
    return 0 < value < threshold


def small_count_text(value: int, threshold: int) -> str:
    """A single count (no total beside it) as printed."""
    return f"<{threshold}" if is_small(value, threshold) else f"{value:,}"


def suppress_small_cells(
    values: list[list[int]],
    *,
    threshold: int,
    row_totals: bool = False,
    column_totals: bool = False,
    grand_total: bool = False,
) -> SuppressedTable:
    """Suppress small cells of a table, and enough others that none can be derived."""
    if threshold < 2:
        raise ValueError("A suppression threshold is at least 2.")
    rows = len(values)
    cols = len(values[0]) if rows else 0
    table = SuppressedTable(
        values=values,
        row_totals=[sum(r) for r in values] if row_totals else None,
        column_totals=[sum(values[r][c] for r in range(rows)) for c in range(cols)]
        if column_totals
        else None,
        grand_total=sum(map(sum, values)) if grand_total else None,
        threshold=threshold,
    )
    for r in range(rows):
        for c in range(cols):
            if is_small(values[r][c], threshold):
                table.suppressed[(r, c)] = PRIMARY
    for r in range(rows if row_totals else 0):
        if is_small(table.row_totals[r], threshold):
            table.suppressed[(r, -1)] = PRIMARY
    for c in range(cols if column_totals else 0):
        if is_small(table.column_totals[c], threshold):
            table.suppressed[(-1, c)] = PRIMARY
    if grand_total and is_small(table.grand_total, threshold):
        table.suppressed[(-1, -1)] = PRIMARY

    lines: list[tuple[list[tuple[int, int]], tuple[int, int]]] = []
    if row_totals:
        lines += [([(r, c) for c in range(cols)], (r, -1)) for r in range(rows)]
    if column_totals:
        lines += [([(r, c) for r in range(rows)], (-1, c)) for c in range(cols)]
    if row_totals and column_totals and grand_total:
        lines.append(([(r, -1) for r in range(rows)], (-1, -1)))
        lines.append(([(-1, c) for c in range(cols)], (-1, -1)))
    elif grand_total and row_totals:
        lines.append(([(r, -1) for r in range(rows)], (-1, -1)))
    elif grand_total and column_totals:
        lines.append(([(-1, c) for c in range(cols)], (-1, -1)))

    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            if _protect_line(table, cells, total):
                changed = True
    return table


def line_is_safe(table: SuppressedTable, hidden: list[tuple[int, int]]) -> bool:
    """Whether a reader who knows a line's total can learn nothing about its small cells.

    A reader knows the sum of the hidden cells (total minus the visible ones), that each
    small cell ("<t") is 1 to t-1 and that each other hidden cell ("*") is at least t.
    The line is safe when there are at least two hidden cells and every small cell could
    still be anything from 1 to t-1.
    """
    if len(hidden) < 2:
        return False
    t = table.threshold
    hidden_sum = sum(table._value(*cell) for cell in hidden)
    small = sum(1 for cell in hidden if table.suppressed[cell] == PRIMARY)
    large = len(hidden) - small
    if small == 0:
        return True
    # The most a small cell can be: the others as small as they can be.
    highest = hidden_sum - (small - 1) * 1 - large * t
    # The least: the other small cells as large as they can be (the "*" ones are unbounded).
    lowest = 1 if large else hidden_sum - (small - 1) * (t - 1)
    return highest >= t - 1 and lowest <= 1


def _protect_line(
    table: SuppressedTable, cells: list[tuple[int, int]], total: tuple[int, int]
) -> bool:
    """Make one line (cells plus its total) safe; True when something was suppressed."""
    hidden = [cell for cell in cells if cell in table.suppressed]
    if not hidden or total in table.suppressed:
        return False  # nothing to protect, or the total is hidden so nothing can be derived
    changed = False
    while not line_is_safe(table, hidden):
        candidates = sorted(
            (cell for cell in cells if cell not in table.suppressed and table._value(*cell) > 0),
            key=lambda cell: (table._value(*cell), cell),
        )
        if not candidates:
            # No cell left to hide: hide the total, so the hidden sum stays unknown.
            table.suppressed[total] = COMPLEMENTARY
            return True
        table.suppressed[candidates[0]] = COMPLEMENTARY
        hidden.append(candidates[0])
        changed = True
    return changed


def rate_text(numerator: int, denominator: int, *, hidden: bool) -> str:
    """A percentage as printed: suppressed when derived from a hidden count."""
    if hidden:
        return "*"
    if denominator == 0:
        return "—"
    return f"{100 * numerator / denominator:.0f}%"
