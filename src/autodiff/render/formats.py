"""Plain text, JSON, CSV and TSV for results. Floats round-trip (repr)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass


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
    if fmt == "json":
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
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow([*record.at, "value", *(f"d_{n}" for n in record.grad)])
    writer.writerow(map(repr, [*record.at.values(), record.value, *record.grad.values()]))
    return buffer.getvalue()
