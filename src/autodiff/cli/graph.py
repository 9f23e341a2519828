"""autodiff graph: the computation graph, with values and gradients, as a picture or DOT."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..core.engine import Value
from ..core.errors import MissingValueError, UsageError
from ..core.expression import Expression
from ..language.parser import parse
from ..render import graph as render
from .common import ExprArgument, ForceOption, missing_value_hint, parse_point, picture_nodes_option
from .output import output_target, write_output

DOT_FORMATS = ("dot", "gv")


def graph(
    expr: ExprArgument,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to write: a .svg, .png, .pdf, .dot or .gv file, or - for stdout.",
            show_default=False,
        ),
    ],
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            metavar="NAME=VALUE",
            help="A variable's value (repeatable, or x=1,y=2). Without it: the structure alone.",
        ),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="svg, png, pdf, dot or gv. Default: from the file's extension; svg for -.",
        ),
    ] = None,
    rankdir: Annotated[
        str,
        typer.Option(
            "--rankdir", metavar="LR|TB", help="LR: inputs on the left; TB: inputs at the top."
        ),
    ] = "LR",
    no_grad: Annotated[
        bool, typer.Option("--no-grad", help="Show values only, no gradients.")
    ] = False,
    precision: Annotated[
        int,
        typer.Option("--precision", metavar="N", min=0, max=17, help="Digits after the point."),
    ] = 4,
    max_nodes: Annotated[int | None, picture_nodes_option("graphs")] = None,
    force: ForceOption = False,
) -> None:
    """Draw the computation graph of EXPR: every value, its data and its gradient at --at."""
    target = output_target(output, force)
    fmt = output_format(output, format)
    expression = parse(expr)
    limit = max_nodes
    if limit is None and fmt not in DOT_FORMATS:
        limit = render.DEFAULT_MAX_NODES
    render.check_size(
        len(expression),
        limit,
        "write DOT text instead (-o graph.dot), or raise the limit with --max-nodes N",
    )
    drawn = render.draw(
        evaluated(expression, at) if at else expression,
        rankdir=rankdir.upper(),
        grad=not no_grad,
        precision=precision,
        max_nodes=None,
    )
    write_output(target, render.render(drawn, fmt))
    if target.replace:  # a file: say what it holds
        count = len(expression)
        print(f"wrote {target.shown} ({count} value{'' if count == 1 else 's'})", file=sys.stderr)


def output_format(output: str, requested: str | None) -> str:
    """--format, or the output file's extension; SVG on stdout."""
    if requested is not None:
        fmt = requested.lower()
        if fmt not in render.FORMATS:
            choices = ", ".join(render.FORMATS)
            raise UsageError(f"unknown --format '{requested}' (choose from {choices})")
    elif output == "-":
        fmt = "svg"
    else:
        fmt = Path(output).suffix.lower().lstrip(".")
        if fmt not in render.FORMATS:
            raise UsageError(
                f"cannot tell the format of '{output}': name it .svg, .png, .pdf, .dot or .gv,"
                " or give --format"
            )
    if output == "-" and fmt not in render.TEXT_FORMATS:
        raise UsageError(
            f"-o - writes text (svg, dot or gv); write {fmt} to a file, as in -o graph.{fmt}"
        )
    return fmt


def evaluated(expression: Expression, at: list[str]) -> Value:
    """The output Value at the point, after backward(): every node has data and grad."""
    point = parse_point(at)
    try:
        return expression.backward(point)[-1]
    except MissingValueError as error:
        raise missing_value_hint(error) from None
