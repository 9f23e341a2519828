"""The float fast path of Expression.gradient agrees with the Value engine.

Expression.gradient on floats runs a flat sweep over the program instead of
building Values (docs/performance.md); these tests hold it to the engine's
results bit for bit, errors and signed zeros included.
"""

from __future__ import annotations

import math
import random
import tracemalloc
from typing import Any

import pytest

from autodiff import EvaluationError, Value, parse
from autodiff.core import ops
from autodiff.core.errors import MissingValueError
from autodiff.core.tape import Tape

FUNCTIONS = ["exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh"]
FUNCTIONS += ["tanh", "abs", "relu", "sigmoid", "sign", "step"]
LEAVES = ["x", "y", "z", "0", "1", "2", "0.5", "3", "pi", "-1"]


def random_expression(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(LEAVES)
    kind = rng.random()
    if kind < 0.5:
        op = rng.choice(["+", "-", "*", "/", "**"])
        return f"({random_expression(rng, depth - 1)}){op}({random_expression(rng, depth - 1)})"
    if kind < 0.6:
        return f"-({random_expression(rng, depth - 1)})"
    if kind < 0.65:
        return f"pow({random_expression(rng, depth - 1)}, {random_expression(rng, depth - 1)})"
    return f"{rng.choice(FUNCTIONS)}({random_expression(rng, depth - 1)})"


def through_the_engine(text: str, point: dict[str, float]) -> object:
    """What gradient() gave before the sweep: evaluate, backward, check."""
    expression = parse(text)
    try:
        values = expression.evaluate_all(point)
        values[-1].backward()
        partials = {}
        for step, value in zip(expression.steps, values, strict=True):
            if step.is_variable:
                if not math.isfinite(value.grad):
                    return ("partial not finite", step.text)
                partials[step.text] = float(value.grad)
        return float(values[-1].data), partials
    except (EvaluationError, MissingValueError) as error:
        return (type(error).__name__, str(error))


def through_the_sweep(text: str, point: dict[str, float]) -> object:
    try:
        return parse(text).gradient(point)
    except EvaluationError as error:
        if "partial d/d" in str(error):
            return ("partial not finite", error.op.removeprefix("d/d"))
        return (type(error).__name__, str(error))
    except MissingValueError as error:
        return (type(error).__name__, str(error))


def same(a: object, b: object) -> bool:
    """Equal, with NaN equal to itself and the sign of zero compared too."""
    return repr(a) == repr(b)


@pytest.mark.parametrize("seed", range(40))
def test_random_expressions_agree_with_the_engine(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        text = random_expression(rng, rng.randint(1, 5))
        point = {
            name: rng.choice([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -3.0, 1e-3, 700.0]) for name in "xyz"
        }
        assert same(through_the_sweep(text, point), through_the_engine(text, point)), text


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("sqrt(x)*0", {"x": 0.0}),  # a zero gradient still asks sqrt for its slope
        ("x*0 + y", {"x": 1.0, "y": 2.0}),
        ("0*x", {"x": -1.0}),  # -0.0 stays -0.0
        ("x**y", {"x": -2.0, "y": 2.0}),
        ("x**2", {"x": -2.0}),
        ("log(0) + y", {}),  # the failing step comes before the missing value
        ("y + log(0)", {}),
        ("exp(x)", {"x": 1000.0}),
        ("x*x*x", {"x": 1e200}),
        ("x", {"x": 3.0}),
        ("3", {}),
        ("2*3 + x", {"x": 1.0}),
        ("pi*e", {"x": 1.0}),
    ],
)
def test_edge_cases_agree_with_the_engine(text: str, point: dict[str, float]) -> None:
    assert same(through_the_sweep(text, point), through_the_engine(text, point))


def test_the_sweep_skips_steps_that_do_not_reach_the_result() -> None:
    # A program with a dead step (as a derivative builder might make): its
    # slope is never asked for, so log of a negative number does no harm.
    expression = parse("log(x) + y")
    steps = list(expression.steps)
    root = steps.pop()
    steps.append(root._replace(args=(root.args[1], root.args[1])))
    sweep = Tape(steps)
    with pytest.raises(EvaluationError):
        sweep.gradient({"x": -1.0, "y": 2.0})  # still evaluated, as evaluate() does
    value, partials = sweep.gradient({"x": 1.0, "y": 2.0})
    assert (value, partials) == (4.0, {"x": 0.0, "y": 2.0})


def test_the_float_path_builds_no_values(monkeypatch: pytest.MonkeyPatch) -> None:
    # The point of the sweep (docs/performance.md): no Value per step.
    made: list[object] = []
    original = Value.__init__

    def counting(self: Value, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Value, "__init__", counting)
    assert parse("sin(x)*exp(-y/2) + x**2*y").gradient({"x": 1.0, "y": 2.0})[0] > 0
    assert made == []


def test_memory_per_step_stays_small() -> None:
    # Allocations, not time: deterministic. About 250 bytes a step today
    # (docs/performance.md, Memory); the slack is for other Python versions.
    text = "x" + "*1.0000001" * 20_000
    parse("x")
    tracemalloc.start()
    try:
        expression = parse(text)
        expression.gradient({"x": 0.5})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / len(expression) < 400


def test_every_primitive_takes_one_or_two_inputs() -> None:
    # The tape keeps a first and a second input per step; a primitive with
    # three would need a third column there.
    assert all(p.arity in (1, 2) for p in ops.PRIMITIVES)
