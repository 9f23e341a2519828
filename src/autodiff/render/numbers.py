"""Many floats as text at once, each spelled as ``repr`` spells it, in C.

A stream of a million records writes three million numbers; ``repr`` costs
about 0.5 µs each, a third of the whole run. orjson writes the same
shortest round-trip digits in C, a chunk's numbers in one call. Two of its
spellings differ from ``repr``'s (``1e-7`` for ``1e-07``, ``0.000015`` for
``1.5e-05``); the few numbers that have them are found (with ``str.find``
in a list of numbers, from the numbers themselves in the rows of a matrix)
and mended, so a number reads the same in every output of the tool.
Without orjson, ``repr`` itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; kept working without it
    orjson = None  # type: ignore[assignment]

# orjson writes a one-digit exponent (1e-7); repr two (1e-07).
_SHORT_EXPONENT = re.compile(r"e([-+])(\d)(?!\d)")
# orjson writes 1.5e-05 positionally (0.000015); repr with its exponent. A
# match counts only at the start of a number: of its part, or after a comma
# or a minus sign.
_POSITIONAL = re.compile(r"0\.0000([1-9])(\d*)")


_INF = float("inf")


def _padded(match: re.Match[str]) -> str:
    return f"e{match[1]}0{match[2]}"


def _with_exponent(match: re.Match[str]) -> str:
    start = match.start()
    if start and match.string[start - 1] not in ",-":
        return match.group()  # inside a number: 10.00001
    first, rest = match.groups()
    return f"{first}{'.' + rest if rest else ''}e-05"


def _mend(text: str) -> str:
    if "e" in text:
        text = _SHORT_EXPONENT.sub(_padded, text)
    return _POSITIONAL.sub(_with_exponent, text) if "0.0000" in text else text


def _split_as_repr(text: str, separator: str) -> list[str]:
    """orjson's ``text`` split at ``separator``, each part spelled as repr spells it.

    Most numbers need no mending, and a regex over a whole chunk costs more
    than orjson's writing it: when the spellings to mend are few, each is
    found with str.find and only its part is mended.
    """
    parts = text.split(separator)
    counts = [text.count("e"), text.count("0.0000")]
    if not any(counts):
        return parts
    if sum(counts) * 200 > len(text):  # many: look at every part
        return [_mend(p) if "e" in p or "0.0000" in p else p for p in parts]
    hits = []
    for needle in ("e", "0.0000"):
        k = text.find(needle)
        while k >= 0:
            hits.append(k)
            k = text.find(needle, k + 1)
    index, at = 0, 0
    for k in sorted(hits):
        index += text.count(separator, at, k)  # the part this position is in
        at = k
        parts[index] = _mend(parts[index])  # mending twice changes nothing
    return parts


def float_texts(values: Sequence[float | None] | Any) -> list[str]:
    """Each float of ``values`` (a list, or a float64 numpy array) as ``repr``
    writes it; "" for None and for what is not finite (a failed record's slot)."""
    if orjson is None:
        return ["" if v is None or v != v or v in (_INF, -_INF) else repr(v) for v in values]
    if len(values) == 0:
        return []
    text = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY).decode()[1:-1]
    if "null" in text:  # None, NaN and infinities: orjson writes null
        text = text.replace("null", "")
    return _split_as_repr(text, ",")


def number_rows(columns: Sequence[Any], delimiter: str, failed: Sequence[int] = ()) -> list[str]:
    """Per record, its numbers from ``columns`` (lists or arrays of equal length)
    as ``repr`` writes them, joined by ``delimiter``; the record indices in
    ``failed`` get empty fields, as do numbers that are None or not finite.

    One text per record rather than per number: with orjson the numbers of a
    chunk are written in one call, as rows of a matrix.
    """
    import numpy as np

    size = len(columns[0]) if columns else 0
    if orjson is None or len(columns) < 2 or not size:
        texts = [float_texts(c) for c in columns]
        rows = list(map(delimiter.join, zip(*texts, strict=True))) if texts else [""] * size
    else:
        matrix = np.column_stack([np.asarray(c, dtype=float) for c in columns])
        text = orjson.dumps(matrix, option=orjson.OPT_SERIALIZE_NUMPY).decode()[2:-2]
        if "null" in text:
            text = text.replace("null", "")
        rows = text.split("],[")
        # The numbers are at hand: the rows to mend are those with a number
        # that repr writes with an exponent (below 1e-4, from 1e16; the bounds
        # here are wider), found in numpy rather than by scanning the text.
        size = np.abs(matrix)
        odd = ((size < 1e-3) & (matrix != 0)) | (size >= 1e15)
        for i in np.flatnonzero(odd.any(axis=1)).tolist():
            rows[i] = _mend(rows[i])
        if delimiter != ",":
            rows = [r.replace(",", delimiter) for r in rows]
    if failed:
        empty = delimiter * (len(columns) - 1)
        for i in failed:
            rows[i] = empty
    return rows
