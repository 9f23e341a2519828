"""autodiff check: finite differences against the exact gradient, and the exit codes."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import pytest

from autodiff import AutodiffError, parse
from autodiff.core import ops
from autodiff.features.check import DEFAULT_RTOL, check
from conftest import cli_env, run_cli

SMOOTH = [
    ("4*x**2 - 2*x + 5", {"x": 3.0}),
    ("tanh(x1*w1 + x2*w2 + b)", {"x1": 2, "x2": 0, "w1": -3, "w2": 1, "b": 6.8813735870195432}),
    ("sin(x*y)/(1 + x**2) - log(y)*exp(-x)", {"x": 0.7, "y": 1.9}),
    ("sigmoid(a*b - c) + abs(b - c)**1.5", {"a": 1.2, "b": -0.3, "c": 0.4}),
    ("x**2", {"x": 0.0}),  # a zero derivative
    ("sin(x)", {"x": math.pi / 2}),  # a derivative that is rounding noise
    ("sin(x)", {"x": 1e6}),  # fast compared with the default step
    ("exp(x)", {"x": 700.0}),
    ("sin(1000*x)", {"x": 1.0}),
    ("log(x)", {"x": 1e-7}),  # x - h would leave the domain at the first step
    ("x**3", {"x": 1e6}),
    ("(x + 1e8) - 1e8", {"x": 1.0}),  # cancellation: a noisy difference
    ("asin(x) + acos(x/2) + atan(x) + sinh(x) - cosh(x)", {"x": 0.4}),
    ("x**y", {"x": 1.7, "y": -2.3}),
    ("x*y", {"x": 1e-300, "y": 1e300}),
    ("x**3", {"x": 0.0}),  # the differences go to 0 like h**2, never "settling" relative to 0
    ("relu(y)*y", {"y": 0.0}),  # a kink in f', not in f: the differences go to 0 like h
]


@pytest.mark.parametrize(("text", "point"), SMOOTH, ids=[t for t, _ in SMOOTH])
def test_smooth_functions_agree(text, point):
    result = check(parse(text), point)
    assert result.ok
    for p in result.partials:
        assert p.status == "agree", p
        assert p.abs_error is not None and p.tolerance is not None
        assert p.abs_error <= p.tolerance


def test_the_seed_notebook_slope():
    """(f(x+h) - f(x))/h with h = 0.001 at 3 is 22.004; the central one and autodiff say 22."""
    (p,) = check(parse("4*x**2 - 2*x + 5"), {"x": 3.0}, step=0.001).partials
    assert p.autodiff == 22.0
    assert p.one_sided == pytest.approx(22.004, abs=1e-9)
    assert p.central == pytest.approx(22.0, abs=1e-9)
    assert p.step == 0.001 and p.status == "agree"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abs(x)", "a kink at x = 0: the slope from the left is about -1, from the right 1"),
        ("relu(x)", "a kink at x = 0: the slope from the left is about 0, from the right 1"),
        ("3*abs(x) + x", "a kink at x = 0: the slope from the left is about -2, from the right 4"),
        ("sign(x)", "does not shrink with the step: a jump at x = 0"),
    ],
)
def test_kinks_and_jumps_are_undetermined_not_failures(text, reason):
    result = check(parse(text), {"x": 0.0})
    (p,) = result.partials
    assert p.status == "undetermined"
    assert reason in p.reason
    assert result.ok
    assert p.abs_error is None


def test_an_undefined_neighbour_with_a_given_step_is_undetermined():
    (p,) = check(parse("log(x)"), {"x": 1e-7}, step=1e-6).partials
    assert p.status == "undetermined"
    assert "f cannot be evaluated at x = x-h = -9e-07" in p.reason
    assert p.central is None


def test_a_step_lost_in_rounding_is_undetermined():
    (p,) = check(parse("x"), {"x": 1.0}, step=1e-30).partials
    assert p.status == "undetermined" and "lost in rounding" in p.reason


def test_a_large_step_really_disagrees():
    """x**3 at 1 with h = 0.1: the central difference is 3 + h**2 = 3.01, not 3."""
    result = check(parse("x**3"), {"x": 1.0}, step=0.1)
    (p,) = result.partials
    assert p.autodiff == 3.0
    assert p.central == pytest.approx(3.01, abs=1e-12)
    assert p.abs_error == pytest.approx(0.01, abs=1e-12)
    assert p.status == "disagree" and not result.ok


def _break_rule(name, rule):
    primitive = ops.BY_NAME[name]
    original = primitive.partials
    object.__setattr__(primitive, "partials", (rule,))
    return primitive, original


def test_a_wrong_derivative_rule_is_caught():
    """The reason check exists: a bug in a rule, here d sin = -cos, must fail it."""
    primitive, original = _break_rule("sin", lambda m, a, out: -m.cos(a))
    try:
        result = check(parse("sin(x) + x"), {"x": 0.5})
    finally:
        object.__setattr__(primitive, "partials", original)
    (p,) = result.partials
    assert p.status == "disagree"
    assert p.autodiff == pytest.approx(1 - math.cos(0.5))
    assert p.central == pytest.approx(1 + math.cos(0.5), rel=1e-9)


def test_cli_exit_3_for_a_wrong_derivative_rule():
    code = (
        "import autodiff.core.ops as o; p = o.BY_NAME['sin']; "
        "object.__setattr__(p, 'partials', (lambda m, a, out: -m.cos(a),)); "
        "from autodiff.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "check", "sin(x)", "--at", "x=0.5", "--format", "json"],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=120,
    )
    assert result.returncode == 3, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["checks"][0]["status"] == "disagree"
    assert "autodiff: check failed: d/dx: autodiff gives -0.877582" in result.stderr


def test_cli_plain_output_round_trips():
    result = run_cli("check", "4*x**2 - 2*x + 5", "--at", "x=3", "--step", "0.001")
    assert result.returncode == 0, result.stderr
    header, row = (line.split("\t") for line in result.stdout.splitlines())
    assert header == [
        "name",
        "autodiff",
        "central",
        "one_sided",
        "step",
        "abs_error",
        "rel_error",
        "status",
        "reason",
    ]
    fields = dict(zip(header, row, strict=True))
    (p,) = check(parse("4*x**2 - 2*x + 5"), {"x": 3.0}, step=0.001).partials
    assert float(fields["central"]) == p.central and float(fields["one_sided"]) == p.one_sided
    assert fields["status"] == "agree" and fields["reason"] == ""


def test_cli_json():
    result = run_cli("check", "abs(x)*y", "--at", "x=0,y=2", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["value"] == 0.0 and data["grad"] == {"x": 0.0, "y": 0.0}
    assert data["rtol"] == DEFAULT_RTOL and data["ok"] is True
    x, y = data["checks"]
    assert x["status"] == "undetermined" and x["abs_error"] is None
    assert y["status"] == "agree"


def test_cli_wrt_checks_only_that_partial():
    result = run_cli("check", "x*y", "--at", "x=2,y=5", "--wrt", "y", "--format", "json")
    data = json.loads(result.stdout)
    assert [c["name"] for c in data["checks"]] == ["y"] and data["grad"] == {"y": 2.0}


def test_cli_disagreement_exits_3_with_the_table_on_stdout():
    result = run_cli("check", "x**3", "--at", "x=1", "--step", "0.1", "--format", "table")
    assert result.returncode == 3
    assert "disagree" in result.stdout and "3.01" in result.stdout
    assert result.stderr.startswith("autodiff: check failed: d/dx: autodiff gives 3, ")


def test_cli_a_kink_exits_0():
    result = run_cli("check", "relu(x)", "--at", "x=0")
    assert result.returncode == 0, result.stderr
    assert "\tundetermined\ta kink at x = 0" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["sqrt(x)", "--at", "x=0"], 1, "the derivative of sqrt at 0 is not finite"),
        (["log(x)", "--at", "x=0"], 1, "log(0) is undefined"),
        (["x", "--at", "x=1", "--step", "-1"], 2, "--step must be a positive number, got -1"),
        (["x", "--at", "x=1", "--step", "abc"], 2, "--step"),
        (["x", "--at", "x=1", "--rtol", "-1"], 2, "--rtol must be a number >= 0, got -1"),
        (["x", "--at", "x=1", "--wrt", "y"], 2, "--wrt y: not a variable of the expression"),
        (["x + y", "--at", "x=1"], 2, "no value for variable 'y'"),
        (["x +", "--at", "x=1"], 2, "syntax error"),
    ],
)
def test_cli_errors(args, code, message):
    result = run_cli("check", *args)
    assert result.returncode == code
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_an_expression_without_variables_has_nothing_to_check():
    result = run_cli("check", "2*3", "--format", "table")
    assert result.returncode == 0, result.stderr
    assert "(no variables: nothing to check)" in result.stdout
    data = json.loads(run_cli("check", "2*3", "--format", "json").stdout)
    assert data["checks"] == [] and data["ok"] is True and data["value"] == 6.0


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("cos(x**4)", {"x": 9458.98127308344}),  # x**4 is 8e15: cos of it is rounding noise
        ("sin(cosh(y*y))", {"y": -26.33818519939644}),
    ],
)
def test_a_function_made_of_rounding_error_is_undetermined(text, point):
    result = check(parse(text), point)
    assert result.ok
    assert [p.status for p in result.partials] == ["undetermined"]
    assert "f is mostly rounding error here" in result.partials[0].reason


def test_cli_exit_3_for_an_underflowed_gradient():
    """A real disagreement with the engine as it is: reverse mode multiplies the
    upstream gradient (1e-296) by sqrt's local derivative (5e-149) before it
    meets sinh's (1e296), and the product underflows to 0. The slope of
    1/sqrt(cosh(y**2)) at 26 is about -6e-146, and the finite difference sees it."""
    result = run_cli("check", "1/sqrt(cosh(y**2))", "--at", "y=26", "--format", "json")
    assert result.returncode == 3, result.stderr
    (c,) = json.loads(result.stdout)["checks"]
    assert c["autodiff"] == 0.0 and c["status"] == "disagree"
    assert c["central"] == pytest.approx(-26 * math.tanh(676) / math.sqrt(math.cosh(676)), rel=1e-6)


def _random_expression(rng, depth):
    if depth == 0 or rng.random() < 0.25:
        return rng.choice(["x", "y", "2", "1.5", "pi", "0.3"])
    if rng.random() < 0.6:
        op = rng.choice(["+", "-", "*", "/", "**2", "**3", "**0.5"])
        left = _random_expression(rng, depth - 1)
        if op.startswith("**"):
            return f"({left}){op}"
        return f"({left}){op}({_random_expression(rng, depth - 1)})"
    name = rng.choice(["sin", "cos", "exp", "tanh", "sigmoid", "atan", "log", "sqrt", "cosh"])
    return f"{name}({_random_expression(rng, depth - 1)})"


def test_random_expressions_never_disagree():
    """The tolerance is no false alarm: smooth expressions at points of every scale."""
    rng = random.Random(2)
    checked = 0
    for _ in range(300):
        expression = parse(_random_expression(rng, 5))
        point = {
            "x": rng.choice(
                [0.0, 1.0, rng.uniform(-3, 3), rng.uniform(-1, 1) * 10 ** rng.uniform(-6, 4)]
            ),
            "y": rng.uniform(-30, 30),
        }
        try:
            result = check(expression, point)
        except AutodiffError:
            continue  # undefined at the point itself
        checked += len(result.partials)
        assert result.ok, (expression.text, point, result.partials)
    assert checked > 100
