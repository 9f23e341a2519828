"""The command line as users of gh, rg and jq expect it (issue 14): mistyped
options, options without their value, and one style for every error."""

from __future__ import annotations

import pytest

from conftest import run_cli

FORMATS = "table, plain, json, jsonl, csv, tsv"


def refused(*args: str) -> str:
    result = run_cli(*args)
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.mark.parametrize(
    ("args", "typo", "meant"),
    [
        (["grad", "x**2", "--at", "x=3", "--fromat", "json"], "--fromat", "--format"),
        (["grad", "--fromat", "json", "x", "--at", "x=1"], "--fromat", "--format"),
        (["graph", "x", "-o", "-", "--rankdri", "TB"], "--rankdri", "--rankdir"),
        (["check", "x", "--at", "x=1", "--setp", "0.1"], "--setp", "--step"),
    ],
)
def test_a_mistyped_option_is_an_error_with_a_suggestion(args, typo, meant):
    stderr = refused(*args)
    assert stderr.startswith(f"autodiff: error: no such option '{typo}'; did you mean '{meant}'?")
    assert "goes after --" in stderr  # how to pass an expression that looks like one


@pytest.mark.parametrize("expr", ["--x", "-x**2", "-w1*o", "--xy"])
def test_expressions_that_look_like_options_stay_expressions(expr):
    result = run_cli("grad", expr, "--at", "x=2,w1=1,o=3,xy=1")
    assert result.returncode == 0, result.stderr


def test_an_unknown_option_read_as_an_expression_says_so():
    stderr = refused("grad", "--verbose", "--at", "x=1")
    assert (
        "'--verbose' is not an option of autodiff grad, so it was read as the expression" in stderr
    )
    assert "--format" in stderr and "--wrt" in stderr  # the options are listed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grad", "x", "--at", "x=2", "--format"], f"--format needs a value (one of {FORMATS})"),
        (["grad", "x", "--format", "--at", "x=2"], f"--format needs a value (one of {FORMATS})"),
        (["grad", "x", "--at"], "--at needs a value (NAME=VALUE)"),
        (["graph", "x", "-o"], "-o needs a value (FILE)"),
    ],
)
def test_an_option_without_its_value_says_so(args, message):
    assert refused(*args) == f"autodiff: error: {message}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["grad", "x", "--at", "x=1", "--precision", "abc"],
            "--precision must be a whole number from 1 to 17, got 'abc'",
        ),
        (
            ["grad", "x", "--at", "x=1", "--order", "0"],
            "--order must be a whole number of at least 1",
        ),
        (["plot", "x"], "missing option -o / --output"),
        (["gard", "x"], "no such command 'gard'"),
        (["grad", "x", "--at", "x=1", "extra"], "got unexpected extra argument"),
    ],
)
def test_every_error_has_one_style(args, message):
    stderr = refused(*args)
    lines = stderr.splitlines()
    assert lines[0].startswith("autodiff: error: ") and message in lines[0]
    assert len(lines) == 2 and lines[1].startswith("try 'autodiff") and lines[1].endswith("--help'")
    assert "Usage:" not in stderr and "Error:" not in stderr


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (["--at", "x=3", "--at", "x=4"], "--at gives x twice (x=3 too)"),
        (["--at", "x=3,x=4"], "--at gives x twice (x=3 too)"),
        (["--at", "x=1,e=3"], "bad --at 'e=3': e is a constant of the language, not a variable"),
        (["--at", "pi=1"], "bad --at 'pi=1': pi is a constant of the language, not a variable"),
        (["--at", "sin=1"], "bad --at 'sin=1': sin is a function of the language, not a variable"),
    ],
)
def test_a_point_that_says_the_wrong_thing_is_refused(at, message):
    assert refused("grad", "x", *at) == f"autodiff: error: {message}\n"
