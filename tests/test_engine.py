"""The engine: each primitive's derivative, the seed's worked examples, graph shapes."""

from __future__ import annotations

import math

import pytest

from autodiff import EvaluationError, Value, parse
from autodiff.core import ops
from autodiff.core.engine import apply

# Points inside each function's domain (and away from kinks), per primitive.
POINTS = {
    "log": [0.3, 1.0, 7.5],
    "sqrt": [0.2, 1.0, 9.0],
    "asin": [-0.7, 0.0, 0.5],
    "acos": [-0.7, 0.0, 0.5],
    "abs": [-2.0, 0.5, 3.0],
    "relu": [-2.0, 0.5, 3.0],
    "sign": [-2.0, 0.5, 3.0],
    "step": [-2.0, 0.5, 3.0],
    "tan": [-1.0, 0.1, 1.2],
}
DEFAULT_POINTS = [-1.3, -0.2, 0.4, 2.1]
BINARY_POINTS = [(1.5, 2.0), (0.7, -1.3), (2.2, 0.5), (3.0, 3.0)]


def central_difference(f, x: float) -> float:
    h = 1e-6 * max(1.0, abs(x))
    return (f(x + h) - f(x - h)) / (2 * h)


def unary_function(name: str):
    return lambda x: ops.BY_NAME[name].forward(ops.FLOAT, x)


@pytest.mark.parametrize(
    "primitive", [p for p in ops.PRIMITIVES if p.arity == 1], ids=lambda p: p.name
)
def test_unary_partial_matches_central_difference(primitive):
    for x in POINTS.get(primitive.name, DEFAULT_POINTS):
        v = Value(x)
        out = getattr(v, primitive.name)() if primitive.name != "neg" else -v
        out.backward()
        expected = central_difference(unary_function(primitive.name), x)
        assert v.grad == pytest.approx(expected, rel=1e-6, abs=1e-7), (primitive.name, x)


@pytest.mark.parametrize(
    "primitive", [p for p in ops.PRIMITIVES if p.arity == 2], ids=lambda p: p.name
)
def test_binary_partials_match_central_differences(primitive):
    for a, b in BINARY_POINTS:
        if primitive.name == "pow" and a < 0:
            continue
        x, y = Value(a), Value(b)
        apply(primitive, x, y).backward()
        expected_a = central_difference(lambda t, b=b: primitive.forward(ops.FLOAT, t, b), a)
        expected_b = central_difference(lambda t, a=a: primitive.forward(ops.FLOAT, a, t), b)
        assert x.grad == pytest.approx(expected_a, rel=1e-6)
        assert y.grad == pytest.approx(expected_b, rel=1e-6)


def test_seed_quadratic():
    assert parse("4*x**2 - 2*x + 5").gradient({"x": 3}) == (35.0, {"x": 22.0})


def test_seed_finite_difference_estimate_is_close_but_not_exact():
    def f(x: float) -> float:
        return 4 * x**2 - 2 * x + 5

    h = 0.001
    assert (f(3 + h) - f(3)) / h == pytest.approx(22.004)
    assert parse("4*x**2 - 2*x + 5").gradient({"x": 3.0})[1]["x"] == 22.0


def test_seed_neuron_by_hand():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()
    assert o.data == pytest.approx(0.7071, abs=1e-4)
    assert n.grad == pytest.approx(0.5)
    grads = [x1.grad, w1.grad, x2.grad, w2.grad, b.grad]
    assert grads == pytest.approx([-1.5, 1.0, 0.5, 0.0, 0.5])


def test_seed_sum_of_products():
    value, grad = parse("a*b + c").gradient({"a": 2, "b": -3, "c": 10})
    assert value == 4.0 and grad["c"] == 1.0 and grad == {"a": -3.0, "b": 2.0, "c": 1.0}


def test_node_used_several_times_accumulates():
    x = Value(2.0)
    (x * x * x).backward()
    assert x.grad == 12.0
    a = Value(1.0)
    b = a + a
    c = b + b
    c.backward()
    assert (a.grad, b.grad) == (4.0, 2.0)


def test_backward_twice_gives_the_same_gradients():
    x = Value(3.0)
    y = x * x + x
    y.backward()
    y.backward()
    assert x.grad == 7.0


