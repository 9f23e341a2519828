"""What several commands share: reading points, choosing an output format."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any

import typer

from ..core.errors import (
    AutodiffError,
    ExpressionError,
    LimitError,
    MarkedError,
    UsageError,
    format_number,
)
from ..core.expression import Expression
from ..core.ops import ALIASES, CONSTANTS, FUNCTIONS
from ..core.safe_text import excerpt, visible_lines
from ..language.parser import MAX_NODES, constant_value, parse

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# ASCII digits only, as in the grammar: '٣' or '１' is not a number here either.
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
# Split "x=1,y=pow(2, 0.5)" only at commas that start another NAME=.
_NEXT_ASSIGNMENT = re.compile(r",(?=\s*[A-Za-z_][A-Za-z0-9_]*\s*=)")


def parse_point(items: Iterable[str]) -> dict[str, float]:
    """``--at x=3 --at y=pi/2,z=1e-3`` as a dict; values may be constant expressions."""
    point: dict[str, float] = {}
    for item in items:
        for part in _NEXT_ASSIGNMENT.split(item):
            name, equals, text = (s.strip() for s in part.partition("="))
            if not equals:
                raise UsageError(f"bad --at '{excerpt(part)}': expected NAME=VALUE, as in --at x=3")
            if not name:
                raise UsageError(f"bad --at '{excerpt(part)}': the name before '=' is missing")
            if not _NAME.fullmatch(name):
                raise UsageError(
                    f"bad --at '{excerpt(part)}': '{excerpt(name)}' is not a variable name"
                )
            if not text:
                raise UsageError(f"bad --at '{excerpt(part)}': the value after '=' is missing")
            if name in CONSTANTS or name in FUNCTIONS or name in ALIASES:
                what = "a constant" if name in CONSTANTS else "a function"
                raise UsageError(
                    f"bad --at '{excerpt(part)}': {name} is {what} of the language, not a variable"
                )
            if name in point:
                # Two values for one name is a mistake in the point, not a choice to make.
                raise UsageError(
                    f"--at gives {name} twice ({name}={format_number(point[name])} too)"
                )
            point[name] = _number(text, part)
    return point


# VALUE±SIGMA, or +/- in ASCII (+- already reads as plus a negative number).
_PLUS_MINUS = re.compile(r"±|\+/-")


def parse_measured_point(items: Iterable[str]) -> tuple[dict[str, float], dict[str, float]]:
    """``--at L=1.00±0.01,T=2.006+/-0.005``: the point, and each uncertain name's sigma.

    A name without ``±`` is exact. A sigma that is missing or negative is
    refused with a caret under it.
    """
    sigmas: dict[str, float] = {}
    plain: list[str] = []
    for item in items:
        parts = []
        offset = 0
        for part in _NEXT_ASSIGNMENT.split(item):
            start = item.index(part, offset)
            offset = start + len(part)
            name, _, text = part.partition("=")
            mark = _PLUS_MINUS.search(text)
            if mark is None:
                parts.append(part)
                continue
            at = start + len(name) + 1 + mark.end()  # 0-based, just after the sign
            shown = excerpt(part)
            sigma_text = text[mark.end() :].strip()
            if not text[: mark.start()].strip():
                raise MarkedError(
                    f"bad --at '{shown}': {mark.group()} needs the measured value before it,"
                    " as in --at L=1.00±0.01",
                    item,
                    start + len(name) + 1 + mark.start() + 1,
                )
            if not sigma_text:
                raise MarkedError(
                    f"bad --at '{shown}': {mark.group()} needs the uncertainty after it,"
                    " as in --at L=1.00±0.01",
                    item,
                    at + 1,
                )
            try:
                sigma = _number(sigma_text, part)
            except UsageError as error:
                raise MarkedError(str(error), item, at + 1) from None
            if sigma < 0:
                got = format_number(sigma)
                raise MarkedError(
                    f"bad --at '{shown}': an uncertainty is not negative, got {got}",
                    item,
                    at + 1 + text[mark.end() :].index(sigma_text[0]),
                )
            sigmas[name.strip()] = sigma
            parts.append(f"{name}={text[: mark.start()]}")
        plain.append(",".join(parts))
    return parse_point(plain), sigmas


def parse_correlations(
    items: Iterable[str], variables: Sequence[str]
) -> dict[tuple[str, str], float]:
    """``--correlation x:y=0.3`` (repeatable) as {(x, y): 0.3}, each checked with a caret."""
    found: dict[tuple[str, str], float] = {}
    for item in items:
        shape = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*:\s*([A-Za-z_]\w*)\s*=\s*(\S.*?)\s*", item)
        if shape is None:
            raise MarkedError(
                f"bad --correlation '{excerpt(item)}': expected NAME:NAME=R, as in"
                " --correlation x:y=0.3",
                item,
                1,
            )
        for group in (1, 2):
            name = shape.group(group)
            if name not in variables:
                listed = ", ".join(variables) or "none"
                raise MarkedError(
                    f"bad --correlation '{excerpt(item)}': {name} is not a variable of the"
                    f" expression (variables: {listed})",
                    item,
                    shape.start(group) + 1,
                )
        a, b = shape.group(1), shape.group(2)
        column = shape.start(3) + 1
        try:
            r = _number(shape.group(3), item)
        except UsageError as error:
            raise MarkedError(str(error).replace("--at", "--correlation"), item, column) from None
        if a == b:
            raise MarkedError(
                f"bad --correlation '{excerpt(item)}': a correlation is between two inputs",
                item,
                shape.start(2) + 1,
            )
        if not -1 <= r <= 1:
            raise MarkedError(
                f"bad --correlation '{excerpt(item)}': a correlation is between -1 and 1,"
                f" got {format_number(r)}",
                item,
                column,
            )
        key = (a, b) if a < b else (b, a)
        if key in found:
            raise UsageError(f"--correlation gives {a}:{b} twice")
        found[key] = r
    return found


def _number(text: str, part: str) -> float:
    if _NUMBER.fullmatch(text):
        value = float(text)
    else:
        try:
            value = constant_value(text)
        except AutodiffError:
            raise UsageError(
                f"bad --at '{excerpt(part)}': '{excerpt(text)}'"
                " is not a number or a constant expression"
            ) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise UsageError(f"bad --at '{excerpt(part)}': '{excerpt(text)}' is not a finite number")
    return value


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


COLOUR_MODES = ("auto", "always", "never")
_colour = {"mode": "auto"}  # set once per run by --color (cli/__init__)


def set_colour(mode: str) -> None:
    _colour["mode"] = mode


def colour_allowed(stream: Any = None) -> bool:
    """Colour on ``stream`` (stdout by default): --color always or never decides;
    auto is a terminal without NO_COLOR (set and not empty, as no-color.org says)."""
    mode = _colour["mode"]
    if mode != "auto":
        return mode == "always"
    stream = sys.stdout if stream is None else stream
    return stream is not None and stream.isatty() and not os.environ.get("NO_COLOR")


def choose_format(requested: str | None, allowed: Iterable[str]) -> str:
    """The requested format, or the default: a table on a terminal, plain text in a pipe."""
    allowed = list(allowed)
    if requested is None:
        return "table" if stdout_is_terminal() else "plain"
    if requested not in allowed:
        raise UsageError(f"unknown --format '{requested}' (choose from {', '.join(allowed)})")
    return requested


# Parameters that several commands share, declared once so that their names,
# metavars and help read the same everywhere.
ExprArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="EXPR",
        help="The expression or program, e.g. '4*x**2 - 2*x + 5' or 'n = 2*x; tanh(n)'.",
        show_default=False,
    ),
]
FileOption = Annotated[
    str | None,
    typer.Option(
        "--file",
        "-f",
        metavar="PATH",
        help="Read the program from PATH ('-': stdin) instead of EXPR; line ends end statements.",
        show_default=False,
    ),
]

# The largest program file read: ten million nodes take about this much text.
MAX_PROGRAM_BYTES = 256 * 2**20


def read_program(
    expr: str | None,
    file: str | None,
    max_nodes: int | None,
    command: str,
    point: Mapping[str, float] | None = None,
    outputs: str = "one",
    strict: bool = False,
) -> Expression:
    """EXPR or the text of --file, parsed; what commands of one output refuse, refused.

    Warns on stderr about definitions no output uses and about names of
    ``point`` the program does not use (``strict``: refuses them, exit 2);
    refuses a point that gives a defined name a value.
    """
    if file is not None and expr is not None:
        raise UsageError("give the program as EXPR or with --file, not both")
    if file is None and expr is None:
        raise UsageError(f"missing EXPR (or --file PATH): autodiff {command} 'x**2' --at x=3")
    source = None
    if file is not None:
        source = "stdin" if file == "-" else file
        expr = _read_file(file)
    assert expr is not None
    try:
        expression = parse(expr, max_nodes)
    except ExpressionError as error:
        error.source = source
        raise
    if outputs == "one" and len(expression.outputs) > 1:
        listed = ", ".join(excerpt(t, 40) for t in expression.output_texts())
        raise UsageError(
            f"the program has {len(expression.outputs)} outputs ({listed}); autodiff {command}"
            f" takes one: for several, use autodiff jacobian"
        )
    if point:
        expression.check_point(point)
        unused_names(point, expression.variables, strict)
    for name in expression.unused:
        warn(f"{name} is defined but no output uses it")
    return expression


def unused_names(point: Iterable[str], used: Iterable[str], strict: bool) -> None:
    """Warn about (or, ``strict``, refuse) names of --at that nothing uses: scripts
    often pass a wider point, but a typo (--at y=1 for x) should not pass in silence."""
    known = set(used)
    extra = [name for name in point if name not in known]
    if not extra:
        return
    listed = ", ".join(extra)
    message = f"--at gives {listed}, which the expression does not use"
    if strict:
        raise UsageError(f"{message} (--strict)")
    warn(message)


def _read_file(path: str) -> str:
    try:
        if path == "-":
            if sys.stdin is None:
                raise UsageError("stdin is closed: --file - reads the program from it")
            data = sys.stdin.buffer.read(MAX_PROGRAM_BYTES + 1)
        else:
            with open(path, "rb") as stream:
                data = stream.read(MAX_PROGRAM_BYTES + 1)
    except OSError as error:
        raise UsageError(f"cannot read --file {path}: {error.strerror or error}") from None
    if len(data) > MAX_PROGRAM_BYTES:
        raise LimitError(f"the program in {path} is larger than {MAX_PROGRAM_BYTES:,} bytes")
    return data.decode("utf-8-sig", errors="replace")


def warn(message: str) -> None:
    print(f"autodiff: warning: {visible_lines(message)}", file=sys.stderr)


def at_option(more: str = "") -> Any:
    """--at, the point: declared here once; a command may say what else it means there."""
    return typer.Option(
        "--at",
        metavar="NAME=VALUE",
        help="A variable's value; repeat it or join several with commas (x=1,y=pi/2)."
        + (f" {more}" if more else ""),
    )


AtOption = Annotated[list[str] | None, at_option()]
PrecisionOption = Annotated[
    int,
    typer.Option(
        "--precision", metavar="N", min=1, max=17, help="Significant digits in tables and text."
    ),
]


# The options of a stream of points, declared once for grad and jacobian.
# features.points.FORMATS, spelled out: importing it here would load numpy at
# every start (tests/test_pipelines.py holds the two equal).
def completing(values: Sequence[str]) -> Callable[[str], list[str]]:
    """What the shell offers for an option's value: those of ``values`` that
    start with the word typed. (An option without offers, a file name, leaves
    the shell to complete files.)"""

    def offers(incomplete: str) -> list[str]:
        return [value for value in values if value.startswith(incomplete)]

    return offers


POINT_FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
PointsOption = Annotated[
    str | None,
    typer.Option(
        "--points",
        metavar="FILE",
        help="Evaluate at every point of FILE ('-': stdin): CSV with a header, JSON Lines,"
        " a JSON array of objects, or Parquet (with the parquet extra).",
    ),
]
PointsFormatOption = Annotated[
    str | None,
    typer.Option(
        "--points-format",
        metavar="FORMAT",
        autocompletion=completing(POINT_FORMATS),
        help=f"One of {', '.join(POINT_FORMATS)}. Default: by extension, else by line 1.",
    ),
]


ThreadsOption = Annotated[
    int | None,
    typer.Option(
        "--threads",
        metavar="N",
        min=1,
        help="Threads for --points (default: the cores this process may use); the"
        " numbers are the same on any count. From 2, a text stream is also read"
        " by a second process.",
    ),
]


def max_line_length_option() -> Any:
    from ..features.lines import MAX_LINE_LENGTH

    return typer.Option(
        "--max-line-length",
        metavar="N",
        min=1,
        help="Characters in one line of stdin or --points; a longer line is an error record."
        f" Default: {MAX_LINE_LENGTH:,}.",
        show_default=False,
    )


StrictOption = Annotated[
    bool,
    typer.Option("--strict", help="Refuse a name in --at that the expression does not use."),
]
ForceOption = Annotated[
    bool,
    typer.Option("--force", help="Replace the output file even when it is read-only."),
]


def output_option(help: str) -> Any:
    """``-o/--output FILE``, which every command that writes a file spells alike."""
    return typer.Option("--output", "-o", metavar="FILE", help=help, show_default=False)


def format_option(formats: Sequence[str]) -> Any:
    """``--format`` for a command whose default is a table on a terminal, plain text elsewhere."""
    return typer.Option(
        "--format",
        metavar="FORMAT",
        help=f"One of {', '.join(formats)}. Default: table on a terminal, else plain.",
        autocompletion=completing(formats),
    )


def max_work_option(default: int, what: str) -> Any:
    return typer.Option(
        "--max-work",
        metavar="N",
        min=1,
        help=f"Refuse when {what} exceeds N (default {default:,}): a bound on the time.",
    )


def check_work(task: str, variables: int, nodes: int, limit: int) -> None:
    """Refuse early a task whose cost grows as variables × nodes: estimated, not run."""
    work = variables * nodes
    if work > limit:
        raise LimitError(
            f"{task} of {variables:,} variables over {nodes:,} values is {work:,} units of work"
            f" (variables × values), more than the limit of {limit:,}",
            "max_work",
        )


def max_nodes_option(picture: str = "") -> Any:
    """--max-nodes: the largest expression a command takes, in nodes (values of its graph).

    One meaning in every command; the default is the parser's (MAX_NODES),
    or the layout's bound (render.graph.DEFAULT_MAX_NODES) for ``picture``.
    """
    default = (
        f"Default: 2,500 for {picture}, {MAX_NODES:,} for DOT text."
        if picture
        else f"Default: {MAX_NODES:,}."
    )
    return typer.Option(
        "--max-nodes",
        metavar="N",
        min=1,
        help=f"Refuse an expression of more than N nodes. {default}",
        show_default=False,
    )
