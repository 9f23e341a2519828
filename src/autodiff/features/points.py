"""Many points, read in chunks and differentiated as arrays.

A stream of points (CSV with a header row, or JSON Lines) is read a chunk
at a time, so memory stays flat whatever the input's size. Each chunk's
variables become numpy arrays and go through the array path of
``Expression.gradient`` in one pass. A record that cannot be read (a wrong
number of fields, a non-number) or evaluated (a domain error) keeps its
place in the chunk and carries its error, so a stream loses nothing.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from operator import itemgetter
from types import MappingProxyType
from typing import Any, Literal, TextIO

import numpy as np

try:
    import orjson
except ImportError:  # pragma: no cover - a dependency; the csv module reads without it
    orjson = None  # type: ignore[assignment]

from ..core.errors import (
    AutodiffError,
    EvaluationError,
    LimitError,
    MissingValueError,
    UsageError,
)
from ..core.expression import Expression
from ..core.safe_text import excerpt
from .lines import MAX_LINE_LENGTH, BlockLines, LongLine, RecordError

# Records per chunk of text: big enough that per-chunk overheads vanish,
# small enough that a chunk's texts and arrays stay in the cache. With the
# read-ahead, 2**15 ran a million rows in 0.71 s where 2**16 took 0.93 s
# (2**13 and 2**14: as 2**15; benchmarks/pipelines.py).
CHUNK_SIZE = 2**15
# Lines a chunk reads past its end to close a quoted field (docs/pipelines.md).
MAX_QUOTED_LINES = 1000
# Arrays and objects within each other in one JSON record: deeper would
# exhaust the JSON module's recursion on reading or writing.
MAX_JSON_DEPTH = 100

# "auto" decides by the first line; Parquet is read by features/parquet.py.
FORMATS = ("csv", "tsv", "jsonl", "json", "parquet")
_DELIMITERS = {"csv": ",", "tsv": "\t"}


_NO_EXTRAS: Mapping[str, Any] = MappingProxyType({})


class SplitRecords(Sequence[Sequence[str]]):
    """Records read as whole lines of unquoted text, split into fields on demand.

    A CSV writer with the same delimiter writes ``records`` back as they are:
    splitting a million lines and joining them again was a fifth of a run.
    """

    def __init__(self, records: list[str], delimiter: str) -> None:
        self.records = records
        self.delimiter = delimiter

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent from the reading process (read_ahead.py) as one text, which is
        # copied whole, not as a million strings pickled one by one; a record
        # holds no line end, so splitting the text gives them back.
        return (_split_records, ("\n".join(self.records), self.delimiter))

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [r.split(self.delimiter) for r in self.records[i]]
        return self.records[i].split(self.delimiter)

    def __iter__(self) -> Iterator[Sequence[str]]:
        return (r.split(self.delimiter) for r in self.records)


def _split_records(text: str, delimiter: str) -> SplitRecords:
    return SplitRecords(text.split("\n") if text else [], delimiter)


@dataclass
class PointChunk:
    """Consecutive records of a stream of points."""

    columns: tuple[str, ...]  # the input's columns, in input order
    lines: list[int]  # the input line each record starts on
    fields: Sequence[Sequence[str]]  # each record's input columns as text
    values: dict[str, Any]  # each variable's values, an array (NaN where unreadable)
    errors: dict[int, AutodiffError] = field(default_factory=dict)  # record index -> why
    objects: list[dict[str, Any]] | None = None  # JSON Lines: each record as read
    arrow: Any = None  # Parquet: the record batch, its columns with their own types

    def __len__(self) -> int:
        return len(self.lines)

    def extras(self, variables: Sequence[str]) -> list[Mapping[str, Any]]:
        """Each record's columns that are not variables, carried through to JSON."""
        if self.objects is not None:
            return [{k: v for k, v in o.items() if k not in variables} for o in self.objects]
        keep = [(j, c) for j, c in enumerate(self.columns) if c not in variables]
        if not keep:  # one shared, read-only empty mapping: a million dicts cost 0.2 s
            return [_NO_EXTRAS] * len(self.lines)
        if self.arrow is not None:  # Parquet: numbers stay numbers, true stays true
            typed = [(j, c, _json_values(self.arrow.column(j), self.fields, j)) for j, c in keep]
            return [
                {c: _as_json(values[i], row[j]) for j, c, values in typed}
                for i, row in enumerate(self.fields)
            ]
        return [{c: row[j] for j, c in keep} for row in self.fields]


