"""A rich table of a gradient, for people at a terminal."""

from __future__ import annotations

from rich import box
from rich.table import Table

from ..core.safe_text import visible
from .formats import GradRecord
from .terminal import console, rounded, title


def print_grad_table(record: GradRecord, precision: int, colour: bool) -> None:
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
    console(colour).print(table)
