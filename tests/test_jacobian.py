"""autodiff jacobian: every format through a real subprocess, rows against grad and
SymPy, --points, and errors (exit codes, messages, nothing on stdout)."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff import EvaluationError, UsageError, parse
from autodiff.core.engine import Value
from autodiff.core.errors import MissingValueError
from conftest import extended, run_cli, run_on_terminal

POLAR = "r = sqrt(x^2 + y^2); r, atan(y/x)"
AT = ["--at", "x=3,y=4"]


def jacobian_at(text: str, point: dict[str, float], wrt: tuple[str, ...] = ()) -> Any:
    from autodiff.features.jacobian import jacobian_at

    return jacobian_at(parse(text), point, wrt)


def ok(*args: str, input: str | None = None) -> str:
    result = run_cli("jacobian", *args, input=input)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


# -- formats ----------------------------------------------------------------------


def test_plain_is_the_default_in_a_pipe():
    result = run_cli("jacobian", "x*y, x + y", "--at", "x=2,y=3")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == (
        "output\tvalue\td/dx\td/dy\nx*y\t6.0\t3.0\t2.0\nx + y\t5.0\t1.0\t1.0\n"
    )


def test_json_has_every_key_and_round_trips():
    data = json.loads(ok(POLAR, *AT, "--format", "json"))
    assert list(data) == ["expr", "at", "outputs", "variables", "value", "jacobian"]
    assert data["expr"] == POLAR
    assert data["at"] == {"x": 3.0, "y": 4.0}
    assert data["outputs"] == ["r", "atan(y/x)"]
    assert data["variables"] == ["x", "y"]
    assert data["value"] == [5.0, math.atan(4 / 3)]
    assert data["jacobian"] == [
        pytest.approx([0.6, 0.8], rel=1e-15),
        pytest.approx([-4 / 25, 3 / 25], rel=1e-15),
    ]
    # jsonl at one point is the same single line
    assert ok(POLAR, *AT, "--format", "jsonl") == ok(POLAR, *AT, "--format", "json")


def test_plain_rows_are_outputs_and_numbers_round_trip():
    lines = ok(POLAR, *AT, "--format", "plain").splitlines()
    assert lines[0] == "output\tvalue\td/dx\td/dy"
    record = jacobian_at(POLAR, {"x": 3, "y": 4})
    for line, text, value, row in zip(
        lines[1:], record.outputs, record.value, record.jacobian, strict=True
    ):
        fields = line.split("\t")
        assert fields[0] == text
        assert [float(f) for f in fields[1:]] == [value, *row]


@pytest.mark.parametrize(("fmt", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_csv_and_tsv_have_a_header_and_a_row_per_output(fmt, delimiter):
    text = ok("x*y, pow(x, 2), y", "--at", "x=2,y=3", "--format", fmt)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    assert rows == [
        ["output", "value", "d_x", "d_y"],
        ["x*y", "6.0", "3.0", "2.0"],
        ["x**2", "4.0", "4.0", "0.0"],
        ["y", "3.0", "0.0", "1.0"],
    ]


def test_a_formula_with_a_comma_is_quoted_in_csv():
    text = ok("atan(y/x), x*pow(y, 2)", "--at", "x=1,y=1", "--format", "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[0] for row in rows] == ["output", "atan(y/x)", "x*y**2"]
    text = ok("s = x + y; s, s*2", "--at", "x=1,y=1", "--format", "csv")
    assert [row[0] for row in csv.reader(io.StringIO(text))] == ["output", "s", "s*2"]


def test_table_in_a_pipe_has_no_box_and_rounds():
    text = ok(POLAR, *AT, "--format", "table", "--precision", "3")
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0] == "r = sqrt(x^2 + y^2); r, atan(y/x)  at  x = 3, y = 4"
    assert lines[1].split() == ["f", "∂/∂x", "∂/∂y"]
    assert lines[2].split() == ["r", "5", "0.6", "0.8"]
    assert lines[3].split() == ["atan(y/x)", "0.927", "-0.16", "0.12"]
    assert not any(c in text for c in "─│╭\x1b")


def test_table_is_the_default_on_a_terminal():
    code, shown = run_on_terminal("jacobian", "x*y, x + y", "--at", "x=2,y=3")
    assert code == 0
    text = shown.decode()
    assert "f = x*y, x + y  at  x = 2, y = 3" in text
    assert "∂/∂x" in text and "\x1b" not in text  # NO_COLOR: no escape sequence


def test_wrt_selects_and_orders_the_columns():
    data = json.loads(ok(POLAR, *AT, "--wrt", "y", "--wrt", "x", "--format", "json"))
    full = json.loads(ok(POLAR, *AT, "--format", "json"))
    assert data["variables"] == ["y", "x"]
    assert data["jacobian"] == [row[::-1] for row in full["jacobian"]]
    data = json.loads(ok(POLAR, *AT, "--wrt", "y", "--wrt", "y", "--format", "json"))
    assert data["variables"] == ["y"]


def test_wrt_a_defined_name_at_one_point():
    data = json.loads(ok(POLAR, *AT, "--wrt", "r", "--wrt", "x", "--format", "json"))
    assert data["variables"] == ["r", "x"]
    assert data["jacobian"][0][0] == 1.0  # d r / d r
    assert data["jacobian"][1][0] == 0.0  # atan(y/x) does not go through r


def test_outputs_that_are_variables_or_constants():
    data = json.loads(ok("x*y, 3, y, x", "--at", "x=2,y=5", "--format", "json"))
    assert data["value"] == [10.0, 3.0, 5.0, 2.0]
    # Each pass starts from zero: a variable the output does not reach is 0,
    # whatever the pass before left in it.
    assert data["jacobian"] == [[5.0, 2.0], [0.0, 0.0], [0.0, 1.0], [1.0, 0.0]]


def test_a_program_without_variables():
    data = json.loads(ok("2, pi", "--format", "json"))
    assert (data["variables"], data["value"], data["jacobian"]) == ([], [2.0, math.pi], [[], []])


def test_the_program_from_a_file(tmp_path):
    path = tmp_path / "polar.ad"
    path.write_text("r = sqrt(x^2 + y^2)\nr, atan(y/x)\n")
    data = json.loads(ok("--file", str(path), *AT, "--format", "json"))
    assert data["outputs"] == ["r", "atan(y/x)"] and data["value"][0] == 5.0


# -- the same numbers as grad ------------------------------------------------------

SINGLE = [
    "4*x**2 - 2*x + 5",
    "tanh(x*w + b)",
    "x*y + sin(x)",
    "n = x*y; tanh(n) + n**2",
    "sqrt(x**2 + y**2 + 1)/(1 + exp(-x))",
    "relu(x - 1) + abs(y) + sigmoid(x*y)",
]
SINGLE_AT = ["--at", "x=0.7,y=-1.3,w=2,b=0.25"]


@pytest.mark.parametrize("text", extended(SINGLE, 2))
def test_one_output_is_one_row_equal_to_grad(text):
    grad = json.loads(run_cli("grad", text, *SINGLE_AT, "--format", "json").stdout)
    data = json.loads(ok(text, *SINGLE_AT, "--format", "json"))
    assert data["variables"] == list(grad["grad"])
    assert data["value"] == [grad["value"]]
    assert data["jacobian"] == [list(grad["grad"].values())]  # bit for bit
    assert data["at"] == grad["at"]


# A program of several outputs, and each output as a program of its own.
PROGRAMS = [
    ("x*y, x + y, x/y", ["x*y", "x + y", "x/y"]),
    (POLAR, ["r = sqrt(x^2 + y^2); r", "atan(y/x)"]),
    (
        "s = sin(x)*y; c = cos(y)\ns*c, s + c, exp(s/4), c",
        [
            "s = sin(x)*y; c = cos(y); s*c",
            "s = sin(x)*y; c = cos(y); s + c",
            "exp(sin(x)*y/4)",
            "cos(y)",
        ],
    ),
    (
        "a = x - y; b = a*a; b, sqrt(b + 1), tanh(a)*x",
        ["a = x - y; a*a", "a = x - y; sqrt(a*a + 1)", "tanh(x - y)*x"],
    ),
]


@pytest.mark.parametrize(("program", "alone"), extended(PROGRAMS, 2, several=True))
def test_each_row_is_grad_of_its_output(program, alone):
    at = ["--at", "x=0.8,y=1.9"]
    data = json.loads(ok(program, *at, "--format", "json"))
    assert len(data["outputs"]) == len(alone)
    for k, text in enumerate(alone):
        result = run_cli("grad", text, *at, "--format", "json")
        assert result.returncode == 0, result.stderr
        grad = json.loads(result.stdout)
        assert data["value"][k] == grad["value"], (k, text)
        row = dict(zip(data["variables"], data["jacobian"][k], strict=True))
        assert row == {n: grad["grad"].get(n, 0.0) for n in data["variables"]}, (k, text)


@pytest.mark.parametrize(("program", "alone"), PROGRAMS)
def test_rows_equal_each_output_alone_in_the_library(program, alone):
    expression = parse(program)
    point = {"x": -0.6, "y": 1.1}
    record = jacobian_at(program, point)
    for k in range(len(expression.outputs)):
        value, grad = expression.output(k).gradient(point)  # the tape, on the output alone
        assert record.value[k] == value
        assert record.jacobian[k] == tuple(grad.get(n, 0.0) for n in record.variables)


def test_the_shared_graph_is_evaluated_once_and_backward_runs_once_per_output(monkeypatch):
    import autodiff.core.expression as expression_module

    applied: list[str] = []
    real_apply = expression_module.apply

    def counting_apply(op: Any, *args: Any) -> Any:
        applied.append(op.name)
        return real_apply(op, *args)

    passes: list[float] = []
    real_backward = Value.backward

    def counting_backward(self: Value, *args: Any, **kwargs: Any) -> None:
        passes.append(self.data)
        real_backward(self, *args, **kwargs)

    monkeypatch.setattr(expression_module, "apply", counting_apply)
    monkeypatch.setattr(Value, "backward", counting_backward)
    program = "s = sin(x*y); s*2, s + x, exp(s)"
    record = jacobian_at(program, {"x": 0.5, "y": 2.0})
    operations = [step for step in parse(program).steps if step.op is not None]
    assert len(applied) == len(operations) == 5  # x*y and sin once; then *, +, exp
    assert applied.count("sin") == 1
    assert len(passes) == 3
    s = math.sin(1.0)
    assert record.value == (2 * s, s + 0.5, math.exp(s))


# -- against SymPy -------------------------------------------------------------------

X, Y, Z = sympy.symbols("x y z", real=True)
SYMBOLS = {"x": X, "y": Y, "z": Z, "s": X * Y + Z}  # s: a definition the outputs share
TEMPLATES: list[tuple[str, Any]] = [
    ("sin({a})*{b}", lambda a, b: sympy.sin(a) * b),
    ("exp({a}/3) + {b}**2", lambda a, b: sympy.exp(a / 3) + b**2),
    ("atan({a} - 2*{b})", lambda a, b: sympy.atan(a - 2 * b)),
    ("sqrt({a}**2 + {b}**2 + 1)", lambda a, b: sympy.sqrt(a**2 + b**2 + 1)),
    ("tanh({a}*{b})", lambda a, b: sympy.tanh(a * b)),
    ("log({a}**2 + 1)*{b}", lambda a, b: sympy.log(a**2 + 1) * b),
    ("{a}/(1 + {b}**2)", lambda a, b: a / (1 + b**2)),
    ("cosh({a}/4) - {b}", lambda a, b: sympy.cosh(a / 4) - b),
    ("pow({a}, 2)*cos({b})", lambda a, b: a**2 * sympy.cos(b)),
    ("{a}", lambda a, b: a),
]
NAMES = ("x", "y", "z", "s")


@st.composite
def programs(draw: Any) -> tuple[str, list[Any], dict[str, float]]:
    count = draw(st.integers(1, 4))
    texts, forms = [], []
    for _ in range(count):
        template, form = draw(st.sampled_from(TEMPLATES))
        a, b = draw(st.sampled_from(NAMES)), draw(st.sampled_from(NAMES))
        texts.append(template.format(a=a, b=b))
        forms.append(form(SYMBOLS[a], SYMBOLS[b]))
    text = ", ".join(texts)
    if "s" in text:
        text = "s = x*y + z\n" + text
    number = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3))
    point = {name: draw(number) for name in ("x", "y", "z")}
    return text, forms, point


@settings(max_examples=80, derandomize=True, deadline=None, database=None)
@given(programs())
def test_the_jacobian_agrees_with_sympy(case):
    text, forms, point = case
    expression = parse(text)
    record = jacobian_at(text, point)
    assert record.variables == expression.variables
    columns = [SYMBOLS[n] for n in record.variables]
    exact = {X: sympy.Rational(str(point["x"])), Y: sympy.Rational(str(point["y"]))}
    exact[Z] = sympy.Rational(str(point["z"]))
    matrix = sympy.Matrix(forms).jacobian(columns) if columns else None
    for k, form in enumerate(forms):
        assert math.isclose(
            record.value[k], float(form.subs(exact).evalf(50)), rel_tol=1e-12, abs_tol=1e-12
        ), (text, k)
        for j in range(len(columns)):
            assert matrix is not None
            truth = float(matrix[k, j].subs(exact).evalf(50))
            got = record.jacobian[k][j]
            assert math.isclose(got, truth, rel_tol=1e-9, abs_tol=1e-12), (text, k, j, got, truth)


# -- many points ---------------------------------------------------------------------

POINTS_CSV = "id,x,y\na,0.5,1\nb,1,2\nc,-1.5,0.5\nd,2.25,-3\n"


def test_points_csv_one_record_per_point_as_at_one_point(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(POINTS_CSV)
    text = ok(POLAR, "--points", str(path), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = text.splitlines()[0].split(",")
    assert header == ["id", "x", "y", "f1", "d1_x", "d1_y", "f2", "d2_x", "d2_y", "error"]
    assert [row["id"] for row in rows] == ["a", "b", "c", "d"]
    for row in rows:
        single = jacobian_at(POLAR, {"x": float(row["x"]), "y": float(row["y"])})
        assert row["error"] == ""
        for k in range(2):
            assert float(row[f"f{k + 1}"]) == pytest.approx(single.value[k], rel=1e-14)
            for j, name in enumerate(single.variables):
                got = float(row[f"d{k + 1}_{name}"])
                assert got == pytest.approx(single.jacobian[k][j], rel=1e-13, abs=1e-15)


def test_points_tsv_and_wrt(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(POINTS_CSV)
    text = ok("x*y, x + y", "--points", str(path), "--wrt", "y", "--format", "tsv")
    lines = text.splitlines()
    assert lines[0] == "id\tx\ty\tf1\td1_y\tf2\td2_y\terror"
    assert lines[1] == "a\t0.5\t1\t0.5\t0.5\t1.5\t1.0\t"


def test_points_from_stdin_as_json_lines_carry_the_other_fields():
    text = ok("x*y, y", "--points", "-", "--format", "jsonl", input=POINTS_CSV)
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == 4
    first = records[0]
    assert first == {
        "expr": "x*y, y",
        "at": {"x": 0.5, "y": 1.0},
        "outputs": ["x*y", "y"],
        "variables": ["x", "y"],
        "value": [0.5, 1.0],
        "jacobian": [[1.0, 0.5], [0.0, 1.0]],
        "extra": {"id": "a"},
    }
    # json: one array of the same objects
    array = json.loads(ok("x*y, y", "--points", "-", "--format", "json", input=POINTS_CSV))
    assert array == records


def test_points_plain_and_table(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x,y\n1,2\n3,4\n")
    text = ok("x*y, x + y", "--points", str(path), "--format", "plain")
    assert text == (
        "x\t1\ny\t2\noutput\tvalue\td/dx\td/dy\nx*y\t2.0\t2.0\t1.0\nx + y\t3.0\t1.0\t1.0\n"
        "\n"
        "x\t3\ny\t4\noutput\tvalue\td/dx\td/dy\nx*y\t12.0\t4.0\t3.0\nx + y\t7.0\t1.0\t1.0\n"
    )
    table = ok("x*y, x + y", "--points", str(path), "--format", "table")
    lines = [line.split() for line in table.splitlines()]
    assert table.splitlines()[0] == f"f = x*y, x + y  at  each row of {path}"
    del lines[0]
    assert lines[0] == ["x", "y", "f1", "∂f1/∂x", "∂f1/∂y", "f2", "∂f2/∂x", "∂f2/∂y"]
    assert lines[1] == ["1", "2", "2", "2", "1", "3", "1", "1"]


def test_points_jsonl_input_and_defaults_from_at(tmp_path):
    path = tmp_path / "points.jsonl"
    path.write_text('{"x": 2, "y": 5}\n{"x": 1}\n')
    text = ok("x*y, x", "--points", str(path), "--at", "y=10", "--format", "csv")
    assert text.splitlines() == [
        "x,y,f1,d1_x,d1_y,f2,d2_x,d2_y,error",
        "2,5,10.0,5.0,2.0,2.0,1.0,0.0,",
        "1,,10.0,10.0,1.0,1.0,1.0,0.0,",
    ]


def test_a_failed_record_keeps_its_place_and_names_the_output(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x,y\n1,2\n0,1\n-1,abc\n4,2\n")
    result = run_cli("jacobian", "x*y, y/x", "--points", str(path), "--format", "csv")
    assert result.returncode == 2  # a record that cannot be read outranks a math failure
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["error"] for row in rows] == [
        "",
        "output 2 (y/x): 1/0 is undefined: the divisor must not be 0",
        "y: 'abc' is not a number",
        "",
    ]
    assert rows[1]["f1"] == rows[1]["d1_x"] == ""  # no number of a failed record
    assert rows[3]["f2"] == "0.5"
    assert result.stderr.splitlines() == [
        "autodiff: line 3: error: output 2 (y/x): 1/0 is undefined: the divisor must not be 0",
        "autodiff: line 4: error: y: 'abc' is not a number",
    ]
    only_math = run_cli("jacobian", "x*y, y/x", "--points", "-", input="x,y\n0,1\n")
    assert only_math.returncode == 1


def test_points_errors_in_json_lines():
    result = run_cli(
        "jacobian", "x, log(x)", "--points", "-", "--format", "jsonl", input="x\n1\n-1\n"
    )
    assert result.returncode == 1
    bad = json.loads(result.stdout.splitlines()[1])
    assert bad["value"] is None and bad["jacobian"] is None
    assert bad["error"].startswith("output 2 (log(x)): log(-1) is undefined")


def test_an_output_column_name_in_the_input_is_refused(tmp_path):
    result = run_cli("jacobian", "x, x*2", "--points", "-", "--format", "csv", input="x,f2\n1,2\n")
    assert (result.returncode, result.stdout) == (2, "")
    assert "the input column 'f2' has the name of an output column" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wrt", "z"], "--wrt z: not a variable of the expression (variables: x, y, s)"),
        (["--wrt", "s"], "--wrt s: a defined name's partials are given at one point (--at)"),
    ],
)
def test_points_refuse_a_bad_wrt_before_any_output(args, message):
    result = run_cli("jacobian", "s = x*y; s, y", "--points", "-", *args, input="x,y\n1,2\n")
    assert (result.returncode, result.stdout) == (2, "")
    assert message in result.stderr


def test_points_without_a_variables_column():
    result = run_cli("jacobian", "x, y", "--points", "-", "--format", "csv", input="x\n1\n")
    assert (result.returncode, result.stdout) == (2, "")
    assert "no value for variable 'y'" in result.stderr


def test_chunks_of_points_in_the_library():
    from autodiff.features.jacobian import chunk_jacobian
    from autodiff.features.points import PointReader

    expression = parse(POLAR)
    reader = PointReader(io.StringIO(POINTS_CSV), "csv", expression.variables, {}, chunk_size=3)
    parts = [expression.output(k) for k in range(2)]
    texts = expression.output_texts()
    chunks = list(reader)
    assert [len(c) for c in chunks] == [3, 1]
    for chunk in chunks:
        result = chunk_jacobian(parts, texts, ["y", "x"], chunk)
        assert result.errors == {}
        for i in range(len(chunk)):
            point = {n: float(chunk.values[n][i]) for n in ("x", "y")}
            single = jacobian_at(POLAR, point, ("y", "x"))
            for k in range(2):
                assert result.value[k][i] == pytest.approx(single.value[k], rel=1e-14)
                got = [float(result.jacobian[k][j][i]) for j in range(2)]
                assert got == pytest.approx(list(single.jacobian[k]), rel=1e-13, abs=1e-15)


# -- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    extended(
        [
            (["x, log(x)", "--at", "x=-1"], 1, "output 2 (log(x)): log(-1) is undefined"),
            (["x, 1/x", "--at", "x=0"], 1, "output 2 (1/x): 1/0 is undefined"),
            (["exp(x), x", "--at", "x=1000"], 1, "output 1 (exp(x)): exp(1000) overflows"),
            (
                ["x, sqrt(x)", "--at", "x=0"],
                1,
                "output 2 (sqrt(x)): the derivative of sqrt at 0 is not finite",
            ),
            (
                ["x, x**0.5*1e308*1e10", "--at", "x=1e-300"],
                1,
                "output 2 (x**0.5*1e308*1e10): the partial d/dx is not finite",
            ),
            (["x*y, x +", "--at", "x=1,y=2"], 2, "syntax error: an operator with no right operand"),
            (["x*y, x + y", "--at", "x=1"], 2, "no value for variable 'y'; add --at y=VALUE"),
            (
                ["x*y, x + y", "--at", "x=1,y=2", "--wrt", "z"],
                2,
                "--wrt z: not a variable of the expression (variables: x, y)",
            ),
            (
                ["r = x*y; r, x", "--at", "x=1,y=2,r=3"],
                2,
                "r is defined by the expression; it cannot be given a value",
            ),
            (["x, y", "--at", "x=1,y=2", "--format", "xml"], 2, "unknown --format 'xml'"),
            (["-", "--at", "x=1"], 2, "autodiff jacobian reads one program"),
            (
                ["x*y, x + y", "--at", "x=1,y=2", "--max-work", "5"],
                2,
                "the Jacobian's 2 backward passes (one per output) would visit more than 5 values;"
                " raise the limit with --max-work N",
            ),
            (["x, y", "--at", "x=1,y=2", "--max-nodes", "1"], 2, "more than 1 nodes"),
        ],
        7,
        several=True,
    ),
)
def test_errors_have_a_message_an_exit_code_and_no_output(args, code, message):
    result = run_cli("jacobian", *args)
    assert (result.returncode, result.stdout) == (code, ""), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("autodiff: ")
    assert message in result.stderr


def test_work_is_counted_per_output_over_what_it_depends_on():
    from autodiff.features.jacobian import backward_visits

    # Ten outputs of two values each (x and the sum) and the constants: not 10 × all.
    expression = parse(", ".join(f"x + {k}" for k in range(10)))
    assert backward_visits(expression, 10**6) == 30
    assert backward_visits(expression, 5) > 5  # stops once past the limit
    ok(", ".join(f"x + {k}" for k in range(10)), "--at", "x=1", "--max-work", "30")


def test_grad_points_to_jacobian_for_several_outputs():
    result = run_cli("grad", "x*y, x + y", "--at", "x=1,y=2")
    assert result.returncode == 2 and "use autodiff jacobian" in result.stderr


def test_library_errors():
    with pytest.raises(EvaluationError, match=r"^output 2 \(log\(x\)\): log\(-1\)") as caught:
        jacobian_at("x, log(x)", {"x": -1})
    assert caught.value.kind == "value" and caught.value.op == "log"
    with pytest.raises(MissingValueError):
        jacobian_at("x, y", {"x": 1})
    with pytest.raises(UsageError, match="wrt z"):
        jacobian_at("x, y", {"x": 1, "y": 2}, ("z",))
    # An output that fails is named, not the first output the failing step belongs to.
    with pytest.raises(EvaluationError, match=r"^output 1 \(sqrt\(x - 2\)\)"):
        jacobian_at("sqrt(x - 2), x", {"x": 1})


def test_the_result_is_frozen():
    record = jacobian_at("x*y, x", {"x": 1, "y": 2})
    with pytest.raises(AttributeError):
        record.value = (0.0, 0.0)  # type: ignore[misc]
