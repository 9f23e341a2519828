"""Lines of an input stream, each within a length limit.

A line is read into at most the limit's characters: a longer one is read on
to its end in small pieces and stands for an error record, so a 1 GB line
costs time, never memory. Kept apart from ``points`` so that ``grad -``
reads its expressions without importing numpy.
"""

from __future__ import annotations

import io
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
        # limit + 2: a line of ``limit`` characters comes whole with its "\r\n".
        # A read cut just after a long line's "\r" leaves its "\n" for the next
        # read, which is then no line of its own (``after_cr``).
        after_cr = False
        for text in iter(partial(stream.readline, limit + 2), ""):
            if after_cr:
                after_cr = False
                if text == "\n":
                    continue
            ended = text[-1] in "\r\n"
            if len(text.rstrip("\r\n") if ended else text) <= limit:
                yield text
                continue
            yield LongLine(limit)  # before the skip: /dev/zero has no end to skip to
            while not ended and (rest := stream.readline(2**16)):
                text, ended = rest, rest[-1] in "\r\n"
            after_cr = text[-1:] == "\r"
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from None


class BlockLines:
    """The lines ``bounded_lines`` gives, read a block of characters at a time.

    For streams of points: a million calls of ``readline`` (and of a
    generator around it) were a tenth of a run. ``take(n)`` returns the next
    ``n`` lines in a list; the lines split where ``readline`` splits them
    (``\\n``, ``\\r\\n``, ``\\r``: the stream is opened with ``newline=""``),
    keep their line ends, and a line past ``limit`` characters is a
    ``LongLine``, read past without being held.
    """

    BLOCK = 2**20  # characters read at once

    def __init__(self, stream: TextIO, limit: int, name: str) -> None:
        self.stream = stream
        self.limit = limit
        self.name = name
        self.ready: list[str | LongLine] = []
        self.at = 0  # the next line of ``ready`` to hand out
        self.partial = ""  # a line the last block began
        self.skipping = False  # inside a long line: reading on to its end
        self.done = False

    def __iter__(self) -> BlockLines:
        return self

    def __next__(self) -> str | LongLine:
        lines = self.take(1)
        if not lines:
            raise StopIteration
        return lines[0]

    def take(self, n: int) -> list[str | LongLine]:
        while len(self.ready) - self.at < n and not self.done:
            self._fill()
        lines = self.ready[self.at : self.at + n]
        self.at += len(lines)
        if self.at > len(self.ready) // 2:
            del self.ready[: self.at]
            self.at = 0
        return lines

    def _fill(self) -> None:
        try:
            block = self.stream.read(self.BLOCK)
            while block[-1:] == "\r":  # a "\r\n" cut in two is one line end
                more = self.stream.read(1)
                block += more
                if more != "\r":
                    break
        except OSError as error:
            raise UsageError(f"cannot read {self.name}: {error.strerror or error}") from None
        if not block:
            self.done = True
            if self.partial and not self.skipping:
                self.ready.append(self.partial)  # the last line, with no line end
            self.partial = ""
            return
        text = self.partial + block
        lines: list[str | LongLine] = io.StringIO(text, newline="").readlines()  # type: ignore[assignment]
        self.partial = ""
        last = lines[-1]
        if isinstance(last, str) and last[-1] not in "\r\n":
            self.partial = last
            lines.pop()
        if self.skipping:
            if not lines:  # the whole block is inside the long line
                self.partial = ""
                return
            lines.pop(0)  # the long line's end
            self.skipping = False
        # A block no longer than the limit holds no line past it.
        if len(text) > self.limit and lines and max(map(len, lines)) > self.limit:  # type: ignore[arg-type]
            lines = [self._bounded(line) for line in lines]  # type: ignore[arg-type]
        self.ready.extend(lines)
        if len(self.partial) > self.limit:
            self.ready.append(LongLine(self.limit))
            self.partial = ""
            self.skipping = True

    def _bounded(self, text: str) -> str | LongLine:
        return text if len(text.rstrip("\r\n")) <= self.limit else LongLine(self.limit)
