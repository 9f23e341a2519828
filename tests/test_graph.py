"""autodiff.draw and the graph renderer: nodes, labels, escaping, size, display."""

from __future__ import annotations

import re
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff import LimitError, UsageError, Value, draw, parse
from autodiff.core import ops
from autodiff.core.errors import OutputError
from autodiff.render import graph

NEURON = "tanh(x1*w1 + x2*w2 + b)"
NEURON_AT = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
RECORD = re.compile(r'^\t(v\d+) \[label="\{ (.*?) \}"', re.M)
EDGE = re.compile(r"^\t(\w+) -> (\w+)", re.M)


def records(source: str) -> dict[str, list[str]]:
    """Each value node's record fields, by the node's label."""
    found = {}
    for _, body in RECORD.findall(source):
        label, *rest = [field.strip() for field in body.split(" | ")]
        found[label] = rest
    return found


def neuron() -> Value:
    out = parse(NEURON).evaluate(NEURON_AT)
    out.backward()
    return out


def test_neuron_shows_data_and_grad_on_every_node():
    found = records(draw(neuron()).source)
    assert len(found) == 10
    assert found["tanh(x1*w1 + x2*w2 + b)"] == ["data 0.7071", "grad 1.0000"]
    expected = {"x1": "-1.5000", "w1": "1.0000", "x2": "0.5000", "w2": "0.0000", "b": "0.5000"}
    for name, partial in expected.items():
        assert found[name][1] == f"grad {partial}", name
    assert found["x1*w1 + x2*w2"] == ["data -6.0000", "grad 0.5000"]


def test_each_operation_is_a_node_with_an_edge_into_its_value():
    source = draw(neuron()).source
    operations = re.findall(r'^\t(o\d+) \[label="?([^" ]+)"?', source, re.M)
    assert sorted(label for _, label in operations) == ["*", "*", "+", "+", "tanh"]
    edges = EDGE.findall(source)
    for op_id, _ in operations:
        assert (op_id, "v" + op_id[1:]) in edges


def test_subtraction_and_division_are_their_own_operations():
    source = draw(parse("a - b/c")).source
    labels = re.findall(r'^\to\d+ \[label="?([^" ]+)"?', source, re.M)
    assert sorted(labels) == ["-", "/"]
    assert "**" not in source and "-1" not in source


def test_a_variable_used_three_times_is_one_node_with_summed_gradient():
    out = parse("x*x*x").evaluate({"x": 2.0})
    out.backward()
    source = draw(out).source
    assert records(source)["x"] == ["data 2.0000", "grad 12.0000"]
    (x_id,) = [node for node, body in RECORD.findall(source) if body.startswith("x |")]
    assert sum(1 for tail, _ in EDGE.findall(source) if tail == x_id) == 3


def test_without_a_point_only_labels():
    source = draw(parse("4*x**2 - 2*x + 5")).source
    assert "data" not in source and "grad" not in source
    assert set(records(source)) == {
        "4",
        "x",
        "2",
        "x**2",
        "4*x**2",
        "2*x",
        "4*x**2 - 2*x",
        "5",
        "4*x**2 - 2*x + 5",
    }


def test_constants_show_data_but_no_grad():
    out = parse("x*pi/2 + 3").evaluate({"x": 1.0})
    out.backward()
    found = records(draw(out).source)
    assert found["pi"] == ["data 3.1416"]
    assert found["3"] == ["data 3.0000"]
    assert found["x"] == ["data 1.0000", "grad 1.5708"]


def test_no_grad_and_decimals():
    source = draw(neuron(), grad=False, decimals=2).source
    assert "grad" not in source
    assert records(source)["b"] == ["data 6.88"]


def test_leaves_constants_and_output_are_styled_apart():
    out = parse("x*2").evaluate({"x": 1.0})
    source = draw(out).source
    lines = {line.split(" [")[0].strip(): line for line in source.splitlines() if "label=" in line}
    assert "style=filled" in lines["v0"] and graph.VARIABLE_FILL in lines["v0"]
    assert "style=dashed" in lines["v1"]
    assert "penwidth=2.5" in lines["v2"] and "bold" in lines["v2"]


def test_rankdir_and_bad_options():
    assert "rankdir=TB" in draw(parse("x"), rankdir="TB").source
    with pytest.raises(UsageError, match="rankdir"):
        draw(parse("x"), rankdir="RL")
    with pytest.raises(UsageError, match="decimals"):
        draw(parse("x"), decimals=18)


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (2.0, "2.0000"),
        (-1.5, "-1.5000"),
        (-0.0, "0.0000"),
        (0.00001, "1.0000e-05"),
        (0.00005, "0.0001"),
        (1e12, "1.0000e+12"),
        (float("inf"), "inf"),
    ],
)
def test_numbers(x, text):
    assert graph.number(x, 4) == text


