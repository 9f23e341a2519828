"""autodiff plot: f and its derivative along one variable, as SVG, PNG or PDF."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from ..core.errors import AutodiffError, UsageError
from ..core.safe_text import excerpt
from ..features.curve import DEFAULT_SAMPLES, sample
from ..language.parser import MAX_NODES, constant_value
from .common import (
    ExprArgument,
    FileOption,
    ForceOption,
    StrictOption,
    at_option,
    max_nodes_option,
    output_option,
    parse_point,
    read_program,
)
from .output import announce, format_of, output_target, write_output


def plot(
    output: Annotated[
        str,
        output_option(
            "Where to write the picture: a .svg, .png or .pdf file, or - for SVG on stdout."
        ),
    ],
    expr: ExprArgument = None,
    file: FileOption = None,
    strict: StrictOption = False,
    wrt: Annotated[
        str | None,
        typer.Option(
            "--wrt", metavar="NAME", help="The variable along the x axis. Default: the first one."
        ),
    ] = None,
    at: Annotated[list[str] | None, at_option("Here: the variables other than --wrt.")] = None,
    range_: Annotated[
        str,
        typer.Option("--range", metavar="LOW:HIGH", help="The interval, e.g. -10:10 or -pi:pi."),
    ] = "-10:10",
    samples: Annotated[
        int, typer.Option("--samples", metavar="N", help="How many evenly spaced points.")
    ] = DEFAULT_SAMPLES,
    ylim: Annotated[
        str | None,
        typer.Option(
            "--ylim",
            metavar="LOW:HIGH",
            help="The y-axis, e.g. -5:5. Default: the bulk of f and f' (a pole's spikes are"
            " clipped).",
        ),
    ] = None,
    force: ForceOption = False,
    max_nodes: Annotated[int, max_nodes_option()] = MAX_NODES,
) -> None:
    """Plot EXPR and its derivative over --range; undefined points are gaps.

    \b
    Examples:
      autodiff plot "4*x**2 - 2*x + 5" -o quadratic.svg
      autodiff plot "tanh(x*w)" --wrt x --at w=2 --range -3:3 -o slice.png
    """
    fmt = format_of(output, ("svg", "png", "pdf"), on_stdout=("svg",))
    # Fail before any work when the file cannot go where it should.
    target = output_target(output, force)
    low, high = parse_range(range_)
    axis = parse_range(ylim, "--ylim") if ylim is not None else None
    expression = read_program(expr, file, max_nodes, "plot", parse_point(at or []), strict=strict)
    if not expression.variables:
        raise UsageError("the expression has no variable to plot against")
    point = parse_point(at or [])
    curve = sample(expression, wrt or expression.variables[0], low, high, point, samples, axis)
    from ..render.plot import draw

    write_output(target, draw(curve, fmt))
    announce(target, f"{samples} samples of f and df/d{curve.wrt}")


def parse_range(text: str, option: str = "--range") -> tuple[float, float]:
    """``-10:10`` or ``-pi:pi``; each end may be a constant expression."""
    low, colon, high = text.partition(":")
    if not colon or not low.strip() or not high.strip():
        raise UsageError(
            f"bad {option} '{excerpt(text)}': expected LOW:HIGH, as in {option} -10:10"
        )
    try:
        ends = constant_value(low), constant_value(high)
    except AutodiffError:
        raise UsageError(
            f"bad {option} '{excerpt(text)}': the ends must be numbers or constant expressions"
        ) from None
    if not math.isfinite(ends[1] - ends[0]):
        # The samples are spaced by the width: it must itself be a float.
        raise UsageError(f"bad {option} '{excerpt(text)}': the interval is wider than 1.8e308")
    if option == "--ylim" and not ends[0] < ends[1]:
        raise UsageError(f"bad --ylim '{excerpt(text)}': LOW must be less than HIGH")
    return ends
