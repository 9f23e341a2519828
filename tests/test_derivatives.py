"""Higher derivatives and derivative formulas, checked against SymPy and the engine.

SymPy is the reference for the numbers (second derivatives of random
expressions, third derivatives of a few, x**y in both arguments); the
engine's own gradient is the reference for every printed formula.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autodiff import EvaluationError, Expression, LimitError, UsageError, Value, parse
from autodiff.features import derivatives as d
from autodiff.render.latex import latex

X, Y = sympy.symbols("x y")
SYMPY_NAMES = {
    "x": X,
    "y": Y,
    "sigmoid": lambda a: 1 / (1 + sympy.exp(-a)),
    "relu": lambda a: sympy.Max(a, 0),
    "step": lambda a: sympy.Heaviside(a, 0),
    "e": sympy.E,
}

# Smooth functions defined on the whole sampling range (0.3 .. 2.5, and
# what expressions of it give): SymPy's numbers are the reference there.
SMOOTH = ["sin", "cos", "exp", "tanh", "atan", "sigmoid", "sinh", "cosh"]
POSITIVE_ONLY = ["log", "sqrt"]
KINKED = ["abs", "relu", "sign", "step"]

SETTINGS = settings(
    max_examples=250,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def expressions(functions: list[str], leaves: list[str]) -> st.SearchStrategy[str]:
    """Random expression texts, fully parenthesized, built by a list of moves.

    Each move combines the last piece with a leaf or an earlier piece, so the
    expressions are larger and share subexpressions more than a plain
    recursive strategy would make them.
    """
    move = st.tuples(
        st.sampled_from(["+", "-", "*", "/", "+", "*", "fn", "fn", "pow", "exp_of", "neg"]),
        st.sampled_from(functions),
        st.sampled_from(leaves),
        st.integers(0, 20),
        st.sampled_from(["2", "3", "-1", "0.5", "2.5"]),
    )

    def build(first: str, moves: list[tuple[str, str, str, int, str]]) -> str:
        pieces = [first]
        for kind, function, leaf, index, power in moves:
            last = pieces[-1]
            other = pieces[index] if index < len(pieces) else leaf
            if kind == "fn":
                new = f"{function}({last})"
            elif kind == "pow":
                new = f"({last})**{power}"
            elif kind == "exp_of":
                new = f"{'x' if index % 2 else 'y'}**({last})"
            elif kind == "neg":
                new = f"-({last})"
            elif index % 2:
                new = f"({other} {kind} {last})"
            else:
                new = f"({last} {kind} {other})"
            pieces.append(new if len(new) < 200 else last)
        return pieces[-1]

    return st.builds(build, st.sampled_from(leaves), st.lists(move, min_size=1, max_size=8))


LEAVES = ["x", "y", "x", "y", "2", "3", "0.5", "1.5", "pi"]
POINT = st.tuples(st.floats(0.3, 2.5), st.floats(0.3, 2.5))


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-9 * (1 + abs(a) + abs(b)))


def sympy_number(expr: sympy.Expr, x: float, y: float) -> float | None:
    """The SymPy expression's value at the point (30 digits), or None when not real."""
    with mpmath.workdps(30):
        try:
            value = complex(sympy.lambdify((X, Y), expr, modules="mpmath")(x, y))
        except (ZeroDivisionError, ValueError, OverflowError):
            return None
    if value.imag != 0 or not math.isfinite(value.real):
        return None
    return value.real


def well_conditioned(expression: Expression, point: dict[str, float]) -> bool:
    """Every intermediate value is moderate: sin(2**64) has no meaningful float value."""
    try:
        values = expression.evaluate_all(point)
    except EvaluationError:
        return False
    return all(abs(v.data) < 1e4 for v in values)


def engine_or_skip(compute):
    try:
        return compute()
    except EvaluationError:
        assume(False)


# -- the engine's higher derivatives against SymPy ----------------------------