def _json_values(column: Any, fields: Sequence[Sequence[str]], j: int) -> list[Any]:
    """A Parquet column's cells as Python values; a float32 cell as the float
    its shortest text names (0.1, not 0.10000000149011612), as CSV shows it."""
    narrow = str(column.type) in ("float", "halffloat")  # Arrow's names of float32, float16
    if narrow and fields and len(fields[0]) > j:
        return [float(row[j]) if row[j] else None for row in fields]
    return list(column.to_pylist())


def _as_json(value: Any, text: str) -> Any:
    """A Parquet cell as JSON has it; one JSON has no type for (a date, NaN) as its text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return text


@dataclass
class ChunkGradient:
    """A chunk's value and partials, one array each; failed records are in ``errors``."""

    value: Any
    grad: dict[str, Any]
    errors: dict[int, AutodiffError]


def format_for(path: str, requested: str | None) -> str:
    """``--points-format``, or the file's extension (.csv, .tsv, .jsonl, .ndjson);
    else "auto": the reader looks at the first line."""
    if requested is not None:
        if requested not in FORMATS:
            raise UsageError.argument(
                "points_format", f"'{requested}' is not a format (choose from {', '.join(FORMATS)})"
            )
        return requested
    lowered = path.lower()
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".csv", ".tsv")):
        return lowered[-3:]
    if lowered.endswith((".parquet", ".parq", ".pq")):
        return "parquet"
    return "auto"


