"""What the commands that read a stream share: opening it, progress, failed records.

A stream is stdin (``-``) or the file of ``--points``; each failed record is
said on stderr with its line, and the worst of their exit codes is the
command's (2 for usage and syntax outranks 1).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, TextIO

from ..core.errors import AutodiffError, ExpressionError, UsageError
from ..core.safe_text import visible_lines
from .status import exit_status, wording


def stdin_text(what: str = "-") -> TextIO:
    """stdin as text for the csv module and the line reader; ``what`` names who reads it."""
    if sys.stdin is None:  # the shell closed it (0<&-): Python leaves None
        raise UsageError(f"stdin is closed: {what} reads from it; give the input on stdin")
    # newline="" leaves line ends to the csv module (quoted fields may hold them).
    return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="replace", newline="")


def open_points(path: str) -> TextIO:
    try:
        return open(path, encoding="utf-8-sig", errors="replace", newline="")
    except OSError as error:
        raise UsageError(f"cannot read --points {path}: {error.strerror or error}") from None


class Failures:
    """Reports failed records on stderr and remembers the exit code they call for."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.code = 0
        self.progress = progress

    def report(self, line: int, error: AutodiffError) -> str:
        """Print the message for ``error`` and return the text of the record's error field."""
        self.code = max(self.code, exit_status(error))  # 2 (usage, syntax) outranks 1
        if self.progress is not None:
            self.progress.clear()
        if isinstance(error, ExpressionError):
            message = visible_lines(error.message)
            print(f"autodiff: line {line}: syntax error: {message}", file=sys.stderr)
            print(error.pointer(), file=sys.stderr)
            return f"syntax error: {error.message} (column {error.column})"
        message = wording(error)
        print(f"autodiff: line {line}: error: {visible_lines(message)}", file=sys.stderr)
        return message


class Progress:
    """A line on stderr counting the points, for long runs at a terminal only."""

    DELAY = 1.0  # seconds before it appears: short runs stay silent

    def __init__(self, source: str, tell: Callable[[], int] | None) -> None:
        self.enabled = sys.stderr.isatty()
        self.start = time.monotonic()
        self.count = 0
        self.shown = False
        self.tell = tell  # bytes of the source read so far
        try:
            self.total = os.path.getsize(source) if source != "-" else 0
        except OSError:
            self.total = 0

    def update(self, count: int) -> None:
        self.count += count
        if not self.enabled or time.monotonic() - self.start < self.DELAY:
            return
        text = f"autodiff: {self.count:,} points"
        if self.total and self.tell is not None:
            with contextlib.suppress(OSError, ValueError):
                text += f" ({min(self.tell() / self.total, 1.0):.0%})"
        sys.stderr.write(f"\r{text}\x1b[K")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        """Take the line away, so that a message starts on a clean line."""
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False

    def close(self) -> None:
        self.clear()


class PointRecord(NamedTuple):
    """One record of a stream of points, read; ``point`` None when it failed (``error``)."""

    line: int
    fields: Sequence[str]
    extra: dict[str, Any]  # the columns that are not variables, for JSON
    point: dict[str, float] | None
    error: AutodiffError | None


def point_reader(
    stack: contextlib.ExitStack[Any],
    source: str,
    requested: str | None,
    variables: Sequence[str],
    defaults: Mapping[str, float],
    max_line_length: int,
    texts: bool = True,
) -> Any:
    """The reader of ``--points SOURCE``: its ``columns`` and, iterated, its
    chunks of points; text from ``stack``'s stream, or Parquet from the file.
    ``texts``: also each record's columns as text (Parquet only reads them on demand)."""
    from ..features import points

    kind = points.format_for("" if source == "-" else source, requested)
    if kind == "parquet":
        from ..features.parquet import ParquetPoints

        if source == "-":
            raise UsageError("Parquet is read from a file, not stdin: give --points FILE")
        return ParquetPoints(source, variables, defaults, texts)
    stream = stack.enter_context(stdin_text("--points -") if source == "-" else open_points(source))
    name = "stdin" if source == "-" else f"--points {source}"
    return points.PointReader(
        stream, kind, variables, defaults, max_line_length=max_line_length, name=name
    )


def chunks_of(reader: Any, threads: int | None) -> tuple[Iterable[Any], Callable[[], int] | None]:
    """The reader's chunks, and how far into its source they are read.

    A reader of text gives them from a second process, which reads and
    parses the next chunks while this one computes and writes
    (features/read_ahead.py), when a second core is there for it:
    ``--threads 1`` keeps the whole run on one.
    """
    from ..core.expression import available_cores
    from ..features.points import PointReader
    from ..features.read_ahead import ReadAhead, can_fork

    raw = getattr(getattr(reader, "stream", None), "buffer", None)
    tell = raw.tell if raw is not None else None
    if isinstance(reader, PointReader) and (threads or available_cores()) > 1 and can_fork():
        ahead = ReadAhead(reader, tell)
        return ahead, ahead.tell
    return reader, tell


@contextlib.contextmanager
def point_records(
    source: str,
    requested: str | None,
    variables: Sequence[str],
    defaults: Mapping[str, float],
    max_line_length: int,
    names: Sequence[str] = (),
) -> Iterator[tuple[tuple[str, ...], Iterator[PointRecord]]]:
    """The columns of ``--points SOURCE`` and its records one by one, for commands
    that work a point at a time (taylor, uncertainty). ``names``: more columns to
    read as numbers beside the variables (``x_sigma``)."""
    wanted = [*variables, *(n for n in names if n not in variables)]
    with contextlib.ExitStack() as stack:
        reader = point_reader(stack, source, requested, wanted, defaults, max_line_length)

        def records() -> Iterator[PointRecord]:
            for chunk in reader:
                extras = chunk.extras(variables)
                for i in range(len(chunk)):
                    error = chunk.errors.get(i)
                    point = None
                    if error is None:
                        point = {n: float(chunk.values[n][i]) for n in wanted}
                    yield PointRecord(chunk.lines[i], chunk.fields[i], extras[i], point, error)

        yield reader.columns, records()
