"""autodiff grad through a real subprocess: outputs, streams and exit codes."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from conftest import extended, run_cli

NEURON_AT = [
    "--at",
    "x1=2",
    "--at",
    "x2=0",
    "--at",
    "w1=-3",
    "--at",
    "w2=1",
    "--at",
    "b=6.8813735870195432",
]


def test_plain_is_the_default_in_a_pipe():
    result = run_cli("grad", "4*x**2 - 2*x + 5", "--at", "x=3")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "value\t35.0\nd/dx\t22.0\n"
    assert result.stderr == ""


def test_neuron_json_has_value_and_grad_in_order_of_appearance():
    result = run_cli("grad", "tanh(x1*w1 + x2*w2 + b)", *NEURON_AT, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["expr"] == "tanh(x1*w1 + x2*w2 + b)"
    assert list(data["grad"]) == ["x1", "w1", "x2", "w2", "b"]
    assert data["value"] == pytest.approx(math.sqrt(0.5), abs=1e-12)
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}
    for name, partial in expected.items():
        assert data["grad"][name] == pytest.approx(partial, abs=1e-12)
    assert data["at"]["b"] == 6.8813735870195432


def test_comma_joined_points_and_constant_expressions():
    result = run_cli("grad", "a*b + c", "--at", "a=2,b=-3,c=10", "--format", "json")
    data = json.loads(result.stdout)
    assert data["value"] == 4.0 and data["grad"]["c"] == 1.0
    result = run_cli("grad", "x*y", "--at", "x=pi/2,y=pow(2, 0.5)", "--format", "json")
    data = json.loads(result.stdout)
    assert data["at"] == {"x": math.pi / 2, "y": 2**0.5}


def test_floats_round_trip_in_machine_formats():
    result = run_cli("grad", "x/3", "--at", "x=1", "--format", "json")
    assert json.loads(result.stdout)["value"] == 1 / 3
    result = run_cli("grad", "x/3", "--at", "x=1", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows == [{"x": "1.0", "value": repr(1 / 3), "d_x": repr(1 / 3)}]


def test_tsv_and_wrt():
    result = run_cli("grad", "x*y", "--at", "x=2,y=5", "--wrt", "y", "--format", "tsv")
    assert result.stdout.splitlines() == ["x\ty\tvalue\td_y", "2.0\t5.0\t10.0\t2.0"]


def test_table_when_asked_has_no_box_drawing_in_a_pipe():
    result = run_cli("grad", "4*x**2 - 2*x + 5", "--at", "x=3", "--format", "table")
    assert result.returncode == 0
    assert "35" in result.stdout and "22" in result.stdout and "∂f/∂x" in result.stdout
    assert not any(c in result.stdout for c in "─│╭\x1b")


@pytest.mark.parametrize(
    ("args", "value", "slope"),
    [
        (["-x**2", "--at", "x=3"], -9.0, -6.0),
        (["--at", "x=3", "--format", "json", "--", "-x**2"], -9.0, -6.0),
        (["--x", "--at", "x=1"], 1.0, 1.0),
        (["-x", "--at=x=2"], -2.0, -1.0),
    ],
)
def test_expressions_that_look_like_options(args, value, slope):
    args = args if "--" in args else [*args, "--format", "json"]
    result = run_cli("grad", *args)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["value"], data["grad"]["x"]) == (value, slope)


def test_no_short_option_clustering():
    # Click's ignore_unknown_options would read the 'o' of -w1*o as -o.
    result = run_cli("grad", "-w1*o", "--at", "w1=2,o=3", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["grad"] == {"w1": -3.0, "o": -2.0}


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    extended(
        [
            (["4x^2", "--at", "x=1"], 2, ["4*x", "^"]),
            (["(x+1", "--at", "x=1"], 2, ["missing ')'", "^"]),
            (["x +* 2", "--at", "x=1"], 2, ["no left operand"]),
            (["foo(x)", "--at", "x=1"], 2, ["unknown function 'foo'", "sin"]),
            (["sin(x, 2)", "--at", "x=1"], 2, ["sin takes 1 argument"]),
            (["pi(2)"], 2, ["constant"]),
            (["x + y", "--at", "x=1"], 2, ["'y'", "--at y="]),
            (["x", "--at", "x"], 2, ["bad --at 'x'"]),
            (["x", "--at", "=3"], 2, ["bad --at '=3'", "name"]),
            (["x", "--at", "x=abc"], 2, ["'abc'"]),
            (["x", "--at", "x=1", "--format", "yaml"], 2, ["yaml", "json"]),
            (["x", "--at", "x=1", "--wrt", "z"], 2, ["z", "variables: x"]),
            (["x", "--at", "x=1", "--bogus"], 2, []),
            (["log(x)", "--at", "x=-1"], 1, ["log(-1)", "> 0"]),
            (["sqrt(x)", "--at", "x=-4"], 1, ["sqrt(-4)"]),
            (["asin(x)", "--at", "x=2"], 1, ["asin(2)"]),
            (["1/x", "--at", "x=0"], 1, ["1/0"]),
            (["x**-1", "--at", "x=0"], 1, ["0**-1"]),
            (["(-8)**(1/3)"], 1, ["(-8)**0.333"]),
            (["exp(x)", "--at", "x=1000"], 1, ["exp(1000) overflows"]),
            (["sqrt(x)", "--at", "x=0"], 1, ["derivative of sqrt", "not finite"]),
            (["x*1e308*10", "--at", "x=1"], 1, ["overflows"]),
        ],
        12,
        several=True,
    ),
)
def test_bad_input_gets_a_message_and_an_exit_code(args, code, needles):
    result = run_cli("grad", *args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()
    for needle in needles:
        assert needle in result.stderr


def test_syntax_error_caret_sits_under_the_column():
    result = run_cli("grad", "x + (y * 2", "--at", "x=1,y=2")
    lines = result.stderr.splitlines()
    source, caret = lines[-2], lines[-1]
    assert source.strip() == "x + (y * 2"
    assert caret.index("^") == len(source)  # just past the end: the ')' is missing


def test_version_help_and_module_entry():
    assert run_cli("--version").stdout.startswith("autodiff ")
    help_text = run_cli("--help").stdout
    assert "grad" in help_text
    assert "--at" in run_cli("grad", "--help").stdout