@settings(SETTINGS, max_examples=150)  # SymPy is the slow part of the suite
@given(expressions(SMOOTH + POSITIVE_ONLY, LEAVES), POINT)
def test_second_derivatives_of_random_expressions_match_sympy(text, point):
    x, y = point
    expression = parse(text)
    at = {"x": x, "y": y}
    assume(expression.variables and well_conditioned(expression, at))
    result = engine_or_skip(lambda: d.hessian(expression, at))
    reference = sympy.sympify(text, locals=SYMPY_NAMES)
    names = {"x": X, "y": Y}
    for i, a in enumerate(result.variables):
        for j, b in enumerate(result.variables):
            expected = sympy_number(sympy.diff(reference, names[a], names[b]), x, y)
            assume(expected is not None)
            assert close(result.hessian[i][j], expected), (text, a, b, result.hessian)


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("sin(x)*exp(-x/2)", 0.7),
        ("tanh(2*x + 1)", 0.3),
        ("x**y", 1.7),
        ("log(x)/sqrt(x)", 2.2),
        ("sigmoid(x)**2", -0.4),
        ("atan(x**2) - cosh(x)/x", 1.3),
        ("asin(x/2) + acos(x/3)", 0.5),
        ("tan(x)*sinh(x)", 0.4),
    ],
)
def test_third_derivatives_match_sympy(text, at):
    point = {"x": at, "y": 1.3}
    expression = parse(text)
    reference = sympy.sympify(text, locals=SYMPY_NAMES)
    for order in (1, 2, 3, 4):
        nth = d.derivative_at(expression, point, "x", order).derivative
        expected = float(sympy.diff(reference, X, order).evalf(30, subs={X: at, Y: 1.3}))
        assert close(nth, expected), (text, order, nth, expected)


@pytest.mark.parametrize(("x", "y"), [(1.7, 2.3), (0.4, -1.5), (2.0, 3.0), (3.5, 0.5)])
def test_power_in_both_arguments(x, y):
    result = d.hessian(parse("x**y"), {"x": x, "y": y})
    f = X**Y
    for i, a in enumerate((X, Y)):
        for j, b in enumerate((X, Y)):
            expected = float(sympy.diff(f, a, b).subs({X: x, Y: y}))
            assert close(result.hessian[i][j], expected)
    for order in (2, 3):
        for name, symbol in (("x", X), ("y", Y)):
            nth = d.derivative_at(parse("x**y"), {"x": x, "y": y}, name, order).derivative
            assert close(nth, float(sympy.diff(f, symbol, order).subs({X: x, Y: y})))


def test_hessian_of_a_polynomial_is_exact_and_symmetric():
    result = d.hessian(parse("x**2*y**3"), {"x": 1.5, "y": -2})
    assert result.variables == ("x", "y")
    assert result.value == 1.5**2 * (-2) ** 3
    assert result.grad == {"x": 2 * 1.5 * (-8), "y": 3 * 1.5**2 * 4}
    assert result.hessian == [[2 * -8.0, 6 * 1.5 * 4], [6 * 1.5 * 4, 6 * 1.5**2 * -2]]


def test_hessian_row_of_a_linear_variable_is_zero_and_constant_grads_work():
    result = d.hessian(parse("3*x + y**2"), {"x": 1, "y": 2})
    assert result.hessian == [[0.0, 0.0], [0.0, 2.0]]
    assert result.grad == {"x": 3.0, "y": 4.0}


def test_numbers_of_the_issue():
    found = d.derivative_at(parse("4*x**2-2*x+5"), {"x": 3}, "x", 2)
    assert (found.expr, found.at, found.value, found.derivative) == (
        "4*x**2-2*x+5",
        {"x": 3.0},
        35.0,
        8.0,
    )
    assert d.derivative_at(parse("sin(x)"), {"x": 1}, "x", 4).derivative == pytest.approx(
        math.sin(1)
    )
    # Past the degree the derivative is exactly 0, at any order.
    assert d.derivative_at(parse("x**3"), {"x": 2}, "x", 4).derivative == 0.0
    assert d.derivative_at(parse("x**3"), {"x": 2}, "x", 9).derivative == 0.0


