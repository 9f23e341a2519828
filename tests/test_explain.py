"""autodiff explain: the formulas in the primitive table, the trace, the command."""

from __future__ import annotations

import json
import math
import random

import pytest

from autodiff import parse
from autodiff.core import ops
from autodiff.core.program import format_all
from autodiff.features.explain import explain
from conftest import run_cli, run_on_terminal

NEURON = "tanh(x1*w1 + x2*w2 + b)"
NEURON_POINT = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
NEURON_AT = ["--at", "x1=2,x2=0,w1=-3,w2=1,b=6.8813735870195432"]

# Inputs inside every primitive's domain (and away from kinks), for each arity.
SAMPLES = [(0.3,), (0.7,), (2.5,)]
SAMPLES_2 = [(0.3, 1.7), (2.5, -0.4), (1.5, 3.0)]


@pytest.mark.parametrize("primitive", ops.PRIMITIVES, ids=lambda p: p.name)
def test_every_primitive_has_a_formula_for_each_input(primitive):
    assert len(primitive.formulas) == primitive.arity
    assert all(text.strip() for text in primitive.formulas)


@pytest.mark.parametrize("primitive", ops.PRIMITIVES, ids=lambda p: p.name)
def test_each_formula_says_what_its_rule_computes(primitive):
    """The text is no second rule: parsed and evaluated, it matches the table's partial."""
    samples = SAMPLES if primitive.arity == 1 else SAMPLES_2
    for args in samples:
        if primitive.name in ("asin", "acos") and abs(args[0]) >= 1:
            continue
        out = primitive.forward(ops.FLOAT, *args)
        for k, text in enumerate(primitive.formulas):
            formula = parse(text)
            assert set(formula.variables) <= {"a", "b"}, text
            point = dict(zip("ab", args, strict=False))
            expected = primitive.partials[k](ops.FLOAT, *args, out)
            got = formula.evaluate({n: point[n] for n in formula.variables}).data
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-15), (primitive.name, k)


def test_neuron_forward_pass_names_every_node():
    trace = explain(parse(NEURON), NEURON_POINT)
    rows = [(n.name, n.op, n.definition, n.expression) for n in trace.forward]
    assert rows == [
        ("x1", "variable", "x1", "x1"),
        ("w1", "variable", "w1", "w1"),
        ("n3", "mul", "x1*w1", "x1*w1"),
        ("x2", "variable", "x2", "x2"),
        ("w2", "variable", "w2", "w2"),
        ("n6", "mul", "x2*w2", "x2*w2"),
        ("n7", "add", "n3 + n6", "x1*w1 + x2*w2"),
        ("b", "variable", "b", "b"),
        ("n9", "add", "n7 + b", "x1*w1 + x2*w2 + b"),
        ("n10", "tanh", "tanh(n9)", "tanh(x1*w1 + x2*w2 + b)"),
    ]
    assert trace.forward[-1].value == pytest.approx(math.sqrt(0.5), abs=1e-15)
    assert trace.forward[2].inputs == ("x1", "w1")


def test_neuron_backward_pass_one_row_per_edge():
    trace = explain(parse(NEURON), NEURON_POINT)
    edges = [(e.node, e.input, e.derivative, e.formula) for e in trace.backward]
    assert edges == [
        ("n10", "n9", "d tanh(n9)/dn9", "1 - tanh(n9)**2"),
        ("n9", "n7", "d(n7 + b)/dn7", "1"),
        ("n9", "b", "d(n7 + b)/db", "1"),
        ("n7", "n3", "d(n3 + n6)/dn3", "1"),
        ("n7", "n6", "d(n3 + n6)/dn6", "1"),
        ("n6", "x2", "d(x2*w2)/dx2", "w2"),
        ("n6", "w2", "d(x2*w2)/dw2", "x2"),
        ("n3", "x1", "d(x1*w1)/dx1", "w1"),
        ("n3", "w1", "d(x1*w1)/dw1", "x1"),
    ]
    first = trace.backward[0]
    assert first.upstream == 1.0
    assert first.local == pytest.approx(0.5, abs=1e-15)
    x1 = trace.backward[7]
    assert x1.local == -3.0 and x1.product == pytest.approx(-1.5, abs=1e-15)
    assert not any(e.accumulated for e in trace.backward)


