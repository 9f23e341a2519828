"""Lines of an input stream, each within a length limit.

A line is read into at most the limit's characters: a longer one is read on
to its end in small pieces and stands for an error record, so a 1 GB line
costs time, never memory. Kept apart from ``points`` so that ``grad -``
reads its expressions without importing numpy.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TextIO

from ..core.errors import LimitError, UsageError

# Characters in one input line, its line end not counted (--max-line-length):
# a longer line is an error record, found without holding more than this.
MAX_LINE_LENGTH = 2**24


class RecordError(UsageError):
    """One record of a stream cannot be read: it is reported, and the stream goes on."""


class LineTooLong(LimitError, RecordError):
    """The record of a line past the limit: the stream goes on."""


class LongLine:
    """An input line longer than the limit: it was skipped, not kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def error(self) -> RecordError:
        return LineTooLong(f"the line is longer than {self.limit:,} characters", "max_line_length")


def bounded_lines(stream: TextIO, limit: int, name: str) -> Iterator[str | LongLine]:
    """The lines of ``stream``, each read into at most ``limit`` characters: a longer
    line stands as a ``LongLine``, and its rest is read past in small pieces when
    the next line is asked for.

    A file that fails to read (``/proc/self/mem``) is a UsageError naming it.
    """
    try:
        for text in iter(partial(stream.readline, limit + 1), ""):
            if len(text) <= limit or text[-1] in "\r\n":
                yield text
                continue
            yield LongLine(limit)  # before the skip: /dev/zero has no end to skip to
            while (rest := stream.readline(2**16)) and rest[-1] not in "\r\n":
                pass
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from None