class PointReader:
    """Reads a stream of points chunk by chunk.

    ``variables`` are the names the expression needs; ``defaults`` (from
    ``--at``) stand in for a column that is absent and for an empty field.
    The header (CSV) or the first record (JSON Lines) is read on creation,
    so ``columns`` is known before the first chunk. With ``fmt`` "auto", a
    first line that starts with '{' means JSON Lines, '[' alone, '[{' or
    '[]' a JSON array of objects (what ``jq -s`` makes: read element by element, each then a
    record as a JSON Lines one, numbered by its place in the array), anything
    else CSV.
    """

    def __init__(
        self,
        stream: TextIO,
        fmt: str,
        variables: Sequence[str],
        defaults: Mapping[str, float],
        chunk_size: int = CHUNK_SIZE,
        max_line_length: int = MAX_LINE_LENGTH,
        name: str = "the points",
    ) -> None:
        self.stream = stream  # for the progress line: how far into the file
        self.lines: Iterator[str | LongLine] = BlockLines(stream, max_line_length, name)
        self.fmt = fmt
        self.variables = tuple(variables)
        self.defaults = dict(defaults)
        self.chunk_size = chunk_size
        self.line = 0  # lines consumed so far
        self.pending: list[str | LongLine] = []
        self.columns: tuple[str, ...] = ()
        first = self._first_line()
        if fmt == "auto":
            start = first.lstrip() if first is not None else ""
            # A CSV header may start with '[' too ("[bold]x"): an array opens on '[' alone,
            # '[{' or '[]'.
            fmt = "jsonl" if start[:1] == "{" else "json" if _ARRAY_START.match(start) else "csv"
        if fmt == "json":
            self.lines = _array_elements(first, self.lines, max_line_length)
            self.line = 0
            first = self._first_line()
            fmt = "jsonl"
        self.fmt = fmt
        if fmt == "jsonl":
            self._start_jsonl(first)
        else:
            self._start_csv(first, _DELIMITERS[fmt])
        self._check_variables()

    def __iter__(self) -> Iterator[PointChunk]:
        while True:
            chunk = self._read_jsonl() if self.fmt == "jsonl" else self._read_csv()
            if chunk is None:
                return
            if len(chunk):
                yield chunk

    def _first_line(self) -> str | None:
        for text in self.lines:
            self.line += 1
            if isinstance(text, LongLine):
                error = text.error()
                if isinstance(error, LimitError):  # worded for the option that raises it
                    raise LimitError(f"line {self.line}: {error.detail}", error.parameter)
                raise UsageError(f"line {self.line}: {error}")
            if text.strip():
                return text
        return None

    # -- CSV ------------------------------------------------------------------

    def _start_csv(self, text: str | None, delimiter: str) -> None:
        self.delimiter = delimiter
        # TSV has no quoting (IANA text/tab-separated-values): a '"' is a character.
        self.quoting: Literal[0, 1, 2, 3] = (
            csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
        )
        if text is None:
            raise UsageError("the points have no header row (expected column names, as in x,y)")
        try:
            header = next(csv.reader([text], delimiter=delimiter, quoting=self.quoting), [])
        except csv.Error as error:  # a field over the csv module's 128 KiB, a NUL
            raise UsageError(f"line {self.line}: the header is not valid CSV: {error}") from None
        self.columns = tuple(name.strip() for name in header)
        seen: set[str] = set()
        for name in self.columns:
            if not name:
                raise UsageError(f"line {self.line}: the header has an empty column name")
            if name in seen:
                raise UsageError(f"line {self.line}: the header names '{name}' twice")
            seen.add(name)

    def _take(self, n: int) -> list[str | LongLine]:
        if isinstance(self.lines, BlockLines):
            return self.lines.take(n)
        return list(islice(self.lines, n))

    def _read_csv(self) -> PointChunk | None:
        lines = self._take(self.chunk_size)
        if not lines:
            return None
        # A quoted field may span lines: never cut a chunk inside one, but read
        # on for MAX_QUOTED_LINES at most, so that a stray '"' cannot pull the
        # rest of a large file into memory.
        plain = set(map(type, lines)) == {str}
        strings = lines if plain else [text for text in lines if isinstance(text, str)]
        joined = "".join(strings)  # type: ignore[arg-type]
        quotes = joined.count('"') if self.quoting != csv.QUOTE_NONE else 0
        extra = 0
        while quotes % 2 and extra < MAX_QUOTED_LINES:
            more = next(self.lines, "")
            if not more:
                break
            lines.append(more)
            extra += 1
            quotes += more.count('"') if isinstance(more, str) else 0
        first = self.line + 1
        self.line += len(lines)
        if plain and not extra:
            fast = self._unquoted(lines, joined, first)  # type: ignore[arg-type]
            if fast is not None:
                return fast
        rows, starts, errors = self._split(lines, first)
        width = len(self.columns)
        if set(map(len, rows)) - {width}:
            for i, row in enumerate(rows):
                if len(row) != width:
                    errors[i] = RecordError(f"expected {width} fields, got {len(row)}")
                    rows[i] = (list(row) + [""] * width)[:width]
        values: dict[str, Any] = {}
        for name in self.variables:
            if name in self.columns:
                texts = list(map(itemgetter(self.columns.index(name)), rows))
                values[name] = self._numbers(name, texts, errors)
            else:
                values[name] = np.full(len(rows), self.defaults[name])
        for i in errors:
            for array in values.values():
                array[i] = math.nan
        return PointChunk(self.columns, starts, rows, values, errors)

    def _unquoted(self, lines: list[str], joined: str, first: int) -> PointChunk | None:
        """The chunk read in a few C calls, when it is plain: one record a line,
        no quotes, no blank line, every field a number where numbers go, and
        each record with the header's count of fields. None otherwise: the
        record-by-record path then decides, with its messages."""
        if "\r" in joined or "\0" in joined or ('"' in joined and self.quoting != csv.QUOTE_NONE):
            return None
        records = joined.split("\n")
        if records[-1] == "":
            records.pop()  # the line end of the last line
        d, width = self.delimiter, len(self.columns)
        if len(records) != len(lines) or "" in records:
            return None
        if max(map(len, records)) > csv.field_size_limit():  # the csv module's refusal decides
            return None
        # Each record its own count of fields: the chunk's total alone would
        # pass "1,2,3" then "4" as two records of two fields.
        if set(map(str.count, records, repeat(d))) != {width - 1}:
            return None
        present = [name for name in self.variables if name in self.columns]
        read: dict[str, Any] = {}
        if set(self.columns) <= set(self.variables):
            # Every column a number: the whole chunk is read in one call, its
            # line ends and delimiters made commas, without splitting a field.
            # Only the last line end goes (an empty last field then leaves a
            # trailing comma, which is no JSON), and a comma in TSV is no number.
            body = joined[:-1] if joined[-1:] == "\n" else joined
            if d != "," and "," in body:
                return None
            body = body.replace("\n", ",")
            if d != ",":
                body = body.replace(d, ",")
            numbers = _json_numbers(body, _Fields(records, d, width))
            if numbers is None:
                return None
            table = numbers.reshape(len(records), width)
            for name in present:
                read[name] = np.ascontiguousarray(table[:, self.columns.index(name)])
        else:
            flat = d.join(records).split(d)
            for name in present:
                numbers = _plain_numbers(flat[self.columns.index(name) :: width])
                if numbers is None:
                    return None
                read[name] = numbers
        values = {
            name: read[name] if name in read else np.full(len(records), self.defaults[name])
            for name in self.variables
        }
        starts = list(range(first, first + len(records)))
        return PointChunk(self.columns, starts, SplitRecords(records, d), values)

    def _split(
        self, lines: list[str | LongLine], first: int
    ) -> tuple[list[Any], list[int], dict[int, AutodiffError]]:
        """The records of ``lines`` (blank lines dropped), the line each starts on, and
        the records the csv module could not split."""
        rows: list[Any] = []
        if all(isinstance(text, str) for text in lines):
            whole: list[str] = lines  # type: ignore[assignment]
            try:
                rows = list(csv.reader(whole, delimiter=self.delimiter, quoting=self.quoting))
            except csv.Error:
                rows = []
            if len(rows) == len(whole) and [] not in rows and not self._ends_open(whole):
                return rows, list(range(first, first + len(whole))), {}
        # Blank lines, a record that spans lines, or a line the csv module
        # rejects: go record by record. A record over several lines stands only
        # if its quotes close properly within MAX_QUOTED_LINES; otherwise its
        # first line is an error record alone and reading restarts on the next
        # line, so a stray '"' costs one record, never the ones after it.
        # A line over the length limit stands alone as an error record: the
        # feed stops before it, so no record reads across it.
        rows, starts = [], []
        broken: dict[int, AutodiffError] = {}
        pos = 0

        def feed() -> Iterator[str]:
            nonlocal pos
            while pos < len(lines) and isinstance(text := lines[pos], str):
                pos += 1
                yield text

        reader = csv.reader(feed(), delimiter=self.delimiter, quoting=self.quoting)
        while True:
            start = pos
            long = lines[pos] if pos < len(lines) else None
            error: AutodiffError | str | None
            if isinstance(long, LongLine):
                row, error = [], long.error()
                pos += 1
            else:
                try:
                    row = next(reader)
                    record: list[str] = lines[start:pos]  # type: ignore[assignment]
                    alone = len(record) == 1 and not (pos == len(lines) and self._ends_open(record))
                    error = None if alone else self._unclosed(record)
                except StopIteration:
                    break
                except csv.Error as failure:
                    error = f"not valid CSV: {failure}"
            if error is not None:
                broken[len(rows)] = RecordError(error) if isinstance(error, str) else error
                row = [""] * len(self.columns)
                pos = start + 1
                reader = csv.reader(feed(), delimiter=self.delimiter, quoting=self.quoting)
            if row or len(rows) in broken:
                rows.append(row)
                starts.append(first + start)
        return rows, starts, broken

    def _ends_open(self, lines: list[str]) -> bool:
        """Whether the last line opens a quote that the end of the input never closes
        (the csv module would end the field there and read on as if it were whole)."""
        last = lines[-1] if lines else ""
        if self.quoting == csv.QUOTE_NONE or '"' not in last:
            return False
        strict = csv.reader([last], delimiter=self.delimiter, quoting=self.quoting, strict=True)
        try:
            list(strict)
        except csv.Error:
            return True
        return False

    def _unclosed(self, record: list[str]) -> str | None:
        """Why ``record``, one CSV record read over several lines, is not one, or None."""
        if len(record) <= MAX_QUOTED_LINES:
            strict = csv.reader(record, delimiter=self.delimiter, quoting=self.quoting, strict=True)
            try:
                rows = list(strict)
            except csv.Error:
                rows = []
            if len(rows) == 1 and len(rows[0]) == len(self.columns):
                return None
        return (
            "a quoted field opened on this line is not closed properly"
            f" within {MAX_QUOTED_LINES} lines"
        )

    def _numbers(self, name: str, texts: list[str], errors: dict[int, AutodiffError]) -> Any:
        try:
            array = np.array(texts, dtype=float)
        except ValueError:
            array = None
        # numpy, like float(), also reads '1_000' and non-ASCII digits ('٣'):
        # numbers are ASCII everywhere (docs/language.md), so those go field by field.
        joined = "".join(texts)
        plain = joined.isascii() and "_" not in joined
        if array is not None and plain and np.isfinite(array).all():
            return array
        # Only a chunk with a bad field pays for going field by field.
        numbers = np.empty(len(texts))
        for i, text in enumerate(texts):
            numbers[i] = self._number(name, text, i, errors)
        return numbers

    def _number(self, name: str, text: str, i: int, errors: dict[int, AutodiffError]) -> float:
        if not text.strip():
            if name in self.defaults:
                return self.defaults[name]
            reason = f"no value for variable '{name}'"
        else:
            try:
                number = float(text) if text.isascii() and "_" not in text else None
            except ValueError:
                number = None
            if number is not None and math.isfinite(number):
                return number
            shown = text if len(text) <= 40 else text[:39] + "…"
            kind = "a finite number" if number is not None else "a number"
            reason = f"{name}: '{shown}' is not {kind}"
        errors.setdefault(i, RecordError(reason))
        return math.nan

    # -- JSON Lines -----------------------------------------------------------

    def _start_jsonl(self, text: str | None) -> None:
        if text is None:
            return
        self.pending = [text]
        self.columns = tuple(_json_record(text)[0])
        self.line -= 1  # the first record is read again with its chunk

    def _read_jsonl(self) -> PointChunk | None:
        lines = self.pending + list(islice(self.lines, self.chunk_size - len(self.pending)))
        self.pending = []
        if not lines:
            return None
        starts: list[int] = []
        objects: list[dict[str, Any]] = []
        columns: dict[str, list[float]] = {name: [] for name in self.variables}
        errors: dict[int, AutodiffError] = {}
        for text in lines:
            self.line += 1
            if isinstance(text, str) and not text.strip():
                continue
            i = len(objects)
            starts.append(self.line)
            record, reason = _json_record(text)
            if reason:
                errors[i] = RecordError(reason)
            objects.append(record)
            for name in self.variables:
                columns[name].append(self._json_number(name, record, i, errors))
        values = {name: np.array(numbers, dtype=float) for name, numbers in columns.items()}
        fields: list[Sequence[str]] = [
            [_json_text(o.get(c)) for c in self.columns] for o in objects
        ]
        return PointChunk(self.columns, starts, fields, values, errors, objects)

    def _json_number(
        self, name: str, record: dict[str, Any], i: int, errors: dict[int, AutodiffError]
    ) -> float:
        value = record.get(name)
        if value is None:
            if name in self.defaults:
                return self.defaults[name]
            reason = f"no value for variable '{name}'"
        elif isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:  # an integer past the float range
                number = math.inf
            if math.isfinite(number):
                return number
            reason = f"{name}: {excerpt(str(value), 40)} is not a finite number"
        else:
            reason = f"{name}: {json.dumps(value)[:40]} is not a number"
        errors.setdefault(i, RecordError(reason))
        return math.nan

    def _check_variables(self) -> None:
        if self.fmt == "jsonl":
            return  # records may differ in their keys: each one is checked
        for name in self.variables:
            if name not in self.columns and name not in self.defaults:
                raise MissingValueError(name, self.columns)


