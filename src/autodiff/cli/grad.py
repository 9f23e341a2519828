"""autodiff grad: the value and the partial derivatives at a point, or at many.

Three shapes of input: one expression at one point (``--at``); expressions
from stdin, one per line (EXPR ``-``); one expression at a stream of points
(``--points``). Streams write a record per input record, a failed record
included, and exit at the end with the worst failure's code.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any

import typer

from ..core.errors import AutodiffError, UnknownVariableError, UsageError
from ..core.expression import Expression
from ..features.gradient import gradient_at
from ..features.lines import MAX_LINE_LENGTH, LongLine, bounded_lines
from ..language.parser import MAX_NODES, parse
from ..render import formats
from ..render.terminal import title
from .common import (
    FileOption,
    ForceOption,
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
    output_option,
    parse_point,
    read_program,
    stdout_is_terminal,
    unused_names,
)
from .output import Target, announce, opened, output_target
from .streams import Failures, Progress, chunks_of, point_reader, stdin_text

FORMATS = ("table", "plain", "json", "jsonl", "csv", "tsv", "parquet")
# What -o FILE writes when --format is not given, by its extension.
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
               ".parquet": "parquet", ".parq": "parquet", ".pq": "parquet"}  # fmt: skip


def grad(
    expr: Annotated[
        str | None,
        typer.Argument(
            metavar="EXPR",
            help="The expression, e.g. 'x**2 - 2*x'; '-' reads expressions from stdin, one a line.",
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
            help="Only this partial (repeatable); a name the program defines gives d f/d NAME.",
        ),
    ] = None,
    steps: Annotated[
        bool,
        typer.Option(
            "--steps", help="Also each defined name's value and gradient (NAME.value, NAME.grad)."
        ),
    ] = False,
    points: PointsOption = None,
    points_format: PointsFormatOption = None,
    format: Annotated[str | None, format_option(FORMATS)] = None,
    precision: PrecisionOption = 6,
    order: Annotated[
        int | None,
        typer.Option(
            "--order", metavar="N", min=1, help="The N-th derivative (with one --wrt variable)."
        ),
    ] = None,
    max_nodes: Annotated[int, max_nodes_option()] = MAX_NODES,
    max_line_length: Annotated[int, max_line_length_option()] = MAX_LINE_LENGTH,
    threads: ThreadsOption = None,
    output: Annotated[
        str | None,
        output_option(
            "With --points: write the records to FILE, in the format of its extension"
            " (.csv, .tsv, .json, .jsonl, .parquet) unless --format says; else plain."
        ),
    ] = None,
    force: ForceOption = False,
) -> None:
    """Print the value of EXPR and every partial derivative at the point given by --at.

    \b
    Examples:
      autodiff grad "4*x**2 - 2*x + 5" --at x=3
      autodiff grad "n = 2*x + b; o = tanh(n)" --at x=1,b=0.5 --wrt n
      printf 'x**2\\nsin(x)\\n' | autodiff grad - --at x=1 --format csv
    """
    if output is not None and points is None:
        raise UsageError("-o writes the records of --points FILE; at one point, redirect stdout")
    if format is None and output is not None:
        format = _EXTENSIONS.get(os.path.splitext(output)[1].lower(), "plain")
    if format == "parquet" and output is None:
        raise UsageError("--format parquet writes a file: give it with -o FILE")
    chosen = choose_format(format, FORMATS)
    target = output_target(output, force) if output is not None else None
    point = parse_point(at or [])
    if file is not None and (expr == "-" or points == "-"):
        given = "EXPR '-'" if expr == "-" else "--points -"
        raise UsageError(f"--file reads one program; it cannot be given with {given}")
    if steps and (expr == "-" or points is not None or order is not None):
        raise UsageError(
            "--steps works at one point (--at): not with EXPR '-', --points or --order"
        )
    if order is not None:
        if expr == "-" or points is not None:
            raise UsageError("--order works at one point (--at): not with EXPR '-' or --points")
        expression = read_program(expr, file, max_nodes, "grad", point, strict=strict)
        _order(expression, point, wrt or [], order, chosen, precision)
        return
    if expr == "-":
        if points is not None:
            raise UsageError("EXPR '-' reads expressions from stdin: it cannot take --points too")
        lines = bounded_lines(stdin_text("-"), max_line_length, "stdin")
        _stream(lambda: _expressions(lines, chosen, point, wrt or [], precision, max_nodes, strict))
    elif points is not None:
        expression = read_program(expr, file, max_nodes, "grad", point, strict=strict)
        _check_wrt(expression, wrt or [])
        _stream(
            lambda: _points(
                expression,
                points,
                points_format,
                chosen,
                point,
                wrt,
                precision,
                max_line_length,
                threads,
                target,
            )
        )
    else:
        expression = read_program(expr, file, max_nodes, "grad", point, strict=strict)
        _stream(lambda: _single(expression, chosen, point, wrt or [], precision, steps))


def _order(
    expression: Expression,
    point: dict[str, float],
    wrt: Sequence[str],
    order: int,
    chosen: str,
    precision: int,
) -> None:
    """``autodiff grad --order N``: the N-th derivative with respect to one variable."""
    # Imported here, not with the module: `autodiff --help` and other commands skip it.
    from ..features import derivatives
    from ..render.formats import render_order

    names = list(dict.fromkeys(wrt))
    if len(names) > 1:
        raise UsageError(
            "--order takes exactly one --wrt; for every second partial use "
            f"'autodiff hessian' (got --wrt {', '.join(names)})"
        )
    if not names:
        if len(expression.variables) != 1:
            found = ", ".join(expression.variables) or "none"
            raise UsageError(f"--order needs --wrt NAME to say which variable (variables: {found})")
        names = list(expression.variables)
    record = derivatives.derivative_at(expression, point, names[0], order)
    if chosen == "table":
        from ..render.table import print_order_table

        print_order_table(record, precision, colour_allowed(), stdout_is_terminal())
    else:
        print(render_order(record, chosen), end="")


def _single(
    expression: Expression,
    fmt: str,
    point: dict[str, float],
    wrt: list[str],
    precision: int,
    steps: bool,
) -> int:
    result = gradient_at(expression, point, wrt, steps)
    if fmt == "table":
        from ..render.table import print_grad_table

        print_grad_table(result, precision, colour_allowed(), stdout_is_terminal())
    else:
        print(formats.render(result, fmt), end="")
    return 0


def _check_wrt(expression: Expression, wrt: Iterable[str]) -> None:
    for name in wrt:
        if name in expression.definitions:
            raise UsageError(
                f"--wrt {name}: a defined name's gradient is given at one point (--at),"
                " not with --points"
            )
        if name not in expression.variables:
            raise UnknownVariableError(name, expression.variables)


# -- streams ----------------------------------------------------------------


def _stream(run: Callable[[], int]) -> None:
    """Run ``run`` to its end and exit with its code (a reader that went away:
    the command line's wrapper exits 141)."""
    code = run()
    if code:
        raise typer.Exit(code)


def _expressions(
    stdin: Iterable[str | LongLine],
    fmt: str,
    point: dict[str, float],
    wrt: Sequence[str],
    precision: int,
    max_nodes: int,
    strict: bool = False,
) -> int:
    """One record per expression line, evaluated at the --at point.

    Typed at a terminal, the stream says how to end it, and each line's
    result is shown as soon as the line is read (a table of one row).
    """
    partials = list(dict.fromkeys(wrt)) if wrt else list(point)
    typed = sys.stdin is not None and sys.stdin.isatty()
    if typed:
        print("autodiff: reading expressions, one a line (Ctrl-D to end)", file=sys.stderr)
    writer = formats.stream_writer(
        fmt, sys.stdout, ["expr"], partials, precision, colour_allowed(), rows=1 if typed else 1000
    )
    failures = Failures()
    used: set[str] = set()  # the variables of every record: --at names none uses are said
    for number, line in enumerate(stdin, 1):
        text = line.strip() if isinstance(line, str) else "…"
        if not text or text.startswith("#"):
            continue
        at: dict[str, list[float | None]] = {}
        value: float | None = None
        grad: dict[str, list[float | None]] = {}
        errors: dict[int, str] = {}
        try:
            if isinstance(line, LongLine):
                raise line.error()
            expression = parse(text, max_nodes)
            used.update(expression.variables)
            at = {name: [point.get(name)] for name in expression.variables}
            v, g = expression.gradient(point)
        except AutodiffError as error:
            errors[0] = failures.report(number, error)
        else:
            value = v
            names = [n for n in g if n in partials] if wrt else list(g)
            grad = {name: [g[name]] for name in names}
        batch = formats.Batch(["expr"], [[text]], [text], at, [value], grad, errors)
        writer.write(batch)
        if fmt != "table" or typed:
            sys.stdout.flush()  # a record as soon as its line: `tail -f | autodiff grad -`
    writer.close()
    try:
        unused_names(point, used, strict)
    except UsageError as error:
        print(f"autodiff: error: {error}", file=sys.stderr)
        return max(failures.code, 2)
    return failures.code


def _points(
    expression: Expression,
    source: str,
    requested: str | None,
    fmt: str,
    defaults: Mapping[str, float],
    wrt: list[str] | None,
    precision: int,
    max_line_length: int,
    threads: int | None = None,
    target: Target | None = None,
) -> int:
    """One record per point of the stream, evaluated a chunk at a time as arrays,
    written to stdout or to ``target`` (-o)."""
    from ..features.points import gradient as chunk_gradient

    with contextlib.ExitStack() as stack:
        reader = point_reader(
            stack, source, requested, expression.variables, defaults, max_line_length,
            texts=fmt != "parquet",
        )  # fmt: skip
        partials = list(dict.fromkeys(wrt)) if wrt else list(expression.variables)
        sink = stack.enter_context(opened(target)) if target is not None else None
        writer: Any
        if fmt == "parquet":
            from ..render.parquet import ParquetWriter

            assert sink is not None
            writer = ParquetWriter(sink, reader.columns, partials)
        else:
            out = sys.stdout
            if sink is not None:
                out = stack.enter_context(io.TextIOWrapper(sink, encoding="utf-8", newline=""))
            writer = formats.stream_writer(
                fmt,
                out,
                reader.columns,
                partials,
                precision,
                colour_allowed() and sink is None,
                title=title(expression.text, dict(defaults), "stdin" if source == "-" else source),
            )
        json_like = fmt in ("json", "jsonl")
        chunks, tell = chunks_of(reader, threads)
        progress = Progress(source, tell)
        failures = Failures(progress)
        records = 0
        for chunk in chunks:
            result = chunk_gradient(expression, chunk, threads)
            errors = {
                i: failures.report(chunk.lines[i], e) for i, e in sorted(result.errors.items())
            }
            # CSV and TSV write arrays as they are (render/numbers.py); the
            # other writers read each number, as a float.
            floats = _as_arrays if fmt in ("csv", "tsv") else _as_floats
            batch = formats.Batch(
                reader.columns,
                chunk.fields,
                [expression.text] * len(chunk),
                {n: chunk.values[n].tolist() for n in expression.variables} if json_like else {},
                floats(result.value),
                {n: floats(result.grad[n]) for n in partials},
                errors,
                chunk.extras(expression.variables) if json_like else None,
                chunk.arrow,
            )
            writer.write(batch)
            progress.update(len(chunk))
            records += len(chunk)
        progress.close()
        writer.close()
    if target is not None:
        announce(target, f"{records:,} records, {fmt}")
    return failures.code


def _as_arrays(numbers: Any) -> Any:
    return numbers


def _as_floats(numbers: Any) -> Any:
    return numbers.tolist()