@pytest.mark.parametrize(
    ("text", "point"),
    [
        (NEURON, NEURON_POINT),
        ("x*x + 4*x**2 - 2*pi*x", {"x": 3.0}),
        ("sin(x*y)/(1 + x**2) - log(y)*exp(-x)", {"x": 0.7, "y": 1.9}),
        ("sigmoid(a*b - c) * relu(a) + abs(b - c)**1.5", {"a": 1.2, "b": -0.3, "c": 0.4}),
        ("-(x - y)**3 / sqrt(x*x + y*y)", {"x": 1.5, "y": -2.5}),
    ],
)
def test_the_walk_adds_up_to_the_engine_gradient(text, point):
    expression = parse(text)
    trace = explain(expression, point)
    _, grad = expression.gradient(point)
    assert trace.grad == grad
    last: dict[str, float] = {trace.forward[-1].name: 1.0}
    for edge in trace.backward:
        # A node's gradient is complete before it passes any on.
        assert edge.upstream == last[edge.node]
        assert edge.product == edge.upstream * edge.local
        assert edge.accumulated == (edge.input in last)
        expected = edge.product if edge.input not in last else last[edge.input] + edge.product
        assert edge.grad == expected
        last[edge.input] = edge.grad
    # Exactly the engine's numbers, bit for bit: same order, same sums.
    for name, value in grad.items():
        assert last.get(name, 0.0) == value


def test_a_shared_input_is_noted_when_it_receives_gradient_again():
    trace = explain(parse("x*x + x"), {"x": 3.0})
    into_x = [e for e in trace.backward if e.input == "x"]
    assert [e.accumulated for e in into_x] == [False, True, True]
    assert [e.grad for e in into_x] == [1.0, 4.0, 7.0]
    assert trace.grad == {"x": 7.0}


def test_constants_take_no_gradient_but_appear_in_the_forward_pass():
    trace = explain(parse("4*x**2"), {"x": 3.0})
    assert [n.op for n in trace.forward].count("constant") == 2
    assert {e.input for e in trace.backward} == {"n4", "x"}
    power = next(e for e in trace.backward if e.input == "x")
    assert power.derivative == "d(x**2)/dx"
    assert power.formula == "2*x**(2 - 1)"
    assert power.local == 6.0


def test_node_names_never_clash_with_variables():
    trace = explain(parse("n2*n3 + t"), {"n2": 1.0, "n3": 2.0, "t": 3.0})
    names = [n.name for n in trace.forward]
    assert len(set(names)) == len(names)
    assert names[2] == "t3"  # n<k> would be taken


def test_cli_plain_neuron():
    result = run_cli("explain", NEURON, *NEURON_AT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == "f = tanh(x1*w1 + x2*w2 + b)  at  x1 = 2, w1 = -3, x2 = 0, w2 = 1, b = 6.881373587019543"
    )
    text = result.stdout
    assert "d tanh(n9)/dn9 = 1 - tanh(n9)**2 = 0.5" in text
    assert "d(x1*w1)/dx1 = w1 = -3" in text
    assert "∂f/∂x1  -1.5" in text
    assert not any(c in text for c in "─│╭\x1b")


def test_cli_notes_accumulation():
    result = run_cli("explain", "x*x + x", "--at", "x=3")
    assert result.returncode == 0
    assert "x now 4 (+= 3)" in result.stdout
    assert "x now 7 (+= 3)" in result.stdout


def test_cli_json_matches_grad_exactly():
    result = run_cli("explain", NEURON, *NEURON_AT, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"expr", "at", "value", "forward", "backward", "grad"}
    grad = json.loads(run_cli("grad", NEURON, *NEURON_AT, "--format", "json").stdout)
    assert data["grad"] == grad["grad"] and data["value"] == grad["value"]
    assert data["forward"][9] == {
        "name": "n10",
        "op": "tanh",
        "inputs": ["n9"],
        "definition": "tanh(n9)",
        "expression": "tanh(x1*w1 + x2*w2 + b)",
        "value": grad["value"],
    }
    edge = data["backward"][0]
    assert set(edge) == {
        "node",
        "input",
        "derivative",
        "formula",
        "local",
        "upstream",
        "product",
        "grad",
        "accumulated",
    }
    assert edge["formula"] == "1 - tanh(n9)**2"


