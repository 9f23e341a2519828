"""The primitive table: every operation autodiff knows, defined exactly once.

A rule is written against a math namespace ``m`` handed to it, so the same
line serves plain floats (``FLOAT``), numpy arrays (``numpy_math()``) and
``Value``s (the engine's namespace, which is what gives higher-order
derivatives and the derivative as a formula). No rule is written twice.

``partials[i](m, *inputs, out)`` is the local derivative of the output with
respect to input ``i``; ``formulas[i]`` is the same derivative as text, in
terms of the inputs ``a``, ``b`` (for teaching: ``autodiff explain``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any

Rule = Callable[..., Any]


@dataclass(frozen=True, eq=False)
class Primitive:
    name: str
    forward: Rule
    partials: tuple[Rule, ...]
    formulas: tuple[str, ...]
    symbol: str = ""  # infix operators only: "+", "**"
    domain: str = ""  # where it is defined, for error messages

    @property
    def arity(self) -> int:
        return len(self.partials)

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"


def _unary(name: str, forward: Rule, partial: Rule, formula: str, domain: str = "") -> Primitive:
    return Primitive(name, forward, (partial,), (formula,), domain=domain)


PRIMITIVES: tuple[Primitive, ...] = (
    # Subtraction, division and negation are primitives of their own, so the
    # graph shows what the user wrote rather than *(-1) and **-1.
    Primitive(
        "add",
        lambda m, a, b: a + b,
        (lambda m, a, b, out: 1.0, lambda m, a, b, out: 1.0),
        ("1", "1"),
        symbol="+",
    ),
    Primitive(
        "sub",
        lambda m, a, b: a - b,
        (lambda m, a, b, out: 1.0, lambda m, a, b, out: -1.0),
        ("1", "-1"),
        symbol="-",
    ),
    Primitive(
        "mul",
        lambda m, a, b: a * b,
        (lambda m, a, b, out: b, lambda m, a, b, out: a),
        ("b", "a"),
        symbol="*",
    ),
    Primitive(
        "div",
        lambda m, a, b: a / b,
        (lambda m, a, b, out: 1.0 / b, lambda m, a, b, out: -out / b),
        ("1/b", "-a/b**2"),
        symbol="/",
        domain="the divisor must not be 0",
    ),
    Primitive(
        "neg",
        lambda m, a: -a,
        (lambda m, a, out: -1.0,),
        ("-1",),
        symbol="-",
    ),
    # The exponent's partial needs log of the base; the engine asks for a
    # partial only when that input depends on a variable, so x**2 at x=-2 works.
    Primitive(
        "pow",
        lambda m, a, b: m.pow(a, b),
        (lambda m, a, b, out: b * m.pow(a, b - 1.0), lambda m, a, b, out: out * m.log(a)),
        ("b*a**(b - 1)", "a**b*log(a)"),
        symbol="**",
        domain="a negative base needs an integer exponent, and 0 a positive one",
    ),
    _unary("exp", lambda m, a: m.exp(a), lambda m, a, out: out, "exp(a)"),
    _unary(
        "log", lambda m, a: m.log(a), lambda m, a, out: 1.0 / a, "1/a", "its argument must be > 0"
    ),
    _unary(
        "sqrt",
        lambda m, a: m.sqrt(a),
        lambda m, a, out: 0.5 / out,
        "1/(2*sqrt(a))",
        "its argument must be >= 0",
    ),
    _unary("sin", lambda m, a: m.sin(a), lambda m, a, out: m.cos(a), "cos(a)"),
    _unary("cos", lambda m, a: m.cos(a), lambda m, a, out: -m.sin(a), "-sin(a)"),
    _unary("tan", lambda m, a: m.tan(a), lambda m, a, out: 1.0 + out * out, "1 + tan(a)**2"),
    _unary(
        "asin",
        lambda m, a: m.asin(a),
        lambda m, a, out: 1.0 / m.sqrt(1.0 - a * a),
        "1/sqrt(1 - a**2)",
        "its argument must be between -1 and 1",
    ),
    _unary(
        "acos",
        lambda m, a: m.acos(a),
        lambda m, a, out: -1.0 / m.sqrt(1.0 - a * a),
        "-1/sqrt(1 - a**2)",
        "its argument must be between -1 and 1",
    ),
    _unary("atan", lambda m, a: m.atan(a), lambda m, a, out: 1.0 / (1.0 + a * a), "1/(1 + a**2)"),
    _unary("sinh", lambda m, a: m.sinh(a), lambda m, a, out: m.cosh(a), "cosh(a)"),
    _unary("cosh", lambda m, a: m.cosh(a), lambda m, a, out: m.sinh(a), "sinh(a)"),
    _unary("tanh", lambda m, a: m.tanh(a), lambda m, a, out: 1.0 - out * out, "1 - tanh(a)**2"),
    # Kinks: abs and relu take gradient 0 at 0 (sign(0) = step(0) = 0).
    _unary("abs", lambda m, a: m.abs(a), lambda m, a, out: m.sign(a), "sign(a)"),
    _unary("relu", lambda m, a: m.relu(a), lambda m, a, out: m.step(a), "step(a)"),
    _unary(
        "sigmoid",
        lambda m, a: m.sigmoid(a),
        lambda m, a, out: out * (1.0 - out),
        "sigmoid(a)*(1 - sigmoid(a))",
    ),
    # sign and step exist so the derivatives of abs and relu can be written
    # as formulas; they are flat wherever they are continuous.
    _unary("sign", lambda m, a: m.sign(a), lambda m, a, out: 0.0, "0"),
    _unary("step", lambda m, a: m.step(a), lambda m, a, out: 0.0, "0"),
)

BY_NAME: dict[str, Primitive] = {p.name: p for p in PRIMITIVES}
ADD, SUB, MUL, DIV, NEG, POW = (BY_NAME[n] for n in ("add", "sub", "mul", "div", "neg", "pow"))

# What the language lets a user call, and with how many arguments.
FUNCTIONS: dict[str, Primitive] = {p.name: p for p in PRIMITIVES if not p.symbol or p.name == "pow"}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def _sigmoid(x: float) -> float:
    # Two branches so that neither exp(-x) nor exp(x) can overflow.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


FLOAT = SimpleNamespace(
    exp=math.exp,
    log=math.log,
    sqrt=math.sqrt,
    sin=math.sin,
    cos=math.cos,
    tan=math.tan,
    asin=math.asin,
    acos=math.acos,
    atan=math.atan,
    sinh=math.sinh,
    cosh=math.cosh,
    tanh=math.tanh,
    abs=math.fabs,
    pow=math.pow,
    sigmoid=_sigmoid,
    relu=lambda x: x if x > 0.0 else 0.0,
    sign=lambda x: 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0),
    step=lambda x: 1.0 if x > 0.0 else 0.0,
)


@cache
def numpy_math() -> SimpleNamespace:
    """The namespace for arrays; numpy is imported only when arrays are used."""
    import numpy as np

    return SimpleNamespace(
        exp=np.exp,
        log=np.log,
        sqrt=np.sqrt,
        sin=np.sin,
        cos=np.cos,
        tan=np.tan,
        asin=np.arcsin,
        acos=np.arccos,
        atan=np.arctan,
        sinh=np.sinh,
        cosh=np.cosh,
        tanh=np.tanh,
        abs=np.abs,
        pow=np.power,
        sigmoid=lambda x: np.exp(-np.logaddexp(0.0, -x)),
        relu=lambda x: np.maximum(x, 0.0),
        sign=np.sign,
        step=lambda x: np.where(x > 0.0, 1.0, 0.0),
    )


def math_for(data: Any) -> SimpleNamespace:
    """FLOAT for plain numbers, the numpy namespace for anything array-like."""
    return FLOAT if isinstance(data, float) else numpy_math()
