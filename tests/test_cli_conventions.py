"""The command line as users of gh, rg and jq expect it (issue 14): mistyped
options, options without their value, and one style for every error."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli

FORMATS = "table, plain, json, jsonl, csv, tsv, parquet"  # grad's


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


# -- item 5: forgiving where it cannot be ambiguous ----------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("2\u2212x", "2-x"),  # the minus sign the docs and web pages print
        ("3\u00d7x", "3*x"),
        ("3\u00b7x", "3*x"),
        ("x\u00f74", "x/4"),
        ("ln(x)", "log(x)"),
    ],
)
def test_unicode_operators_and_ln_read_as_their_ascii_spelling(typed, meant):
    found = run_cli("grad", typed, "--at", "x=2.5", "--format", "json")
    expected = run_cli("grad", meant, "--at", "x=2.5", "--format", "json")
    assert found.returncode == 0, found.stderr
    record = json.loads(found.stdout)
    assert record["expr"] == typed  # the expression as typed, read as the ASCII one
    assert {**record, "expr": meant} == json.loads(expected.stdout)


def test_a_unicode_minus_in_a_point():
    result = run_cli("grad", "x**2", "--at", "x=\u22123", "--format", "plain")
    assert (result.returncode, result.stdout) == (0, "value\t9.0\nd/dx\t-6.0\n")


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("sin x", "missing parentheses: write sin(x)"),
        ("log10(x)", "unknown function 'log10': write log(x)/log(10)"),
        ("log2(x)", "unknown function 'log2': write log(x)/log(2)"),
        ("lg(x)", "unknown function 'lg': write log(x)/log(10)"),
        ("(x + 1", "missing ')'"),
        ("ln = 2*x", "'ln' is a function"),
    ],
)
def test_a_hint_where_the_spelling_is_another_tool_s(expr, message):
    result = run_cli("grad", expr, "--at", "x=1")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("autodiff: syntax error: " + message), result.stderr


def test_ln_is_not_a_variable_name():
    assert refused("grad", "x", "--at", "ln=2").startswith("autodiff: error: bad --at 'ln=2'")


# -- item 6: help that reads well, with examples that run ---------------------

HELP_COMMANDS = ["grad", "jacobian", "graph", "explain", "check", "plot", "hessian", "diff"]


def examples_in(help_text: str) -> list[str]:
    lines = help_text.splitlines()
    start = lines.index("  Examples:") + 1
    found = []
    for line in lines[start:]:
        if not line.strip():
            break
        found.append(line.strip())
    return found


@pytest.mark.parametrize("command", HELP_COMMANDS)
def test_every_command_s_help_has_examples_that_run(command, tmp_path):
    import subprocess

    from conftest import shell_env

    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert result.stdout == run_cli(command, "-h").stdout
    assert f"Usage: autodiff {command} [OPTIONS]" in result.stdout
    assert "{EXPR}" not in result.stdout
    assert "<=x" not in result.stdout and "x>=" not in result.stdout
    assert max(map(len, result.stdout.splitlines())) <= 80
    examples = examples_in(result.stdout)
    assert len(examples) >= 2
    env = shell_env(tmp_path)
    for example in examples:
        ran = subprocess.run(
            ["bash", "-o", "pipefail", "-c", example],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ran.returncode == 0, f"{example}: {ran.stderr}"


def test_the_overview_lists_every_command_whole():
    result = run_cli("--help")
    assert result.returncode == 0
    commands = result.stdout.split("Commands:")[1]
    assert "..." not in commands
    for command in HELP_COMMANDS:
        assert f"\n  {command} " in commands


# -- item 4: a point wider than the expression ----------------------------------


@pytest.mark.parametrize("command", ["grad", "explain", "check", "hessian", "jacobian"])
def test_a_name_the_expression_does_not_use_is_a_warning_or_with_strict_an_error(command):
    warned = run_cli(command, "x*x", "--at", "x=1,y=2")
    assert warned.returncode == 0, warned.stderr
    assert warned.stderr == "autodiff: warning: --at gives y, which the expression does not use\n"
    refused = run_cli(command, "x*x", "--at", "x=1,y=2", "--strict")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.startswith("autodiff: error: --at gives y, which the expression")


def test_a_stream_warns_once_about_names_no_record_uses():
    result = run_cli("grad", "-", "--at", "x=1,y=2,z=3", "--format", "csv", input="x\nx*z\nz\n")
    assert result.returncode == 0
    assert result.stderr == "autodiff: warning: --at gives y, which the expression does not use\n"
    strict = run_cli("grad", "-", "--at", "x=1,y=2", "--strict", "--format", "csv", input="x\n")
    assert strict.returncode == 2
    assert strict.stdout == "expr,value,d_x,d_y,error\nx,1.0,1.0,,\n"  # the records first


# -- item 9: typing expressions into a terminal ---------------------------------


def test_expressions_typed_at_a_terminal_get_a_hint_and_an_answer_per_line():
    import os
    import pty
    import select
    import subprocess
    import sys

    from conftest import cli_env

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "autodiff", "grad", "-", "--at", "x=3"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=cli_env({"NO_COLOR": "1", "COLUMNS": "80"}),
    )
    os.close(follower)

    def read_until(needle: bytes, timeout: float = 30) -> bytes:
        shown = b""
        while needle not in shown:
            ready, _, _ = select.select([leader], [], [], timeout)
            assert ready, f"waited for {needle!r}, saw {shown!r}"
            shown += os.read(leader, 65536)
        return shown

    try:
        assert b"one a line (Ctrl-D to end)" in read_until(b"Ctrl-D to end)")
        os.write(leader, b"x**2\n")
        assert b"9" in read_until(b"6")  # the answer before the input ends
        os.write(leader, b"\x04")
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)


# -- item 11: colour that means something, and none when asked -------------------

GREEN, RED = b"\x1b[32m", b"\x1b[31m"


def test_check_s_verdict_in_colour_on_a_terminal_and_no_escape_with_no_color():
    from conftest import run_on_terminal

    code, shown = run_on_terminal("check", "x*x", "--at", "x=1", env={"NO_COLOR": ""})
    assert code == 0
    assert GREEN + b"      agree" in shown or GREEN in shown.split(b"result")[1]
    code, plain = run_on_terminal("check", "x*x", "--at", "x=1", env={"NO_COLOR": "1"})
    assert code == 0 and b"\x1b" not in plain  # the title too
    code, never = run_on_terminal(
        "check", "x*x", "--at", "x=1", "--color", "never", env={"NO_COLOR": ""}
    )
    assert code == 0 and b"\x1b" not in never


def test_errors_in_red_on_a_terminal_only():
    from conftest import run_on_terminal

    code, shown = run_on_terminal("grad", "(x", "--at", "x=1", env={"NO_COLOR": ""})
    assert code == 2 and shown.startswith(b"autodiff: " + RED + b"syntax error:")
    piped = run_cli("grad", "(x", "--at", "x=1")
    assert piped.stderr.startswith("autodiff: syntax error:")


def test_color_always_beats_no_color_but_never_touches_machine_formats():
    table = run_cli(
        "check", "x", "--at", "x=1", "--format", "table", "--color", "always", env={"NO_COLOR": "1"}
    )
    assert "\x1b[32m" in table.stdout
    for fmt in ("json", "plain"):
        machine = run_cli("--color", "always", "check", "x", "--at", "x=1", "--format", fmt)
        assert "\x1b" not in machine.stdout
    assert refused("grad", "x", "--at", "x=1", "--color", "sometimes").startswith(
        "autodiff: error: --color is one of auto, always, never"
    )