def test_numbers_on_either_side_and_value_powers():
    x, y = Value(2.0), Value(3.0)
    z = 1 - x / 4 + 2 * y - 3 / y + 2**x
    z.backward()
    assert z.data == pytest.approx(1 - 0.5 + 6 - 1 + 4)
    assert x.grad == pytest.approx(-0.25 + 4 * math.log(2))
    assert y.grad == pytest.approx(2 + 3 / 9)
    p = x**y
    p.backward()
    assert (x.grad, y.grad) == pytest.approx((3 * 4.0, 8 * math.log(2)))


def test_subtraction_division_negation_are_their_own_nodes():
    x, y = Value(1.0), Value(2.0)
    assert (x - y).op.name == "sub"
    assert (x / y).op.name == "div"
    assert (-x).op.name == "neg"


def test_negative_base_with_constant_exponent():
    assert parse("x**3 + x**2").gradient({"x": -2}) == (-4.0, {"x": 8.0})
    with pytest.raises(EvaluationError) as info:
        parse("(-8)**(1/3)").gradient({})
    assert info.value.op == "pow"


def test_variable_exponent_of_a_negative_base_is_an_error():
    with pytest.raises(EvaluationError):
        parse("x**y").gradient({"x": -2, "y": 2})


def test_kinks_take_gradient_zero():
    assert parse("abs(x) + relu(x)").gradient({"x": 0}) == (0.0, {"x": 0.0})


@pytest.mark.parametrize(
    ("text", "value"),
    [("tanh(x)", 1.0), ("sigmoid(-x)", 0.0), ("exp(-x)", 0.0), ("sigmoid(x)", 1.0)],
)
def test_stable_forms_far_out(text, value):
    result, grad = parse(text).gradient({"x": 800.0})
    assert result == value and math.isfinite(grad["x"])


@pytest.mark.parametrize(
    ("text", "point", "op"),
    [
        ("log(x)", {"x": -1}, "log"),
        ("sqrt(x)", {"x": -4}, "sqrt"),
        ("asin(x)", {"x": 2}, "asin"),
        ("1/x", {"x": 0}, "div"),
        ("x**-1", {"x": 0}, "pow"),
        ("exp(x)", {"x": 1000}, "exp"),
        ("sqrt(x)", {"x": 0}, "sqrt"),
    ],
)
def test_domain_errors_name_the_function_and_argument(text, point, op):
    with pytest.raises(EvaluationError) as info:
        parse(text).gradient(point)
    assert info.value.op == op
    assert info.value.arguments == tuple(float(v) for v in info.value.arguments)
    assert info.value.arguments


@pytest.mark.parametrize("seed", range(20))
def test_topological_order_of_random_shared_graphs(seed):
    """Each node once, after all of its inputs, and exactly the nodes that lead
    to the root: on graphs that reuse nodes many times over (diamonds)."""
    import random

    rng = random.Random(seed)
    nodes = [Value(rng.uniform(0.5, 2.0)) for _ in range(3)]
    for _ in range(rng.randint(5, 60)):
        a, b = rng.choice(nodes), rng.choice(nodes[-6:])
        nodes.append(rng.choice([a + b, a * b, a - b, -a, a.tanh()]))
    root = nodes[-1]
    order = root.topological_order()
    place = {id(n): k for k, n in enumerate(order)}
    assert len(place) == len(order)
    reachable, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) not in reachable:
            reachable.add(id(node))
            stack.extend(node.inputs)
    assert set(place) == reachable
    for node in order:
        assert all(place[id(i)] < place[id(node)] for i in node.inputs)
    assert order[-1] is root


@pytest.mark.slow  # a scale check: CI runs it (AUTODIFF_SLOW=1)
def test_a_million_deep_chain():
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


@pytest.mark.slow
def test_parse_deep_nesting_and_long_sums():
    depth = 100_000
    nested = "(" * depth + "x" + ")" * depth
    assert parse(nested).gradient({"x": 2.0}) == (2.0, {"x": 1.0})
    terms = 100_000
    total = parse(" + ".join(["x"] * terms))
    assert total.gradient({"x": 1.0}) == (float(terms), {"x": float(terms)})
    assert len(str(total)) == len(" + ".join(["x"] * terms))


def test_create_graph_gives_differentiable_gradients():
    x = Value(3.0)
    y = x**3
    y.backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value) and first.data == 27.0
    first.backward()
    assert x.grad == 18.0
