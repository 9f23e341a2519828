"""grad --order, hessian and diff through a real subprocess: formats, streams, exit codes."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys

import pytest

from conftest import SRC, cli_env, extended, run_cli


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


# -- grad --order ---------------------------------------------------------------


def test_order_two_of_the_card_example():
    assert ok("grad", "4*x**2-2*x+5", "--at", "x=3", "--order", "2") == "value\t35.0\nd2/dx2\t8.0\n"


def test_order_four_of_sin_is_sin_in_json():
    data = json.loads(ok("grad", "sin(x)", "--order", "4", "--at", "x=1", "--format", "json"))
    assert data["order"] == 4
    assert list(data["grad"]) == ["x"]
    assert data["grad"]["x"] == pytest.approx(math.sin(1), abs=1e-15)
    assert data["value"] == math.sin(1)
    assert data["at"] == {"x": 1.0}


def test_order_with_wrt_among_several_variables_csv_tsv_and_table():
    out = ok(
        "grad", "x**2*y**3", "--at", "x=1,y=2", "--wrt", "y", "--order", "2", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows == [{"x": "1.0", "y": "2.0", "value": "8.0", "d2_y": "12.0"}]
    out = ok("grad", "x**3", "--at", "x=2", "--order", "2", "--format", "jsonl")
    assert json.loads(out) == {
        "expr": "x**3",
        "at": {"x": 2.0},
        "value": 8.0,
        "grad": {"x": 12.0},
        "order": 2,
    }
    out = ok("grad", "x**3", "--at", "x=2", "--order", "3", "--format", "tsv")
    assert out.splitlines() == ["x\tvalue\td3_x", "2.0\t8.0\t6.0"]
    out = ok("grad", "x**3", "--at", "x=2", "--order", "2", "--format", "table")
    assert "∂²f/∂x²" in out and "12" in out and not any(c in out for c in "─│╭\x1b")


def test_order_one_agrees_with_plain_grad():
    for fmt in ("plain", "csv", "tsv"):
        first = ok("grad", "x*sin(x)", "--at", "x=0.3", "--order", "1", "--format", fmt)
        assert first == ok("grad", "x*sin(x)", "--at", "x=0.3", "--format", fmt)


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    extended(
        [
            (["x*y", "--at", "x=1,y=2", "--order", "2"], 2, ["--wrt", "variables: x, y"]),
            (
                ["x*y", "--at", "x=1,y=2", "--order", "2", "--wrt", "x", "--wrt", "y"],
                2,
                ["hessian"],
            ),
            (["x*y", "--at", "x=1,y=2", "--order", "2", "--wrt", "z"], 2, ["z", "variables: x, y"]),
            (["x", "--at", "x=1", "--order", "0"], 2, ["--order"]),
            (["x", "--at", "x=1", "--order", "two"], 2, ["--order"]),
            (["x + y", "--at", "x=1", "--order", "2", "--wrt", "x"], 2, ["--at y="]),
            (["sqrt(x)", "--at", "x=0", "--order", "2"], 1, ["derivative of sqrt at 0"]),
            (["log(x)", "--at", "x=-1", "--order", "2"], 1, ["log(-1)"]),
            (["3", "--order", "2"], 2, ["--wrt"]),
            (["x", "--points", "p.csv", "--order", "2"], 2, ["--order", "--points"]),
            (["-", "--at", "x=1", "--order", "2"], 2, ["--order", "'-'"]),
            (
                ["tanh(x*y + sin(x))", "--at", "x=1,y=2", "--wrt", "x", "--order", "1000"],
                2,
                ["limit"],
            ),
        ],
        6,
        several=True,
    ),
)
def test_order_errors(args, code, needles):
    result = run_cli("grad", *args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr


# -- hessian --------------------------------------------------------------------


def test_hessian_json_is_symmetric_for_the_issue_example():
    data = json.loads(ok("hessian", "x**2*y**3", "--at", "x=1.5,y=-2", "--format", "json"))
    assert list(data) == ["expr", "at", "variables", "value", "grad", "hessian"]
    assert data["variables"] == ["x", "y"]
    h = data["hessian"]
    assert h == [[2 * -8.0, 6 * 1.5 * 4], [6 * 1.5 * 4, 6 * 1.5**2 * -2]]
    assert h[0][1] == h[1][0]
    assert data["grad"] == {"x": -24.0, "y": 27.0}
    assert data["value"] == -18.0


def test_hessian_plain_csv_tsv_and_table():
    out = ok("hessian", "x*y + y**2", "--at", "x=1,y=2")  # plain in a pipe
    assert out.splitlines() == [
        "value\t6.0",
        "d/dx\t2.0",
        "d/dy\t5.0",
        "d2/dx2\t0.0",
        "d2/dxdy\t1.0",
        "d2/dydx\t1.0",
        "d2/dy2\t2.0",
    ]
    out = ok("hessian", "x*y + y**2", "--at", "x=1,y=2", "--format", "csv")
    assert out == ",x,y\nx,0.0,1.0\ny,1.0,2.0\n"
    out = ok("hessian", "x*y + y**2", "--at", "x=1,y=2", "--format", "tsv")
    assert out == "\tx\ty\nx\t0.0\t1.0\ny\t1.0\t2.0\n"
    out = ok("hessian", "x*y + y**2", "--at", "x=1,y=2", "--format", "table")
    assert "∂f/∂y" in out and "∂²f" in out
    assert not any(c in out for c in "─│╭\x1b")


def test_hessian_floats_round_trip():
    data = json.loads(ok("hessian", "exp(x/3)", "--at", "x=1", "--format", "json"))
    second = data["hessian"][0][0]
    assert math.isclose(second, math.exp(1 / 3) / 9, rel_tol=1e-15)
    assert f"d2/dx2\t{second!r}\n" in ok("hessian", "exp(x/3)", "--at", "x=1")


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (["x*y", "--at", "x=1"], 2, ["--at y="]),
        (["x*", "--at", "x=1"], 2, ["syntax error", "^"]),
        (["x", "--at", "x=1", "--format", "latex"], 2, ["latex", "csv"]),
        (["x**y", "--at", "x=-2,y=2"], 1, ["derivative of pow"]),
        (["sqrt(x)", "--at", "x=0"], 1, ["derivative of sqrt at 0"]),
        (["2*pi"], 2, ["no variable"]),
    ],
)
def test_hessian_errors(args, code, needles):
    result = run_cli("hessian", *args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr


# -- diff -----------------------------------------------------------------------


def test_diff_of_the_card_example():
    assert ok("diff", "4*x**2 - 2*x + 5") == "8*x - 2\n"
    assert ok("diff", "4*x**2 - 2*x + 5", "--order", "2") == "8\n"


def test_diff_output_feeds_grad():
    # The documented pipeline: autodiff grad "$(autodiff diff EXPR)" --at x=3
    result = subprocess.run(
        ["bash", "-c", '"$PY" -m autodiff grad "$("$PY" -m autodiff diff "$F")" --at x=0.7'],
        capture_output=True,
        text=True,
        env=cli_env({"F": "x**3*tanh(x) - log(x)", "PY": sys.executable}),
        cwd=SRC.parent,
    )
    assert result.returncode == 0, result.stderr
    value = float(result.stdout.splitlines()[0].split("\t")[1])
    slope = float(ok("grad", "x**3*tanh(x) - log(x)", "--at", "x=0.7").splitlines()[1].split()[1])
    assert math.isclose(value, slope, rel_tol=1e-12)


def test_diff_several_variables_and_wrt():
    assert ok("diff", "x**2*y**3") == "x: 2*x*y**3\ny: 3*x**2*y**2\n"
    assert ok("diff", "x**2*y**3", "--wrt", "y") == "3*x**2*y**2\n"
    assert ok("diff", "x**2*y**3", "--wrt", "y", "--wrt", "x", "--order", "2") == (
        "y: 6*x**2*y\nx: 2*y**3\n"
    )


def test_diff_json():
    data = json.loads(ok("diff", "sin(x)*y", "--wrt", "x", "--format", "json"))
    assert data == {"expr": "sin(x)*y", "wrt": "x", "order": 1, "derivative": "y*cos(x)"}
    data = json.loads(ok("diff", "sin(x)*y", "--order", "2", "--format", "json"))
    assert data == [
        {"expr": "sin(x)*y", "wrt": "x", "order": 2, "derivative": "-y*sin(x)"},
        {"expr": "sin(x)*y", "wrt": "y", "order": 2, "derivative": "0"},
    ]


def test_diff_latex():
    assert ok("diff", "sin(x)/x", "--format", "latex") == (
        r"\frac{\cos\left(x\right)}{x} - \frac{\sin\left(x\right)}{x^{2}}" + "\n"
    )
    assert ok("diff", "x**2*y", "--format", "latex", "--order", "2") == (
        r"\frac{\partial^{2} f}{\partial x^{2}} = 2 y" + "\n"
        r"\frac{\partial^{2} f}{\partial y^{2}} = 0" + "\n"
    )


def test_diff_accepts_expressions_that_look_like_options():
    assert ok("diff", "-x**2") == "-2*x\n"
    assert ok("diff", "--wrt", "x", "--", "-x*y") == "-y\n"


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    extended(
        [
            (["x", "--wrt", "y"], 2, ["--wrt y", "variables: x"]),
            (["x", "--format", "csv"], 2, ["csv", "latex"]),
            (["x", "--order", "0"], 2, ["--order"]),
            (["3"], 2, ["no variable"]),
            (["4x"], 2, ["4*x", "^"]),
            (["x/0"], 1, ["division by zero"]),
            (["x*log(0)"], 1, ["log(0)"]),
            (["x*(-8)**(1/3)"], 1, ["(-8)**"]),
            (["tanh(x*y + sin(x))", "--wrt", "x", "--order", "12"], 2, ["characters long"]),
            (["x*1e300*1e300"], 1, ["too large for a float"]),
            (["sin(" * 4000 + "x" + ")" * 4000], 2, ["1,000,000 characters", "--max-chars N"]),
            (["sin(" * 30 + "x" + ")" * 30, "--max-chars", "1000"], 2, ["1,000 characters"]),
            (["*".join(f"v{i}" for i in range(400)), "--max-chars", "20000"], 2, ["10,000 steps"]),
            (["x", "--max-chars", "0"], 2, ["--max-chars"]),
        ],
        7,
        several=True,
    ),
)
def test_diff_errors(args, code, needles):
    result = run_cli("diff", *args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr) < 300  # one line, however long the numbers inside
    for needle in needles:
        assert needle in result.stderr


def test_diff_reads_a_literal_past_the_exact_bound_as_the_language_does():
    # 1e-9999999999 is never built as 10**(10**10): it is the float 0.0, as grad reads it.
    assert ok("diff", "x*1e-9999999999 + x*1e-400 + 2*x") == "2\n"
    assert ok("diff", "x*1e-320") == "1e-320\n"


def test_diff_of_long_sums_is_quick():
    polynomial = " + ".join(["x"] + [f"x**{k}" for k in range(2, 1001)])
    assert ok("diff", polynomial).startswith("1000*x**999 + 999*x**998 + ")
    every = ok("diff", " + ".join(f"v{i}" for i in range(2000)))
    assert every == "".join(f"v{i}: 1\n" for i in range(2000))


def test_help_lists_the_new_commands():
    text = ok("--help")
    assert "hessian" in text and "diff" in text
    assert "--order" in ok("grad", "--help")
    assert "--wrt" in ok("diff", "--help")
