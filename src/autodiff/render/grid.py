"""Aligned text tables, fitted to a terminal's width without cutting a number.

Every table the commands print for people is drawn here. The look is rich's
(rounded box with colour, no border otherwise, one space of padding), drawn
in time linear in the cells: rich's layout costs about 0.3 ms a row, which
made a 200,000-record stream spend two thirds of its time there.

Given a width, a table that does not fit wraps its text columns first, at
the spaces before operators (``= -3`` stays whole), and when that is not
enough it is split into several tables that repeat the first ``keep``
columns. A number column is never wrapped, shrunk or cut, at any width.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from typing import TextIO

from rich.cells import cell_len

_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


class Painted(str):
    """A cell shown in a colour (an SGR code such as ``"32"``) when colour is on."""

    code: str

    def __new__(cls, text: str, code: str) -> Painted:
        cell = super().__new__(cls, text)
        cell.code = code
        return cell


def grid(
    header: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    right: Sequence[bool],
    boxed: bool,
    bold_header: bool,
    width: int | None = None,
    keep: int = 1,
    bold_first: bool = False,
) -> str:
    """The table as text, one line per printed line, each ending in a newline.

    ``right[i]`` marks column ``i`` as a number: right-aligned and never
    wrapped. ``header=None``: no header row. ``width``: the terminal's
    columns (None: the natural width, for a pipe).
    """
    natural = _natural_widths(header, rows, len(right))
    groups = _fit(header, rows, right, natural, width, keep, boxed)
    drawn = [
        _draw(header, rows, right, columns, widths, boxed, bold_header, bold_first)
        for columns, widths in groups
    ]
    return "\n".join(drawn)


def _natural_widths(
    header: Sequence[str] | None, rows: Sequence[Sequence[str]], count: int
) -> list[int]:
    widths = [cell_len(h) for h in header] if header is not None else [0] * count
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], cell_len(cell))
    return widths


def _overhead(columns: int, boxed: bool) -> int:
    return 2 * columns + (columns + 1 if boxed else 0)


def _fit(
    header: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    right: Sequence[bool],
    natural: list[int],
    width: int | None,
    keep: int,
    boxed: bool,
) -> list[tuple[list[int], list[int]]]:
    """The tables to draw: for each, its columns and their widths."""
    everything = list(range(len(natural)))
    if width is None or sum(natural) + _overhead(len(natural), boxed) <= width:
        return [(everything, natural)]
    least = [
        natural[i] if right[i] else min(natural[i], _longest_piece(header, rows, i))
        for i in everything
    ]
    keep = min(keep, len(natural) - 1)
    groups: list[list[int]] = []
    current = list(range(keep))
    for i in everything[keep:]:
        if len(current) > keep and _total([*current, i], least, boxed) > width:
            groups.append(current)
            current = list(range(keep))
        current.append(i)
    groups.append(current)
    return [(columns, _share(columns, natural, least, right, width, boxed)) for columns in groups]


def _total(columns: Sequence[int], widths: Sequence[int], boxed: bool) -> int:
    return sum(widths[i] for i in columns) + _overhead(len(columns), boxed)


def _share(
    columns: list[int],
    natural: list[int],
    least: list[int],
    right: Sequence[bool],
    width: int,
    boxed: bool,
) -> list[int]:
    """Widths for one table: text columns get the room the numbers leave,
    in proportion to what they would take; below their longest piece only
    when nothing else fits (then a piece is folded: text, never a number)."""
    widths = list(natural)
    room = width - _overhead(len(columns), boxed) - sum(natural[i] for i in columns if right[i])
    text = [i for i in columns if not right[i]]
    wanted = sum(natural[i] for i in text)
    if wanted <= room:
        return widths
    floor = [least[i] if sum(least[j] for j in text) <= room else 1 for i in range(len(least))]
    spare = max(room - sum(floor[i] for i in text), 0)
    extra = sum(natural[i] - floor[i] for i in text) or 1
    for i in text:
        widths[i] = floor[i] + (natural[i] - floor[i]) * spare // extra
    if sum(floor[i] for i in text) > room:  # even the pieces do not fit: fold them evenly
        for i in text:
            widths[i] = max(1, min(natural[i], room // max(len(text), 1)))
    return widths


# A word made only of operator characters is kept with the word after it, so
# a line breaks before an operator (``= -3``, ``- tanh(n)``, ``→ x``), never after it.
_OPERATOR = re.compile(r"\(?[-+*/=^<>→]+")


def pieces(text: str) -> list[str]:
    """The text's unbreakable pieces, in order; joined by spaces they are the text."""
    out: list[str] = []
    glue = False
    for word in text.split(" "):
        if glue and out:
            out[-1] += " " + word
        else:
            out.append(word)
        glue = bool(_OPERATOR.fullmatch(word))
    return out


