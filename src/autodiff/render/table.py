"""Tables for people at a terminal: every result the commands print as a table.

rich lays out a small table and folds long cells to the terminal's width;
past FOLDED_ROWS rows (an explain trace of a large expression) the grid
draws the same characters in linear time. Boxes and bold only with colour.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.table import Table
from rich.text import Text

from ..core.errors import format_number
from ..core.safe_text import visible
from ..features.check import CheckResult
from ..features.derivatives import DerivativeAt, HessianResult
from ..features.explain import Trace
from ..features.gradient import Gradient
from ..features.jacobian import Jacobian
from .formats import (
    BACKWARD_HEADER,
    BACKWARD_TITLE,
    FORWARD_HEADER,
    FORWARD_TITLE,
    backward_rows,
    forward_rows,
    grad_rows,
    pretty_label,
)
from .grid import grid
from .terminal import console, rounded, title

# -- grad -----------------------------------------------------------------------


def print_grad_table(record: Gradient, precision: int, colour: bool) -> None:
    table = Table(
        title=title(record.expr, record.at),
        box=box.ROUNDED if colour else None,
        show_header=False,
        title_justify="left",
    )
    table.add_column(style="bold" if colour else None)
    table.add_column(justify="right")
    table.add_row("f", rounded(record.value, precision))
    for name, partial in record.grad.items():
        table.add_row(visible(f"∂f/∂{name}"), rounded(partial, precision))
    for name, step in (record.steps or {}).items():
        table.add_row(visible(f"{name}.value"), rounded(step.value, precision))
        table.add_row(visible(f"{name}.grad"), rounded(step.grad, precision))
    console(colour).print(table)


# -- grad --order, hessian ------------------------------------------------------


def _table(expr: str, at: dict[str, float], colour: bool, header: bool = False) -> Table:
    return Table(
        title=title(expr, at),
        box=box.ROUNDED if colour else None,
        show_header=header,
        title_justify="left",
    )


def _print(table: Table, colour: bool) -> None:
    console(colour).print(table)


def print_order_table(record: DerivativeAt, precision: int, colour: bool) -> None:
    table = _table(record.expr, record.at, colour)
    table.add_column(style="bold" if colour else None)
    table.add_column(justify="right")
    table.add_row("f", rounded(record.value, precision))
    table.add_row(pretty_label(record.wrt, record.order), rounded(record.derivative, precision))
    _print(table, colour)


def print_hessian_table(record: HessianResult, precision: int, colour: bool) -> None:
    """The value and gradient, then the matrix with the variables along both sides."""
    table = _table(record.expr, record.at, colour)
    table.add_column(style="bold" if colour else None)
    table.add_column(justify="right")
    table.add_row("f", rounded(record.value, precision))
    for name, partial in record.grad.items():
        table.add_row(pretty_label(name, 1), rounded(partial, precision))
    _print(table, colour)
    matrix = Table(
        title="∂²f/∂row∂column",
        box=box.ROUNDED if colour else None,
        title_justify="left",
    )
    matrix.add_column("", style="bold" if colour else None)
    for name in record.variables:
        matrix.add_column(name, justify="right")
    for name, row in zip(record.variables, record.hessian, strict=True):
        matrix.add_row(name, *(rounded(h, precision) for h in row))
    _print(matrix, colour)


# -- check ------------------------------------------------------------------------


def _rounded(x: float | None, precision: int) -> str:
    return "-" if x is None else rounded(x, precision)


# The table: one row per quantity, one column per variable.
TABLE_ROWS = (
    ("autodiff (exact)", lambda p, n: _rounded(p.autodiff, n)),
    ("central  (f(x+h) - f(x-h))/2h", lambda p, n: _rounded(p.central, n)),
    ("one-sided  (f(x+h) - f(x))/h", lambda p, n: _rounded(p.one_sided, n)),
    ("step h", lambda p, n: _rounded(p.step, n)),
    ("abs error", lambda p, n: _rounded(p.abs_error, 2)),
    ("rel error", lambda p, n: _rounded(p.rel_error, 2)),
    ("result", lambda p, n: p.status),
)


def print_check_table(result: CheckResult, precision: int, colour: bool, terminal: bool) -> None:
    table = Table(box=box.ROUNDED if colour else None)
    table.add_column("")
    for p in result.partials:
        table.add_column(f"∂f/∂{p.name}", justify="right")
    for label, cell in TABLE_ROWS:
        cells = [cell(p, precision) for p in result.partials]
        if label == "result" and colour:
            # The verdict in colour, the one cell a reader scans for.
            shades = {"agree": "green", "disagree": "bold red"}
            cells = [Text(c, style=shades.get(c, "yellow")) for c in cells]
        table.add_row(label, *cells)
    out = console(colour, width=_width(terminal))
    # The title on its own line: a rich title wraps at the table's width.
    out.print(
        f"{title(result.expr, result.at)}  (rtol {format_number(result.rtol)})",
        style="bold" if colour else None,
    )
    if not result.partials:
        out.print("  (no variables: nothing to check)")
        return
    out.print(table)
    for p in result.partials:
        # A disagreement's reason goes to stderr with the exit status, once.
        if p.reason and p.status != "disagree":
            out.print(visible(f"∂f/∂{p.name} {p.status}: {p.reason}"))


def _width(terminal: bool) -> int | None:
    """A terminal's own width; in a pipe, room for the table's natural width (rich assumes 80)."""
    return None if terminal else 1000


# -- explain ----------------------------------------------------------------------


# Past this many rows rich's cell-by-cell layout costs seconds (0.3 ms a row:
# 145 s for a 100,000-node trace); the grid draws the same table linearly.
FOLDED_ROWS = 1000


def print_trace_table(trace: Trace, precision: int, colour: bool, on_terminal: bool) -> None:
    """Tables boxed and bold only when colour is allowed.

    At a terminal, a trace of at most FOLDED_ROWS rows is laid out by rich,
    which folds long cells to the terminal's width; a longer trace, and every
    trace in a pipe, is drawn by the grid at its natural width.
    """
    out = console(colour, width=_width(on_terminal))
    bold = "bold" if colour else None
    forward = forward_rows(trace, precision)
    backward = backward_rows(trace, precision)
    grads = grad_rows(trace, precision)
    folded = on_terminal and len(forward) + len(backward) <= FOLDED_ROWS

    def table(caption: str, header: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> None:
        # The caption is printed on its own line: a rich title wraps at the table's width.
        out.print()
        out.print(caption, style=bold)
        names = header or [""] * len(rows[0])
        right = [
            name in ("value", "upstream", "product") or (header is None and k == 1)
            for k, name in enumerate(names)
        ]
        if not folded:
            out.file.write(grid(header, rows, right, boxed=colour, bold_header=colour))
            return
        result = Table(box=box.ROUNDED if colour else None, show_header=header is not None)
        for name, flush_right in zip(names, right, strict=True):
            result.add_column(name, justify="right" if flush_right else "left")
        for row in rows:
            result.add_row(*row)
        out.print(result)

    out.print(title(trace.expr, trace.at), style=bold)
    table(FORWARD_TITLE, FORWARD_HEADER, forward)
    if backward:
        table(BACKWARD_TITLE, BACKWARD_HEADER, backward)
    if grads:
        table("gradient", None, grads)


# -- jacobian -----------------------------------------------------------------------


def print_jacobian_table(record: Jacobian, precision: int, colour: bool, terminal: bool) -> None:
    """The title on its own line, then one row per output: its text, f and ∂/∂<name>..."""
    table = Table(box=box.ROUNDED if colour else None, show_header=True)
    table.add_column("", style="bold" if colour else None)
    table.add_column("f", justify="right")
    for name in record.variables:
        table.add_column(visible(f"∂/∂{name}"), justify="right")
    for text, value, row in zip(record.outputs, record.value, record.jacobian, strict=True):
        table.add_row(
            visible(text), rounded(value, precision), *(rounded(p, precision) for p in row)
        )
    out = console(colour, width=_width(terminal))
    # The title on its own line: a rich title wraps at the table's width.
    out.print(title(record.expr, record.at), style="bold" if colour else None)
    out.print(table)