def test_numbers_of_arrays_and_value_gradients():
    import numpy as np

    assert graph.number(np.zeros(3), 4) == "[3 values]"
    assert graph.number(Value(0.25), 2) == "0.25"


# -- escaping ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a|b", r"a\|b"),
        ("{x}", r"\{x\}"),
        ("<p>", r"\<p\>"),
        ('say "hi"', r"say \"hi\""),
        ("back\\slash", r"back\\slash"),
        ("ends with \\", "ends with \\\\"),
        ("two\nlines", r"two\nlines"),
        ("crlf\r\nend", r"crlf\nend"),
        ('\\"', r"\\\""),
        ("plain x*y", "plain x*y"),
    ],
)
def test_record_escaping(text, escaped):
    assert graph.escape_label(text, record=True) == escaped


def test_plain_label_escaping_leaves_record_syntax_alone():
    assert graph.escape_label('a|{b}<c> "d" \\') == r"a|{b}<c> \"d\" \\"


@given(st.text(alphabet='ab|{}<>"\\\n ', max_size=12))
def test_an_escaped_record_field_has_no_bare_special_character(text):
    escaped = graph.escape_label(text, record=True)
    assert "\n" not in escaped
    # Reading it back: every backslash starts a pair; no special stands alone.
    i = 0
    while i < len(escaped):
        if escaped[i] == "\\":
            assert escaped[i + 1] in '|{}<>"\\n'
            i += 2
        else:
            assert escaped[i] not in '|{}<>"'
            i += 1


@pytest.mark.dot
def test_dot_reads_escaped_labels_back_as_the_original_text():
    a = Value(1.0, label='a|b{c}<d>"e\\f')
    b = Value(2.0, label="x\\")
    out = a * b
    out.label = "} | {"
    svg = graph.render(draw(out), "svg").decode()
    assert "a|b{c}&lt;d&gt;&quot;e\\f</text>" in svg
    assert ">x\\</text>" in svg
    assert ">} | {</text>" in svg


# -- labels -----------------------------------------------------------------


def test_long_labels_end_with_an_ellipsis():
    expression = parse(" + ".join(f"x{k}" for k in range(20)))
    labels = graph.subexpression_labels(graph.nodes_of(expression, constant_per_use=False))
    assert labels[-1] == "x0 + x1 + x2 + x3 + x4 + x5 +…"
    assert len(labels[-1]) == graph.LABEL_LIMIT


def test_labels_are_the_printer_s_text_on_a_long_chain():
    expression = parse("-".join(["(x+1)"] * 300) + "/y**2")
    labels = graph.subexpression_labels(graph.nodes_of(expression, constant_per_use=False))
    for i in range(0, len(expression), 37):
        assert labels[i] == expression.format(i, limit=30)


def test_a_number_used_twice_is_drawn_once_per_use():
    # As micrograd draws it: the exponent's 2 and the coefficient's 2 are two nodes.
    source = draw(parse("4*x**2 - 2*x + 5")).source
    twos = [node for node, label in RECORD.findall(source) if label == "2"]
    assert len(twos) == 2
    tails = [tail for tail, _ in EDGE.findall(source)]
    assert [tails.count(node) for node in twos] == [1, 1]
    # A named constant is one node, however often it is used.
    source = draw(parse("c = 2; c*x + c")).source
    assert [label for _, label in RECORD.findall(source)].count("c") == 1


def test_a_labelled_value_names_its_node_and_its_uses():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    e = a + b
    e.label = "e"
    out = e * Value(4.0, label="c")
    out.backward()
    found = records(draw(out).source)
    assert found["e"] == ["data 5.0000", "grad 4.0000"]
    assert "e*c" in found
    unlabelled = Value(2.0) * 3
    assert "2*3" in records(draw(unlabelled).source)


NAMES = st.sampled_from(["x", "y", "z", "2", "0.5", "pi"])


def expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "^"]), inner).map(
            lambda t: f"({t[0]}){t[1]}({t[2]})" if t[1] in ("**", "^") else f"{t[0]} {t[1]} {t[2]}"
        )
        unary = st.tuples(st.sampled_from(["-", "sin", "exp", "", "tanh"]), inner).map(
            lambda t: f"-({t[1]})" if t[0] == "-" else f"{t[0]}({t[1]})"
        )
        call = st.tuples(inner, inner).map(lambda t: f"pow({t[0]}, {t[1]})")
        return binary | unary | call

    return st.recursive(NAMES, extend, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(expressions(), st.integers(min_value=1, max_value=40))
def test_labels_match_the_printer_for_any_expression(text, limit):
    expression = parse(text)
    labels = graph.subexpression_labels(graph.nodes_of(expression, constant_per_use=False), limit)
    assert labels == [expression.format(i, limit=limit) for i in range(len(expression))]


# -- large graphs -----------------------------------------------------------


def test_far_uses_of_a_shared_variable_are_written_inline():
    expression = parse(" + ".join(f"x*{k}" for k in range(1, 301)))
    source = draw(expression).source
    assert graph.INLINE_NOTE in source
    x_id = "v0"
    assert sum(1 for tail, _ in EDGE.findall(source) if tail == x_id) <= graph.MAX_SPAN
    assert len(re.findall(r'label="x \*"', source)) >= 290


def test_small_graphs_keep_every_edge():
    expression = parse(" + ".join(f"x*{k}" for k in range(1, 11)))
    source = draw(expression).source
    assert graph.INLINE_NOTE not in source
    assert sum(1 for tail, _ in EDGE.findall(source) if tail == "v0") == 10


def test_far_uses_are_only_long_edges():
    nodes = graph.nodes_of(parse("+".join(["x"] * 3000)))
    far = graph.far_uses(nodes)
    assert far and all(k in (0, 1) for _, k in far)
    assert len(far) > 2900


def test_operation_text_puts_inline_inputs_in_place():
    sub, tanh, mul = (ops.BY_NAME[n] for n in ("sub", "tanh", "mul"))
    assert graph.operation_text(sub, ["x", ""]) == "x -"
    assert graph.operation_text(sub, ["", "x"]) == "- x"
    assert graph.operation_text(mul, ["x", "x"]) == "x * x"
    assert graph.operation_text(tanh, ["a"]) == "tanh(a)"
    assert graph.operation_text(tanh, [""]) == "tanh"


def test_too_many_values_is_a_limit_error():
    expression = parse("+".join(["x"] * 30))
    with pytest.raises(LimitError, match="30 values, more than the limit of 29"):
        draw(expression, max_nodes=29)
    assert draw(expression, max_nodes=30).source.startswith("digraph")
    assert draw(expression, max_nodes=None).source.startswith("digraph")


def test_a_deep_chain_is_drawn_as_dot_text_without_recursion():
    x = Value(0.5, label="x")
    out = x
    for _ in range(20_000):
        out = out * 1.0
    source = graph.dot_source(draw(out, max_nodes=None))
    assert source.count("->") == 3 * 20_000


# -- output and display -----------------------------------------------------


def test_dot_text_needs_no_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert graph.render(draw(neuron()), "dot").startswith(b"digraph autodiff {")
    with pytest.raises(OutputError, match="apt-get install graphviz"):
        graph.render(draw(neuron()), "svg")


@pytest.mark.dot
def test_jupyter_shows_the_graph_as_svg():
    bundle = neuron()._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]
    assert bundle["text/plain"].startswith("Value(data=0.7071")


def test_jupyter_falls_back_to_text_without_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    bundle = neuron()._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]


@pytest.mark.dot
def test_jupyter_shows_a_summary_past_the_notebook_limit_and_a_picture_below():
    out = Value(1.0, label="x")
    for _ in range(graph.NOTEBOOK_MAX_NODES // 2 - 1):
        out = out + 1.0  # each step adds a constant leaf and a sum: two values
    assert len(out.topological_order()) == graph.NOTEBOOK_MAX_NODES - 1
    assert "image/svg+xml" in out._repr_mimebundle_()
    out = out + 1.0
    bundle = out._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert bundle["text/plain"].startswith(repr(out))
    assert f"a graph of {graph.NOTEBOOK_MAX_NODES + 1} values" in bundle["text/plain"]
    assert "autodiff.draw(v, max_nodes=None)" in bundle["text/plain"]


def test_a_failing_dot_is_an_output_error(monkeypatch):
    def fail(*args, **kwargs):
        raise subprocess.CalledProcessError(1, ["dot"], stderr=b"Error: syntax error in line 1")

    monkeypatch.setattr("graphviz.Digraph.pipe", fail)
    with pytest.raises(OutputError, match="syntax error in line 1"):
        graph.render(draw(neuron()), "png")
