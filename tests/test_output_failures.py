"""Standard output that cannot be written: a full disk, a closed descriptor.

Every command, help and --version included, ends with exit 1 and one line
on stderr, never a traceback; a reader that went away stays a quiet 141
(tests/test_security.py).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import cli_env, extended

COMMANDS = [
    ["grad", "x**2", "--at", "x=3"],
    ["grad", "x**2", "--at", "x=3", "--format", "json"],
    ["grad", "-", "--at", "x=3"],
    ["graph", "x*y", "--at", "x=1,y=2", "--format", "dot", "-o", "-"],
    ["explain", "x*y", "--at", "x=1,y=2"],
    ["check", "x*y", "--at", "x=1,y=2"],
    ["hessian", "x*y", "--at", "x=1,y=2"],
    ["diff", "x**2"],
    ["plot", "x", "--range", "0:1", "-o", "-"],
    ["--help"],
    ["grad", "--help"],
    ["--version"],
]


def _run(args: list[str], stdout: object, env: dict[str, str] | None = None, **kw: object):
    return subprocess.run(
        [sys.executable, "-m", "autodiff", *args],
        input="x*x\n",
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(env),
        timeout=60,
        **kw,
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", extended(COMMANDS, 3), ids=" ".join)
def test_a_full_disk_is_exit_1_with_one_line(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        result = _run(args, full)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("autodiff: error: cannot write")
    assert lines[-1].endswith("No space left on device")
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


@pytest.mark.parametrize("args", COMMANDS[:2] + COMMANDS[-3:], ids=" ".join)
def test_a_closed_stdout_is_exit_1_with_one_line(args: list[str]) -> None:
    result = _run(args, subprocess.DEVNULL, preexec_fn=lambda: os.close(1))
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[-1].endswith("cannot write output: Bad file descriptor")
    assert "Traceback" not in result.stderr


def test_a_closed_stdout_is_no_error_for_a_command_that_prints_nothing(tmp_path) -> None:
    target = tmp_path / "g.dot"
    result = _run(
        ["graph", "x", "--at", "x=1", "--format", "dot", "-o", str(target)],
        subprocess.DEVNULL,
        preexec_fn=lambda: os.close(1),
    )
    assert result.returncode == 0
    assert target.read_text().startswith("digraph")
    assert "Traceback" not in result.stderr


def test_an_unexpected_exception_is_one_line_unless_debugging() -> None:
    # A bug made on purpose: the parser fails with an exception no handler expects.
    script = (
        "import sys, autodiff.language.parser as e\n"
        "def broken(*a, **k): raise ZeroDivisionError('made on purpose')\n"
        "e.parse = broken\n"
        "import autodiff.cli.grad as g; g.parse = broken\n"
        "from autodiff.entry import main\n"
        "sys.argv = ['autodiff', 'grad', 'x', '--at', 'x=1']; main()\n"
    )
    env = {k: v for k, v in cli_env().items() if k != "AUTODIFF_DEBUG"}
    quiet = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert quiet.returncode == 1
    assert quiet.stdout == ""
    assert quiet.stderr.splitlines() == [
        "autodiff: internal error: ZeroDivisionError: made on purpose"
        " (AUTODIFF_DEBUG=1 shows the traceback; please report it)"
    ]
    loud = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**env, "AUTODIFF_DEBUG": "1"},
        timeout=60,
    )
    assert loud.returncode == 1 and "Traceback" in loud.stderr


def test_a_huge_literal_is_not_echoed_whole_in_its_syntax_error() -> None:
    from conftest import run_cli

    result = run_cli("grad", "1" * 100_000 + "e999")
    assert result.returncode == 2
    assert len(result.stderr) < 400 and "Traceback" not in result.stderr
    assert result.stderr.startswith("autodiff: syntax error: the number 1111")


@pytest.mark.parametrize(
    "args", [["grad", "-", "--at", "x=1"], ["grad", "x", "--points", "-"]], ids=" ".join
)
def test_a_closed_stdin_is_a_usage_error(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "autodiff", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        preexec_fn=lambda: os.close(0),
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("autodiff: error: stdin is closed")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("column", extended(["value", "d_x", "error"], 2))
@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_an_input_column_named_like_an_output_column_is_refused(column: str, fmt: str) -> None:
    from conftest import run_cli

    text = f"x,{column}\n1,2\n"  # CSV in; the output format decides the header
    result = run_cli("grad", "x", "--points", "-", "--format", fmt, input=text)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"autodiff: error: the input column '{column}' has the name of an output column"
    )


NAMED_FAILURE = """
import autodiff.cli as cli

def fails(args):
    raise FileNotFoundError(2, "No such file or directory", "/gone/\\x1b[2Jdata")

cli._run = fails
cli.main(["grad", "x"])
"""


def test_an_os_error_on_a_named_file_names_it_rather_than_output() -> None:
    """Files report their own errors; one that slips through is still named,
    escaped, and not blamed on standard output."""
    result = subprocess.run(
        [sys.executable, "-c", NAMED_FAILURE], capture_output=True, text=True, env=cli_env()
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "autodiff: error: cannot use /gone/\\x1b[2Jdata: No such file or directory"
    ]
