"""The primitive table's functions on Decimals, to the context's precision.

Taylor mode (features/taylor.py) runs in decimal arithmetic with as many
digits as a derivative of high order needs: its sums cancel (the 200th
derivative of sin(x)*exp(x) is 2**100 times smaller than its largest
terms), so floats would leave no correct digit. ``PRECISE`` is a namespace
like ``ops.FLOAT``: the table's forward rules run on it unchanged.

decimal itself has exp, ln, sqrt and powers; the circular functions and
their inverses are series here, after reducing the argument, each computed
with guard digits and rounded once to the context's precision. Loops only:
no recursion.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal, localcontext
from functools import cache
from types import SimpleNamespace
from typing import Any

_GUARD = 10  # extra digits inside each function


def context(digits: int) -> decimal.Context:
    """A context of ``digits`` significant digits and an exponent range no
    derivative reaches: 1/1000! and 1000! are ordinary numbers here."""
    return decimal.Context(
        prec=digits,
        Emax=decimal.MAX_EMAX,
        Emin=decimal.MIN_EMIN,
        traps=[decimal.InvalidOperation, decimal.DivisionByZero],
    )


def _guarded(function: Callable[..., Decimal]) -> Callable[..., Decimal]:
    def run(*args: Decimal) -> Decimal:
        with localcontext() as ctx:
            ctx.prec += _GUARD
            result = function(*args)
        return +result  # rounded to the caller's precision

    run.__name__ = function.__name__
    return run


def _series(first: Decimal, ratio: Callable[[int], Decimal]) -> Decimal:
    """first + first*ratio(1) + first*ratio(1)*ratio(2) + ... until a term is below the digits."""
    total, term, n = first, first, 1
    limit = Decimal(10) ** (-decimal.getcontext().prec - 2) * (abs(first) or 1)
    while True:
        term *= ratio(n)
        if abs(term) <= limit:
            return total + term
        total += term
        n += 1


@cache
def _pi(digits: int) -> Decimal:
    """pi to ``digits`` digits: Machin's 16*atan(1/5) - 4*atan(1/239)."""
    with localcontext(context(digits + _GUARD)):
        return +(16 * _atan_small(Decimal(1) / 5) - 4 * _atan_small(Decimal(1) / 239))


def pi() -> Decimal:
    digits = decimal.getcontext().prec
    with localcontext() as ctx:
        ctx.prec = digits
        return +_pi(digits)


def _atan_small(x: Decimal) -> Decimal:
    """The series x - x**3/3 + x**5/5 - ..., for |x| well below 1."""
    x2 = x * x
    total, power, n = x, x, 1
    limit = Decimal(10) ** (-decimal.getcontext().prec - 2)
    while True:
        power *= -x2
        term = power / (2 * n + 1)
        if abs(term) <= limit:
            return total + term
        total += term
        n += 1


@_guarded
def atan(x: Decimal) -> Decimal:
    if x.is_zero():
        return x
    if abs(x) > 1:
        half_pi = pi() / 2
        return (half_pi if x > 0 else -half_pi) - atan(1 / x)
    # atan(x) = 2*atan(x/(1 + sqrt(1 + x**2))): twice brings |x| below 0.2.
    for _ in range(2):
        x = x / (1 + (1 + x * x).sqrt())
    return 4 * _atan_small(x)


def _reduced(x: Decimal) -> Decimal:
    """x minus the nearest multiple of 2*pi, with the digits that takes."""
    if abs(x) <= 3:
        return x
    with localcontext() as ctx:
        ctx.prec += max(x.adjusted(), 0) + 2
        two_pi = 2 * pi()
        return x - two_pi * (x / two_pi).to_integral_value()


@_guarded
def sin(x: Decimal) -> Decimal:
    r = _reduced(x)
    r2 = r * r
    return _series(r, lambda n: -r2 / ((2 * n) * (2 * n + 1)))


@_guarded
def cos(x: Decimal) -> Decimal:
    r = _reduced(x)
    r2 = r * r
    return _series(Decimal(1), lambda n: -r2 / ((2 * n - 1) * (2 * n)))


@_guarded
def tan(x: Decimal) -> Decimal:
    return sin(x) / cos(x)


@_guarded
def asin(x: Decimal) -> Decimal:
    if abs(x) == 1:
        return pi() / 2 * x
    return atan(x / (1 - x * x).sqrt())


@_guarded
def acos(x: Decimal) -> Decimal:
    return pi() / 2 - asin(x)


@_guarded
def sinh(x: Decimal) -> Decimal:
    if abs(x) < 1:  # (e**x - e**-x)/2 would cancel
        x2 = x * x
        return _series(x, lambda n: x2 / ((2 * n) * (2 * n + 1)))
    e = x.exp()
    return (e - 1 / e) / 2


@_guarded
def cosh(x: Decimal) -> Decimal:
    e = x.exp()
    return (e + 1 / e) / 2


@_guarded
def tanh(x: Decimal) -> Decimal:
    if abs(x) < 1:
        return sinh(x) / cosh(x)
    e = (-2 * abs(x)).exp()
    t = (1 - e) / (1 + e)
    return t if x > 0 else -t


@_guarded
def sigmoid(x: Decimal) -> Decimal:
    return 1 / (1 + (-x).exp())


def power(a: Decimal, b: Decimal) -> Decimal:
    if b.is_zero():
        return Decimal(1)  # 0**0 is 1, as everywhere in autodiff
    if b == b.to_integral_value() and abs(b) < 10**6:
        return a ** int(b)
    return _guarded(lambda a, b: a**b)(a, b)


def _sign(x: Any) -> Decimal:
    return Decimal(1) if x > 0 else (Decimal(-1) if x < 0 else Decimal(0))


PRECISE = SimpleNamespace(
    exp=lambda x: x.exp(),
    log=lambda x: x.ln(),
    sqrt=lambda x: x.sqrt(),
    sin=sin,
    cos=cos,
    tan=tan,
    asin=asin,
    acos=acos,
    atan=atan,
    sinh=sinh,
    cosh=cosh,
    tanh=tanh,
    abs=abs,
    pow=power,
    sigmoid=sigmoid,
    relu=lambda x: x if x > 0 else Decimal(0),
    sign=_sign,
    step=lambda x: Decimal(1) if x > 0 else Decimal(0),
)
