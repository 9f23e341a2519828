"""A finite-difference check as tab-separated text, a rich table, or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict

from ..core.errors import format_number
from ..core.safe_text import visible
from ..features.check import CheckResult, PartialCheck
from .terminal import console, rounded, title

# Plain text: a header, then one row per variable; floats round-trip (repr).
PLAIN_HEADER = (
    "name",
    "autodiff",
    "central",
    "one_sided",
    "step",
    "abs_error",
    "rel_error",
    "status",
    "reason",
)


def _exact(x: float | None) -> str:
    return "" if x is None else repr(x)


def plain(result: CheckResult) -> str:
    rows = [PLAIN_HEADER]
    for p in result.partials:
        rows.append(
            (
                p.name,
                repr(p.autodiff),
                _exact(p.central),
                _exact(p.one_sided),
                repr(p.step),
                _exact(p.abs_error),
                _exact(p.rel_error),
                p.status,
                p.reason,
            )
        )
    return "".join("\t".join(row) + "\n" for row in rows)


def as_json(result: CheckResult) -> dict[str, object]:
    return {
        "expr": result.expr,
        "at": result.at,
        "value": result.value,
        "grad": result.grad,
        "rtol": result.rtol,
        "ok": result.ok,
        "checks": [asdict(p) for p in result.partials],
    }


def json_text(result: CheckResult) -> str:
    return json.dumps(as_json(result), allow_nan=False) + "\n"


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


def disagreements(result: CheckResult) -> list[PartialCheck]:
    return [p for p in result.partials if p.status == "disagree"]


def print_table(result: CheckResult, precision: int, colour: bool, terminal: bool) -> None:
    from rich import box
    from rich.table import Table

    table = Table(box=box.ROUNDED if colour else None)
    table.add_column("")
    for p in result.partials:
        table.add_column(f"∂f/∂{p.name}", justify="right")
    for label, cell in TABLE_ROWS:
        table.add_row(label, *(cell(p, precision) for p in result.partials))
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
        if p.reason:
            out.print(visible(f"∂f/∂{p.name} {p.status}: {p.reason}"))


def _width(terminal: bool) -> int | None:
    """A terminal's own width; in a pipe, room for the table's natural width (rich assumes 80)."""
    return None if terminal else 1000
