"""autodiff grad: the value and the partial derivatives at a point."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import UsageError
from ..expression import MAX_NODES, MissingValueError, parse
from ..render import formats
from .common import choose_format, colour_allowed, missing_value_hint, parse_point

FORMATS = ("table", "plain", "json", "csv", "tsv")


def grad(
    expr: Annotated[
        str,
        typer.Argument(
            metavar="EXPR", help="The expression, e.g. '4*x**2 - 2*x + 5'.", show_default=False
        ),
    ],
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            metavar="NAME=VALUE",
            help="A variable's value; repeat it or join several with commas (x=1,y=pi/2).",
        ),
    ] = None,
    wrt: Annotated[
        list[str] | None,
        typer.Option("--wrt", metavar="NAME", help="Only this partial (repeatable)."),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help=f"One of {', '.join(FORMATS)}. Default: table on a terminal, else plain.",
        ),
    ] = None,
    precision: Annotated[
        int,
        typer.Option(
            "--precision", metavar="N", min=1, max=17, help="Significant digits in a table."
        ),
    ] = 6,
    max_nodes: Annotated[
        int,
        typer.Option("--max-nodes", metavar="N", min=1, help="Refuse larger expressions."),
    ] = MAX_NODES,
) -> None:
    """Print the value of EXPR and every partial derivative at the point given by --at."""
    chosen = choose_format(format, FORMATS)
    expression = parse(expr, max_nodes)
    point = parse_point(at or [])
    try:
        value, partials = expression.gradient(point)
    except MissingValueError as error:
        raise missing_value_hint(error) from None
    for name in wrt or []:
        if name not in partials:
            known = ", ".join(expression.variables) or "none"
            raise UsageError(f"--wrt {name}: not a variable of the expression (variables: {known})")
    if wrt:
        partials = {name: partials[name] for name in dict.fromkeys(wrt)}
    at_point = {name: point[name] for name in expression.variables}
    record = formats.GradRecord(expr, at_point, value, partials)
    if chosen == "table":
        from ..render.table import print_grad_table

        print_grad_table(record, precision, colour=colour_allowed())
    else:
        print(formats.render(record, chosen), end="")
