"""The backprop trace as text: aligned plain text, a rich table, or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from ..features.explain import Edge, Trace
from . import terminal
from .terminal import rounded

FORWARD_TITLE = "forward pass: each node after its inputs"
BACKWARD_TITLE = (
    "backward pass: output first (gradient 1); each edge adds upstream * local to its input"
)
FORWARD_HEADER = ("node", "definition", "value", "expression")
BACKWARD_HEADER = ("edge", "local derivative", "upstream", "product", "gradient of the input")


def title(trace: Trace) -> str:
    return terminal.title(trace.expr, trace.at)


def forward_rows(trace: Trace, precision: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for node in trace.forward:
        leaf = node.op in ("variable", "constant")
        rows.append(
            (
                node.name,
                node.op if leaf else node.definition,
                rounded(node.value, precision),
                "" if leaf else node.expression,
            )
        )
    return rows


def local_text(edge: Edge, precision: int) -> str:
    """``d tanh(n9)/dn9 = 1 - tanh(n9)**2 = 0.5``; a formula that is a number stands alone."""
    value = rounded(edge.local, precision)
    if edge.formula == value:
        return f"{edge.derivative} = {edge.formula}"
    return f"{edge.derivative} = {edge.formula} = {value}"


def gradient_text(edge: Edge, precision: int) -> str:
    """``x = 3`` the first time an input is reached, ``x now 6 (+= 3)`` after."""
    if edge.accumulated:
        return (
            f"{edge.input} now {rounded(edge.grad, precision)} "
            f"(+= {rounded(edge.product, precision)})"
        )
    return f"{edge.input} = {rounded(edge.grad, precision)}"


def backward_rows(trace: Trace, precision: int) -> list[tuple[str, ...]]:
    return [
        (
            f"{edge.node} → {edge.input}",
            local_text(edge, precision),
            rounded(edge.upstream, precision),
            rounded(edge.product, precision),
            gradient_text(edge, precision),
        )
        for edge in trace.backward
    ]


def grad_rows(trace: Trace, precision: int) -> list[tuple[str, ...]]:
    return [(f"∂f/∂{name}", rounded(g, precision)) for name, g in trace.grad.items()]


def columns(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns two spaces apart, without trailing blanks."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return [
        (indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))).rstrip()
        for row in rows
    ]


def plain(trace: Trace, precision: int) -> str:
    lines = [title(trace), "", FORWARD_TITLE]
    lines += columns([FORWARD_HEADER, *forward_rows(trace, precision)])
    lines += ["", BACKWARD_TITLE]
    backward = backward_rows(trace, precision)
    if backward:
        lines += columns([BACKWARD_HEADER, *backward])
    else:
        lines.append("  (no edges: the expression depends on no variable)")
    lines += ["", "gradient"]
    grads = grad_rows(trace, precision)
    lines += columns(grads) if grads else ["  (no variables)"]
    return "\n".join(lines) + "\n"


def as_json(trace: Trace) -> dict[str, object]:
    return {
        "expr": trace.expr,
        "at": trace.at,
        "value": trace.value,
        "forward": [
            {**asdict(node), "inputs": list(node.inputs), "value": node.value}
            for node in trace.forward
        ],
        "backward": [asdict(edge) for edge in trace.backward],
        "grad": trace.grad,
    }


def json_text(trace: Trace) -> str:
    return json.dumps(as_json(trace), allow_nan=False) + "\n"


# Past this many rows rich's cell-by-cell layout costs seconds (0.3 ms a row:
# 145 s for a 100,000-node trace); the grid draws the same table linearly.
FOLDED_ROWS = 1000


def print_table(trace: Trace, precision: int, colour: bool, on_terminal: bool) -> None:
    """Tables boxed and bold only when colour is allowed.

    At a terminal, a trace of at most FOLDED_ROWS rows is laid out by rich,
    which folds long cells to the terminal's width; a longer trace, and every
    trace in a pipe, is drawn by the grid at its natural width.
    """
    from rich import box
    from rich.table import Table

    from .grid import grid

    console = terminal.console(colour, width=None if on_terminal else 1000)
    bold = "bold" if colour else None
    forward = forward_rows(trace, precision)
    backward = backward_rows(trace, precision)
    grads = grad_rows(trace, precision)
    folded = on_terminal and len(forward) + len(backward) <= FOLDED_ROWS

    def table(caption: str, header: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> None:
        # The caption is printed on its own line: a rich title wraps at the table's width.
        console.print()
        console.print(caption, style=bold)
        names = header or [""] * len(rows[0])
        right = [
            name in ("value", "upstream", "product") or (header is None and k == 1)
            for k, name in enumerate(names)
        ]
        if not folded:
            console.file.write(grid(header, rows, right, boxed=colour, bold_header=colour))
            return
        result = Table(box=box.ROUNDED if colour else None, show_header=header is not None)
        for name, flush_right in zip(names, right, strict=True):
            result.add_column(name, justify="right" if flush_right else "left")
        for row in rows:
            result.add_row(*row)
        console.print(result)

    console.print(title(trace), style=bold)
    table(FORWARD_TITLE, FORWARD_HEADER, forward)
    if backward:
        table(BACKWARD_TITLE, BACKWARD_HEADER, backward)
    if grads:
        table("gradient", None, grads)
