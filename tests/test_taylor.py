"""Taylor mode (issue 18): coefficients against SymPy's series, grad --order
against the repeated backward pass, and the taylor command's formats and errors."""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from autodiff import parse
from autodiff.features import taylor as t
from autodiff.features.derivatives import backward_derivative, derivative_at
from conftest import extended, run_cli

X = sp.Symbol("x")

# Pieces analytic on the whole interval the points come from (0.1 to 1.9).
LEAVES = ["x", "x", "2", "0.5", "3"]
UNARY = [
    ("sin({})", sp.sin),
    ("cos({})", sp.cos),
    ("exp(({})/4)", lambda u: sp.exp(u / 4)),
    ("atan({})", sp.atan),
    ("tanh({})", sp.tanh),
    ("log(1 + ({})**2)", lambda u: sp.log(1 + u**2)),
    ("sqrt(2 + ({})**2)", lambda u: sp.sqrt(2 + u**2)),
    ("sigmoid({})", lambda u: 1 / (1 + sp.exp(-u))),
    ("1/(1 + ({})**2)", lambda u: 1 / (1 + u**2)),
]
BINARY = [("({} + {})", sp.Add), ("({} - {})", lambda a, b: a - b), ("{}*{}", sp.Mul)]


def random_expression(rng: random.Random, depth: int) -> tuple[str, sp.Expr]:
    if depth == 0:
        leaf = rng.choice(LEAVES)
        return leaf, X if leaf == "x" else sp.Rational(leaf)
    if rng.random() < 0.5:
        text, make = rng.choice(UNARY)
        inner, expr = random_expression(rng, depth - 1)
        return text.format(inner), make(expr)
    text, make = rng.choice(BINARY)
    (a, ea), (b, eb) = random_expression(rng, depth - 1), random_expression(rng, depth - 1)
    return text.format(a, b), make(ea, eb)


# Seed 3 takes SymPy 7 s: it runs with the slow cases.
SEEDS = extended([0, 1, 2, 4, 3, *range(5, 16)], keep=4)


@pytest.mark.parametrize("seed", SEEDS)
def test_coefficients_match_sympys_series(seed):
    rng = random.Random(seed)
    text, expr = random_expression(rng, 3)
    text, expr = f"{text} + x", expr + X  # x always occurs
    at = Fraction(rng.choice([1, 3, 5, 7, 9, 11, 13]), rng.choice([4, 8]))
    order = 4
    found = t.taylor(parse(text), {"x": float(at)}, "x", order)
    h = sp.Symbol("h")
    series = sp.series(expr.subs(X, sp.Rational(at.numerator, at.denominator) + h), h, 0, order + 1)
    poly = sp.expand(series.removeO())
    for k in range(order + 1):
        want = poly.coeff(h, k) if k else poly.subs(h, 0)
        got = found.coefficients[k]
        # Decimals agreed at two precisions: the float is correctly rounded, up to
        # the error of the point itself (a float) and of the final rounding.
        assert math.isclose(got, float(want), rel_tol=1e-12, abs_tol=1e-14), (text, k, got, want)
        if found.exact[k] is not None:  # an exact coefficient is SymPy's, exactly
            assert sp.Rational(
                found.exact[k].numerator, found.exact[k].denominator
            ) == sp.nsimplify(want), (text, k)


def test_exact_coefficients_at_rational_points():
    cases = {
        ("sin(x)", 0): ["0", "1", "0", "-1/6", "0", "1/120"],
        ("exp(x)", 0): ["1", "1", "1/2", "1/6", "1/24", "1/120"],
        ("1/(1 - x)", 0): ["1"] * 6,
        ("log(x)", 1): ["0", "1", "-1/2", "1/3", "-1/4", "1/5"],
        ("x**0.5", 4): ["2", "1/4", "-1/64", "1/512", "-5/16384", "7/131072"],
        ("0.1*x**3", 1): ["1/10", "3/10", "3/10", "1/10", "0", "0"],
        ("tanh(x)", 0): ["0", "1", "0", "-1/3", "0", "2/15"],
    }
    for (text, at), want in cases.items():
        found = t.taylor(parse(text), {"x": at}, "x", 5)
        assert [str(q) for q in found.exact] == want, text
    inexact = t.taylor(parse("sin(x)"), {"x": 0.5}, "x", 3)
    assert inexact.exact[0] is None  # sin(1/2) is not rational


