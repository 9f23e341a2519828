"""grad's stream of records as Parquet: one row group per chunk (pyarrow, an optional extra).

The input's columns are carried with their own types when the input was
Parquet too, as text otherwise; then ``value``, ``d_<name>`` per partial as
float64, null where the record failed, and ``error``, null where it did not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO

from ..core.errors import UsageError
from ..core.safe_text import excerpt
from .formats import Batch


class ParquetWriter:
    def __init__(self, sink: BinaryIO, columns: Sequence[str], partials: Sequence[str]) -> None:
        from ..features.parquet import pyarrow

        self.pa = pyarrow()
        self.sink = sink
        self.columns = list(columns)
        self.partials = list(partials)
        self.results = ["value", *(f"d_{n}" for n in self.partials), "error"]
        clash = next((c for c in self.columns if c in self.results), None)
        if clash is not None:
            raise UsageError(
                f"the input column '{excerpt(clash)}' has the name of an output column"
                f" ({', '.join(self.results)}); rename it"
            )
        self.writer: Any = None

    def write(self, batch: Batch) -> None:
        pa = self.pa
        size = len(batch)
        failed = [i in batch.errors for i in range(size)]
        carried: list[Any]
        if batch.arrow is not None:
            carried = list(batch.arrow.columns)
        else:
            carried = [
                pa.array([row[k] for row in batch.fields], pa.string())
                for k in range(len(self.columns))
            ]
        numbers = [batch.value, *(batch.grad.get(n, [None] * size) for n in self.partials)]
        results = [
            pa.array([None if f else x for x, f in zip(column, failed, strict=True)], pa.float64())
            for column in numbers
        ]
        errors = pa.array([batch.errors.get(i) for i in range(size)], pa.string())
        table = pa.Table.from_arrays(
            [*carried, *results, errors], names=[*self.columns, *self.results]
        )
        if self.writer is None:
            self.writer = pa.parquet.ParquetWriter(self.sink, table.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is None:  # no record at all: still a file with the columns
            pa = self.pa
            fields = [pa.field(c, pa.string()) for c in self.columns]
            fields += [pa.field(n, pa.float64()) for n in self.results[:-1]]
            fields.append(pa.field("error", pa.string()))
            self.writer = pa.parquet.ParquetWriter(self.sink, pa.schema(fields))
        self.writer.close()
