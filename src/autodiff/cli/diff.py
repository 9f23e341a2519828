"""autodiff diff: the derivative as a formula, in the language autodiff reads."""

from __future__ import annotations

from typing import Annotated

import typer

from ..core.errors import UsageError
from ..core.safe_text import excerpt
from ..features.derivatives import MAX_CHARS
from ..language.parser import MAX_NODES
from .common import ExprArgument, FileOption, choose_format, max_nodes_option, read_program

FORMATS = ("plain", "json", "latex")


def diff(
    expr: ExprArgument = None,
    file: FileOption = None,
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
    max_chars: Annotated[
        int,
        typer.Option(
            "--max-chars",
            metavar="N",
            min=1,
            help="Refuse derivatives that would print more than N characters in all.",
        ),
    ] = MAX_CHARS,
    max_nodes: Annotated[int, max_nodes_option()] = MAX_NODES,
) -> None:
    """Print the derivative of EXPR as a simplified expression (one per variable).

    \b
    Examples:
      autodiff diff "4*x**2 - 2*x + 5"
      autodiff diff "x**2*y**3" --wrt y --format latex
    """
    from ..features import derivatives

    # Imported here, not with the module: `autodiff --help` and other commands skip them.
    from ..render.formats import Formula, render_formulas
    from ..render.latex import latex

    chosen = choose_format(format or "plain", FORMATS)
    expression = read_program(expr, file, max_nodes, "diff")
    if not expression.variables:
        raise UsageError(
            f"'{excerpt(expression.text)}' has no variable to differentiate with respect to"
        )
    found = derivatives.derivatives(expression, wrt or None, order, max_chars)
    # Printing is the costly part of a long formula: only the form asked for is made.
    formulas = [
        Formula(name, latex(d) if chosen == "latex" else d.format()) for name, d in found.items()
    ]
    print(render_formulas(expression.text, order, formulas, chosen), end="")