@pytest.mark.parametrize(
    ("text", "at"), [("1/(x - 0.1)", 0.1000001), ("1/(3*x - 0.3)", 0.1), ("1/(x - 1e-9)", 2e-9)]
)
def test_a_fraction_never_contradicts_its_float(text, at):
    # The rational pass reads 0.1 as 1/10, the float pass as the float nearest
    # it; near a pole the two give different coefficients, and the polynomial
    # must then show the floats the table and JSON give.
    found = t.taylor(parse(text), {"x": at}, "x", 6)
    for q, c in zip(found.exact, found.coefficients, strict=True):
        if q is not None:
            assert abs(float(q) - c) <= t.AGREEMENT_ULPS * math.ulp(c), (text, q, c)
    shown = run_cli("taylor", text, "--at", f"x={at}", "--order", "6")
    assert shown.returncode == 0, shown.stderr
    back = parse(shown.stdout.strip())
    step = at * 1e-3
    assert back.evaluate({"x": at + step}).data == pytest.approx(
        sum(c * step**k for k, c in enumerate(found.coefficients)), rel=1e-9
    )


@pytest.mark.parametrize("seed", extended(list(range(12)), keep=4))
def test_grad_order_in_taylor_mode_matches_the_backward_pass(seed):
    rng = random.Random(100 + seed)
    text, _ = random_expression(rng, 3)
    expression = parse(text + " + x**3")  # x always occurs
    at = {"x": rng.uniform(0.1, 1.9)}
    for order in range(1, 7):
        taylor = derivative_at(expression, at, "x", order).derivative
        backward = backward_derivative(expression, at, "x", order)
        assert math.isclose(taylor, backward, rel_tol=1e-9, abs_tol=1e-9), (text, order)


def test_order_200_is_correctly_rounded_and_fast():
    import mpmath

    mpmath.mp.dps = 60
    found = t.derivative(parse("sin(x)*exp(x)"), {"x": 0.3}, "x", 200)
    x = mpmath.mpf(0.3)  # the float 0.3, exactly
    exact = float(mpmath.mpf(2) ** 100 * mpmath.exp(x) * mpmath.sin(x + 50 * mpmath.pi))
    assert found == exact
    # 1/200! is below the smallest float; the coefficients never were floats.
    series = t.taylor(parse("exp(x)"), {"x": 0}, "x", 200)
    assert series.coefficients[200] == 0.0 and series.derivatives[200] == 1.0


def test_other_variables_are_held_at_their_values():
    found = t.taylor(parse("exp(x)*cos(y)"), {"x": 1, "y": 0.5}, "x", 3)
    assert found.derivatives == pytest.approx([math.e * math.cos(0.5)] * 4, rel=1e-15)


def test_limits_and_kinks():
    with pytest.raises(t.NotAnalyticError, match=r"abs\(0\).*abs is not analytic"):
        t.taylor(parse("abs(x)"), {"x": 0}, "x", 3)
    with pytest.raises(t.NotAnalyticError, match="sqrt"):
        t.taylor(parse("sqrt(x)"), {"x": 0}, "x", 3)
    with pytest.raises(t.NotAnalyticError, match="relu"):
        t.taylor(parse("relu(x) + 1"), {"x": 0}, "x", 3)
    assert t.taylor(parse("abs(x)"), {"x": -2}, "x", 2).derivatives == [2.0, -1.0, 0.0]
    assert t.taylor(parse("x**2"), {"x": 0}, "x", 3).derivatives == [0.0, 0.0, 2.0, 0.0]
    from autodiff.core.errors import LimitError

    with pytest.raises(LimitError, match="at most 1,000"):
        t.taylor(parse("x"), {"x": 0}, "x", 1001)
    with pytest.raises(LimitError, match="units of work"):
        t.taylor(parse("sin(x)*exp(x)*cos(x)*tanh(x)"), {"x": 0}, "x", 1000)
    # At a kink grad --order keeps the rules as written (sign(0) = 0), as grad does.
    assert derivative_at(parse("abs(x)"), {"x": 0}, "x", 2).derivative == 0.0


# -- the command ------------------------------------------------------------------


