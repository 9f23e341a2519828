"""autodiff hessian: every second partial at a point."""

from __future__ import annotations

from typing import Annotated

from ..core.errors import UsageError
from ..core.safe_text import excerpt
from ..language.parser import MAX_NODES
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

# Variables × values: one backward pass over the gradient's graph per variable,
# and a matrix of variables² entries to print. 2,000 variables over 6,000
# values (12,000,000) took 8 s; the default allows about 4 s.
HESSIAN_MAX_WORK = 6_000_000

FORMATS = ("table", "plain", "json", "csv", "tsv")


def hessian(
    expr: ExprArgument = None,
    file: FileOption = None,
    strict: StrictOption = False,
    at: AtOption = None,
    format: Annotated[str | None, format_option(FORMATS)] = None,
    precision: PrecisionOption = 6,
    max_work: Annotated[
        int, max_work_option(HESSIAN_MAX_WORK, "variables × values")
    ] = HESSIAN_MAX_WORK,
    max_nodes: Annotated[int, max_nodes_option()] = MAX_NODES,
) -> None:
    """Print the value, the gradient and the matrix of second partials of EXPR at --at.

    \b
    Examples:
      autodiff hessian "x**2*y + y**3" --at x=1,y=2
      autodiff hessian "x*y" --at x=1,y=2 --format json
    """
    # Imported here, not with the module: `autodiff --help` and other commands skip it.
    from ..features import derivatives
    from ..render.formats import render_hessian

    chosen = choose_format(format, FORMATS)
    expression = read_program(
        expr, file, max_nodes, "hessian", parse_point(at or []), strict=strict
    )
    if not expression.variables:
        raise UsageError(
            f"'{excerpt(expression.text)}' has no variable to differentiate with respect to"
        )
    check_work("the Hessian", len(expression.variables), len(expression), max_work)
    point = parse_point(at or [])
    record = derivatives.hessian(expression, point)
    if chosen == "table":
        from ..render.table import print_hessian_table

        print_hessian_table(record, precision, colour_allowed(), stdout_is_terminal())
    else:
        print(render_hessian(record, chosen), end="")
