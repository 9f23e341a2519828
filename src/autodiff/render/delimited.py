"""Rows as CSV (RFC 4180 quoting) or TSV (IANA text/tab-separated-values).

TSV has no quoting: a field is written byte for byte, so a field read from a
TSV file comes out as it went in. Only the three characters TSV cannot hold
in a field are spelled as escapes (tab ``\\t``, line feed ``\\n``, carriage
return ``\\r``, as jq's ``@tsv`` does); they never occur in a field read from
TSV, only in text such as a stdin expression or an error message.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from ..core.errors import UsageError
from ..core.safe_text import excerpt

_TSV_ESCAPES = str.maketrans({"\t": "\\t", "\n": "\\n", "\r": "\\r"})


def distinct_header(header: Sequence[str]) -> Sequence[str]:
    """``header``, refused when it names a column twice (a variable ``d_x`` beside
    the partial ``d_x``): such a file reads back wrong in every CSV tool."""
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise UsageError(
                f"the CSV header would name '{excerpt(name)}' twice, a variable and an output"
                " column; rename the variable, or write JSON"
            )
        seen.add(name)
    return header


def rows_text(rows: Iterable[Sequence[str]], delimiter: str) -> str:
    """``rows`` as lines of text, each ending in a newline."""
    if delimiter == "\t":
        return "".join("\t".join(f.translate(_TSV_ESCAPES) for f in row) + "\n" for row in rows)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def needs_quoting(text: str, delimiter: str) -> bool:
    """Whether some field in ``text`` must be quoted (CSV) or escaped (TSV)."""
    special = ("\t", "\n", "\r") if delimiter == "\t" else (delimiter, '"', "\n", "\r")
    return any(c in text for c in special)
