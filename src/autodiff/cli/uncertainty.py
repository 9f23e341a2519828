"""autodiff uncertainty: a measurement's standard uncertainty propagated through EXPR."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Annotated

import typer

from ..core.errors import AutodiffError, UsageError
from ..core.expression import Expression
from ..features.lines import MAX_LINE_LENGTH
from ..language.parser import MAX_NODES
from ..render.terminal import title
from .common import (
    ExprArgument,
    FileOption,
    PointsFormatOption,
    PointsOption,
    PrecisionOption,
    StrictOption,
    choose_format,
    colour_allowed,
    format_option,
    max_line_length_option,
    max_nodes_option,
    parse_correlations,
    parse_measured_point,
    read_program,
    stdout_is_terminal,
    warn,
)
from .streams import Failures, point_records

FORMATS = ("table", "plain", "json", "jsonl", "csv", "tsv")


def uncertainty(
    expr: ExprArgument = None,
    file: FileOption = None,
    strict: StrictOption = False,
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            metavar="NAME=VALUE±SIGMA",
            help="A measured value and its standard uncertainty (±, or +/- in ASCII);"
            " a value without one is exact. Repeat it or join with commas.",
        ),
    ] = None,
    correlation: Annotated[
        list[str] | None,
        typer.Option(
            "--correlation",
            metavar="X:Y=R",
            help="The correlation of two inputs, from -1 to 1 (repeatable); default 0.",
        ),
    ] = None,
    monte_carlo: Annotated[
        int | None,
        typer.Option(
            "--monte-carlo",
            metavar="N",
            min=2,
            help="Also sample the inputs N times as normal distributions and show the"
            " mean and standard deviation of f beside the linear result.",
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option("--seed", metavar="N", min=0, help="The seed of --monte-carlo's samples."),
    ] = 0,
    points: PointsOption = None,
    points_format: PointsFormatOption = None,
    format: Annotated[str | None, format_option(FORMATS)] = None,
    precision: PrecisionOption = 6,
    max_nodes: Annotated[int, max_nodes_option()] = MAX_NODES,
    max_line_length: Annotated[int, max_line_length_option()] = MAX_LINE_LENGTH,
) -> None:
    """Propagate the uncertainties of --at through EXPR: f ± sigma, and where sigma comes from.

    \b
    Examples:
      autodiff uncertainty "4*pi**2*L/T**2" --at L=1.00±0.01,T=2.006±0.005
      autodiff uncertainty "x*sin(y)" --at "x=2+/-0.1,y=1+/-0.05" --format json
      autodiff uncertainty "x/y" --at x=1±0.1,y=2±0.1 --correlation x:y=0.5
    """
    from ..features import uncertainty as measured

    chosen = choose_format(format, FORMATS)
    point, sigmas = parse_measured_point(at or [])
    if expr == "-":
        raise UsageError(
            "autodiff uncertainty reads one expression: give it as EXPR, or with --file -"
        )
    if file == "-" and points == "-":
        raise UsageError("--file - and --points - cannot both read stdin")
    expression = read_program(expr, file, max_nodes, "uncertainty", point, strict=strict)
    correlations = parse_correlations(correlation or [], expression.variables)
    if monte_carlo is not None:
        measured.check_samples(expression, monte_carlo)  # once, not for every record
    if points is not None:
        code = _points(
            expression, points, points_format, chosen, point, sigmas, correlations, monte_carlo,
            seed, precision, max_line_length,
        )  # fmt: skip
        if code:
            raise typer.Exit(code)
        return
    result = measured.propagate(expression, point, sigmas, correlations)
    if monte_carlo is not None:
        result = measured.monte_carlo(result, expression, monte_carlo, seed)
        _say_if_they_disagree(result)
    else:
        _say_if_flat(result)
    if chosen == "table":
        from ..render.table import print_uncertainty_table

        print_uncertainty_table(result, precision, colour_allowed(), stdout_is_terminal())
    else:
        from ..render.measurement import render

        sys.stdout.write(render(result, chosen))


def _say_if_they_disagree(result: object, line: int | None = None) -> None:
    from ..features.uncertainty import DISAGREEMENT, Uncertainty

    assert isinstance(result, Uncertainty)
    if result.disagrees and result.monte_carlo is not None:
        mc = result.monte_carlo
        where = f"line {line}: " if line is not None else ""
        warn(
            f"{where}Monte Carlo gives {mc.mean:.6g} ± {mc.sigma:.6g}, the linear propagation"
            f" {result.value:.6g} ± {result.sigma:.6g}: more than {DISAGREEMENT:.0%} apart, so"
            " f is too nonlinear at these uncertainties for the linear figure"
        )


def _say_if_flat(result: object, line: int | None = None) -> bool:
    """An uncertain input f is flat in (a kink, a minimum) counts for nothing to
    first order, though it may move f at a higher one: the linear figure may
    understate sigma. Whether it warned."""
    from ..features.uncertainty import Uncertainty

    assert isinstance(result, Uncertainty)
    flat = [c.name for c in result.budget if c.partial == 0]
    if flat:
        where = f"line {line}: " if line is not None else ""
        names = ", ".join(flat)
        later = " (said once: later records are not checked)" if line is not None else ""
        warn(
            f"{where}the slope of f in {names} is 0 here, so the linear propagation gives"
            f" {'it' if len(flat) == 1 else 'them'} no part of sigma; where f moves with"
            f" {'it' if len(flat) == 1 else 'them'} at a higher order, sigma is understated:"
            f" check with --monte-carlo N{later}"
        )
    return bool(flat)


def _points(
    expression: Expression,
    source: str,
    requested: str | None,
    fmt: str,
    defaults: Mapping[str, float],
    sigmas: Mapping[str, float],
    correlations: Mapping[tuple[str, str], float],
    monte_carlo: int | None,
    seed: int,
    precision: int,
    max_line_length: int,
) -> int:
    """One result per point of the stream; NAME_sigma columns give the uncertainties."""
    from ..features import uncertainty as measured
    from ..render.measurement import as_json, flat, result_names
    from ..render.records import RecordWriter

    variables = list(expression.variables)
    sigma_columns = {f"{n}_sigma": n for n in variables}
    for column, name in sigma_columns.items():
        if column in variables:  # the column would be read twice, as two things
            raise UsageError(
                f"with --points, the column {column} is the uncertainty of {name}, but the"
                f" expression also has a variable {column}: rename the variable"
            )
    # A NAME_sigma column absent, or a field left empty: the --at uncertainty, else exact.
    known = {**defaults, **{f"{n}_sigma": sigmas.get(n, 0.0) for n in variables}}
    results = result_names(variables, monte_carlo is not None)
    failures = Failures()
    warned_flat = False
    with point_records(
        source, requested, variables, known, max_line_length, list(sigma_columns)
    ) as (columns, records):
        writer = RecordWriter(
            fmt,
            sys.stdout,
            columns,
            results,
            [True] * len(results),
            title(expression.text, dict(defaults), "stdin" if source == "-" else source),
            precision,
            colour_allowed(),
        )
        for record in records:
            error = record.error
            extra = {k: v for k, v in record.extra.items() if k not in sigma_columns}
            if record.point is not None:
                at = {n: record.point[n] for n in variables}
                given = {n: record.point[c] for c, n in sigma_columns.items()}
                try:
                    result = measured.propagate(expression, at, given, correlations)
                    if monte_carlo is not None:
                        result = measured.monte_carlo(result, expression, monte_carlo, seed)
                        _say_if_they_disagree(result, record.line)
                    elif not warned_flat:
                        warned_flat = _say_if_flat(result, record.line)
                except AutodiffError as failed:
                    error = failed
                else:
                    writer.write(record.fields, flat(result), as_json(result), extra)
                    continue
            assert error is not None
            message = failures.report(record.line, error)
            shown: dict[str, object] = {"at": None, "sigmas": None}  # as taylor: unread
            if record.point is not None:
                shown["at"] = {n: record.point[n] for n in variables}
                shown["sigmas"] = {n: record.point[c] for c, n in sigma_columns.items()}
            writer.write(record.fields, None, shown, extra, message)
        writer.close()
    return failures.code
