"""autodiff taylor: the Taylor polynomial of EXPR around a point, in one variable."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Annotated

import typer

from ..core.errors import AutodiffError, UsageError
from ..core.expression import Expression
from ..features.lines import MAX_LINE_LENGTH
from ..features.taylor import MAX_ORDER, MAX_WORK
from ..features.taylor import taylor as taylor_series
from ..language.parser import MAX_NODES
from ..render.terminal import title
from .common import (
    ExprArgument,
    FileOption,
    PointsFormatOption,
    PointsOption,
    PrecisionOption,
    StrictOption,
    at_option,
    choose_format,
    colour_allowed,
    format_option,
    max_line_length_option,
    max_nodes_option,
    max_work_option,
    parse_point,
    read_program,
    stdout_is_terminal,
)
from .streams import Failures, point_records

FORMATS = ("table", "plain", "json", "jsonl", "latex", "csv", "tsv")


def taylor(
    expr: ExprArgument = None,
    file: FileOption = None,
    strict: StrictOption = False,
    at: Annotated[
        list[str] | None,
        at_option("With --points: the value where a column is absent or a field empty."),
    ] = None,
    wrt: Annotated[
        str | None,
        typer.Option(
            "--wrt",
            metavar="NAME",
            help="The variable of the polynomial; needed when there are several (the"
            " others are held at --at).",
        ),
    ] = None,
    order: Annotated[
        int,
        typer.Option(
            "--order", metavar="N", min=0, max=MAX_ORDER, help="The highest power (default 5)."
        ),
    ] = 5,
    points: PointsOption = None,
    points_format: PointsFormatOption = None,
    format: Annotated[str | None, format_option(FORMATS)] = None,
    precision: PrecisionOption = 6,
    max_work: Annotated[int, max_work_option(MAX_WORK, "series × (order + 1)² / 2")] = MAX_WORK,
    max_nodes: Annotated[int, max_nodes_option()] = MAX_NODES,
    max_line_length: Annotated[int, max_line_length_option()] = MAX_LINE_LENGTH,
) -> None:
    """Print the Taylor polynomial of EXPR around --at, in powers of (x - a), to --order.

    \b
    Examples:
      autodiff taylor "sin(x)" --at x=0 --order 5
      autodiff taylor "exp(x)*cos(y)" --at x=1,y=0 --wrt x --order 3 --format json
      autodiff taylor "log(x)" --at x=1 --format latex
    """
    chosen = choose_format(format, FORMATS)
    point = parse_point(at or [])
    if expr == "-":
        raise UsageError("autodiff taylor reads one expression: give it as EXPR, or with --file -")
    if file == "-" and points == "-":
        raise UsageError("--file - and --points - cannot both read stdin")
    expression = read_program(expr, file, max_nodes, "taylor", point, strict=strict)
    name = _variable(expression, wrt)
    if points is not None:
        if chosen == "latex":
            raise UsageError("--format latex is for one point (--at), not --points")
        code = _points(
            expression,
            name,
            order,
            points,
            points_format,
            chosen,
            point,
            precision,
            max_work,
            max_line_length,
        )
        if code:
            raise typer.Exit(code)
        return
    series = taylor_series(expression, point, name, order, max_work)
    if chosen == "table":
        from ..render.table import print_taylor_table

        print_taylor_table(series, precision, colour_allowed(), stdout_is_terminal())
    else:
        from ..render.series import render

        sys.stdout.write(render(series, chosen))


def _variable(expression: Expression, wrt: str | None) -> str:
    if wrt is not None:
        if wrt not in expression.variables:
            found = ", ".join(expression.variables) or "none"
            raise UsageError(f"--wrt {wrt}: not a variable of the expression (variables: {found})")
        return wrt
    if len(expression.variables) == 1:
        return expression.variables[0]
    if not expression.variables:
        raise UsageError("the expression has no variable: a Taylor polynomial needs one")
    listed = ", ".join(expression.variables)
    raise UsageError(f"--wrt NAME says which variable the polynomial is in (variables: {listed})")


def _points(
    expression: Expression,
    wrt: str,
    order: int,
    source: str,
    requested: str | None,
    fmt: str,
    defaults: Mapping[str, float],
    precision: int,
    max_work: int,
    max_line_length: int,
) -> int:
    """One polynomial per point of the stream."""
    from ..render.records import RecordWriter
    from ..render.series import as_json, flat

    results = [*(f"c{k}" for k in range(order + 1)), "polynomial"]
    failures = Failures()
    with point_records(source, requested, expression.variables, defaults, max_line_length) as (
        columns,
        records,
    ):
        writer = RecordWriter(
            fmt,
            sys.stdout,
            columns,
            results,
            [True] * (order + 1) + [False],
            title(expression.text, dict(defaults), "stdin" if source == "-" else source),
            precision,
            colour_allowed(),
        )
        for record in records:
            error = record.error
            if record.point is not None:
                try:
                    series = taylor_series(expression, record.point, wrt, order, max_work)
                except AutodiffError as failed:
                    error = failed
                else:
                    writer.write(record.fields, flat(series), as_json(series), record.extra)
                    continue
            assert error is not None
            message = failures.report(record.line, error)
            writer.write(record.fields, None, {"at": record.point}, record.extra, message)
        writer.close()
    return failures.code
