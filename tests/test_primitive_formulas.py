"""The formula texts of the primitive table, checked against the rules they describe.

``Primitive.formulas`` is what ``autodiff explain`` shows a student; the rules
(``partials``, ``careful``) are what the engine computes. The two are written
separately, so each formula is checked three ways:

- symbolically against the project's own derivative of the primitive (which
  is built by running the rule), with SymPy deciding that the difference is 0;
- symbolically against SymPy's textbook derivative of the primitive, so that a
  rule and its formula cannot go wrong together;
- numerically against the float slope (``slopes``: the careful spelling where
  there is one), because the project's derivative reads ``partials`` only and a
  careful rule could drift from both.

Every case comes from ``ops.PRIMITIVES``: a new primitive is checked as soon
as it is added, and the tables below must name it (or the first test fails).
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
import sympy
from sympy.core.function import AppliedUndef

from autodiff import parse
from autodiff.core import ops
from autodiff.features.derivatives import derivative
from autodiff.features.explain import definition

PLACEHOLDERS = ("a", "b")
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in PLACEHOLDERS}
HALF_LINE = sympy.Symbol("p", positive=True)

# The language's functions that SymPy spells (or defines at the kink) differently.
# step(0) = 0 in the table, while SymPy's Heaviside(0) is 1/2 unless told.
SPELLED_DIFFERENTLY: dict[str, Any] = {
    "abs": sympy.Abs,
    "sign": sympy.sign,
    "step": lambda x: sympy.Heaviside(x, 0),
    "relu": lambda x: sympy.Max(x, 0),
    "sigmoid": lambda x: 1 / (1 + sympy.exp(-x)),
    "pow": lambda x, y: x**y,
}
# A function SymPy lacks is left out here, for the coverage test to name, rather
# than failing the whole module at import.
SYMPY_FUNCTIONS: dict[str, Any] = {
    name: SPELLED_DIFFERENTLY.get(name) or getattr(sympy, name)
    for name in ops.FUNCTIONS
    if name in SPELLED_DIFFERENTLY or hasattr(sympy, name)
}
SYMPY_CONSTANTS = {"pi": sympy.pi, "e": sympy.E}

# The kinked primitives take one side's slope at 0 by convention (sign(0) =
# step(0) = 0), which is no derivative SymPy knows: its derivative of relu is
# Heaviside(a) with Heaviside(0) = 1/2, and of step and sign a DiracDelta. Those
# differ from the formulas only at 0, and SymPy cannot simplify such a
# difference to 0 on the whole line, so the textbook check compares on each
# side of the kink instead, where every kink function evaluates outright.
KINKED = frozenset({"abs", "relu", "sign", "step"})

# Where each input is drawn from for the float check: (low, high, either sign).
# Inside every domain and away from kinks, poles and 0 divisors; wide where a
# careful rule exists (tanh, sigmoid), since that is where it differs.
# asin and acos stop short of +-1, where 1 - a*a cancels in the rule itself.
POINTS: dict[str, tuple[tuple[float, float, bool], ...]] = {
    "add": ((-5.0, 5.0, False), (-5.0, 5.0, False)),
    "sub": ((-5.0, 5.0, False), (-5.0, 5.0, False)),
    "mul": ((-5.0, 5.0, False), (-5.0, 5.0, False)),
    "div": ((-5.0, 5.0, False), (0.1, 5.0, True)),
    "neg": ((-5.0, 5.0, False),),
    # log(a) in the exponent's slope needs a positive base.
    "pow": ((0.1, 4.0, False), (-3.0, 3.0, False)),
    "exp": ((-20.0, 20.0, False),),
    "log": ((0.01, 10.0, False),),
    "sqrt": ((0.01, 10.0, False),),
    "sin": ((-10.0, 10.0, False),),
    "cos": ((-10.0, 10.0, False),),
    "tan": ((-1.5, 1.5, False),),
    "asin": ((-0.95, 0.95, False),),
    "acos": ((-0.95, 0.95, False),),
    "atan": ((-10.0, 10.0, False),),
    "sinh": ((-20.0, 20.0, False),),
    "cosh": ((-20.0, 20.0, False),),
    "tanh": ((-20.0, 20.0, False),),
    "abs": ((0.01, 5.0, True),),
    "relu": ((0.01, 5.0, True),),
    "sigmoid": ((-30.0, 30.0, False),),
    "sign": ((0.01, 5.0, True),),
    "step": ((0.01, 5.0, True),),
}
SAMPLES = 8
DIGITS = 50

CASES = [(op, k) for op in ops.PRIMITIVES for k in range(op.arity)]
IDS = [f"{op.name}-{PLACEHOLDERS[k]}" for op, k in CASES]


def to_sympy(expression: Any) -> Any:
    """The printed Expression read by SymPy, numbers as exact rationals."""
    text = str(expression)
    names = {**SYMPY_FUNCTIONS, **SYMPY_CONSTANTS, **SYMBOLS}
    result = sympy.sympify(text, locals=names, rational=True)
    # A name SymPy is not told of silently becomes a new symbol or function.
    assert result.free_symbols <= set(SYMBOLS.values()), text
    assert not result.atoms(AppliedUndef), text
    return result


def applied(op: ops.Primitive) -> Any:
    """The primitive on its placeholders, parsed: tanh(a), a*b, a**b."""
    names = PLACEHOLDERS[: op.arity]
    expression = parse(definition(op, names))
    # The text must be the primitive itself, inputs in order, or the check is of something else.
    last = expression.steps[-1]
    assert last.op is op, (op.name, str(expression))
    assert [expression.steps[i].text for i in last.args] == list(names), str(expression)
    return expression


def formula(op: ops.Primitive, k: int) -> Any:
    expression = parse(op.formulas[k])  # must be valid in the language explain shows it in
    assert set(expression.variables) <= set(PLACEHOLDERS[: op.arity]), op.formulas[k]
    return expression


def sides_of_the_kink(difference: Any) -> list[Any]:
    """The difference on a > 0 and on a < 0 (a unary kink has one input)."""
    a = SYMBOLS["a"]
    return [difference.subs(a, HALF_LINE), difference.subs(a, -HALF_LINE)]


def test_every_primitive_is_covered():
    """A new primitive must be added to these tables, or this fails."""
    assert set(POINTS) == set(ops.BY_NAME)
    assert all(len(POINTS[op.name]) == op.arity for op in ops.PRIMITIVES)
    assert set(SYMPY_FUNCTIONS) == set(ops.FUNCTIONS)
    assert set(SYMPY_CONSTANTS) == set(ops.CONSTANTS)
    assert set(SPELLED_DIFFERENTLY) <= set(ops.FUNCTIONS)
    assert set(KINKED) <= set(ops.BY_NAME)
    assert max(op.arity for op in ops.PRIMITIVES) <= len(PLACEHOLDERS)
    assert [(op.name, k) for op, k in CASES] == [
        (op.name, k) for op in ops.PRIMITIVES for k in range(len(op.formulas))
    ]


@pytest.mark.parametrize(("op", "k"), CASES, ids=IDS)
def test_formula_is_the_projects_derivative_of_the_rule(op, k):
    stated = formula(op, k)
    derived = derivative(applied(op), PLACEHOLDERS[k])
    difference = sympy.simplify(to_sympy(stated) - to_sympy(derived))
    assert difference == 0, (
        f"{op.name}: the formula {op.formulas[k]!r} is not the rule's derivative {derived}"
    )


@pytest.mark.parametrize(("op", "k"), CASES, ids=IDS)
def test_formula_is_the_textbook_derivative(op, k):
    textbook = sympy.diff(to_sympy(applied(op)), SYMBOLS[PLACEHOLDERS[k]])
    difference = to_sympy(formula(op, k)) - textbook
    pieces = sides_of_the_kink(difference) if op.name in KINKED else [difference]
    for piece in pieces:
        assert sympy.simplify(piece) == 0, (
            f"{op.name}: the formula {op.formulas[k]!r} is not d/d{PLACEHOLDERS[k]}, {textbook}"
        )


@pytest.mark.parametrize(("op", "k"), CASES, ids=IDS)
def test_formula_has_the_value_the_rule_computes(op, k):
    # The formula is evaluated in SymPy at 50 digits, not in floats: as text,
    # 1 - tanh(a)**2 cancels at large a, which is why the careful rule exists.
    exact = to_sympy(formula(op, k))
    rng = random.Random(f"{op.name}/{k}")
    for _ in range(SAMPLES):
        args = tuple(
            rng.uniform(low, high) * (rng.choice((1, -1)) if either else 1)
            for low, high, either in POINTS[op.name]
        )
        out = op.forward(ops.FLOAT, *args)
        got = float(op.slopes[k](ops.FLOAT, *args, out))
        # Floats as SymPy Floats hold their exact binary value; exact Rationals
        # would send a**(b - 1) looking for perfect roots of huge denominators.
        at = {
            SYMBOLS[n]: sympy.Float(x, DIGITS + 20)
            for n, x in zip(PLACEHOLDERS[: op.arity], args, strict=True)
        }
        want = float(sympy.N(exact.xreplace(at), DIGITS))
        assert math.isclose(got, want, rel_tol=1e-12), (
            f"{op.name} at {args}: the rule gives {got!r}, the formula {op.formulas[k]!r} {want!r}"
        )