def test_a_derivative_that_is_undefined_at_the_point_is_an_evaluation_error():
    with pytest.raises(EvaluationError, match="derivative of sqrt at 0"):
        d.derivative_at(parse("sqrt(x)"), {"x": 0}, "x", 2)
    with pytest.raises(EvaluationError, match="derivative of pow"):
        d.hessian(parse("x**y"), {"x": -2, "y": 2})


def test_create_graph_errors_match_the_float_path():
    for create_graph in (False, True):
        x = Value(0.0, label="x")
        with pytest.raises(EvaluationError, match="derivative of sqrt at 0 is not finite"):
            x.sqrt().backward(create_graph=create_graph)
        x = Value(0.0, label="x")
        with pytest.raises(EvaluationError, match=r"derivative of pow at \(0, 0.5\) is undefined"):
            (x**0.5).backward(create_graph=create_graph)


def test_size_limits(monkeypatch):
    from autodiff.features import taylor

    monkeypatch.setattr(d, "MAX_NODES", 200)
    with pytest.raises(LimitError, match="order"):
        d.backward_derivative(parse("tanh(x*y + sin(x))"), {"x": 1, "y": 2}, "x", 8)
    with pytest.raises(LimitError, match="units of work"):  # Taylor mode's own bound
        d.derivative_at(parse("tanh(x*y + sin(x))"), {"x": 1, "y": 2}, "x", 1000)
    monkeypatch.setattr(taylor, "MAX_WORK", 1000)
    with pytest.raises(LimitError, match="ask for a lower order"):
        d.derivative_at(parse("tanh(x*y + sin(x))"), {"x": 1, "y": 2}, "x", 20)
    monkeypatch.setattr(d, "MAX_FORMULA", 100)
    with pytest.raises(LimitError, match="characters long"):
        d.derivative(parse("tanh(x*y + sin(x))"), "x", 8)
    assert d.derivative(parse("sin(x)"), "x", 50).format() == "-sin(x)"


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError, match="not a variable"):
        d.derivative(parse("x"), "y")
    with pytest.raises(UsageError, match="at least 1"):
        d.derivatives(parse("x"), ["x"], 0)
    with pytest.raises(UsageError, match="at least 1"):
        d.derivative_at(parse("x"), {"x": 1}, "x", 0)
    with pytest.raises(LimitError, match="at most 1000"):
        d.derivative_at(parse("x"), {"x": 1}, "x", 1001)
    with pytest.raises(LimitError, match="at most 1000"):
        d.derivative(parse("x"), "x", 1001)


# -- the printed formula --------------------------------------------------------


def engine_gradient(text: str, point: dict[str, float]) -> dict[str, float] | None:
    try:
        return parse(text).gradient(point)[1]
    except EvaluationError:
        return None


@SETTINGS
@given(expressions(SMOOTH + POSITIVE_ONLY + KINKED + ["tan"], LEAVES), POINT)
def test_printed_derivative_parses_back_and_agrees_with_the_engine(text, point):
    expression = parse(text)
    at = {"x": point[0], "y": point[1]}
    assume(well_conditioned(expression, at))
    grads = engine_gradient(text, at)
    assume(grads is not None)
    formulas = d.derivatives(expression)
    assert list(formulas) == list(expression.variables)
    for name, formula in formulas.items():
        printed = formula.format()
        again = parse(printed)  # the printed text is in the language
        assert again.format() == printed
        value = again.evaluate({k: v for k, v in at.items() if k in again.variables}).data
        assert close(value, grads[name]), (text, name, printed, value, grads[name])


@SETTINGS
@given(expressions(SMOOTH + POSITIVE_ONLY, LEAVES), POINT)
def test_printed_second_derivative_agrees_with_the_engine(text, point):
    expression = parse(text)
    at = {"x": point[0], "y": point[1]}
    assume("x" in expression.variables and well_conditioned(expression, at))
    try:
        expected = d.derivative_at(expression, at, "x", 2).derivative
    except EvaluationError:
        assume(False)
    printed = d.derivative(expression, "x", order=2).format()
    again = parse(printed)
    try:
        value = again.evaluate({k: v for k, v in at.items() if k in again.variables}).data
    except EvaluationError:
        # Simplifying may only remove a singularity, never add one.
        pytest.fail(f"{printed} fails at {at} where the engine gave {expected}")
    assert close(value, expected), (text, printed, value, expected)