def _longest_piece(header: Sequence[str] | None, rows: Sequence[Sequence[str]], i: int) -> int:
    cells = [row[i] for row in rows] + ([header[i]] if header is not None else [])
    return max((cell_len(p) for cell in cells for p in pieces(cell)), default=0)


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` cells, broken between pieces;
    a piece wider than the line is folded."""
    if cell_len(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    for piece in pieces(text):
        candidate = f"{line} {piece}" if line else piece
        if cell_len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        while cell_len(piece) > width:
            cut = _cut(piece, width)
            lines.append(piece[:cut])
            piece = piece[cut:]
        line = piece
    if line:
        lines.append(line)
    return lines


def _cut(text: str, width: int) -> int:
    """How many characters of ``text`` fill ``width`` cells (at least one)."""
    used = 0
    for k, char in enumerate(text):
        used += cell_len(char)
        if used > width:
            return max(k, 1)
    return len(text)


def _draw(
    header: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    right: Sequence[bool],
    columns: list[int],
    widths: list[int],
    boxed: bool,
    bold_header: bool,
    bold_first: bool,
) -> str:
    def lines(row: Sequence[str], bold: bool) -> list[str]:
        return _row_lines(row, columns, widths, right, boxed, bold, bold_first)

    head = lines(header, bold_header) if header is not None else []
    body = [line for row in rows for line in lines(row, False)]
    if not boxed:
        return "".join(line + "\n" for line in [*head, *body])

    def rule(left: str, middle: str, end: str) -> str:
        return left + middle.join("─" * (widths[i] + 2) for i in columns) + end

    top = [rule("╭", "┬", "╮")]
    if head:
        top += [f"│{line}│" for line in head] + [rule("├", "┼", "┤")]
    drawn = [*top, *(f"│{line}│" for line in body), rule("╰", "┴", "╯")]
    return "".join(line + "\n" for line in drawn)


def _row_lines(
    row: Sequence[str],
    columns: Sequence[int],
    widths: Sequence[int],
    right: Sequence[bool],
    boxed: bool,
    bold: bool,
    bold_first: bool,
) -> list[str]:
    """One row's printed lines (text cells wrapped to their widths), without the outer border."""
    cells = [
        [row[i]] if right[i] or cell_len(row[i]) <= widths[i] else wrap(row[i], widths[i])
        for i in columns
    ]
    height = max((len(c) for c in cells), default=1)
    out = []
    for k in range(height):
        parts = []
        for n, (i, cell) in enumerate(zip(columns, cells, strict=True)):
            text = cell[k] if k < len(cell) else ""
            gap = " " * (widths[i] - cell_len(text))
            part = f" {gap}{text} " if right[i] else f" {text}{gap} "
            code = getattr(row[i], "code", None) if text else None
            if code is not None:
                part = part.replace(text, f"\x1b[{code}m{text}{_RESET}", 1)
            elif text and (bold or (bold_first and n == 0)):
                part = part.replace(text, f"{_BOLD}{text}{_RESET}", 1)
            parts.append(part)
        out.append(parts)
    return ["│".join(p) if boxed else "".join(p) for p in out]


def terminal_width(out: TextIO) -> int | None:
    """The width of the terminal ``out`` is (COLUMNS first, as everywhere); None for a pipe."""
    try:
        return shutil.get_terminal_size().columns if out.isatty() else None
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return None


class StreamTable:
    """One table for a stream of rows, drawn as they come, with one header.

    Rows are held until ``rows`` have arrived: a stream that ends first is
    drawn at its natural widths; a longer one fixes its widths from the
    first rows, its number columns wide enough for any number of
    ``number_width`` cells, so that the columns never move. A failed row
    carries its message across the number columns.
    """

    def __init__(
        self,
        out: TextIO,
        header: Sequence[str],
        right: Sequence[bool],
        boxed: bool,
        bold_header: bool,
        number_width: int,
        rows: int = 1000,
        width: int | None = None,
    ) -> None:
        self.out = out
        self.header = list(header)
        self.right = list(right)
        self.boxed = boxed
        self.bold_header = bold_header
        self.number_width = number_width
        self.limit = rows
        self.width = width
        self.held: list[tuple[list[str], str | None]] = []
        self.widths: list[int] | None = None

    def add(self, cells: Sequence[str], error: str | None = None) -> None:
        """A row: its cells (the number cells empty when ``error`` is given)."""
        if self.widths is None:
            self.held.append((list(cells), error))
            if len(self.held) >= self.limit:
                self._start(fixed=True)
            return
        self._line(list(cells), error)

    def close(self) -> None:
        if self.widths is None:
            if not self.held:
                return
            self._start(fixed=False)
        if self.boxed:
            self.out.write(self._rule("╰", "┴", "╯") + "\n")

    def _start(self, fixed: bool) -> None:
        rows = [cells for cells, _ in self.held]
        widths = _natural_widths(self.header, rows, len(self.right))
        if fixed:
            numbers = zip(widths, self.right, strict=True)
            widths = [max(w, self.number_width) if r else w for w, r in numbers]
        columns = list(range(len(widths)))
        if self.width is not None:
            # One table, never split (rows keep coming): the text columns give
            # up room to the numbers and wrap; past that the table is wider.
            least = [
                w if r else min(w, _longest_piece(self.header, rows, i))
                for i, (w, r) in enumerate(zip(widths, self.right, strict=True))
            ]
            shared = _share(columns, widths, least, self.right, self.width, self.boxed)
            widths = [max(w, least[i]) for i, w in enumerate(shared)]  # never fold a piece
        self.widths = widths
        boxed, bold = self.boxed, self.bold_header
        head = _draw(self.header, [], self.right, columns, widths, boxed, bold, False)
        lines = head.splitlines()
        # Boxed, the drawing ends in the bottom rule: that is drawn at close.
        self.out.write("".join(line + "\n" for line in (lines[:-1] if self.boxed else lines)))
        held, self.held = self.held, []
        for cells, error in held:
            self._line(cells, error)

    def _line(self, cells: list[str], error: str | None) -> None:
        assert self.widths is not None
        widths, right = self.widths, self.right
        if error is not None:
            # The message takes the number columns' place, wrapped to their room.
            first = right.index(True) if True in right else len(right)
            span = len(widths) - first
            room = sum(w + 2 for w in widths[first:]) + (span - 1 if self.boxed else 0) - 2
            message = f"error: {error}"
            cells = [*cells[:first], message]
            fitted = span and (self.boxed or self.width is not None)  # else a pipe's line runs on
            widths = [*widths[:first], room if fitted else max(room, cell_len(message))]
            right = [*right[:first], False]
        lines = _row_lines(cells, range(len(cells)), widths, right, self.boxed, False, False)
        self.out.write("".join((f"│{line}│" if self.boxed else line) + "\n" for line in lines))

    def _rule(self, left: str, middle: str, end: str) -> str:
        assert self.widths is not None
        return left + middle.join("─" * (w + 2) for w in self.widths) + end
