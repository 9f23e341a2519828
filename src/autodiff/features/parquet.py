"""Points from Parquet, a row group's batch at a time (pyarrow, an optional extra).

The reader gives the same chunks of points as the text formats'
(``PointChunk``), each with its Arrow batch, so that a Parquet output can
carry the input's columns with their own types. A row counts as the line
it is in messages: row 1 is the first row of data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..core.errors import MissingValueError, UsageError
from ..core.safe_text import excerpt, visible
from .lines import RecordError
from .points import PointChunk

INSTALL = "pip install 'autodiff-cli[parquet]'"
# Rows per batch read, and so per row group written: Parquet readers favour
# large row groups, and a batch is columns in C, not text.
BATCH_ROWS = 2**16


def pyarrow() -> Any:
    """pyarrow with its Parquet and compute modules, or a usage error that says how to get it."""
    try:
        import pyarrow as pa
        import pyarrow.compute
        import pyarrow.parquet
    except ImportError:
        raise UsageError(f"Parquet needs pyarrow, an optional extra: {INSTALL}") from None
    return pa


class ParquetPoints:
    """The points of a Parquet file, chunk by chunk; ``texts``: also each record's
    columns as text, for a text output (CSV, JSON, a table)."""

    def __init__(
        self,
        path: str,
        variables: Sequence[str],
        defaults: Mapping[str, float],
        texts: bool = True,
        chunk_size: int = BATCH_ROWS,
    ) -> None:
        pa = pyarrow()
        self.path = path
        try:
            self.file = pa.parquet.ParquetFile(path)
        except (OSError, pa.ArrowException) as error:
            raise UsageError(f"cannot read {visible(path)}: {_one_line(error)}") from None
        self.schema = self.file.schema_arrow
        self.columns = tuple(self.schema.names)
        self.variables = tuple(variables)
        self.defaults = dict(defaults)
        self.texts = texts
        self.chunk_size = chunk_size
        for name in self.variables:
            if name not in self.columns and name not in self.defaults:
                raise MissingValueError(name, self.columns)
            if name in self.columns:
                kind = self.schema.field(name).type
                if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                        or pa.types.is_decimal(kind)):  # fmt: skip
                    raise UsageError(
                        f"the column '{excerpt(name)}' of {visible(path)} holds {kind}, not numbers"
                    )

    def __iter__(self) -> Iterator[PointChunk]:
        import numpy as np

        pa = pyarrow()
        row = 0
        for batch in self._batches(pa):
            size = batch.num_rows
            errors: dict[int, Any] = {}
            values: dict[str, Any] = {}
            for name in self.variables:
                if name not in self.columns:
                    values[name] = np.full(size, self.defaults[name])
                    continue
                column = batch.column(name)
                # An integer past 2**53 is rounded to the nearest float, as float() does;
                # Arrow's safe cast would refuse it.
                safe = not pa.types.is_integer(column.type)
                column = pa.compute.cast(column, pa.float64(), safe=safe)
                numbers = column.to_numpy(zero_copy_only=False).astype(float, copy=True)
                missing = np.flatnonzero(np.isnan(numbers) & ~_valid(column, size))
                if name in self.defaults:
                    numbers[missing] = self.defaults[name]
                else:
                    for i in missing.tolist():
                        errors.setdefault(i, RecordError(f"no value for variable '{name}'"))
                for i in np.flatnonzero(~np.isfinite(numbers)).tolist():
                    if i not in errors:
                        shown = "NaN" if math.isnan(numbers[i]) else repr(float(numbers[i]))
                        errors[i] = RecordError(f"{name}: {shown} is not a finite number")
                values[name] = numbers
            for i in errors:
                for array in values.values():
                    array[i] = math.nan
            fields: list[Sequence[str]] = _texts(batch, pa) if self.texts else [()] * size
            lines = list(range(row + 1, row + size + 1))
            row += size
            chunk = PointChunk(self.columns, lines, fields, values, errors)
            chunk.arrow = batch
            yield chunk

    def _batches(self, pa: Any) -> Iterator[Any]:
        """The file's record batches; a page that fails to decode is the input's
        fault (exit 2), not a failure to write the output."""
        batches = self.file.iter_batches(batch_size=self.chunk_size)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (OSError, pa.ArrowException) as error:
                raise UsageError(f"cannot read {visible(self.path)}: {_one_line(error)}") from None
            yield batch


def _valid(column: Any, size: int) -> Any:
    import numpy as np

    if column.null_count == 0:
        return np.ones(size, dtype=bool)
    return np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _texts(batch: Any, pa: Any) -> list[Sequence[str]]:
    """Each record's columns as text: numbers as Arrow writes them, null as empty."""
    columns = []
    for column in batch.columns:
        try:
            text = (
                column if pa.types.is_string(column.type) else pa.compute.cast(column, pa.string())
            )
            columns.append(["" if v is None else v for v in text.to_pylist()])
        except pa.ArrowException:  # a list, a struct, bytes that are not UTF-8
            columns.append([_cell_text(v) for v in column.to_pylist()])
    return list(zip(*columns, strict=True)) if columns else [()] * batch.num_rows


def _cell_text(value: Any) -> str:
    """A cell Arrow cannot cast to text, as text: bytes decoded with
    replacement characters, lists and structs as JSON."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return json.dumps(value, default=str, ensure_ascii=False)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())  # Arrow's messages run over several lines