# The characters of a decimal number (numbers are ASCII everywhere): a
# column with any other (true, null, 1_000) is not read by orjson.
_NOT_NUMBER = str.maketrans(dict.fromkeys("0123456789+-.eE, "))


def _plain_numbers(texts: list[str]) -> Any:
    """The texts as a float array, read in C by orjson, when every one is a
    finite number in JSON's spelling of decimals, which float() reads to the
    same float (but for the sign of a zero, mended here); None otherwise,
    for the careful path."""
    return _json_numbers(",".join(texts), texts)


def _json_numbers(joined: str, texts: Sequence[str]) -> Any:
    """``_plain_numbers`` of ``texts``, given them joined by commas."""
    if orjson is None or not texts:
        return None
    if joined.translate(_NOT_NUMBER):
        return None
    try:
        numbers = np.array(orjson.loads(f"[{joined}]"), dtype=float)
    except (ValueError, TypeError, OverflowError):  # 1., .5, +1, an empty field
        return None
    if numbers.shape != (len(texts),) or not np.isfinite(numbers).all():
        return None
    # JSON's -0 (also " -0") is the integer 0, where float() reads -0.0: the
    # zeros, few, are read again by float().
    for i in np.flatnonzero(numbers == 0).tolist():
        if "-" in texts[i]:
            numbers[i] = float(texts[i])
    return numbers


