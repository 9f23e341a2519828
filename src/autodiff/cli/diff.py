"""autodiff diff: the derivative as a formula, in the language autodiff reads."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import UsageError
from ..expression import parse
from .common import ExprArgument, choose_format

FORMATS = ("plain", "json", "latex")


def diff(
    expr: ExprArgument,
    wrt: Annotated[
        list[str] | None,
        typer.Option(
            "--wrt", metavar="NAME", help="Differentiate with respect to NAME (repeatable)."
        ),
    ] = None,
    order: Annotated[
        int, typer.Option("--order", metavar="N", min=1, help="The N-th derivative.")
    ] = 1,
    format: Annotated[
        str | None,
        typer.Option(
            "--format", metavar="FORMAT", help=f"One of {', '.join(FORMATS)}. Default: plain."
        ),
    ] = None,
) -> None:
    """Print the derivative of EXPR as a simplified expression (one per variable)."""
    # Imported here, not with the module: `autodiff --help` and other commands skip it.
    from .. import derivatives
    from ..render.derivatives import Formula, render_formulas
    from ..render.latex import latex

    chosen = choose_format(format or "plain", FORMATS)
    expression = parse(expr)
    if not expression.variables:
        raise UsageError(f"'{expr}' has no variable to differentiate with respect to")
    found = derivatives.derivatives(expression, wrt or None, order)
    formulas = [Formula(name, d.format(), latex(d)) for name, d in found.items()]
    print(render_formulas(expr, order, formulas, chosen), end="")