@pytest.mark.parametrize(
    ("text", "wrt", "order", "printed"),
    [
        ("4*x**2 - 2*x + 5", "x", 1, "8*x - 2"),
        ("4*x**2 - 2*x + 5", "x", 2, "8"),
        ("4*x**2 - 2*x + 5", "x", 3, "0"),
        ("x**2*y**3", "x", 1, "2*x*y**3"),
        ("x**2*y**3", "y", 2, "6*x**2*y"),
        ("tanh(x1*w1 + x2*w2 + b)", "b", 1, "1 - tanh(x1*w1 + x2*w2 + b)**2"),
        ("tanh(x1*w1 + x2*w2 + b)", "w1", 1, "x1*(1 - tanh(x1*w1 + x2*w2 + b)**2)"),
        ("sin(x)", "x", 4, "sin(x)"),
        ("sin(x)", "x", 2, "-sin(x)"),
        ("sin(x)/x", "x", 1, "cos(x)/x - sin(x)/x**2"),
        ("1/x", "x", 1, "-1/x**2"),
        ("sqrt(x)", "x", 1, "1/(2*sqrt(x))"),
        ("log(x)", "x", 1, "1/x"),
        ("exp(2*x)", "x", 1, "2*exp(2*x)"),
        ("e**x", "x", 1, "e**x"),
        ("x**y", "y", 1, "x**y*log(x)"),
        ("(x + 1)**3", "x", 1, "3*(x + 1)**2"),
        ("x*x*x", "x", 1, "3*x**2"),
        ("0.1*x**3", "x", 1, "0.3*x**2"),
        ("x/3", "x", 1, "1/3"),
        ("2*x/3 - y", "y", 1, "-1"),
        ("x - x", "x", 1, "0"),
        ("5", None, 1, None),
        ("pi*x**2", "x", 1, "2*pi*x"),
        ("relu(x) + abs(x)", "x", 1, "sign(x) + step(x)"),
        ("abs(x)", "x", 2, "0"),
        ("x**0.5", "x", 2, "-1/(4*x**1.5)"),
    ],
)
def test_simplified_forms(text, wrt, order, printed):
    expression = parse(text)
    if wrt is None:
        assert d.derivatives(expression, None, order) == {}
        return
    assert d.derivative(expression, wrt, order).format() == printed


def test_simplify_folds_cancels_and_collects():
    assert d.simplify(parse("x*x*2 + 0*y - (3 - 1)*x**2 + x/x")).format() == "1"
    assert d.simplify(parse("x + y - -y")).format() == "x + 2*y"
    assert d.simplify(parse("a*b*a/b**3")).format() == "a**2/b**2"
    assert d.simplify(parse("1*x + 0 - 3*(2 - 2)")).format() == "x"
    assert d.simplify(parse("(2*x)**3")).format() == "8*x**3"
    assert d.simplify(parse("(x**2)**0.5")).format() == "sqrt(x**2)"  # it is |x|, not x
    assert d.simplify(parse("sqrt(x)*sqrt(x) + x/sqrt(x)")).format() == "x + sqrt(x)"
    assert d.simplify(parse("4**0.5 + 8**(1/3)")).format() == "4"
    assert d.simplify(parse("-(x - y)")).format() == "y - x"


def test_undefined_constants_are_evaluation_errors():
    for text in ("x/0", "x*log(0)", "x + sqrt(-1)*x", "x*0**-1"):
        with pytest.raises(EvaluationError):
            d.derivative(parse(text), "x")


def test_a_deep_expression_needs_no_recursion():
    text = "x" + "*sin(x)" * 1 + " + x" * 3000
    assert d.derivative(parse(text), "x").format() == "x*cos(x) + sin(x) + 3000"
    deep = "(" * 2000 + "x" + " + 1)" * 2000
    assert d.derivative(parse(deep), "x").format() == "1"
    chain = "x"
    for _ in range(400):
        chain = f"sin({chain})"
    assert d.derivative(parse(chain), "x").format().count("cos(") == 400


