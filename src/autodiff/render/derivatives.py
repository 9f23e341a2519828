"""Higher derivatives as text: the N-th derivative, the Hessian, derivative formulas.

Floats in machine formats round-trip (repr); tables round for the eye.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .delimited import rows_text

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def plain_label(name: str, order: int) -> str:
    """``d/dx``, ``d2/dx2``."""
    return f"d/d{name}" if order == 1 else f"d{order}/d{name}{order}"


def pretty_label(name: str, order: int) -> str:
    """``∂f/∂x``, ``∂²f/∂x²``."""
    if order == 1:
        return f"∂f/∂{name}"
    power = str(order).translate(_SUPERSCRIPT)
    return f"∂{power}f/∂{name}{power}"


@dataclass(frozen=True)
class OrderRecord:
    """The N-th derivative of an expression with respect to one variable, at a point."""

    expr: str
    at: dict[str, float]
    value: float
    wrt: str
    order: int
    derivative: float


def render_order(record: OrderRecord, fmt: str) -> str:
    if fmt == "plain":
        label = plain_label(record.wrt, record.order)
        return f"value\t{record.value!r}\n{label}\t{record.derivative!r}\n"
    if fmt in ("json", "jsonl"):  # one record: the same line either way
        data = {
            "expr": record.expr,
            "at": record.at,
            "value": record.value,
            "grad": {record.wrt: record.derivative},
            "order": record.order,
        }
        return json.dumps(data, allow_nan=False) + "\n"
    if fmt in ("csv", "tsv"):
        power = "" if record.order == 1 else str(record.order)  # d_x as in grad, d2_x
        header = [*record.at, "value", f"d{power}_{record.wrt}"]
        row = [*record.at.values(), record.value, record.derivative]
        return _delimited([header, [repr(x) for x in row]], fmt)
    raise ValueError(f"no such format: {fmt}")


@dataclass(frozen=True)
class HessianRecord:
    """The value, the gradient and the matrix of second partials at a point."""

    expr: str
    at: dict[str, float]
    variables: tuple[str, ...]
    value: float
    grad: dict[str, float]
    hessian: list[list[float]]


def render_hessian(record: HessianRecord, fmt: str) -> str:
    if fmt == "plain":
        lines = [f"value\t{record.value!r}"]
        lines += [f"d/d{n}\t{g!r}" for n, g in record.grad.items()]
        for a, row in zip(record.variables, record.hessian, strict=True):
            for b, h in zip(record.variables, row, strict=True):
                label = f"d2/d{a}2" if a == b else f"d2/d{a}d{b}"
                lines.append(f"{label}\t{h!r}")
        return "\n".join(lines) + "\n"
    if fmt == "json":
        data = {
            "expr": record.expr,
            "at": record.at,
            "variables": list(record.variables),
            "value": record.value,
            "grad": record.grad,
            "hessian": record.hessian,
        }
        return json.dumps(data, allow_nan=False) + "\n"
    if fmt in ("csv", "tsv"):
        rows = [["", *record.variables]]
        rows += [
            [name, *(repr(h) for h in row)]
            for name, row in zip(record.variables, record.hessian, strict=True)
        ]
        return _delimited(rows, fmt)
    raise ValueError(f"no such format: {fmt}")


@dataclass(frozen=True)
class Formula:
    """A derivative as text: d^order f / d wrt^order = text, in the language or in LaTeX."""

    wrt: str
    text: str


def render_formulas(expr: str, order: int, formulas: Sequence[Formula], fmt: str) -> str:
    """One formula alone on a line; several as ``name: formula`` lines."""
    single = len(formulas) == 1
    if fmt == "plain":
        if single:
            return formulas[0].text + "\n"
        return "".join(f"{f.wrt}: {f.text}\n" for f in formulas)
    if fmt == "latex":
        if single:
            return formulas[0].text + "\n"
        return "".join(f"{latex_label(f.wrt, order)} = {f.text}\n" for f in formulas)
    if fmt == "json":
        items = [
            {"expr": expr, "wrt": f.wrt, "order": order, "derivative": f.text} for f in formulas
        ]
        return json.dumps(items[0] if single else items) + "\n"
    raise ValueError(f"no such format: {fmt}")


def latex_label(name: str, order: int) -> str:
    from .latex import latex_name

    shown = latex_name(name)
    if order == 1:
        return rf"\frac{{\partial f}}{{\partial {shown}}}"
    return rf"\frac{{\partial^{{{order}}} f}}{{\partial {shown}^{{{order}}}}}"


def _delimited(rows: list[list[str]], fmt: str) -> str:
    return rows_text(rows, "," if fmt == "csv" else "\t")
