"""Streams of flat records (``taylor --points``, ``uncertainty --points``) in every format.

A record is the input's columns carried through, then named results, then
an error when it failed. CSV and TSV carry the columns byte for byte and
give each result a column; JSON gives each record an object, its results
as the command shapes them; plain text is ``name<TAB>value`` lines with a
blank line between records; a table is one table under the title, as
grad's stream is. One record per input row, in order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TextIO

from ..core.errors import UsageError
from ..core.safe_text import excerpt, visible
from .delimited import rows_text
from .formats import JsonLines
from .grid import StreamTable, terminal_width
from .terminal import rounded

Result = float | str


class RecordWriter:
    """Writes records one by one in ``fmt``; ``close()`` ends the output."""

    def __init__(
        self,
        fmt: str,
        out: TextIO,
        columns: Sequence[str],
        results: Sequence[str],
        numbers: Sequence[bool],
        title: str = "",
        precision: int = 6,
        colour: bool = False,
    ) -> None:
        self.fmt = fmt
        self.out = out
        self.columns = list(columns)
        self.results = list(results)
        self.precision = precision
        self.started = False
        self.json = JsonLines(out, lines=fmt == "jsonl") if fmt in ("json", "jsonl") else None
        self.table: StreamTable | None = None
        if fmt in ("csv", "tsv"):
            self.delimiter = "," if fmt == "csv" else "\t"
            names = [*self.results, "error"]
            clash = next((c for c in self.columns if c in names), None)
            if clash is not None:
                raise UsageError(
                    f"the input column '{excerpt(clash)}' has the name of an output column"
                    f" ({', '.join(names)}); rename it, or write JSON Lines"
                )
            out.write(rows_text([[*self.columns, *names]], self.delimiter))
        elif fmt == "table":
            header = [*map(visible, self.columns), *self.results]
            right = [False] * len(self.columns) + list(numbers)
            self.table = StreamTable(
                out, header, right, colour, colour, precision + 7, width=terminal_width(out)
            )
            if title:
                out.write((f"\x1b[1m{title}\x1b[0m" if colour else title) + "\n")

    def write(
        self,
        fields: Sequence[str],
        flat: Mapping[str, Result] | None,
        nested: Mapping[str, object] | None = None,
        extra: Mapping[str, object] | None = None,
        error: str | None = None,
    ) -> None:
        """One record: ``flat`` results by name (None when it failed, with ``error``);
        ``nested``, the same as JSON wants them; ``extra``, the carried columns for JSON."""
        if self.json is not None:
            record: dict[str, object] = dict(nested or {})
            if extra:
                record["extra"] = dict(extra)
            if error is not None:
                record["error"] = error
            self.json.write([json.dumps(record, allow_nan=False)])
        elif self.fmt in ("csv", "tsv"):
            shown = [_text(flat[n]) if flat else "" for n in self.results]
            self.out.write(rows_text([[*fields, *shown, error or ""]], self.delimiter))
        elif self.table is not None:
            cells = [visible(f) for f in fields]
            if flat is None:
                self.table.add(cells, visible(error or ""))
            else:
                self.table.add([*cells, *(self._rounded(flat[n]) for n in self.results)])
        else:  # plain
            # One line per name: a field's tab, line break or escape byte is spelled out.
            pairs = zip(self.columns, fields, strict=True)
            lines = [f"{visible(c)}\t{visible(f)}" for c, f in pairs]
            if flat is None:
                lines.append(f"error\t{visible(error or '')}")
            else:
                lines += [f"{n}\t{_text(flat[n])}" for n in self.results]
            self.out.write(("\n" if self.started else "") + "\n".join(lines) + "\n")
            self.started = True

    def close(self) -> None:
        if self.json is not None:
            self.json.close()
        if self.table is not None:
            self.table.close()

    def _rounded(self, x: Result) -> str:
        return rounded(x, self.precision) if isinstance(x, float) else visible(x)


def _text(x: Result) -> str:
    return repr(x) if isinstance(x, float) else x