def test_latex():
    assert latex(d.derivative(parse("sin(x)/x"), "x")) == (
        r"\frac{\cos\left(x\right)}{x} - \frac{\sin\left(x\right)}{x^{2}}"
    )
    assert latex(parse("x1*w1 - 2*sqrt(theta)")) == r"x_{1} w_{1} - 2 \sqrt{\theta}"
    assert latex(parse("(-2)**x*abs(y)")) == r"\left(-2\right)^{x} \left|y\right|"
    assert latex(parse("1e-5*rate_2*lr")) == r"10^{-5} \mathrm{rate}_{2} \mathrm{lr}"
    assert latex(parse("-(a + b)*3")) == r"-\left(a + b\right) \cdot 3"


def test_docstring_examples():
    import doctest

    import autodiff.render.latex

    for module in (d, autodiff.render.latex):
        failures, tried = doctest.testmod(module)
        assert failures == 0 and tried > 0, module.__name__


# -- numbers at the edges of a float, and budgets ---------------------------------


def test_a_literal_is_exact_within_the_bound():
    for text in ("0.1", "2.5e-3", "1e300", "123456789012345678901234567890", "1e-300"):
        assert d.literal_value(text) == Fraction(text)
        assert d.literal_value(text).denominator.bit_length() <= d.MAX_EXACT_BITS


@pytest.mark.parametrize(
    "text",
    [
        "1e-400",
        "1e-5000",
        "1e-999999",
        "1e-9999999999",
        "0." + "0" * 50_000 + "1",
        "1e-320",
        "1e308",
    ],
)
def test_past_the_bound_a_literal_is_the_float_the_language_reads(text):
    assert d.literal_value(text) == Fraction(float(text))


def test_exact_keeps_a_number_within_the_bound_and_rounds_past_it():
    third = Fraction(1, 3**600)  # 951 bits: kept
    assert d.exact(third) is third
    assert d.exact(Fraction(1, 3**700)) == Fraction(float(Fraction(1, 3**700)))
    tiny = Fraction(5e-324)  # a float, though its denominator has 1075 bits
    assert d.exact(tiny) == tiny and d.exact(d.exact(tiny)) == tiny
    with pytest.raises(EvaluationError, match="too large for a float") as caught:
        d.exact(Fraction(3**700))
    assert len(str(caught.value)) < 100


@pytest.mark.parametrize(
    "text",
    [
        "x*1e-400",
        "x*1e-5000",
        "x*1e-999999",
        "x*1e-9999999999",
        "x*0." + "0" * 50_000 + "1",
        "x*0.1^4400",
        "x*0.1^400",
        "x*1e-200*1e300*1e-200",
        "x*1e-320 + x**2*1e-310",
        "x*2**-1074",
        "x*(1e-200)**2",
    ],
)
def test_tiny_constants_give_the_derivative_the_engine_computes(text):
    printed = d.derivative(parse(text), "x")
    for x in (0.5, 3.0):
        assert printed.evaluate({"x": x}).data == parse(text).gradient({"x": x})[1]["x"]


def test_a_constant_power_past_the_bound_is_the_float_the_language_computes():
    assert d.derivative(parse("x*2**-1074"), "x").format() == repr(2.0**-1074)
    assert d.derivative(parse("x*10**400"), "x").format() == "10**400"  # no float holds it


def test_a_power_too_large_to_fold_stays_exact():
    printed = d.derivative(parse("(x/3)**700"), "x")
    expected = 700 * mpmath.mpf(4) ** 699 / mpmath.mpf(3) ** 700
    assert printed.evaluate({"x": 4}).data == pytest.approx(float(expected), rel=1e-12)


def test_an_overflowing_coefficient_is_an_evaluation_error_without_its_digits():
    with pytest.raises(EvaluationError, match="too large for a float") as caught:
        d.derivative(parse("x*1e300*1e300"), "x")
    assert len(str(caught.value)) < 100


