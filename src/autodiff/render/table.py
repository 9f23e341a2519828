"""Tables for people at a terminal: every result the commands print as a table.

Each is drawn by the grid, fitted to the terminal's width (text columns
wrap at operators, wide tables split; numbers are never cut) and at its
natural width in a pipe. Boxes, bold and colour only with colour.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence

from ..core.errors import format_number
from ..core.safe_text import visible
from ..features.check import CheckResult
from ..features.derivatives import DerivativeAt, HessianResult
from ..features.explain import Trace
from ..features.gradient import Gradient
from ..features.jacobian import Jacobian
from ..features.taylor import TaylorSeries
from ..features.uncertainty import Uncertainty
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
from .grid import Painted, grid
from .terminal import rounded, title


def _width(terminal: bool) -> int | None:
    """A terminal's own width (COLUMNS first, as everywhere); none in a pipe."""
    return shutil.get_terminal_size().columns if terminal else None


def _line(text: str, colour: bool) -> None:
    sys.stdout.write((f"\x1b[1m{text}\x1b[0m" if colour else text) + "\n")


def _table(
    rows: Sequence[Sequence[str]],
    right: Sequence[bool],
    colour: bool,
    terminal: bool,
    header: Sequence[str] | None = None,
) -> None:
    sys.stdout.write(
        grid(
            header,
            rows,
            right,
            boxed=colour,
            bold_header=colour,
            width=_width(terminal),
            bold_first=colour,
        )
    )


# -- grad -----------------------------------------------------------------------


def print_grad_table(record: Gradient, precision: int, colour: bool, terminal: bool) -> None:
    rows = [["f", rounded(record.value, precision)]]
    rows += [[visible(f"∂f/∂{n}"), rounded(p, precision)] for n, p in record.grad.items()]
    for name, step in (record.steps or {}).items():
        rows.append([visible(f"{name}.value"), rounded(step.value, precision)])
        rows.append([visible(f"{name}.grad"), rounded(step.grad, precision)])
    _line(title(record.expr, record.at), colour)
    _table(rows, [False, True], colour, terminal)


# -- grad --order, hessian ------------------------------------------------------


def print_order_table(record: DerivativeAt, precision: int, colour: bool, terminal: bool) -> None:
    rows = [
        ["f", rounded(record.value, precision)],
        [pretty_label(record.wrt, record.order), rounded(record.derivative, precision)],
    ]
    _line(title(record.expr, record.at), colour)
    _table(rows, [False, True], colour, terminal)


def print_hessian_table(
    record: HessianResult, precision: int, colour: bool, terminal: bool
) -> None:
    """The value and gradient, then the matrix with the variables along both sides."""
    rows = [["f", rounded(record.value, precision)]]
    rows += [[pretty_label(n, 1), rounded(p, precision)] for n, p in record.grad.items()]
    _line(title(record.expr, record.at), colour)
    _table(rows, [False, True], colour, terminal)
    _line("∂²f/∂row∂column", colour)
    matrix = [
        [name, *(rounded(h, precision) for h in row)]
        for name, row in zip(record.variables, record.hessian, strict=True)
    ]
    right = [False] + [True] * len(record.variables)
    _table(matrix, right, colour, terminal, header=["", *record.variables])


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
    # The verdict in colour, the one cell a reader scans for.
    shades = {"agree": "32", "disagree": "1;31"}
    rows = []
    for label, cell in TABLE_ROWS:
        cells = [cell(p, precision) for p in result.partials]
        if label == "result" and colour:
            cells = [Painted(c, shades.get(c, "33")) for c in cells]
        rows.append([label, *cells])
    _line(f"{title(result.expr, result.at)}  (rtol {format_number(result.rtol)})", colour)
    if not result.partials:
        sys.stdout.write("  (no variables: nothing to check)\n")
        return
    header = ["", *(visible(f"∂f/∂{p.name}") for p in result.partials)]
    right = [False] + [True] * len(result.partials)
    sys.stdout.write(
        grid(header, rows, right, boxed=colour, bold_header=colour, width=_width(terminal))
    )
    for p in result.partials:
        # A disagreement's reason goes to stderr with the exit status, once.
        if p.reason and p.status != "disagree":
            sys.stdout.write(visible(f"∂f/∂{p.name} {p.status}: {p.reason}") + "\n")


