"""Programs: named steps, several outputs, files; against the flattened formula."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff import Value, parse
from autodiff.core.errors import ExpressionError, UsageError
from conftest import ROOT, run_cli

SEED = "n = x1*w1 + x2*w2 + b; o = tanh(n)"
SEED_AT = "x1=2,x2=0,w1=-3,w2=1,b=6.8813735870195432"
FLAT = "tanh(x1*w1 + x2*w2 + b)"


# -- the language -----------------------------------------------------------


def test_the_output_is_the_last_statement():
    program = parse(SEED)
    assert program.variables == ("x1", "w1", "x2", "w2", "b")
    assert list(program.definitions) == ["n", "o"]
    assert program.output_texts() == ["o"]
    assert program.unused == ()
    assert program.steps == parse(FLAT).steps  # the same program, step for step


@pytest.mark.parametrize(
    "text",
    [
        "n = x*y\no = tanh(n)",
        "n = x*y;\n\n o = tanh(n);",
        "# the neuron\nn = x*y  # weighted\no = tanh(\n  n\n)\n",
        "n = x *\n y\no = tanh(n)",
        "n = (x\n* y)\no = tanh\n(n)",
    ],
)
def test_line_ends_separate_statements_only_where_one_is_complete(text):
    assert parse(text).gradient({"x": 0.5, "y": 2.0}) == parse("tanh(x*y)").gradient(
        {"x": 0.5, "y": 2.0}
    )


def test_a_name_may_output_an_earlier_step_and_unused_ones_are_listed():
    program = parse("n = 2*x; m = n + y; n")
    assert program.unused == ("m",)
    assert program.variables == ("x",)  # y is used only where nothing needs it
    assert program.gradient({"x": 3.0}) == (6.0, {"x": 2.0})


def test_several_outputs():
    program = parse("r = sqrt(x^2 + y^2); r, atan(y/x)")
    assert program.output_texts() == ["r", "atan(y/x)"]
    assert program.output(1).gradient({"x": 1.0, "y": 1.0}) == parse("atan(y/x)").gradient(
        {"x": 1.0, "y": 1.0}
    )
    with pytest.raises(UsageError, match="2 outputs"):
        program.gradient({"x": 1.0, "y": 1.0})


@pytest.mark.parametrize(
    ("text", "line", "column", "needle"),
    [
        ("o = tanh(n); n = 2*x", 1, 10, "'n' is used before it is defined"),
        ("a = x\na = 2*x", 2, 1, "'a' is defined twice"),
        ("sin = x", 1, 1, "'sin' is a function"),
        ("pi = 3", 1, 1, "'pi' is a constant"),
        ("# nothing\n", 2, 1, "no output"),
        ("x\n+ y", 1, 1, "only the last statement is the output"),
        ("y = y*2", 1, 5, "its own definition"),
    ],
)
def test_errors_point_at_the_name(text, line, column, needle):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert (info.value.line, info.value.column) == (line, column)
    assert needle in info.value.message


def test_a_constant_may_be_named_without_renaming_every_2():
    program = parse("c = 2; c*x + 2")
    leaves = [(s.text, program.labels.get(i)) for i, s in enumerate(program.steps) if s.op is None]
    assert sorted(leaves, key=str) == sorted([("2", "c"), ("x", None), ("2", None)], key=str)


def test_defined_nodes_carry_their_names():
    values = parse(SEED).evaluate_all(dict(x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432))
    assert [v.label for v in values if v.op is not None] == ["", "", "", "n", "o"]


def test_the_seed_s_attribute_names():
    a = Value(2.0, label="a")
    assert a.value == 2.0
    a.value = 3
    assert a.data == 3.0 and isinstance(a.data, float)
    with pytest.raises(TypeError, match="label='tanh'"):
        Value(0.5, (a,), "tanh")  # type: ignore[arg-type]


# -- against the flattened formula -------------------------------------------

FUNCTIONS = ("sin", "cos", "tanh", "exp")
OPERATORS = ("+", "-", "*")


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, str]:
    """A random program and the one expression it stands for (each name used once)."""
    statements: list[str] = []
    pool = [("x", "x"), ("y", "y"), ("1.5", "1.5")]  # (text in the program, flattened)
    for k in range(draw(st.integers(1, 6))):
        if draw(st.booleans()) and len(pool) > 1:
            i = draw(st.integers(0, len(pool) - 1))
            a = pool.pop(i)
            j = draw(st.integers(0, len(pool) - 1))
            b = pool[j] if pool[j][0] in ("x", "y", "1.5") else pool.pop(j)
            op = draw(st.sampled_from(OPERATORS))
            text, flat = f"({a[0]}) {op} ({b[0]})", f"({a[1]}) {op} ({b[1]})"
        else:
            i = draw(st.integers(0, len(pool) - 1))
            a = pool[i] if pool[i][0] in ("x", "y", "1.5") else pool.pop(i)
            f = draw(st.sampled_from(FUNCTIONS))
            text, flat = f"{f}({a[0]})", f"{f}({a[1]})"
        statements.append(f"t{k} = {text}")
        pool.append((f"t{k}", f"({flat})"))
    last = pool[-1]
    statements.append(last[0])
    return "; ".join(statements), last[1]


@settings(max_examples=60, deadline=None)
@given(programs(), st.floats(-2, 2), st.floats(-2, 2))
def test_a_program_is_its_flattened_formula_bit_for_bit(case, x, y):
    program, flat = case
    point = {"x": x, "y": y}
    expected = parse(flat)
    found = parse(program)
    assert set(found.variables) == set(expected.variables)
    assert found.gradient(point) == expected.gradient(point)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(FUNCTIONS), st.floats(-2, 2))
def test_a_name_used_twice_is_its_formula_twice(f, x):
    value, grad = parse(f"t = {f}(x)*x; t*t + t").gradient({"x": x})
    flat_value, flat_grad = parse(f"({f}(x)*x)*({f}(x)*x) + {f}(x)*x").gradient({"x": x})
    assert math.isclose(value, flat_value, rel_tol=1e-12, abs_tol=1e-300)
    assert math.isclose(grad["x"], flat_grad["x"], rel_tol=1e-12, abs_tol=1e-12)


def test_a_long_program_is_linear_not_recursive():
    n = 20_000
    text = ";".join(["s1 = x*1", *(f"s{i} = s{i - 1}*1" for i in range(2, n + 1))])
    program = parse(text)
    assert len(program) == n + 2
    assert program.gradient({"x": 2.0}) == (2.0, {"x": 1.0})


# -- through the command line -------------------------------------------------


def test_grad_wrt_a_defined_name_is_the_seed_s_n_grad():
    result = run_cli(
        "grad", SEED, "--at", SEED_AT, "--wrt", "n", "--wrt", "x1", "--format", "plain"
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("\t") for line in result.stdout.splitlines())
    assert math.isclose(float(lines["d/dn"]), 0.5, rel_tol=1e-12)
    assert math.isclose(float(lines["d/dx1"]), -1.5, rel_tol=1e-12)


def test_grad_steps_in_json():
    import json

    result = run_cli("grad", SEED, "--at", SEED_AT, "--steps", "--format", "json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert list(record["grad"]) == ["x1", "w1", "x2", "w2", "b"]
    assert list(record["steps"]) == ["n", "o"]
    assert math.isclose(record["steps"]["n"]["value"], 0.8813735870195432, rel_tol=1e-12)
    assert math.isclose(record["steps"]["n"]["grad"], 0.5, rel_tol=1e-12)
    assert record["steps"]["o"]["grad"] == 1.0
    plain = run_cli("grad", SEED, "--at", SEED_AT, "--format", "json").stdout
    assert "steps" not in json.loads(plain)  # nothing new by default


def test_the_seed_s_program_drawn_with_its_names():
    result = run_cli("graph", SEED, "--at", SEED_AT, "-o", "-", "--format", "dot")
    assert result.returncode == 0, result.stderr
    assert result.stdout.encode() == (ROOT / "tests" / "golden" / "seed_program.dot").read_bytes()
    assert '"{ n | data 0.8814 | grad 0.5000 }"' in result.stdout
    assert '"{ o | data 0.7071 | grad 1.0000 }"' in result.stdout


def test_explain_and_check_show_the_names():
    trace = run_cli("explain", SEED, "--at", SEED_AT, "--format", "plain")
    assert trace.returncode == 0, trace.stderr
    assert "  o → n  " in trace.stdout and "tanh(n)" in trace.stdout
    checked = run_cli("check", SEED, "--at", SEED_AT)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["grad", "o = tanh(n); n = 2*x", "--at", "x=1"], "used before it is defined"),
        (["grad", "a = x; a = 2", "--at", "x=1"], "defined twice"),
        (["grad", "sin = x", "--at", "x=1"], "'sin' is a function"),
        (["grad", "pi = 3", "--at", "x=1"], "'pi' is a constant"),
        (["grad", "# only a comment", "--at", "x=1"], "no output"),
        (["grad", SEED, "--at", SEED_AT + ",n=1"], "n is defined by the expression"),
    ],
)
def test_each_mistake_is_exit_2_with_its_message(args, needle):
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command", ["grad", "graph", "explain", "check", "plot", "hessian", "diff"]
)
def test_commands_of_one_output_refuse_several(command, tmp_path):
    extra = {"graph": ["-o", "g.dot"], "plot": ["-o", "p.svg"]}.get(command, [])
    at = [] if command == "diff" else ["--at", "x=1,y=2"]
    if command == "plot":
        at = ["--at", "y=2"]
    result = run_cli(command, "r = x*y; r, x + y", *at, *extra, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "2 outputs (r, x + y)" in result.stderr and "autodiff jacobian" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unused_definition_is_a_warning():
    result = run_cli("grad", "m = 3*x; n = 2*x; n", "--at", "x=1", "--format", "plain")
    assert result.returncode == 0
    assert result.stdout == "value\t2.0\nd/dx\t2.0\n"
    assert result.stderr == "autodiff: warning: m is defined but no output uses it\n"


def test_a_program_from_a_file_and_from_stdin(tmp_path):
    (tmp_path / "neuron.txt").write_text("n = x1*w1 + x2*w2 + b  # the sum\no = tanh(n)\n")
    from_file = run_cli("grad", "-f", "neuron.txt", "--at", SEED_AT, cwd=tmp_path)
    inline = run_cli("grad", SEED, "--at", SEED_AT)
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == inline.stdout
    piped = run_cli(
        "grad", "--file", "-", "--at", SEED_AT, input="n = x1*w1 + x2*w2 + b\no = tanh(n)\n"
    )
    assert piped.stdout == inline.stdout


def test_a_syntax_error_in_a_file_names_file_line_and_column(tmp_path):
    (tmp_path / "neuron.txt").write_text("n = x1*w1 + b\no = tanh(n +)\n")
    result = run_cli("grad", "-f", "neuron.txt", "--at", "x1=1,w1=1,b=1", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("autodiff: neuron.txt:2:13: syntax error: ")
    assert result.stderr.splitlines()[-2:] == ["  o = tanh(n +)", " " * 14 + "^"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["grad", "x", "-f", "p.txt", "--at", "x=1"], "not both"),
        (["grad", "-", "-f", "p.txt"], "EXPR '-'"),
        (["grad", "-f", "p.txt", "--points", "-"], "--points -"),
        (["grad", "-f", "missing.txt", "--at", "x=1"], "cannot read --file missing.txt"),
    ],
)
def test_file_misuse_is_exit_2(args, needle, tmp_path):
    (tmp_path / "p.txt").write_text("x*2\n")
    result = run_cli(*args, cwd=tmp_path, input="")
    assert result.returncode == 2
    assert result.stdout == ""
    assert needle in result.stderr


def test_a_stream_line_may_hold_a_whole_program():
    result = run_cli("grad", "-", "--at", "x=2", "--format", "jsonl", input="n = x*x; n + 1\nx +\n")
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and '"value": 5.0' in lines[0] and '"error"' in lines[1]