def test_cli_table_in_a_pipe_has_no_box_drawing():
    result = run_cli("explain", "x*y", "--at", "x=2,y=5", "--format", "table")
    assert result.returncode == 0, result.stderr
    assert "d(x*y)/dx = y = 5" in result.stdout
    assert not any(c in result.stdout for c in "─│╭\x1b")


def test_cli_precision():
    result = run_cli("explain", "x/3", "--at", "x=1", "--precision", "3")
    assert "0.333" in result.stdout and "0.3333" not in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["x + y", "--at", "x=1"], 2, "no value for variable 'y'; add --at y=VALUE"),
        (["4x", "--at", "x=1"], 2, "syntax error"),
        (["log(x)", "--at", "x=-1"], 1, "log(-1) is undefined"),
        (["sqrt(x)", "--at", "x=0"], 1, "the derivative of sqrt at 0 is not finite"),
        (["x", "--at", "x=1", "--format", "csv"], 2, "unknown --format 'csv'"),
    ],
)
def test_cli_errors(args, code, message):
    result = run_cli("explain", *args)
    assert result.returncode == code
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def _random_expression(rng, depth):
    """A random expression text over every operator and a few functions."""
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(["x", "y", "2", "1.5", "pi", "1e-3"])
    if rng.random() < 0.6:
        left, right = _random_expression(rng, depth - 1), _random_expression(rng, depth - 1)
        op = rng.choice(["+", "-", "*", "/", "**", "^"])
        text = f"{left}{op}{right}"
        return f"({text})" if rng.random() < 0.5 else text
    if rng.random() < 0.2:
        return "-" + _random_expression(rng, depth - 1)
    name = rng.choice(["sin", "exp", "tanh", "relu", "abs", "pow"])
    if name == "pow":
        return f"pow({_random_expression(rng, depth - 1)}, {_random_expression(rng, depth - 1)})"
    return f"{name}({_random_expression(rng, depth - 1)})"


@pytest.mark.parametrize("limit", [1, 5, 12, 30])
def test_subexpressions_print_what_the_printer_prints(limit):
    rng = random.Random(limit)
    for _ in range(300):
        expression = parse(_random_expression(rng, 5))
        expected = [expression.format(i, limit=limit) for i in range(len(expression))]
        assert format_all(expression.steps, limit) == expected, expression.text


def test_a_long_chain_is_explained_in_linear_time():
    """Printing every node afresh was quadratic: minutes for a chain of 20,000 terms."""
    expression = parse("+".join(["x"] * 20_000))
    trace = explain(expression, {"x": 1.0})
    assert trace.grad == {"x": 20_000.0}
    assert trace.forward[-1].expression == "x + x + x + x + x + x + x + x…"
    assert len(trace.backward) == 2 * 19_999


def test_cli_the_backward_rows_name_each_edge():
    result = run_cli("explain", "x*x + x", "--at", "x=3")
    rows = result.stdout.split("backward pass")[1].splitlines()[2:6]
    assert [row.split()[:3] for row in rows] == [
        ["n3", "→", "n2"],
        ["n3", "→", "x"],
        ["n2", "→", "x"],
        ["n2", "→", "x"],
    ]


def test_a_long_trace_at_a_terminal_is_fitted_to_its_width_too():
    # rich's layout took minutes past 1,000 rows (100k nodes: 145 s); the
    # grid fits any number of rows to the terminal in linear time.
    terms = 600
    long_expr = "+".join(f"x*{k}" for k in range(terms))
    code, shown = run_on_terminal("explain", long_expr, "--at", "x=2", env={"COLUMNS": "60"})
    assert code == 0
    lines = shown.decode().splitlines()
    edges = [line for line in lines if " → " in line or line.startswith(" → ")]
    assert len(edges) >= len(explain(parse(long_expr), {"x": 2.0}).backward)
    rows = [line for line in lines if line.startswith(" ")]
    assert max(len(line) for line in rows) <= 60
    code, shown = run_on_terminal(
        "explain",
        "tanh(x1*w1 + x2*w2 + b)",
        "--at",
        "x1=2,x2=0,w1=-3,w2=1,b=7",
        env={"COLUMNS": "60"},
    )
    assert code == 0
    rows = [line for line in shown.decode().splitlines() if line.startswith(" ")]
    assert rows and max(len(line) for line in rows) <= 60  # the captions are not folded
