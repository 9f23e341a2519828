"""Taylor mode: truncated power series pushed through the program once.

The input variable becomes the series ``a + t``; every step of the program
becomes the series in ``t`` of its value, each coefficient worked out from
coefficients already known, so order N costs O(N²) per node (the graph does
not grow with the order, as it does when ``backward(create_graph=True)`` is
run N times). The k-th coefficient is ``f^(k)(a) / k!``.

No series rule is written here. The arithmetic primitives (+, -, *, /, neg)
run their forward rule on series. A function ``y = f(u)`` has ``y' = f'(u) u'``,
and ``f'(u)`` is the table's own derivative rule run on series (sin's rule
``cos(a)`` builds the series of cos(u), whose rule builds -sin(u): the same
node, so a pair of series feed each other), so that

    k * y[k] = sum over j = 1..k of  j * u[j] * f'(u)[k - j]

needs only coefficients below k of ``f'(u)``. The one exception is pow,
whose rule ``b*a**(b - 1)`` refers to pow itself (built on series it would
ask for a**(b - 2), and so on, one new series per order): it is used as
``b*out/a``, the same derivative, and an integer exponent is repeated
multiplication, which also holds where the base is 0. ``tanh`` and
``sigmoid`` use their textbook rules (``careful`` spells them for floats).

Where a function is not analytic (abs, relu, sign and step at 0; sqrt, a
fractional power, asin and acos where their slope is infinite) a series
needs a division by 0 or a sign at 0: that is an EvaluationError naming the
primitive the user wrote.

Numbers: the sums of high orders cancel (the 200th derivative of
sin(x)*exp(x) is 2**100 times smaller than its largest terms), so floats
would keep no correct digit, and 1/200! is below the smallest float. The
coefficients are Decimals (features/precise.py) with an exponent range no
derivative reaches, at 34 digits, then twice as many, and so on, until two
precisions give the same floats: those are the answers, each rounded once.
For the printed polynomial, a second pass keeps numbers rational wherever
the arithmetic allows (sin(0) is 0, a literal 0.1 is 1/10), so that sin's
series prints as x - x**3/6.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from operator import mul
from typing import Any

from ..core import ops
from ..core.errors import (
    AutodiffError,
    EvaluationError,
    LimitError,
    UnknownVariableError,
    UsageError,
    call_text,
    format_number,
)
from ..core.expression import Expression
from ..core.program import Step
from . import precise
from .rational import exact, fold_function

# The highest order: each order costs O(order) per series node.
MAX_ORDER = 1000
# Series nodes × (order + 1)² / 2 multiply-adds, the work of one propagation:
# about 1.3 µs each over the two or three precisions a derivative takes
# (sin(x)*exp(x) at order 1000, 3 million, took 5 s). Refused before it starts.
MAX_WORK = 4_000_000
# Rational coefficients up to this order (their digits grow with the order).
MAX_EXACT_ORDER = 40
# The precisions tried, in digits; the last one's answer stands when no two agree
# (a sum that cancels to exactly 0 leaves noise below every precision).
DIGITS = (34, 68, 136, 272, 544)

Number = Any  # Decimal, or Fraction and float in the exact pass


class _Inexact(float):
    """A float the exact pass computed (sin(0.3)): not to be read as a rational."""


class _Field:
    """The numbers a pass computes with: Decimals, or rationals where they can be."""

    def __init__(self, exact: bool) -> None:
        self.exact = exact
        self.zero: Number = Fraction(0) if exact else Decimal(0)
        self.one: Number = Fraction(1) if exact else Decimal(1)

    def lift(self, x: Any) -> Any:
        """A number from a rule or a step, as this pass's number."""
        if isinstance(x, float) and not isinstance(x, _Inexact):
            return Fraction(x) if self.exact else Decimal(x)  # both exact: 0.5 is 1/2
        if isinstance(x, int):
            return self.one * x
        return x

    def total(self, items: Iterable[Number]) -> Number:
        found = sum(items, self.zero)
        if self.exact and isinstance(found, Fraction):
            return exact(found)
        return found

    def at(self, op: ops.Primitive, values: Sequence[Number]) -> Number:
        """The function's value at numbers of this pass."""
        if not self.exact:
            found = op.forward(precise.PRECISE, *values)
            if not found.is_finite():  # log(0) in the slope of 0**x: no series there
                raise _NotAnalytic
            return found
        if all(isinstance(v, Fraction) for v in values):
            found = _rational_value(op, values)
            if found is not None:
                return found
        return _Inexact(op.forward(ops.FLOAT, *(float(v) for v in values)))


