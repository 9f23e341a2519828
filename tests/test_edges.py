"""Derivatives right at the edges (issue 12, section 4), on every gradient path.

The three paths are the Value engine (evaluate, then backward), the float
sweep (Expression.gradient at one point) and the array path (many points at
once); each case is held to all three, and to mpmath at 50 digits.
"""

from __future__ import annotations

import io
import json
import math
import random
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest

from autodiff import EvaluationError, Value, parse
from autodiff.core import expression as expression_module
from autodiff.core import ops
from autodiff.features.points import PointReader
from autodiff.features.points import gradient as chunk_gradient
from autodiff.language.parser import MAX_NODES
from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
mpmath.mp.dps = 50

Result = tuple[float, dict[str, float]]


def through_the_engine(text: str, point: dict[str, float]) -> Result:
    expression = parse(text)
    values = expression.evaluate_all(point)
    values[-1].backward()
    grads = {
        s.text: float(v.grad)
        for s, v in zip(expression.steps, values, strict=True)
        if s.is_variable
    }
    return float(values[-1].data), grads


def through_the_sweep(text: str, point: dict[str, float]) -> Result:
    return parse(text).gradient(point)


def through_arrays(text: str, point: dict[str, float]) -> Result:
    value, grads = parse(text).gradient({n: np.array([v, v]) for n, v in point.items()})
    assert value[0] == value[1] or math.isnan(value[0])
    return float(value[0]), {n: float(g[0]) for n, g in grads.items()}


PATHS = [through_the_engine, through_the_sweep, through_arrays]


def reference(f: Callable[..., Any], point: dict[str, float]) -> Result:
    """Value and partials of ``f`` at ``point`` by mpmath, 50 digits."""
    at = [mpmath.mpf(v) for v in point.values()]
    partials = {}
    for k, name in enumerate(point):
        order = [1 if j == k else 0 for j in range(len(at))]
        partials[name] = float(mpmath.diff(f, at, order) if len(at) > 1 else mpmath.diff(f, at[0]))
    return float(f(*at)), partials


def relu(t: Any) -> Any:
    return max(t, 0)


def step(t: Any) -> Any:
    return 1 if t > 0 else 0


# -- 1. powers with a zero ---------------------------------------------------


def test_x_to_the_zero_has_slope_zero_at_zero() -> None:
    expected = reference(lambda t: mpmath.power(t, 0), {"x": 0.0})
    assert expected == (1.0, {"x": 0.0})
    for path in PATHS:
        assert path("x**0", {"x": 0.0}) == expected


def test_zero_to_a_positive_power_has_slope_zero_in_the_exponent() -> None:
    expected = reference(lambda a, b: mpmath.power(a, b), {"x": 0.0, "y": 2.0})
    for path in PATHS:
        assert path("x**y", {"x": 0.0, "y": 2.0}) == expected
        assert path("pow(3*x, y + 1)", {"x": 0.0, "y": 1.0})[1] == expected[1] | {"x": 0.0}


def test_zero_to_the_zero_is_one_and_its_slope_in_the_exponent_is_undefined() -> None:
    # 0**0 = 1 as IEEE pow, Python and numpy have it; y -> 0**y jumps at 0.
    for path in PATHS[:2]:
        assert path("x**0", {"x": 0.0})[0] == 1.0
        with pytest.raises(EvaluationError, match="derivative of pow at \\(0, 0\\) is undefined"):
            path("x**y", {"x": 0.0, "y": 0.0})
    value, grads = parse("x**y").gradient({"x": np.array([0.0]), "y": np.array([0.0])})
    assert value[0] == 1.0 and not np.isfinite(grads["y"][0])
    with pytest.raises(EvaluationError, match="0 a non-negative one"):
        parse("x**-1").gradient({"x": 0.0})


# -- 2. locally constant sub-expressions ---------------------------------------

