"""autodiff check: the exact gradient against finite differences."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..core.safe_text import visible
from ..features.check import DEFAULT_RTOL
from ..features.check import check as check_gradient
from ..language.parser import MAX_NODES
from ..render import formats
from .common import (
    AtOption,
    ExprArgument,
    FileOption,
    PrecisionOption,
    StrictOption,
    check_work,
    choose_format,
    colour_allowed,
    format_option,
    max_nodes_option,
    max_work_option,
    parse_point,
    read_program,
    stdout_is_terminal,
)
from .status import ExitStatus

# Variables × values: each variable's differences evaluate f six times or
# more. 500 variables over 1,500 values (750,000) took 19 s; the default
# allows about 5 s.
CHECK_MAX_WORK = 200_000

FORMATS = ("table", "plain", "json")


def check(
    expr: ExprArgument = None,
    file: FileOption = None,
    strict: StrictOption = False,
    at: AtOption = None,
    wrt: Annotated[
        list[str] | None,
        typer.Option("--wrt", metavar="NAME", help="Check only this partial (repeatable)."),
    ] = None,
    step: Annotated[
        float | None,
        typer.Option(
            "--step",
            metavar="H",
            help="The finite-difference step. Default: cbrt(eps)*max(1,|x|), "
            "shrunk until the central difference settles.",
            show_default=False,
        ),
    ] = None,
    rtol: Annotated[
        float,
        typer.Option(
            "--rtol", metavar="R", help="The relative error allowed (beyond rounding error)."
        ),
    ] = DEFAULT_RTOL,
    format: Annotated[str | None, format_option(FORMATS)] = None,
    precision: PrecisionOption = 6,
    max_work: Annotated[int, max_work_option(CHECK_MAX_WORK, "variables × values")] = (
        CHECK_MAX_WORK
    ),
    max_nodes: Annotated[int, max_nodes_option()] = MAX_NODES,
) -> None:
    """Compare every partial derivative with finite differences; exit 3 if one disagrees.

    \b
    Examples:
      autodiff check "4*x**2 - 2*x + 5" --at x=3
      autodiff check "sin(x)*y" --at x=1,y=2 --format json
    """
    chosen = choose_format(format, FORMATS)
    expression = read_program(expr, file, max_nodes, "check", parse_point(at or []), strict=strict)
    checked = len(set(wrt)) if wrt else len(expression.variables)
    check_work("check", checked, len(expression), max_work)
    point = parse_point(at or [])
    result = check_gradient(expression, point, step=step, rtol=rtol, wrt=wrt)
    if chosen == "table":
        from ..render.table import print_check_table

        print_check_table(result, precision, colour=colour_allowed(), terminal=stdout_is_terminal())
    elif chosen == "json":
        print(formats.check_json(result), end="")
    else:
        print(formats.check_plain(result), end="")
    failed = result.disagreements
    if failed:
        sys.stdout.flush()
        for p in failed:
            print(visible(f"autodiff: check failed: d/d{p.name}: {p.reason}"), file=sys.stderr)
        raise typer.Exit(ExitStatus.CHECK_FAILED)