# -- explain ----------------------------------------------------------------------


def print_trace_table(trace: Trace, precision: int, colour: bool, on_terminal: bool) -> None:
    """The forward pass, the backward pass and the gradient, each a table."""
    forward = forward_rows(trace, precision)
    backward = backward_rows(trace, precision)
    grads = grad_rows(trace, precision)

    def table(caption: str, header: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> None:
        sys.stdout.write("\n")
        _line(caption, colour)
        names = header or [""] * len(rows[0])
        right = [
            name in ("value", "upstream", "product") or (header is None and k == 1)
            for k, name in enumerate(names)
        ]
        _table(rows, right, colour, on_terminal, header=header)

    _line(title(trace.expr, trace.at), colour)
    table(FORWARD_TITLE, FORWARD_HEADER, forward)
    if backward:
        table(BACKWARD_TITLE, BACKWARD_HEADER, backward)
    if grads:
        table("gradient", None, grads)


# -- jacobian -----------------------------------------------------------------------


def print_jacobian_table(record: Jacobian, precision: int, colour: bool, terminal: bool) -> None:
    """The title on its own line, then one row per output: its text, f and ∂/∂<name>..."""
    header = ["", "f", *(visible(f"∂/∂{name}") for name in record.variables)]
    rows = [
        [visible(text), rounded(value, precision), *(rounded(p, precision) for p in row)]
        for text, value, row in zip(record.outputs, record.value, record.jacobian, strict=True)
    ]
    _line(title(record.expr, record.at), colour)
    _table(rows, [False] + [True] * (len(header) - 1), colour, terminal, header=header)


# -- taylor -------------------------------------------------------------------------


def print_taylor_table(series: TaylorSeries, precision: int, colour: bool, terminal: bool) -> None:
    """One row per order: the derivative and the coefficient; then the polynomial."""
    from .series import polynomial

    rows = [
        [str(k), rounded(d, precision), rounded(c, precision)]
        for k, (d, c) in enumerate(zip(series.derivatives, series.coefficients, strict=True))
    ]
    header = ["k", "derivative", "coefficient"]
    _line(title(series.expr, series.at), colour)
    _table(rows, [True, True, True], colour, terminal, header=header)
    sys.stdout.write(
        visible(f"Taylor polynomial of order {series.order}: {polynomial(series)}") + "\n"
    )


# -- uncertainty --------------------------------------------------------------------


def print_uncertainty_table(
    result: Uncertainty, precision: int, colour: bool, terminal: bool
) -> None:
    """The result as a lab manual rounds it, then the budget, largest contribution first."""
    from ..features.uncertainty import lab_rounding

    _line(title(result.expr, result.at, sigmas=result.sigmas), colour)
    sys.stdout.write(f"f = {lab_rounding(result.value, result.sigma)}\n")
    if result.budget:
        rows = [
            [
                visible(c.name),
                rounded(c.value, precision),
                rounded(c.sigma, precision),
                rounded(c.partial, precision),
                rounded(c.contribution, precision),
                f"{c.share:.1%}",
            ]
            for c in result.budget
        ]
        header = ["input", "value", "sigma", "∂f/∂input", "|∂f/∂input|·sigma", "share"]
        sys.stdout.write("\n")
        _line("uncertainty budget", colour)
        _table(rows, [False, True, True, True, True, True], colour, terminal, header=header)
        if result.correlations and result.sigma > 0:
            rest = 1 - sum(c.share for c in result.budget)
            sys.stdout.write(f"correlations: {rest:.1%} of the variance\n")
    mc = result.monte_carlo
    if mc is not None:
        mean, sigma = rounded(mc.mean, precision), rounded(mc.sigma, precision)
        sys.stdout.write(
            f"\nMonte Carlo, {mc.samples:,} samples (seed {mc.seed}):"
            f" mean {mean}, standard deviation {sigma}"
            + (f"; {mc.undefined:,} samples where f is undefined left out" if mc.undefined else "")
            + "\n"
        )