FLAT_CASES = [
    ("sqrt(relu(x))", {"x": -1.0}, lambda x: mpmath.sqrt(relu(x))),
    (
        "sqrt(sign(x) + 1)*y",
        {"x": -2.0, "y": 3.0},
        lambda x, y: mpmath.sqrt(mpmath.sign(x) + 1) * y,
    ),
    ("x*sqrt(relu(y))", {"x": 2.0, "y": -1.0}, lambda x, y: x * mpmath.sqrt(relu(y))),
    ("sqrt(x**0 - 1) + x", {"x": 3.0}, lambda x: mpmath.sqrt(mpmath.power(x, 0) - 1) + x),
    ("log(step(x) + 1)*acos(step(x))", {"x": 5.0}, lambda x: mpmath.log(step(x) + 1) * 0),
    ("sqrt(relu(x - y))*y + x", {"x": 1.0, "y": 2.0}, lambda x, y: x),
]


@pytest.mark.parametrize(("text", "point", "f"), FLAT_CASES, ids=[c[0] for c in FLAT_CASES])
def test_a_locally_constant_sub_expression_asks_nothing_above_it(
    text: str, point: dict[str, float], f: Callable[..., Any]
) -> None:
    expected = reference(f, point)
    for path in PATHS:
        assert path(text, point) == expected, path.__name__


def test_at_the_kink_itself_the_slopes_above_are_still_asked() -> None:
    # relu(x) at 0 is not flat (it grows for x > 0): sqrt's slope at 0 is infinite.
    for path in PATHS[:2]:
        with pytest.raises(EvaluationError, match="derivative of sqrt at 0 is not finite"):
            path("sqrt(relu(x))", {"x": 0.0})


def test_arrays_decide_flatness_point_by_point() -> None:
    xs = np.array([-1.0, 4.0, -3.0, 0.25])
    value, grads = parse("sqrt(relu(x))*x").gradient({"x": xs})
    for k, x in enumerate(xs.tolist()):
        expected = reference(lambda t: mpmath.sqrt(relu(t)) * t, {"x": x})
        assert (value[k], grads["x"][k]) == (expected[0], expected[1]["x"])
        assert (value[k], {"x": grads["x"][k]}) == through_the_sweep("sqrt(relu(x))*x", {"x": x})


# -- 3. fan-out without cancellation loss ----------------------------------------


def test_shares_that_cancel_lose_no_digits() -> None:
    text = "(x+18)*(x-x) + 1e-7*x"
    for path in PATHS:
        assert path(text, {"x": 0.1})[1] == {"x": 1e-07}


def test_shares_sum_correctly_rounded_against_mpmath() -> None:
    rng = random.Random(12)
    for _ in range(40):
        c = [rng.uniform(-1, 1) * 10 ** rng.randint(-3, 8) for _ in range(4)]
        c.append(-c[0] - c[1] + rng.uniform(-1, 1) * 1e-3)  # cancellation
        text = " + ".join(f"x*{v!r}" if v >= 0 else f"x*({v!r})" for v in c)
        exact = float(mpmath.fsum(mpmath.mpf(v) for v in c))
        for path in PATHS:
            assert path(text, {"x": 0.5})[1]["x"] == exact, (path.__name__, text)


