"""Plain text, JSON, CSV and TSV for results, one at a time or as a stream of records.

Floats round-trip (repr); JSON never holds NaN or Infinity.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from ..core.errors import UsageError
from ..core.safe_text import excerpt
from .delimited import needs_quoting, rows_text


@dataclass(frozen=True)
class GradRecord:
    """One evaluated expression: the point, the value and the partials."""

    expr: str
    at: dict[str, float]
    value: float
    grad: dict[str, float]


def render(record: GradRecord, fmt: str) -> str:
    if fmt == "plain":
        return plain(record)
    if fmt in ("json", "jsonl"):
        return json_text(record)
    if fmt in ("csv", "tsv"):
        return delimited(record, "," if fmt == "csv" else "\t")
    raise ValueError(f"no such format: {fmt}")


def plain(record: GradRecord) -> str:
    """``value<TAB>number`` then one ``d/d<name><TAB>number`` line per variable."""
    lines = [f"value\t{record.value!r}"]
    lines += [f"d/d{name}\t{partial!r}" for name, partial in record.grad.items()]
    return "\n".join(lines) + "\n"


def as_json(record: GradRecord) -> dict[str, object]:
    return {"expr": record.expr, "at": record.at, "value": record.value, "grad": record.grad}


def json_text(record: GradRecord) -> str:
    return json.dumps(as_json(record), allow_nan=False) + "\n"


def delimited(record: GradRecord, delimiter: str) -> str:
    """A header (the point's variables, value, d_<name>...) and one row."""
    header = [*record.at, "value", *(f"d_{n}" for n in record.grad)]
    row = list(map(repr, [*record.at.values(), record.value, *record.grad.values()]))
    return rows_text([header, row], delimiter)


# -- streams of records -------------------------------------------------------


@dataclass
class Batch:
    """Consecutive records of a stream, column by column.

    ``columns`` and ``fields`` are what leads each record (the expression, or
    the input's columns carried through). ``at``, ``value`` and ``grad`` hold
    one entry per record: a float, or None where a record has no such number.
    A record listed in ``errors`` failed; its numbers are not shown.
    """

    columns: Sequence[str]
    fields: Sequence[Sequence[str]]
    exprs: Sequence[str]
    at: Mapping[str, Sequence[float | None]]
    value: Sequence[float | None]
    grad: Mapping[str, Sequence[float | None]]
    errors: Mapping[int, str]
    extras: Sequence[Mapping[str, object]] | None = None

    def __len__(self) -> int:
        return len(self.value)


class StreamWriter:
    """Writes batches of records to ``out`` as they come; ``close()`` ends the output."""

    def __init__(self, out: TextIO, columns: Sequence[str], partials: Sequence[str]) -> None:
        self.out = out
        self.columns = list(columns)
        self.partials = list(partials)

    def write(self, batch: Batch) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.out.flush()


class DelimitedWriter(StreamWriter):
    """CSV or TSV: the leading columns, value, d_<name> per partial, error."""

    def __init__(
        self, out: TextIO, columns: Sequence[str], partials: Sequence[str], delimiter: str
    ) -> None:
        super().__init__(out, columns, partials)
        self.delimiter = delimiter
        results = ["value", *(f"d_{n}" for n in self.partials), "error"]
        clash = next((c for c in self.columns if c in results), None)
        if clash is not None:
            # A header with one name twice reads back wrong in every CSV tool.
            raise UsageError(
                f"the input column '{excerpt(clash)}' has the name of an output column"
                f" ({', '.join(results)}); rename it, or write JSON Lines"
            )
        self.out.write(rows_text([[*self.columns, *results]], delimiter))

    def write(self, batch: Batch) -> None:
        size = len(batch)
        errors = [""] * size
        for i, message in batch.errors.items():
            errors[i] = message
        numbers = [_texts(batch.value, batch.errors)]
        numbers += [_texts(batch.grad.get(n, [None] * size), batch.errors) for n in self.partials]
        d = self.delimiter
        # Numbers never need quoting; text may. Checking one joined string is cheap.
        text = "\0".join(map("\0".join, batch.fields)) + "\0".join(batch.errors.values())
        if needs_quoting(text, d):
            tails = zip(*numbers, errors, strict=True)
            rows = ([*f, *tail] for f, tail in zip(batch.fields, tails, strict=True))
            self.out.write(rows_text(rows, d))
        elif size:
            leading = map(d.join, batch.fields)
            self.out.write(
                "\n".join(map(d.join, zip(leading, *numbers, errors, strict=True))) + "\n"
            )


def _texts(numbers: Sequence[float | None], errors: Mapping[int, str]) -> list[str]:
    """Each number as round-trip text; empty for None and for failed records."""
    texts = list(map(repr, numbers))
    if None in numbers:
        texts = ["" if x is None else t for x, t in zip(numbers, texts, strict=True)]
    for i in errors:
        texts[i] = ""
    return texts


class JsonWriter(StreamWriter):
    """One JSON object per record: ``jsonl`` one per line; ``json`` one object
    for a single record and an array for several."""

    def __init__(
        self, out: TextIO, columns: Sequence[str], partials: Sequence[str], lines: bool
    ) -> None:
        super().__init__(out, columns, partials)
        self.lines = lines
        self.count = 0
        self.first = ""

    def write(self, batch: Batch) -> None:
        texts = [json.dumps(record, allow_nan=False) for record in _json_records(batch)]
        if not texts:
            return
        if self.lines:
            self.out.write("\n".join(texts) + "\n")
            return
        if self.count == 0:
            self.first = texts[0]
            self.count, texts = 1, texts[1:]
            if not texts:
                return
        if self.count == 1:
            self.out.write("[\n" + self.first)
        self.out.write("".join(",\n" + t for t in texts))
        self.count += len(texts)

    def close(self) -> None:
        if not self.lines:
            if self.count == 0:
                self.out.write("[]\n")
            elif self.count == 1:
                self.out.write(self.first + "\n")
            else:
                self.out.write("\n]\n")
        super().close()


def _json_records(batch: Batch) -> Iterator[dict[str, object]]:
    at = {name: list(values) for name, values in batch.at.items()}
    for i in range(len(batch)):
        record: dict[str, object] = {"expr": batch.exprs[i]}
        record["at"] = {n: v[i] for n, v in at.items() if v[i] is not None and v[i] == v[i]}
        message = batch.errors.get(i)
        if message is None:
            record["value"] = batch.value[i]
            record["grad"] = {n: g[i] for n, g in batch.grad.items() if g[i] is not None}
        else:
            record["value"] = record["grad"] = None
        if batch.extras is not None and batch.extras[i]:
            record["extra"] = batch.extras[i]
        if message is not None:
            record["error"] = message
        yield record


class PlainWriter(StreamWriter):
    """Each record as ``name<TAB>text`` lines; records separated by a blank line."""

    def __init__(self, out: TextIO, columns: Sequence[str], partials: Sequence[str]) -> None:
        super().__init__(out, columns, partials)
        self.started = False

    def write(self, batch: Batch) -> None:
        blocks = []
        for i in range(len(batch)):
            lines = [f"{c}\t{f}" for c, f in zip(batch.columns, batch.fields[i], strict=True)]
            message = batch.errors.get(i)
            if message is not None:
                lines.append(f"error\t{message}")
            else:
                lines.append(f"value\t{batch.value[i]!r}")
                for name, partials in batch.grad.items():
                    if partials[i] is not None:
                        lines.append(f"d/d{name}\t{partials[i]!r}")
            blocks.append("\n".join(lines) + "\n")
        if blocks:
            self.out.write(("\n" if self.started else "") + "\n".join(blocks))
            self.started = True


class TableWriter(StreamWriter):
    """For people at a terminal: numbers rounded to ``precision``.

    Rows are shown as tables of up to ``rows`` records, so that a column's
    width fits its records and a long stream still appears as it goes.
    """

    def __init__(
        self,
        out: TextIO,
        columns: Sequence[str],
        partials: Sequence[str],
        precision: int,
        colour: bool,
        rows: int = 1000,
    ) -> None:
        super().__init__(out, columns, partials)
        self.precision = precision
        self.colour = colour
        self.limit = rows
        self.rows: list[list[str]] = []
        self.failed = False

    def write(self, batch: Batch) -> None:
        size = len(batch)
        for i in range(size):
            failed = i in batch.errors
            numbers = [
                batch.value[i],
                *(batch.grad.get(n, [None] * size)[i] for n in self.partials),
            ]
            cells = [*batch.fields[i], *(self._number(x, failed) for x in numbers)]
            self.rows.append([*cells, batch.errors.get(i, "")])
            self.failed = self.failed or failed
            if len(self.rows) >= self.limit:
                self._print()

    def close(self) -> None:
        self._print()
        super().close()

    def _print(self) -> None:
        from ..core.safe_text import visible
        from .grid import grid

        if not self.rows:
            return
        header = [
            *map(visible, self.columns),
            "f",
            *(f"∂f/∂{visible(n)}" for n in self.partials),
        ]
        right = [False] * len(self.columns) + [True] * (1 + len(self.partials))
        if self.failed:
            header.append("error")
            right.append(False)
        rows = [[visible(c) for c in (row if self.failed else row[:-1])] for row in self.rows]
        self.out.write(grid(header, rows, right, boxed=self.colour, bold_header=self.colour))
        self.rows, self.failed = [], False

    def _number(self, x: float | None, failed: bool) -> str:
        from .terminal import rounded

        return "" if x is None or failed else rounded(x, self.precision)


def stream_writer(
    fmt: str,
    out: TextIO,
    columns: Sequence[str],
    partials: Sequence[str],
    precision: int = 6,
    colour: bool = False,
) -> StreamWriter:
    if fmt in ("csv", "tsv"):
        return DelimitedWriter(out, columns, partials, "," if fmt == "csv" else "\t")
    if fmt in ("json", "jsonl"):
        return JsonWriter(out, columns, partials, lines=fmt == "jsonl")
    if fmt == "plain":
        return PlainWriter(out, columns, partials)
    if fmt == "table":
        return TableWriter(out, columns, partials, precision, colour)
    raise ValueError(f"no such format: {fmt}")
