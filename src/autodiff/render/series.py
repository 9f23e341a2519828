"""A Taylor polynomial as text autodiff reads back, and in every format.

Written in powers of ``(x - a)`` (``x`` alone when a is 0), the ``diff``
printer's conventions: an exact rational coefficient as a fraction
(``x**3/6``), any other as the float that reads back as itself.
"""

from __future__ import annotations

import json
from fractions import Fraction

from ..core.errors import format_number
from ..features.taylor import TaylorSeries
from .delimited import distinct_header, rows_text


def polynomial(series: TaylorSeries) -> str:
    """``x - x**3/6 + x**5/120``; ``0`` when every coefficient is 0."""
    a = series.at[series.wrt]
    base = series.wrt
    if a != 0:
        shown = format_number(abs(a))
        base = f"({series.wrt} {'-' if a > 0 else '+'} {shown})"
    terms: list[tuple[bool, str]] = []
    for k, (c, q) in enumerate(zip(series.coefficients, series.exact, strict=True)):
        if c == 0 and (q is None or q == 0):
            continue
        negative = (q if q is not None else c) < 0
        terms.append((negative, _term(abs(q) if q is not None else abs(c), k, base)))
    if not terms:
        return "0"
    text = ("-" if terms[0][0] else "") + terms[0][1]
    for negative, term in terms[1:]:
        text += f" {'-' if negative else '+'} {term}"
    return text


def _term(c: Fraction | float, k: int, base: str) -> str:
    power = "" if k == 0 else (base if k == 1 else f"{base}**{k}")
    if isinstance(c, Fraction):
        top, bottom = c.numerator, c.denominator
        if not power:
            return str(top) if bottom == 1 else f"{top}/{bottom}"
        head = power if top == 1 else f"{top}*{power}"
        return head if bottom == 1 else f"{head}/{bottom}"
    number = format_number(c)
    if not power:
        return number
    return power if number == "1" else f"{number}*{power}"


def as_json(series: TaylorSeries) -> dict[str, object]:
    return {
        "expr": series.expr,
        "at": series.at,
        "wrt": series.wrt,
        "order": series.order,
        "coefficients": series.coefficients,
        "polynomial": polynomial(series),
    }


def flat(series: TaylorSeries) -> dict[str, float | str]:
    """The results as columns: c0 ... cN, then the polynomial."""
    found: dict[str, float | str] = {f"c{k}": c for k, c in enumerate(series.coefficients)}
    found["polynomial"] = polynomial(series)
    return found


def render(series: TaylorSeries, fmt: str) -> str:
    if fmt == "plain":
        return polynomial(series) + "\n"
    if fmt in ("json", "jsonl"):
        return json.dumps(as_json(series), allow_nan=False) + "\n"
    if fmt == "latex":
        from ..language.parser import parse
        from .latex import latex

        return latex(parse(polynomial(series))) + "\n"
    if fmt in ("csv", "tsv"):
        results = flat(series)
        header = [*series.at, *results]
        row = [*map(repr, series.at.values()), *map(_text, results.values())]
        return rows_text([distinct_header(header), row], "," if fmt == "csv" else "\t")
    raise ValueError(f"no such format: {fmt}")


def _text(x: float | str) -> str:
    return repr(x) if isinstance(x, float) else x