def _rational_value(op: ops.Primitive, values: Sequence[Fraction]) -> Fraction | None:
    if op.symbol:
        return Fraction(op.forward(ops.FLOAT, *values)) if op is not ops.POW else _power(*values)
    (q,) = values
    if op.name == "sqrt":
        return _square_root(q)
    return fold_function(op.name, q)


def _short(q: Fraction) -> bool:
    return abs(q.numerator) < 10**15 and q.denominator < 10**15


def _square_root(q: Fraction) -> Fraction | None:
    top, bottom = math.isqrt(q.numerator), math.isqrt(q.denominator)
    exact = top * top == q.numerator and bottom * bottom == q.denominator
    return Fraction(top, bottom) if exact else None


def _power(base: Fraction, exponent: Fraction) -> Fraction | None:
    if abs(exponent) > 64 or (base == 0 and exponent < 0):  # past 64: digits without end
        return None
    if exponent.denominator == 1:
        return base ** int(exponent)
    if exponent.denominator == 2 and base >= 0:  # x**0.5 at 4 is 2
        root = _square_root(base)
        return None if root is None else root**exponent.numerator
    return None


class _NotAnalytic(Exception):
    """A series would divide by 0 or take a sign at 0: the function has a kink there."""


class NotAnalyticError(EvaluationError):
    """The expression has no Taylor series at the point: a primitive is not analytic there."""


