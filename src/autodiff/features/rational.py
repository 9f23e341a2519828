"""Exact numbers: rationals kept within a size, and functions at rational points.

Shared by the derivative printer (features/derivatives.py) and Taylor
mode's exact pass (features/taylor.py).
"""

from __future__ import annotations

from fractions import Fraction

from ..core import ops
from ..core.errors import EvaluationError

# Numbers stay exact fractions while numerator and denominator each have at
# most this many bits (below 2**1023, about 9e307): then each prints as a
# number the language reads. Past it a number becomes the float nearest to
# it, as the language itself would compute it (1e-400 is 0.0). The bound keeps
# the arithmetic fast: a sum of 2,000 reciprocals of primes would otherwise
# carry a denominator of 20,000 digits.
MAX_EXACT_BITS = 1023


def fold_function(name: str, q: Fraction) -> Fraction | None:
    """f(q) when it is rational (sin(0) = 0, abs(-2) = 2); None to keep f(q) as it is.

    Raises the domain error of f at q (log(0), sqrt(-1)).
    """
    if name == "abs":
        return abs(q)
    if name == "sign":
        return Fraction((q > 0) - (q < 0))
    if name == "step":
        return Fraction(int(q > 0))
    if name == "relu":
        return max(q, Fraction(0))
    domain_error = (
        (name == "log" and q <= 0)
        or (name == "sqrt" and q < 0)
        or (name in ("asin", "acos") and abs(q) > 1)
    )
    if domain_error:
        op = ops.BY_NAME[name]
        raise EvaluationError.of_value(name, [float(q)], f"is undefined: {op.domain}")
    known = {
        ("exp", 0): 1,
        ("log", 1): 0,
        ("sin", 0): 0,
        ("cos", 0): 1,
        ("tan", 0): 0,
        ("asin", 0): 0,
        ("acos", 1): 0,
        ("atan", 0): 0,
        ("sinh", 0): 0,
        ("cosh", 0): 1,
        ("tanh", 0): 0,
    }
    if name == "sigmoid" and q == 0:
        return Fraction(1, 2)
    found = known.get((name, q.numerator)) if q.denominator == 1 else None
    return None if found is None else Fraction(found)


def exact(q: Fraction) -> Fraction:
    """q while it is within ``MAX_EXACT_BITS``; past it, the nearest float, exactly.

    A float past the bound (a tiny one has a denominator of up to 2**1074) is
    its own nearest float, so this never changes a number twice.
    """
    if q.numerator.bit_length() <= MAX_EXACT_BITS and q.denominator.bit_length() <= MAX_EXACT_BITS:
        return q
    try:
        return Fraction(float(q))
    except OverflowError:
        raise EvaluationError.inexact(
            "a number in the derivative is too large for a float (over 1.8e308)"
        ) from None
