"""Aligned text tables in time linear in their cells, for long streams.

rich lays a table out through its renderables, about 0.3 ms a row: a stream
of 200,000 records spent two thirds of its time there (docs/performance.md).
A stream's cells are short one-line strings already made visible, so column
widths and padding are all the layout they need. The look is rich's (rounded
box at a terminal, no border otherwise), so that a stream's table and a
single record's look alike; rows are never folded to the terminal's width.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len

_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def grid(
    header: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    right: Sequence[bool],
    boxed: bool,
    bold_header: bool,
) -> str:
    """The table as text, one line per row, each ending in a newline.

    ``right[i]`` right-aligns column ``i`` (numbers); every cell has one space
    of padding on each side, as in rich's default. ``header=None``: no header row.
    """
    widths = [cell_len(h) for h in header] if header is not None else [0] * len(right)
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], cell_len(cell))

    def cells(row: Sequence[str]) -> list[str]:
        out = []
        for cell, width, flush_right in zip(row, widths, right, strict=True):
            gap = " " * (width - cell_len(cell))
            out.append(f" {gap}{cell} " if flush_right else f" {cell}{gap} ")
        return out

    head = cells(header) if header is not None else None
    if head is not None and bold_header:
        head = [f"{_BOLD}{cell}{_RESET}" for cell in head]
    if not boxed:
        body = ["".join(cells(row)) for row in rows]
        lines = body if head is None else ["".join(head), *body]
        return "".join(line + "\n" for line in lines)

    def rule(left: str, middle: str, end: str) -> str:
        return left + middle.join("─" * (width + 2) for width in widths) + end

    top = [rule("╭", "┬", "╮")]
    if head is not None:
        top += ["│" + "│".join(head) + "│", rule("├", "┼", "┤")]
    lines = [*top, *("│" + "│".join(cells(row)) + "│" for row in rows), rule("╰", "┴", "╯")]
    return "".join(line + "\n" for line in lines)
