"""Limits and safe output: a size limit with a clear message, no raw control characters."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from autodiff import ExpressionError, LimitError, UsageError, parse
from autodiff.core.errors import AutodiffError
from autodiff.core.safe_text import visible
from autodiff.language.parser import MAX_NODES
from conftest import cli_env, run_cli

# -- the node limit ---------------------------------------------------------------


def test_the_limit_counts_nodes_while_parsing():
    assert len(parse("x*y + x", max_nodes=4)) == 4  # x, y, x*y, + : x appears once
    with pytest.raises(LimitError) as caught:
        parse("x*y + x + 1", max_nodes=4)
    assert isinstance(caught.value, UsageError)
    # The library names its own parameter; the command line, its option (below).
    assert (
        str(caught.value)
        == "the expression has more than 4 nodes; raise the limit with max_nodes=N"
    )
    assert len(parse("+".join(["x"] * 1000), max_nodes=None)) == 1000


def test_the_default_limit_is_documented():
    assert MAX_NODES == 10_000_000
    page = Path(__file__).parents[1] / "docs" / "reliability.md"
    assert "10,000,000 nodes" in page.read_text(encoding="utf-8")


def test_a_parse_stopped_by_the_limit_leaves_the_parser_usable():
    with pytest.raises(LimitError):
        parse("x+" * 100 + "x", max_nodes=10)
    assert parse("x+1").gradient({"x": 2}) == (3.0, {"x": 1.0})


def test_max_nodes_on_the_command_line():
    result = run_cli("grad", "x*y + x + 1", "--at", "x=1,y=2", "--max-nodes", "4")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "autodiff: error: the expression has more than 4 nodes;"
        " raise the limit with --max-nodes N\n"
    )
    result = run_cli("grad", "x*y + x + 1", "--at", "x=1,y=2", "--max-nodes=6")
    assert (result.returncode, result.stdout) == (0, "value\t4.0\nd/dx\t3.0\nd/dy\t1.0\n")
    result = run_cli("grad", "x", "--at", "x=1", "--max-nodes", "0")
    assert result.returncode == 2 and "--max-nodes" in result.stderr and not result.stdout


# -- control characters never reach the terminal raw ---------------------------------


def test_visible_escapes_what_a_terminal_would_act_on():
    assert visible("4*x**2 - sin(θ) + é") == "4*x**2 - sin(θ) + é"
    assert visible("x\x1b[31m\t\n\r\x00\x7f\u202e\udcff") == (
        "x\\x1b[31m\\t\\n\\r\\x00\\x7f\\u202e\\udcff"
    )


def test_the_caret_stays_under_the_escaped_character():
    with pytest.raises(ExpressionError) as caught:
        parse("x\t+ \x1b[31m")
    assert caught.value.pointer() == "  x\\t+ \\x1b[31m\n       ^"


def test_the_caret_is_on_the_line_the_parser_counted():
    # VT and FF are whitespace to the parser and no line break (str.splitlines
    # would say they are): the caret stays under the bad character.
    with pytest.raises(ExpressionError) as caught:
        parse("x\x0b+\x0c\x01x")
    assert caught.value.pointer() == "  x\\x0b+\\x0c\\x01x\n            ^"


def test_a_long_line_is_cut_to_a_window_around_the_column():
    text = "x+" * 5000 + "$" + "+y" * 5000
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    source, caret = caught.value.pointer().split("\n")
    assert len(source) < 90 and source.startswith("  …") and source.endswith("…")
    assert source[len(caret) - 1] == "$"


@pytest.mark.parametrize(
    "args",
    [
        ["grad", "x + \x1b[2J\x1b[31mred"],
        ["grad", "x\u202e + 1)"],
        ["grad", "x", "--at", "x\x1b[31m=1"],
        ["grad", "x", "--at", "x=1\x07"],
        ["grad", "x", "--wrt", "y\x1b]0;title\x07", "--at", "x=1"],
        ["grad", "x", "--format", "\x1b[31mjson"],
    ],
)
def test_error_messages_escape_control_characters(args):
    result = run_cli(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("autodiff: ")
    assert not any(c in result.stderr for c in "\x1b\x07\u202e")
    assert "\\x1b" in result.stderr or "\\u202e" in result.stderr or "\\x07" in result.stderr


def test_tables_escape_control_characters():
    result = run_cli("grad", "x\r+\fy", "--at", "x=1,y=2", "--format", "table")
    assert result.returncode == 0
    assert "x\\r+\\x0cy" in result.stdout
    assert not any(c in result.stdout for c in "\r\f\x1b")


@pytest.mark.parametrize(
    "args",
    [
        ["grad", "x+\x1b[31m"],
        ["grad", "x", "--precision", "\x1b[31m"],  # errors click reports itself
        ["grad", "x", "\x07\x1b]0;title\x07", "--at", "x=1"],
        ["grad", "x", "--at", "x=\x1b[31m"],
    ],
)
def test_a_terminal_on_stderr_gets_no_raw_escapes(args):
    """With stderr a terminal, click no longer strips ANSI codes for us: nothing raw arrives."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "autodiff", *args],
            stdout=subprocess.PIPE,
            stderr=follower,
            env=cli_env(),
            timeout=60,
        )
        os.close(follower)
        follower = -1
        err = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed and drained
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert process.returncode == 2 and process.stdout == b""
    # The one escape is the tool's own red around "error:"; none comes from the input.
    assert err.startswith(b"autodiff: \x1b[31m") and b"error:\x1b[0m " in err.split(b"\n")[0]
    own = err.replace(b"\x1b[31m", b"", 1).replace(b"\x1b[0m", b"", 1)
    assert b"\x1b" not in own and b"Traceback" not in err


