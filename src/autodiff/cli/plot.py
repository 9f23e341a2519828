"""autodiff plot: f and its derivative along one variable, as SVG, PNG or PDF."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from ..core.errors import AutodiffError, MissingValueError, UsageError
from ..core.safe_text import excerpt
from ..features.curve import DEFAULT_SAMPLES, sample
from ..language.parser import constant_value, parse
from .common import ExprArgument, ForceOption, missing_value_hint, parse_point
from .output import output_target, write_output


def plot(
    expr: ExprArgument,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to write the picture: a .svg, .png or .pdf file, or - for SVG on stdout.",
            show_default=False,
        ),
    ],
    wrt: Annotated[
        str | None,
        typer.Option(
            "--wrt", metavar="NAME", help="The variable along the x axis. Default: the first one."
        ),
    ] = None,
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            metavar="NAME=VALUE",
            help="Values for the other variables; repeat it or join with commas.",
        ),
    ] = None,
    range_: Annotated[
        str,
        typer.Option("--range", metavar="LOW:HIGH", help="The interval, e.g. -10:10 or -pi:pi."),
    ] = "-10:10",
    samples: Annotated[
        int, typer.Option("--samples", metavar="N", help="How many evenly spaced points.")
    ] = DEFAULT_SAMPLES,
    force: ForceOption = False,
) -> None:
    """Plot EXPR and its derivative over --range; undefined points are gaps."""
    fmt = output_format(output)
    # Fail before any work when the file cannot go where it should.
    target = output_target(output, force)
    low, high = parse_range(range_)
    expression = parse(expr)
    if not expression.variables:
        raise UsageError("the expression has no variable to plot against")
    point = parse_point(at or [])
    try:
        curve = sample(expression, wrt or expression.variables[0], low, high, point, samples)
    except MissingValueError as error:
        raise missing_value_hint(error) from None
    from ..render.plot import draw

    write_output(target, draw(curve, fmt))


def output_format(output: str) -> str:
    if output == "-":
        return "svg"
    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix not in ("svg", "png", "pdf"):
        raise UsageError(f"-o {output}: the file name must end in .svg, .png or .pdf")
    return suffix


def parse_range(text: str) -> tuple[float, float]:
    """``-10:10`` or ``-pi:pi``; each end may be a constant expression."""
    low, colon, high = text.partition(":")
    if not colon or not low.strip() or not high.strip():
        raise UsageError(f"bad --range '{excerpt(text)}': expected LOW:HIGH, as in --range -10:10")
    try:
        ends = constant_value(low), constant_value(high)
    except AutodiffError:
        raise UsageError(
            f"bad --range '{excerpt(text)}': the ends must be numbers or constant expressions"
        ) from None
    if not math.isfinite(ends[1] - ends[0]):
        # The samples are spaced by the width: it must itself be a float.
        raise UsageError(f"bad --range '{excerpt(text)}': the interval is wider than 1.8e308")
    return ends