class Series:
    """One node of the Taylor program: its coefficients so far, and how to get the next."""

    __slots__ = ("c", "next", "program")

    def __init__(self, program: _Program, first: Number, next: Callable[[int], Number]) -> None:
        self.c: list[Number] = [first]
        self.next = next
        self.program = program
        program.nodes.append(self)

    # The forward rules of + - * / and neg, and the rules' arithmetic, land here.
    def __add__(self, other: Any) -> Series:
        return self.program.add(self, other, 1)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Series:
        return self.program.add(self, other, -1)

    def __rsub__(self, other: Any) -> Series:
        return self.program.add(-self, other, 1)

    def __neg__(self) -> Series:
        c = self.c
        return Series(self.program, -c[0], lambda k: -c[k])

    def __mul__(self, other: Any) -> Series:
        return self.program.multiply(self, other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Series:
        if isinstance(other, Series):
            return self.program.divide(self, other)
        return self.program.multiply(self, 1 / self.program.field.lift(other))

    def __rtruediv__(self, other: Any) -> Series:
        return self.program.divide(other, self)


class _Program:
    """The series of every step, built once, then extended one order at a time.

    A node's first coefficient is worked out as it is built, so that what
    depends on the point (a kink, a flat input) is known then; the others,
    order by order, in the order the nodes were built (each node's inputs
    come before it, except the slope of a function, which it reads one
    order behind).
    """

    def __init__(self, field: _Field) -> None:
        self.nodes: list[Series] = []
        self.field = field
        self.functions: dict[tuple[str, int], Series] = {}  # one series per f(u)
        self.math = _SeriesMath(self)

    def extend(self, order: int) -> None:
        for k in range(1, order + 1):
            for node in self.nodes:
                node.c.append(node.next(k))

    # -- arithmetic ---------------------------------------------------------------

    def constant(self, x: Number) -> Series:
        zero = self.field.zero
        return Series(self, x, lambda k: zero)

    def add(self, p: Series, q: Any, sign: int) -> Series:
        a = p.c
        if not isinstance(q, Series):
            q = self.field.lift(q)
            return Series(self, a[0] + sign * q, lambda k: a[k])
        b = q.c
        if sign > 0:
            return Series(self, a[0] + b[0], lambda k: a[k] + b[k])
        return Series(self, a[0] - b[0], lambda k: a[k] - b[k])

    def multiply(self, p: Series, q: Any) -> Series:
        a = p.c
        if not isinstance(q, Series):
            q = self.field.lift(q)
            return Series(self, a[0] * q, lambda k: a[k] * q)
        b = q.c
        total = self.field.total
        # At order k both lists hold k + 1 coefficients: the sum of a[j]*b[k - j].
        # The first coefficient through total too: the exact pass keeps its size bounded.
        return Series(self, total([a[0] * b[0]]), lambda k: total(map(mul, a, reversed(b))))

    def divide(self, p: Any, q: Series) -> Series:
        """p/q from p = (p/q)*q: each coefficient from those below it."""
        b = q.c
        if b[0] == 0:
            raise _NotAnalytic
        a = p.c if isinstance(p, Series) else None
        first = (a[0] if a is not None else self.field.lift(p)) / b[0]
        total, b0 = self.field.total, b[0]
        out: list[Number] = []

        def next(k: int) -> Number:
            # out holds k coefficients; b[1..k] pairs with out[k-1..0].
            known = total(map(mul, b[1 : k + 1], reversed(out)))
            return ((a[k] if a is not None else 0) - known) / b0

        node = Series(self, first, next)
        out = node.c
        return node

    def power(self, base: Any, exponent: Any) -> Series:
        """a**b; an integer exponent by repeated multiplication (0**2 has a series)."""
        if isinstance(exponent, Series) or exponent != int(exponent):
            return self.function(ops.POW, (base, exponent))
        n = int(exponent)
        if n < 0:
            return self.divide(self.field.one, self.power(base, -n))
        result: Series | None = None
        square: Series = base
        while True:  # binary powering: log2(n) products
            if n & 1:
                result = square if result is None else result * square
            n >>= 1
            if not n:
                break
            square = square * square
        return result if result is not None else self.constant(self.field.one)

    # -- functions, through the table's rules --------------------------------------

    def function(self, op: ops.Primitive, args: Sequence[Any]) -> Series:
        """``op`` on its arguments, at least one a series: y' = sum of rule_i * arg_i'."""
        key = (op.name, id(args[0]))
        if len(args) == 1 and key in self.functions:
            return self.functions[key]
        values = [a.c[0] if isinstance(a, Series) else a for a in args]
        slopes: list[tuple[_Derivative, Any]] = []
        try:
            first = self.field.at(op, values)
        except (ArithmeticError, ValueError):  # decimal's InvalidOperation is one: 0**x at 0
            raise _NotAnalytic from None
        y = Series(self, first, lambda k: self._chain(slopes, k))
        if len(args) == 1:
            self.functions[key] = y
        if op.name in ("sign", "step"):
            if values[0] == 0:
                raise _NotAnalytic  # a jump at 0
            return y  # flat elsewhere: every coefficient past the first is 0
        floats = [float(v) for v in values]
        for i, arg in enumerate(args):
            if not isinstance(arg, Series) or ops.flat_at(op, i, ops.FLOAT, floats):
                continue
            try:
                if op is ops.POW and i == 0:
                    slope = args[1] * y / arg  # b*a**(b - 1), with a**(b - 1) = out/a
                else:
                    slope = op.partials[i](self.math, *args, y)
            except (ArithmeticError, ValueError):  # log(0) in the slope of 0**x
                raise _NotAnalytic from None
            slopes.append((_Derivative(arg.c), slope.c if isinstance(slope, Series) else slope))
        return y

    def _chain(self, slopes: list[tuple[_Derivative, Any]], k: int) -> Number:
        """k*y[k] = sum over inputs of sum_j (j*u[j]) * slope[k - j]."""
        total = self.field.total
        parts: list[Number] = []
        for du, slope in slopes:
            if isinstance(slope, list):
                parts.append(total(map(mul, du[:k], reversed(slope[:k]))))
            else:  # a constant slope: y[k] = slope*u[k]
                parts.append(du[k - 1] * self.field.lift(slope))
        return total(parts) / k


class _Derivative(list[Number]):
    """j*u[j] for j = 1, 2, ... (u' in coefficients), filled in as u's arrive."""

    __slots__ = ("c",)

    def __init__(self, c: list[Number]) -> None:
        super().__init__()
        self.c = c

    def __getitem__(self, index: Any) -> Any:
        c = self.c
        while len(self) < len(c) - 1:
            self.append((len(self) + 1) * c[len(self) + 1])
        return list.__getitem__(self, index)


class _SeriesMath:
    """The namespace the table's rules run in on series: functions of series are series."""

    def __init__(self, program: _Program) -> None:
        self._program = program

    def __getattr__(self, name: str) -> Callable[..., Any]:
        op = ops.BY_NAME[name]
        program = self._program

        def apply(*args: Any) -> Any:
            if any(isinstance(a, Series) for a in args):
                if op is ops.POW:
                    return program.power(*args)
                return program.function(op, args)
            return program.field.at(op, [program.field.lift(a) for a in args])

        return apply


# -- the program on series ---------------------------------------------------------


@dataclass(frozen=True)
class TaylorSeries:
    """The Taylor polynomial of an expression in one variable around a point.

    ``coefficients[k]`` is f^(k)(a)/k! and ``derivatives[k]`` is f^(k)(a),
    floats (a derivative of high order may be infinite where its coefficient
    is not); ``exact[k]`` is the coefficient as a Fraction where it is
    rational and known exactly (up to MAX_EXACT_ORDER), else None.
    """

    expr: str
    at: dict[str, float]
    wrt: str
    order: int
    coefficients: list[float]
    derivatives: list[float]
    exact: list[Fraction | None]


def check_order(order: int) -> None:
    if order < 0:
        raise UsageError.argument("order", f"must be at least 0, got {order}")
    if order > MAX_ORDER:
        raise LimitError(f"the order can be at most {MAX_ORDER:,}, got {order:,}")


def taylor(
    expression: Expression,
    point: Mapping[str, float],
    wrt: str,
    order: int,
    max_work: int = MAX_WORK,
) -> TaylorSeries:
    """The Taylor polynomial of the expression in ``wrt`` around ``point``, to ``order``.

    >>> from autodiff import parse
    >>> found = taylor(parse("sin(x)"), {"x": 0}, "x", 5)
    >>> [str(c) for c in found.exact]
    ['0', '1', '0', '-1/6', '0', '1/120']
    >>> found.derivatives
    [0.0, 1.0, 0.0, -1.0, 0.0, 1.0]
    """
    at = _checked(expression, point, wrt, order)
    coefficients = _precise(expression, at, wrt, order, max_work, list(range(order + 1)))
    for k, c in enumerate(coefficients):
        _float(c, wrt, k)  # a derivative may pass the float range (200!): not a coefficient
    derivatives = [float(c * math.factorial(k)) for k, c in enumerate(coefficients)]
    exact: list[Fraction | None] = [None] * (order + 1)
    if order <= MAX_EXACT_ORDER:
        rational = {name: Fraction(format_number(v)) for name, v in at.items()}
        try:
            found = _propagate(expression, rational, wrt, order, _Field(exact=True), max_work)
        except (ArithmeticError, ValueError, AutodiffError):
            # Where rationals fail (digits past Python's limit, a 0 the floats do not
            # reach: log(3*x - 0.3) at 0.1, a float overflow on the way), the
            # polynomial keeps the floats the main pass found.
            found = []
        # A fraction of hundreds of digits is exact but not read: the float then.
        # So is one the floats disagree with: the rational pass reads 0.1 as 1/10,
        # the float pass as the float nearest it, and near a pole that difference
        # shows; the polynomial must not contradict the coefficients beside it.
        exact = [
            q if isinstance(q, Fraction) and _short(q) and _agrees(q, float(c)) else None
            for q, c in zip(found, coefficients, strict=False)
        ] or exact
    return TaylorSeries(
        expression.text,
        at,
        wrt,
        order,
        [float(c) for c in coefficients],
        derivatives,
        exact,
    )


# How far, in units in the last place, a fraction may sit from the float
# coefficient and still be the same number read exactly.
AGREEMENT_ULPS = 4


def _agrees(q: Fraction, c: float) -> bool:
    return abs(float(q) - c) <= AGREEMENT_ULPS * math.ulp(c)


def derivative(expression: Expression, point: Mapping[str, float], wrt: str, order: int) -> float:
    """f^(order) with respect to ``wrt`` at ``point``, in Taylor mode.

    >>> from autodiff import parse
    >>> derivative(parse("sin(x)*exp(x)"), {"x": 0.3}, "x", 200)  # 2**100*exp(0.3)*sin(0.3)
    5.05679202934678e+29
    """
    at = _checked(expression, point, wrt, order)
    (c,) = _precise(expression, at, wrt, order, None, [order])[-1:]
    return _float(c * math.factorial(order), wrt, order)


def _checked(
    expression: Expression, point: Mapping[str, float], wrt: str, order: int
) -> dict[str, float]:
    check_order(order)
    expression.evaluate_all(point)  # the value's own errors first, worded as everywhere
    if wrt not in expression.variables:
        raise UnknownVariableError(wrt, expression.variables)
    return {name: float(point[name]) for name in expression.variables}


def _precise(
    expression: Expression,
    at: Mapping[str, float],
    wrt: str,
    order: int,
    max_work: int | None,
    wanted: list[int],
) -> list[Decimal]:
    """The coefficients in Decimals, at precisions that double until the
    coefficients in ``wanted``, as floats times k!, agree."""
    point = {name: Decimal(v) for name, v in at.items()}  # exactly the floats given
    agreed: list[float] | None = None
    for digits in DIGITS:
        with localcontext(precise.context(digits)):
            found = _propagate(expression, point, wrt, order, _Field(exact=False), max_work)
            floats = [float(found[k] * math.factorial(k)) for k in wanted]
        if floats == agreed:
            break
        agreed = floats
    return found


def _propagate(
    expression: Expression,
    point: Mapping[str, Number],
    wrt: str,
    order: int,
    field: _Field,
    max_work: int | None,
) -> list[Number]:
    """The output's coefficients; ``max_work`` None: the default limit, no option raises it."""
    program = _Program(field)
    result = _steps_on_series(program, expression.steps, point, wrt)
    if not isinstance(result, Series):
        return [result, *([field.zero] * order)]
    work = len(program.nodes) * (order + 1) ** 2 // 2
    if work > (max_work or MAX_WORK):
        raise LimitError(
            f"order {order:,} over {len(program.nodes):,} series is {work:,} units of work"
            f" (series × (order + 1)² / 2), more than the limit of {max_work or MAX_WORK:,}"
            + ("" if max_work else "; ask for a lower order"),
            "max_work" if max_work else "",
        )
    program.extend(order)
    return result.c


def _steps_on_series(
    program: _Program, steps: Sequence[Step], point: Mapping[str, Number], wrt: str
) -> Any:
    """Each step's value: a series where it depends on ``wrt``, a number elsewhere."""
    field = program.field
    values: list[Any] = []
    for step in steps:
        if step.op is None:
            if step.constant is None:
                x = point[step.text]
                values.append(Series(program, x, _variable(field)) if step.text == wrt else x)
            else:
                values.append(_literal(step, field))
            continue
        args = [values[i] for i in step.args]
        try:
            if not any(isinstance(a, Series) for a in args):
                number = step.op.forward(program.math, *args)
                if field.exact and type(number) is float:
                    number = _Inexact(number)  # sin(0.3) + 1 is no more rational than sin(0.3)
                values.append(number)
            elif step.op is ops.POW:
                values.append(program.power(*args))
            elif step.op.symbol:
                values.append(step.op.forward(program.math, *args))
            else:
                values.append(program.function(step.op, args))
        except _NotAnalytic:
            raise _not_analytic(step.op, args) from None
    return values[-1]


def _variable(field: _Field) -> Callable[[int], Number]:
    one, zero = field.one, field.zero
    return lambda k: one if k == 1 else zero


def _literal(step: Step, field: _Field) -> Number:
    assert step.constant is not None
    if field.exact and step.text not in ops.CONSTANTS:
        try:
            return Fraction(step.text)  # as written: 0.1 is 1/10
        except ValueError:
            pass
    if field.exact:
        return _Inexact(step.constant)  # pi, e
    return Decimal(step.constant)


def _not_analytic(op: ops.Primitive, args: Sequence[Any]) -> NotAnalyticError:
    at = [float(a.c[0] if isinstance(a, Series) else a) for a in args]
    return NotAnalyticError(
        f"{call_text(op.name, at, op.symbol)} has no Taylor series: {op.name} is not analytic there"
        " (a kink, a jump or an infinite slope)",
        kind="value",
        op=op.name,
        arguments=at,
        reason="is not analytic",
    )


def _float(x: Decimal, wrt: str, order: int) -> float:
    number = float(x)
    if not math.isfinite(number):
        label = "f" if order == 0 else (f"d/d{wrt}" if order == 1 else f"d{order}/d{wrt}{order}")
        raise EvaluationError.not_finite(label, "derivative")
    return number
