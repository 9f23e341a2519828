"""The primitive table: every operation autodiff knows, defined exactly once.

A rule is written against a math namespace ``m`` handed to it, so the same
line serves plain floats (``FLOAT``), numpy arrays (``numpy_math()``) and
``Value``s (the engine's namespace, which is what gives higher-order
derivatives and the derivative as a formula). No rule is written twice.

``partials[i](m, *inputs, out)`` is the local derivative of the output with
respect to input ``i``, in the textbook form that derivatives as formulas are
built from; ``formulas[i]`` is the same derivative as text, in terms of the
inputs ``a``, ``b`` (for teaching: ``autodiff explain``). Where the textbook
form loses digits on numbers (``1 - tanh(a)**2`` near ``|tanh| = 1``), the
entry also spells it ``careful``ly, and numbers use that (``slopes``).

``flat[i](m, *inputs)`` (when given) is true where the output does not change
with input ``i`` near the point, the other inputs held fixed: relu of a
negative, step and sign away from 0, ``a**0``. Its slope there is exactly 0,
so the drivers neither ask for it nor for any slope above a node that no
longer varies with the variables (see ``varies`` and the engine).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any

Rule = Callable[..., Any]


@dataclass(frozen=True, eq=False, slots=True)
class Primitive:
    name: str
    forward: Rule
    partials: tuple[Rule, ...]
    formulas: tuple[str, ...]
    symbol: str = ""  # infix operators only: "+", "**"
    domain: str = ""  # where it is defined, for error messages
    flat: tuple[Rule | None, ...] = ()  # per input: where the output ignores it
    # Per flat rule, the inputs it reads (default: all). A rule that reads only
    # constants is decided once per expression: x**2 is never flat in x.
    flat_reads: tuple[tuple[int, ...], ...] = ()
    careful: tuple[Rule, ...] = ()  # the partials spelled for accuracy on numbers

    def __post_init__(self) -> None:
        if self.flat and len(self.flat) != len(self.partials):
            raise ValueError(f"{self.name}: flat needs a rule (or None) for each input")

    @property
    def slopes(self) -> tuple[Rule, ...]:
        """The partials that numbers (floats, arrays) are computed with.

        Read afresh, not stored, so that a rule swapped in ``partials`` (as
        tests of ``check`` do) is the one used; hot loops spell it inline.
        """
        return self.careful or self.partials

    @property
    def arity(self) -> int:
        return len(self.partials)

    def __repr__(self) -> str:
        return f"Primitive({self.name!r})"


def _unary(
    name: str,
    forward: Rule,
    partial: Rule,
    formula: str,
    domain: str = "",
    flat: Rule | None = None,
    careful: Rule | None = None,
) -> Primitive:
    return Primitive(
        name,
        forward,
        (partial,),
        (formula,),
        domain=domain,
        flat=(flat,) if flat else (),
        careful=(careful,) if careful else (),
    )


def _away_from_zero(m: Any, a: Any) -> Any:
    # Not `a != 0`: NaN (the placeholder of derivatives as formulas) is not flat.
    return (a < 0.0) | (a > 0.0)


def _tanh_slope(m: Any, a: Any, out: Any) -> Any:
    # 1 - tanh(a)**2 cancels as tanh(a) nears +-1 (all digits lost by |a| = 19);
    # 4e/(1 + e)**2 with e = exp(-2|a|) is the same number without cancellation,
    # and e underflows to 0 instead of overflowing.
    e = m.exp(-2.0 * m.abs(a))
    d = 1.0 + e
    return 4.0 * e / (d * d)


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
    # 0**0 is 1 (IEEE pow, Python, numpy). a**0 is 1 for every a and 0**b is 0
    # for every b > 0: flat there, so x**0 at 0 has slope 0 and d/dy of 0**y
    # at y = 2 is 0; d/dy at 0**0 needs log(0), and is undefined.
    Primitive(
        "pow",
        lambda m, a, b: m.pow(a, b),
        (lambda m, a, b, out: b * m.pow(a, b - 1.0), lambda m, a, b, out: out * m.log(a)),
        ("b*a**(b - 1)", "a**b*log(a)"),
        symbol="**",
        domain="a negative base needs an integer exponent, and 0 a non-negative one",
        flat=(lambda m, a, b: b == 0.0, lambda m, a, b: (a == 0.0) & (b > 0.0)),
        flat_reads=((1,), (0, 1)),
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
    _unary(
        "tanh",
        lambda m, a: m.tanh(a),
        lambda m, a, out: 1.0 - out * out,
        "1 - tanh(a)**2",
        careful=_tanh_slope,
    ),
    # Kinks: abs and relu take gradient 0 at 0 (sign(0) = step(0) = 0).
    _unary("abs", lambda m, a: m.abs(a), lambda m, a, out: m.sign(a), "sign(a)"),
    _unary(
        "relu",
        lambda m, a: m.relu(a),
        lambda m, a, out: m.step(a),
        "step(a)",
        flat=lambda m, a: a < 0.0,
    ),
    _unary(
        "sigmoid",
        lambda m, a: m.sigmoid(a),
        lambda m, a, out: out * (1.0 - out),
        "sigmoid(a)*(1 - sigmoid(a))",
        # 1 - out cancels as out nears 1 (sigmoid(17)' was off in its 8th
        # digit); sigmoid(-a) is the same number, computed without cancellation.
        careful=lambda m, a, out: out * m.sigmoid(-a),
    ),
    # sign and step exist so the derivatives of abs and relu can be written
    # as formulas; they are flat wherever they are continuous.
    _unary("sign", lambda m, a: m.sign(a), lambda m, a, out: 0.0, "0", flat=_away_from_zero),
    _unary("step", lambda m, a: m.step(a), lambda m, a, out: 0.0, "0", flat=_away_from_zero),
)

BY_NAME: dict[str, Primitive] = {p.name: p for p in PRIMITIVES}
ADD, SUB, MUL, DIV, NEG, POW = (BY_NAME[n] for n in ("add", "sub", "mul", "div", "neg", "pow"))

# What the language lets a user call, and with how many arguments.
FUNCTIONS: dict[str, Primitive] = {p.name: p for p in PRIMITIVES if not p.symbol or p.name == "pow"}
# Other names people write for a function of the table: read as it, printed as it.
ALIASES: dict[str, str] = {"ln": "log"}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def _sigmoid(x: float) -> float:
    # exp(-|x|) cannot overflow; the same steps as the arrays' sigmoid below,
    # so that one point and many points agree wherever exp does.
    e = math.exp(-abs(x))
    return 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)


def _fsum(parts: list[float]) -> float:
    """The sum of a node's contributions, correctly rounded (math.fsum).

    Added in graph order, (x+18)*(x-x) + 1e-7*x lost 8 digits of its 1e-7
    to the +18.1 and -18.1 between; fsum loses none. It refuses inf - inf and
    an overflowing partial sum: the plain sum then says inf or NaN, as before.
    """
    if len(parts) == 1:
        return parts[0]  # fsum([-0.0]) is 0.0: one contribution lands exactly
    try:
        return math.fsum(parts)
    except (OverflowError, ValueError):
        return sum(parts, -0.0)


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
    total=_fsum,
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
        sigmoid=_array_sigmoid,
        relu=lambda x: np.maximum(x, 0.0),
        sign=np.sign,
        step=lambda x: np.where(x > 0.0, 1.0, 0.0),
        total=_compensated_sum,
        unless=lambda flat, x: np.where(flat, 0.0, x),
    )


def _array_sigmoid(x: Any) -> Any:
    import numpy as np

    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _compensated_sum(parts: list[Any]) -> Any:
    """The sum of a node's contributions, arrays element by element, compensated.

    Neumaier's idea with Knuth's branch-free two-sum (Ogita, Rump and Oishi's
    Sum2): each addition's rounding error is carried and added back at the
    end, as if summed in twice the precision, so cancellation between
    contributions costs no digits (math.fsum's job for floats).
    """
    total, carried = parts[0], 0.0
    for part in parts[1:]:
        s = total + part
        back = s - total
        carried = carried + ((total - (s - back)) + (part - back))
        total = s
    return total + carried


def flat_at(op: Primitive, k: int, m: SimpleNamespace, args: Sequence[Any]) -> Any:
    """Whether ``op``'s output ignores its input ``k`` near ``args`` (others held fixed).

    A bool for floats, an array of them for arrays: the one test that the
    engine, the float sweep and the array path all ask (see ``flat``).
    """
    rule = op.flat[k] if op.flat else None
    if rule is None:
        return False
    flat = rule(m, *args)
    return flat if flat.__class__ is bool or flat.ndim else bool(flat)  # numpy scalars


def math_for(data: Any) -> SimpleNamespace:
    """FLOAT for plain numbers, the numpy namespace for anything array-like."""
    return FLOAT if isinstance(data, float) else numpy_math()