def ok(*args: str) -> str:
    result = run_cli("taylor", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_polynomial_reads_back_and_approximates_f():
    for expr, at in [("sin(x)", "0"), ("exp(x)*cos(x)", "0.5"), ("log(x)", "2"), ("x**3", "-2")]:
        text = ok(expr, "--at", f"x={at}", "--order", "6", "--format", "plain").strip()
        a = float(at)
        polynomial, f = parse(text), parse(expr)
        for dx in (0.01, -0.02):
            near = {"x": a + dx}
            assert math.isclose(
                polynomial.evaluate(near).data, f.evaluate(near).data, rel_tol=1e-9, abs_tol=1e-9
            )


def test_every_format():
    assert ok("sin(x)", "--at", "x=0") == "x - x**3/6 + x**5/120\n"
    record = json.loads(ok("exp(x)", "--at", "x=0", "--order", "3", "--format", "json"))
    assert record == {
        "expr": "exp(x)",
        "at": {"x": 0.0},
        "wrt": "x",
        "order": 3,
        "coefficients": [1.0, 1.0, 0.5, 1 / 6],
        "polynomial": "1 + x + x**2/2 + x**3/6",
    }
    assert ok("exp(x)", "--at", "x=0", "--order", "2", "--format", "latex") == (
        "1 + x + \\frac{x^{2}}{2}\n"
    )
    assert ok("x**2", "--at", "x=1", "--order", "2", "--format", "csv").splitlines() == [
        "x,c0,c1,c2,polynomial",
        "1.0,1.0,2.0,1.0,1 + 2*(x - 1) + (x - 1)**2",
    ]
    table = ok("sin(x)", "--at", "x=0", "--format", "table")
    assert table.splitlines()[0] == "f = sin(x)  at  x = 0"
    assert "Taylor polynomial of order 5: x - x**3/6 + x**5/120" in table


def test_points_keep_every_record_in_order(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("id,x\na,1\nb,-1\nc,2\n")
    result = run_cli("taylor", "log(x)", "--points", str(path), "--order", "2", "--format", "csv")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "id,x,c0,c1,c2,polynomial,error",
        "a,1,0.0,1.0,-0.5,(x - 1) - (x - 1)**2/2,",
        "b,-1,,,,,log(-1) is undefined: its argument must be > 0",
        "c,2,0.6931471805599453,0.5,-0.125,0.6931471805599453 + (x - 2)/2 - (x - 2)**2/8,",
    ]
    assert "line 3" in result.stderr
    lines = run_cli("taylor", "log(x)", "--points", str(path), "--format", "jsonl").stdout
    records = [json.loads(line) for line in lines.splitlines()]
    assert [r.get("error", "") != "" for r in records] == [False, True, False]
    assert records[0]["extra"] == {"id": "a"}


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["abs(x)", "--at", "x=0"], 1, "abs(0) has no Taylor series: abs is not analytic"),
        (["sqrt(x)", "--at", "x=0"], 1, "sqrt is not analytic"),
        (
            ["x", "--at", "x=0", "--order", "1001"],
            2,
            "--order must be a whole number from 0 to 1000",
        ),
        (["x*y", "--at", "x=0,y=1"], 2, "--wrt NAME says which variable"),
        (["x*y", "--at", "x=0,y=1", "--wrt", "z"], 2, "--wrt z: not a variable"),
        (["sin(x)*cos(x)*exp(x)*tanh(x)", "--at", "x=0", "--order", "1000"], 2, "--max-work N"),
        (["log(x)", "--at", "x=0"], 1, "log(0) is undefined"),
    ],
)
def test_errors(args, code, said):
    result = run_cli("taylor", *args)
    assert (result.returncode, result.stdout) == (code, ""), result.stderr
    assert said in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "at", "reference"),
    [
        ("log(x*3 - 0.3)", 0.1, lambda x: mpmath.log(x * 3 - mpmath.mpf(0.3))),
        (
            "(1e200*x)*(1e200*x)*1e-300",
            1e-200,
            lambda x: (x * mpmath.mpf(1e200)) ** 2 * mpmath.mpf(1e-300),
        ),
    ],
)
def test_where_only_the_exact_pass_fails_the_floats_stand(text, at, reference):
    # The rational pass reads 0.1 as 1/10, where 3*x - 0.3 is 0 and the log
    # has no value; the floats are not 0 there. Its failure costs the fractions only.
    result = run_cli("taylor", text, "--at", f"x={at}", "--order", "2", "--format", "json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    with mpmath.workprec(400):  # the float point exactly, as the Decimal pass reads it
        assert found["coefficients"][0] == float(reference(mpmath.mpf(at)))
    assert found["coefficients"] == t.taylor(parse(text), {"x": at}, "x", 2).coefficients


def test_a_negative_base_is_shown_in_parentheses():
    result = run_cli("taylor", "(-2)**x", "--at", "x=1")
    assert result.returncode == 1 and "(-2)**1 has no Taylor series" in result.stderr