# -- regressions found while fuzzing --------------------------------------------------


@pytest.mark.parametrize("text", ["2*(x", "x+(y+z", "sin(x+(y", "((((x"])
def test_a_missing_parenthesis_is_named_at_any_depth(text):
    """Lark's match_examples also compared the parser's stack depth and fell back to
    a sample failing on another token: '2*(x' was 'a comma outside a function call'."""
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.message.startswith("missing ')': ")


@pytest.mark.parametrize(("text", "call"), [("pow*2", "pow(x, y)"), ("x*sin", "sin(x)")])
def test_a_function_without_arguments_is_shown_with_its_arity(text, call):
    """Fuzzing found 'pow' shown as pow(x), a call that is itself an error."""
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.message.endswith(f"call it, as in {call}")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("x*(1,2)", "a comma outside a function call"),
        ("x+(y*)", "an operator with no right operand"),
        ("x+(-)", "an operator with no right operand"),
        ("x*(y+(z))))", "unmatched ')'"),
        ("x*(y*(z+", "an operator with no right operand"),
    ],
)
def test_other_mistakes_are_named_at_depth(text, label):
    with pytest.raises(AutodiffError) as caught:
        parse(text)
    assert isinstance(caught.value, ExpressionError)
    assert caught.value.message.startswith(f"{label}: ")


# -- determinism ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["grad", "tanh(x1*w1 + x2*w2 + b) + e2*sinx", "--at", "x1=2,x2=0,w1=-3,w2=1,b=1,e2=3"],
        ["grad", "b*a + c/a", "--at", "a=2,b=3,c=5", "--format", "json"],
        ["grad", "x*(y +", "--at", "x=1"],
    ],
)
def test_output_is_the_same_whatever_the_hash_seed(args):
    runs = [run_cli(*args, "--at", "sinx=0.5", env={"PYTHONHASHSEED": s}) for s in ("0", "4242")]
    assert runs[0].returncode == runs[1].returncode
    assert (runs[0].stdout, runs[0].stderr) == (runs[1].stdout, runs[1].stderr)