class _Fields(Sequence[str]):
    """The fields of records of ``width`` fields each, by their place in the
    chunk: split only for the few that are asked for (zeros, for their sign)."""

    def __init__(self, records: list[str], delimiter: str, width: int) -> None:
        self.records, self.delimiter, self.width = records, delimiter, width

    def __len__(self) -> int:
        return len(self.records) * self.width

    def __getitem__(self, i: Any) -> Any:
        row, column = divmod(i, self.width)
        return self.records[row].split(self.delimiter)[column]


class _NotJson(ValueError):
    """A record the JSON grammar of RFC 8259 or the limits refuse."""


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number (RFC 8259); write null or leave the key out")


def _decimal(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotJson(f"{excerpt(text, 40)} is beyond the range of a float")
    return number


_BRACKET = re.compile(r"[\[\]{}]")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
# A number that may be past the float range: only then is each float checked,
# since a hook on every number doubles the time json.loads takes.
_HUGE_NUMBER = re.compile(r"[eE]\+?\d{3}|\d{309}")


_ARRAY_START = re.compile(r"\[\s*(\{|\]|$)")
_ARRAY_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]|[^"\[\]{},]+|"')


def _array_elements(
    first: str | None, lines: Iterator[str | LongLine], limit: int
) -> Iterator[str | LongLine]:
    """The elements of a JSON array as texts, one at a time, in constant memory.

    A string never spans lines in JSON, so each line splits into tokens by
    itself; an element ends at a comma (or the closing bracket) outside any
    nesting. An element longer than ``limit`` characters is a LongLine, as a
    long line is; text after the array, or none at all, is an element that
    is not an object, so it becomes an error record.
    """
    depth = 0
    element: list[str] = []
    size = 0
    too_long = ended = False
    texts = iter([first] if first is not None else [])
    for text in chain(texts, lines):
        if isinstance(text, LongLine):
            yield text
            continue
        for token in _ARRAY_TOKEN.findall(text):
            shown = token.strip()
            if ended or depth == 0:
                if not shown:
                    continue
                if depth == 0 and not ended and shown == "[":
                    depth = 1
                    continue
                what = "after the array" if ended else "where a JSON array starts"
                yield _ArrayMistake(f"not a JSON array: {excerpt(shown)!r} {what}")
                return
            if depth == 1 and token in (",", "]"):
                if too_long:
                    yield LongLine(limit)
                elif element or token == ",":
                    yield "".join(element).strip()
                element, size, too_long = [], 0, False
                if token == "]":
                    depth, ended = 0, True
                continue
            depth += 1 if token in ("[", "{") else -1 if token in ("]", "}") else 0
            size += len(token)
            if size > limit:
                element, too_long = [], True
            elif not too_long:
                element.append(token)
    if depth:
        if element and not too_long:
            yield "".join(element).strip()
        yield _ArrayMistake("the JSON array is not closed: a ']' is missing at the end")


class _ArrayMistake(LongLine):
    """What is wrong with the array itself, as a record that cannot be read."""

    def __init__(self, message: str) -> None:
        super().__init__(0)
        self.message = message

    def error(self) -> RecordError:
        return RecordError(self.message)


def _too_deep(text: str) -> bool:
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            return True
    return False


def _json_record(text: str | LongLine) -> tuple[dict[str, Any], str]:
    """One JSON Lines record and, if it cannot stand, why (else "").

    Strict JSON only, so that every record read can be written back as JSON:
    no NaN or Infinity, no number past the float range, no lone surrogate
    (it is not a character), and nesting within MAX_JSON_DEPTH.
    """
    if isinstance(text, LongLine):
        return {}, str(text.error())
    if _too_deep(text):
        return {}, f"not valid JSON here: nested more than {MAX_JSON_DEPTH} levels deep"
    decimal = _decimal if _HUGE_NUMBER.search(text) else float
    try:
        record = json.loads(text, parse_constant=_constant, parse_float=decimal)
    except _NotJson as error:
        return {}, f"not valid JSON here: {error}"
    except ValueError as error:
        if "integer string conversion" in str(error):  # Python's 4,300-digit bound
            return {}, "not valid JSON here: an integer of more than 4,300 digits"
        return {}, f"not valid JSON: {error}"
    if not isinstance(record, dict):
        return {}, 'expected a JSON object, as in {"x": 1}'
    if _SURROGATE.search(text):
        try:
            json.dumps(record, ensure_ascii=False).encode()
        except UnicodeEncodeError as error:
            code = ord(error.object[error.start])
            return {}, f"not valid JSON here: \\u{code:04x} alone is not a character"
    return record, ""


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def gradient(
    expression: Expression, chunk: PointChunk, threads: int | None = None
) -> ChunkGradient:
    """The value and every partial at each point of ``chunk``, as arrays, on
    ``threads`` threads (default: the cores this process may use).

    Records whose value or partials are not finite are evaluated again one
    by one with floats, which names the function and the argument that failed.
    """
    size = len(chunk)
    point = {name: chunk.values[name] for name in expression.variables}
    errors = dict(chunk.errors)
    if point:
        value, grad = expression.gradient(point, threads)
    else:  # a constant expression: one evaluation serves every record
        try:
            value, grad = np.full(size, expression.gradient({})[0]), {}
        except EvaluationError as error:
            value, grad = np.full(size, math.nan), {}
            errors.update({i: error for i in range(size) if i not in errors})
    bad = ~np.isfinite(value)
    for partial in grad.values():
        bad |= ~np.isfinite(partial)
    if errors:
        bad[list(errors)] = False
    for i in np.flatnonzero(bad).tolist():
        try:
            v, g = expression.gradient({name: float(a[i]) for name, a in point.items()})
        except EvaluationError as error:
            errors[i] = error
            continue
        value[i] = v
        for name, partial in g.items():
            grad[name][i] = partial
    return ChunkGradient(value, grad, errors)
