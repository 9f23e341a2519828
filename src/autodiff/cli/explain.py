"""autodiff explain: backpropagation at a point, step by step."""

from __future__ import annotations

from typing import Annotated

import typer

from ..explain import explain as trace_of
from ..expression import MissingValueError, parse
from ..render import explain as render
from .common import (
    choose_format,
    colour_allowed,
    missing_value_hint,
    parse_point,
    stdout_is_terminal,
)

FORMATS = ("table", "plain", "json")


def explain(
    expr: Annotated[
        str,
        typer.Argument(
            metavar="EXPR", help="The expression, e.g. 'tanh(x1*w1 + b)'.", show_default=False
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
            "--precision", metavar="N", min=1, max=17, help="Significant digits in text output."
        ),
    ] = 6,
) -> None:
    """Show the forward pass, every backward step of the chain rule, and the gradient."""
    chosen = choose_format(format, FORMATS)
    expression = parse(expr)
    point = parse_point(at or [])
    try:
        trace = trace_of(expression, point)
    except MissingValueError as error:
        raise missing_value_hint(error) from None
    if chosen == "table":
        render.print_table(trace, precision, colour=colour_allowed(), terminal=stdout_is_terminal())
    elif chosen == "json":
        print(render.json_text(trace), end="")
    else:
        print(render.plain(trace, precision), end="")
