"""autodiff graph: the computation graph, with values and gradients, as a picture or DOT."""

from __future__ import annotations

from typing import Annotated

import typer

from ..core.engine import Value
from ..core.expression import Expression
from ..language.parser import MAX_NODES
from ..render import graph as render
from .common import (
    ExprArgument,
    FileOption,
    ForceOption,
    StrictOption,
    at_option,
    completing,
    max_nodes_option,
    output_option,
    parse_point,
    read_program,
)
from .output import announce, format_of, output_target, write_output

DOT_FORMATS = ("dot", "gv")


def graph(
    output: Annotated[
        str,
        output_option("Where to write: a .svg, .png, .pdf, .dot or .gv file, or - for stdout."),
    ],
    expr: ExprArgument = None,
    file: FileOption = None,
    strict: StrictOption = False,
    at: Annotated[list[str] | None, at_option("Without it: the structure alone.")] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="svg, png, pdf, dot or gv. Default: from the file's extension; svg for -.",
            autocompletion=completing(("svg", "png", "pdf", "dot", "gv")),
        ),
    ] = None,
    rankdir: Annotated[
        str,
        typer.Option(
            "--rankdir",
            metavar="LR|TB",
            help="LR: inputs on the left; TB: inputs at the top.",
            autocompletion=completing(("LR", "TB")),
        ),
    ] = "LR",
    no_grad: Annotated[
        bool, typer.Option("--no-grad", help="Show values only, no gradients.")
    ] = False,
    decimals: Annotated[
        int,
        typer.Option(
            "--decimals",
            metavar="N",
            min=0,
            max=17,
            help="Digits after the point in the picture (--precision, elsewhere, counts"
            " significant digits).",
        ),
    ] = 4,
    max_nodes: Annotated[int | None, max_nodes_option("a picture")] = None,
    force: ForceOption = False,
) -> None:
    """Draw the computation graph of EXPR: every value, its data and its gradient at --at.

    \b
    Examples:
      autodiff graph "tanh(x*w + b)" --at x=2,w=-3,b=6.88 -o neuron.svg
      autodiff graph "4*x**2 - 2*x + 5" -o - --format dot
    """
    target = output_target(output, force)
    fmt = format_of(output, render.FORMATS, requested=format, on_stdout=render.TEXT_FORMATS)
    expression = read_program(
        expr, file, max_nodes or MAX_NODES, "graph", parse_point(at or []), strict=strict
    )
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
        decimals=decimals,
        max_nodes=None,
    )
    write_output(target, render.render(drawn, fmt))
    count = render.values_drawn(drawn)
    announce(target, f"{count} value{'' if count == 1 else 's'}")


def evaluated(expression: Expression, at: list[str]) -> Value:
    """The output Value at the point, after backward(): every node has data and grad."""
    point = parse_point(at)
    return expression.backward(point)[-1]