@pytest.mark.parametrize("denominators", ["primes", "integers"])
def test_a_long_sum_of_reciprocals_is_bounded_and_right(denominators):
    ps = list(sympy.primerange(2, 20_000))[:2000] if denominators == "primes" else range(2, 2002)
    text = "x*(" + " + ".join(f"1/{p}" for p in ps) + ")"
    algebra = d.Algebra()
    (root,) = algebra.differentiate(parse(text), ["x"], 1)
    value = algebra.nodes[root].number
    assert max(value.numerator.bit_length(), value.denominator.bit_length()) <= 1075
    expected = mpmath.fsum(mpmath.mpf(1) / p for p in ps)
    printed = d.derivative(parse(text), "x").evaluate({"x": 1}).data
    assert printed == pytest.approx(float(expected), rel=1e-14)


def simplifier_steps(text: str, wrt: list[str] | None = None) -> int:
    """The simplifier's work for the first partials: a count, so a test of growth is exact."""
    expression = parse(text)
    algebra = d.Algebra()
    algebra.factored_all(algebra.differentiate(expression, wrt or expression.variables, 1))
    return algebra.steps


def test_long_sums_and_products_are_read_in_linear_time():
    def polynomial(n: int) -> str:
        return " + ".join(["x"] + [f"x**{k}" for k in range(2, n + 1)])

    assert simplifier_steps(polynomial(800)) < 2.2 * simplifier_steps(polynomial(400))
    for join in (" + ", "*", "/", " - "):
        small, large = (join.join(f"v{i}" for i in range(n)) for n in (300, 600))
        assert simplifier_steps(large, ["v0"]) < 2.2 * simplifier_steps(small, ["v0"])
    printed = d.derivative(parse(polynomial(1000)), "x")
    x = mpmath.mpf("0.5")
    expected = mpmath.fsum(k * x ** (k - 1) for k in range(1, 1001))
    assert printed.evaluate({"x": 0.5}).data == pytest.approx(float(expected), rel=1e-14)


def test_every_partial_of_a_long_sum_comes_from_one_pass():
    text = " + ".join(f"v{i}" for i in range(2000))
    assert simplifier_steps(text) < 10 * 2000
    found = d.derivatives(parse(text))
    assert list(found) == [f"v{i}" for i in range(2000)]
    assert {f.format() for f in found.values()} == {"1"}


def test_a_derivative_that_would_print_too_long_is_refused_before_printing():
    nested = "sin(" * 4000 + "x" + ")" * 4000
    with pytest.raises(LimitError, match=r"more than 1,000,000 characters.*max_chars=N"):
        d.derivative(parse(nested), "x")
    short = "sin(" * 30 + "x" + ")" * 30
    with pytest.raises(LimitError, match="max_chars=N"):
        d.derivatives(parse(short), max_chars=1000)
    assert d.derivatives(parse(short), max_chars=None)["x"].format().count("cos(") == 30


def test_a_derivative_that_takes_too_many_steps_to_simplify_is_refused():
    product = "*".join(f"v{i}" for i in range(400))  # 400 partials of 399 factors
    with pytest.raises(LimitError, match=r"more than 10,000 steps.*max_chars=N"):
        d.derivatives(parse(product), max_chars=20_000)
    assert d.derivatives(parse(product), ["v0"])["v0"].format().count("*") == 398


def test_the_names_of_a_higher_order_share_one_budget():
    square = "(" + " + ".join(f"v{i}" for i in range(60)) + ")**2"
    assert {f.format() for f in d.derivatives(parse(square), order=2).values()} == {"2"}
    first = d.derivative(parse(square), "v0")
    alone = d.Algebra()
    alone.differentiate(first, ["v0"], 2)
    one_name = alone.steps + 20 * len(first.steps)  # its graph is counted too
    budget = 50_000  # the first order fits: 60 formulas of about 400 characters
    assert 3 * one_name < budget // 2 < 60 * one_name
    d.derivatives(parse(square), max_chars=budget)
    with pytest.raises(LimitError, match="steps"):
        d.derivatives(parse(square), order=2, max_chars=budget)