def test_shares_that_cancel_through_the_command_line() -> None:
    result = run_cli("grad", "(x+18)*(x-x) + 1e-7*x", "--at", "x=0.1", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["grad"] == {"x": 1e-07}


# -- 4. saturated tails ---------------------------------------------------------


def ulps(got: float, exact: Any) -> float:
    return float(abs(mpmath.mpf(got) - exact) / math.ulp(float(exact)))


@pytest.mark.parametrize(
    ("name", "slope", "xs"),
    [
        (
            "sigmoid",
            lambda t: mpmath.exp(-t) / (1 + mpmath.exp(-t)) ** 2,
            np.linspace(-700, 700, 281),
        ),
        ("tanh", lambda t: mpmath.sech(t) ** 2, np.linspace(-350, 350, 281)),
    ],
)
def test_slopes_keep_their_relative_accuracy_in_the_tails(
    name: str, slope: Callable[[Any], Any], xs: Any
) -> None:
    xs = np.concatenate([xs, [17.0, -17.0, 19.5, 0.0, 1e-9, -3.25, 36.0]])
    _, arrays = parse(f"{name}(x)").gradient({"x": xs})
    for k, x in enumerate(xs.tolist()):
        exact = slope(mpmath.mpf(x))
        assert ulps(parse(f"{name}(x)").gradient({"x": x})[1]["x"], exact) <= 4, x
        assert ulps(arrays["x"][k], exact) <= 4, x


def test_sigmoid_at_17_has_its_last_digits() -> None:
    exact = mpmath.exp(-17) / (1 + mpmath.exp(-17)) ** 2
    for path in PATHS:
        assert ulps(path("sigmoid(x)", {"x": 17.0})[1]["x"], exact) <= 2


# -- 5. overflow inside the array path --------------------------------------------

# Each with a point where nothing overflows, or None where every point does.
HIDDEN_OVERFLOW = [
    ("atan(y*1e308*10)", 1e-300),
    ("1/(y+1e308+1e308)", None),
    ("1/(y*1e308 + 1e308)", -0.5),
    ("tanh(y*1e308*10)", 1e-300),
    ("sigmoid(y*1e308*10)", 1e-300),
    ("exp(-(y*1e308*10))", 1e-300),
]


@pytest.mark.parametrize(("text", "good"), HIDDEN_OVERFLOW)
def test_a_step_that_overflows_fails_the_point_on_arrays_too(text: str, good: float | None) -> None:
    with pytest.raises(EvaluationError) as one_point:
        parse(text).gradient({"y": 1.0})
    other = 2.0 if good is None else good
    value, grads = parse(text).gradient({"y": np.array([1.0, other])})
    assert math.isnan(value[0]) and math.isnan(grads["y"][0])
    if good is not None:
        v, g = parse(text).gradient({"y": good})
        assert (value[1], grads["y"][1]) == (v, g["y"])
    reader = PointReader(io.StringIO(f"y\n1\n{other!r}\n"), "csv", parse(text).variables, {})
    (chunk,) = list(reader)
    errors = chunk_gradient(parse(text), chunk).errors
    assert list(errors) == ([0] if good is not None else [0, 1])
    assert str(errors[0]) == str(one_point.value)


def test_a_hidden_overflow_through_the_command_line() -> None:
    at = run_cli("grad", "atan(y*1e308*10)", "--at", "y=1")
    points = run_cli("grad", "atan(y*1e308*10)", "--points", "-", "--format", "csv", input="y\n1\n")
    assert at.returncode == points.returncode == 1
    message = at.stderr.strip().removeprefix("autodiff: error: ")
    assert message == "1e+308*10 overflows"
    assert message in points.stderr and points.stdout.splitlines()[1] == f"1,,,{message}"


# -- 6. one point, same bits ------------------------------------------------------

# numpy's SIMD transcendentals may round differently from the C library's:
# the bound docs/reliability.md gives for arrays against one point.
ARRAY_ULPS = 4


def test_sigmoid_is_the_same_formula_on_floats_and_arrays() -> None:
    rng = np.random.default_rng(6)
    xs = np.concatenate([rng.uniform(-40, 40, 2000), rng.uniform(-1, 1, 500), [0.0, -0.0]])
    arrays = ops.numpy_math().sigmoid(xs)
    for x, got in zip(xs.tolist(), arrays.tolist(), strict=True):
        same_exp = float(np.exp(-abs(np.array([x])))[0]) == math.exp(-abs(x))
        floats = ops.FLOAT.sigmoid(x)
        if same_exp:
            assert got == floats, x  # bit for bit where exp agrees
        else:
            assert abs(got - floats) <= 2 * math.ulp(floats), x


@pytest.mark.parametrize(
    "name",
    ["exp", "log", "sin", "cos", "tan", "atan", "sinh", "cosh", "tanh", "sigmoid", "sqrt", "asin"],
)
def test_arrays_agree_with_one_point_within_the_documented_ulps(name: str) -> None:
    rng = np.random.default_rng(len(name))
    xs = rng.uniform(0.01, 0.99, 300) if name in ("asin",) else rng.uniform(0.05, 20, 300)
    text = f"{name}(x)"
    value, grads = parse(text).gradient({"x": xs})
    for k, x in enumerate(xs.tolist()):
        v, g = parse(text).gradient({"x": x})
        assert abs(value[k] - v) <= ARRAY_ULPS * math.ulp(v), x
        assert abs(grads["x"][k] - g["x"]) <= ARRAY_ULPS * math.ulp(g["x"]), x


# -- 7. constant expressions on arrays ---------------------------------------------


def test_a_constant_over_arrays_has_the_points_shape() -> None:
    value, grads = parse("sin(4)").gradient({"x": np.array([1.0, 2.0])})
    assert value.shape == (2,) and grads == {}
    assert value.tolist() == [math.sin(4.0)] * 2
    value, grads = parse("sin(4) + y").gradient({"x": np.zeros((2, 3)), "y": 1.0})
    assert value.shape == grads["y"].shape == (2, 3)


# -- 8. Value.data set after creation ------------------------------------------------


def test_data_set_to_an_int_is_a_float_and_still_checked() -> None:
    v = Value(1.0)
    v.data = 1000
    assert type(v.data) is float
    with pytest.raises(EvaluationError, match="exp\\(1000\\) overflows"):
        v.exp()
    v.data = 2
    y = v * v
    y.backward()
    assert (y.data, v.grad) == (4.0, 4.0)


# -- 9. what the README promises -------------------------------------------------------


def test_the_readme_promises_no_more_than_is_measured() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "exact to the last bit" not in readme
    assert "no truncation error" in readme


# -- 10. the array chunk's memory budget ------------------------------------------------


def test_the_chunk_shrinks_with_the_graph_within_the_budget() -> None:
    chunk = expression_module.array_chunk
    budget = expression_module.ARRAY_BUDGET
    per_point = 8 * expression_module.ARRAYS_PER_NODE
    assert chunk(10) == expression_module.ARRAY_CHUNK
    for nodes in (20_000, 123_457, budget // per_point):
        assert chunk(nodes) >= 1 and chunk(nodes) * nodes * per_point <= budget
    assert chunk(MAX_NODES) == chunk(10**12) == 1  # at least one point


def test_memory_stays_within_the_budget_and_chunks_change_no_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "x" + "".join(f" + sin(x*y + {k})*relu(y - {k % 5})" for k in range(60))
    expression = parse(text)
    rng = np.random.default_rng(10)
    points = {"x": rng.uniform(-2, 2, 1500), "y": rng.uniform(-1, 6, 1500)}
    whole = expression.gradient(points)
    budget = 2**20
    monkeypatch.setattr(expression_module, "ARRAY_BUDGET", budget)
    assert expression_module.array_chunk(len(expression)) < 1500 / 4  # several chunks
    tracemalloc.start()
    try:
        value, grads = expression.gradient(points)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    outputs = 3 * 1500 * 8
    assert peak < 1.5 * budget + outputs
    assert np.array_equal(value, whole[0])
    assert all(np.array_equal(grads[n], whole[1][n]) for n in grads)
    for k in (0, 1, 700, 1499):
        v, g = expression.gradient({n: float(a[k]) for n, a in points.items()})
        assert value[k] == pytest.approx(v, rel=1e-12)
        assert {n: grads[n][k] for n in g} == pytest.approx(g, rel=1e-12)
