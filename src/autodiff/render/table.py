"""A rich table of a gradient, for people at a terminal."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from ..errors import format_number
from ..safe_text import visible
from .formats import GradRecord


def rounded(x: float, precision: int) -> str:
    return f"{x:.{precision}g}"


def print_grad_table(record: GradRecord, precision: int, colour: bool) -> None:
    at = ", ".join(f"{n} = {format_number(v)}" for n, v in record.at.items())
    table = Table(
        title=visible(f"f = {record.expr}" + (f"  at  {at}" if at else "")),
        box=box.ROUNDED if colour else None,
        show_header=False,
        title_justify="left",
    )
    table.add_column(style="bold" if colour else None)
    table.add_column(justify="right")
    table.add_row("f", rounded(record.value, precision))
    for name, partial in record.grad.items():
        table.add_row(visible(f"∂f/∂{name}"), rounded(partial, precision))
    Console(no_color=not colour, highlight=False, soft_wrap=True).print(table)
