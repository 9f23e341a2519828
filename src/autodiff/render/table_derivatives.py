"""Rich tables of higher derivatives, for people at a terminal."""

from __future__ import annotations

from rich import box
from rich.table import Table

from .derivatives import HessianRecord, OrderRecord, pretty_label
from .terminal import console, rounded, title


def _table(expr: str, at: dict[str, float], colour: bool, header: bool = False) -> Table:
    return Table(
        title=title(expr, at),
        box=box.ROUNDED if colour else None,
        show_header=header,
        title_justify="left",
    )


def _print(table: Table, colour: bool) -> None:
    console(colour).print(table)


def print_order_table(record: OrderRecord, precision: int, colour: bool) -> None:
    table = _table(record.expr, record.at, colour)
    table.add_column(style="bold" if colour else None)
    table.add_column(justify="right")
    table.add_row("f", rounded(record.value, precision))
    table.add_row(pretty_label(record.wrt, record.order), rounded(record.derivative, precision))
    _print(table, colour)


def print_hessian_table(record: HessianRecord, precision: int, colour: bool) -> None:
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
