"""autodiff jacobian: the value and the partials of every output of a program.

At one point (``--at``): a row per output, a column per variable, from one
evaluation and one backward pass per output. At a stream of points
(``--points``): a record per point, as grad's stream, holding every output's
value and partials; a failed record is written with its error and the run
exits at the end with the worst failure's code.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping, Sequence
from typing import Annotated

import typer

from ..core.errors import LimitError, UsageError
from ..core.expression import Expression
from ..features.jacobian import backward_visits, columns_of, jacobian_at
from ..features.lines import MAX_LINE_LENGTH
from ..language.parser import MAX_NODES
from ..render import formats
from ..render.terminal import title
from .common import (
    FileOption,
    PointsFormatOption,
    PointsOption,
    PrecisionOption,
    StrictOption,
    ThreadsOption,
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
from .streams import Failures, chunks_of, point_reader

FORMATS = ("table", "plain", "json", "jsonl", "csv", "tsv")

# Values visited by the backward passes, one pass per output over the values
# it depends on (counted before any runs): about 3 µs a visit on floats;
# 100 outputs of a shared 20,000-value graph (2,000,000) took 5.5 s. The
# default allows about 5 s.
JACOBIAN_MAX_WORK = 1_500_000


def jacobian(
    expr: Annotated[
        str | None,
        typer.Argument(
            metavar="EXPR",
            help="The program, e.g. 'x*y, x + y' or 'r = sqrt(x^2 + y^2); r, atan(y/x)'.",
            show_default=False,
        ),
    ] = None,
    file: FileOption = None,
    strict: StrictOption = False,
    at: Annotated[
        list[str] | None,
        at_option("With --points: the value where a column is absent or a field empty."),
    ] = None,
    wrt: Annotated[
        list[str] | None,
        typer.Option(
            "--wrt",
            metavar="NAME",
            help="Only this column (repeatable, in this order); a name the program defines"
            " gives d output/d NAME.",
        ),
    ] = None,
    points: PointsOption = None,
    points_format: PointsFormatOption = None,
    format: Annotated[str | None, format_option(FORMATS)] = None,
    precision: PrecisionOption = 6,
    max_work: Annotated[
        int, max_work_option(JACOBIAN_MAX_WORK, "the work (values visited, summed over outputs)")
    ] = JACOBIAN_MAX_WORK,
    max_nodes: Annotated[int, max_nodes_option()] = MAX_NODES,
    max_line_length: Annotated[int, max_line_length_option()] = MAX_LINE_LENGTH,
    threads: ThreadsOption = None,
) -> None:
    """Print the value and the partials of every output of EXPR at --at: a row per output.

    \b
    Examples:
      autodiff jacobian "x*y, x + y" --at x=2,y=3
      autodiff jacobian "r = sqrt(x^2 + y^2); r, atan(y/x)" --at x=1,y=1
    """
    chosen = choose_format(format, FORMATS)
    point = parse_point(at or [])
    if expr == "-":
        raise UsageError(
            "autodiff jacobian reads one program: give it as EXPR, or read it from stdin"
            " with --file -"
        )
    if file == "-" and points == "-":
        raise UsageError("--file - and --points - cannot both read stdin")
    single = points is None
    expression = read_program(expr, file, max_nodes, "jacobian", point, "many", strict)
    names = columns_of(expression, wrt or [])
    _check_work(expression, max_work)
    if single:
        record = jacobian_at(expression, point, names)
        if chosen == "table":
            from ..render.table import print_jacobian_table

            print_jacobian_table(
                record, precision, colour=colour_allowed(), terminal=stdout_is_terminal()
            )
        else:
            print(formats.render_jacobian(record, chosen), end="")
        return
    assert points is not None
    for name in names:
        if name not in expression.variables:
            raise UsageError(
                f"--wrt {name}: a defined name's partials are given at one point (--at),"
                " not with --points"
            )
    code = _points(
        expression,
        names,
        points,
        points_format,
        chosen,
        point,
        precision,
        max_line_length,
        threads,
    )
    if code:
        raise typer.Exit(code)


def _check_work(expression: Expression, limit: int) -> None:
    """Refuse, before any of them runs, backward passes that would take too long."""
    if backward_visits(expression, limit) > limit:
        outputs = len(expression.outputs)
        passes = (
            "backward pass" if outputs == 1 else f"{outputs:,} backward passes (one per output)"
        )
        raise LimitError(
            f"the Jacobian's {passes} would visit more than {limit:,} values",
            "max_work",
        )


def _points(
    expression: Expression,
    names: Sequence[str],
    source: str,
    requested: str | None,
    fmt: str,
    defaults: Mapping[str, float],
    precision: int,
    max_line_length: int,
    threads: int | None = None,
) -> int:
    """One record per point of the stream; each output's program runs on a chunk as arrays."""
    from ..features.jacobian import chunk_jacobian

    texts = expression.output_texts()
    parts = [expression.output(k) for k in range(len(expression.outputs))]
    with contextlib.ExitStack() as stack:
        reader = point_reader(
            stack, source, requested, expression.variables, defaults, max_line_length
        )
        writer = formats.jacobian_writer(
            fmt,
            sys.stdout,
            reader.columns,
            expression.text,
            texts,
            names,
            precision,
            colour_allowed(),
            title(expression.text, dict(defaults), "stdin" if source == "-" else source),
        )
        json_like = fmt in ("json", "jsonl")
        failures = Failures()
        for chunk in chunks_of(reader, threads)[0]:
            result = chunk_jacobian(parts, texts, names, chunk, threads)
            errors = {
                i: failures.report(chunk.lines[i], e) for i, e in sorted(result.errors.items())
            }
            batch = formats.JacobianBatch(
                chunk.fields,
                {n: chunk.values[n].tolist() for n in expression.variables} if json_like else {},
                [value.tolist() for value in result.value],
                [[partial.tolist() for partial in row] for row in result.jacobian],
                errors,
                chunk.extras(expression.variables) if json_like else None,
            )
            writer.write(batch)
        writer.close()
    return failures.code
