"""Work estimated before it is done: hessian and check refuse a task of more
than --max-work (variables × values), explain --graph a picture past --max-nodes,
each with exit 2, in well under a second, naming the option."""

from __future__ import annotations

import time

import pytest

from autodiff.language.parser import MAX_NODES
from conftest import extended, run_cli


def _sum(count: int, term: str) -> str:
    return "+".join(term.format(i=i, j=i + 1) for i in range(count))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hessian", _sum(8000, "v{i}*v{j}")], "the Hessian of 8,001 variables over 24,000 values"),
        (["check", _sum(3000, "sin(v{i})")], "check of 3,000 variables over 8,999 values"),
    ],
    ids=["hessian of 8,000 variables", "check of 3,000 variables"],
)
def test_a_task_past_the_work_budget_is_refused_before_it_starts(args, message) -> None:
    start = time.monotonic()
    result = run_cli(*args)  # no --at: refused before the point is even read
    elapsed = time.monotonic() - start
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert message in line and line.endswith("raise the limit with --max-work N")
    assert elapsed < 30  # generous: what matters is that it is not minutes


@pytest.mark.parametrize("command", ["hessian", "check"])
def test_max_work_raises_and_lowers_the_limit(command: str) -> None:
    expression, at = "sin(x)*y", ["--at", "x=1,y=2"]  # 2 variables over 4 values: 8
    low = run_cli(command, expression, *at, "--max-work", "7")
    assert low.returncode == 2 and "more than the limit of 7" in low.stderr
    high = run_cli(command, expression, *at, "--max-work", "8")
    assert high.returncode == 0, high.stderr


def test_explain_graph_names_the_cli_option_not_a_library_argument(tmp_path) -> None:
    picture = tmp_path / "e.svg"
    result = run_cli(
        "explain", "x*y", "--at", "x=1,y=2", "--graph", str(picture), "--max-nodes", "2"
    )
    assert result.returncode == 2 and result.stdout == "" and not picture.exists()
    assert result.stderr == (
        "autodiff: error: the expression has more than 2 nodes;"
        " raise the limit with --max-nodes N\n"
    )
    assert "max_nodes" not in result.stderr
    # Within the parse limit, past the picture's default (2,500): the layout's limit.
    wide = "+".join(f"x{k}" for k in range(1300))
    result = run_cli(
        "explain", wide, "--at", ",".join(f"x{k}=1" for k in range(1300)), "--graph", str(picture)
    )
    assert result.returncode == 2 and not picture.exists()
    assert result.stderr == (
        "autodiff: error: the graph has 2599 values, more than the limit of 2500;"
        " raise the limit with --max-nodes N\n"
    )


@pytest.mark.parametrize("command", ["graph", "explain"])
def test_the_help_states_the_picture_limit_the_code_applies(command: str) -> None:
    from autodiff.render.graph import DEFAULT_MAX_NODES

    result = run_cli(command, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # the help is wrapped to the terminal
    assert f"Default: {DEFAULT_MAX_NODES:,} for a" in text
    assert f"{MAX_NODES:,} for DOT text" in text


COMMANDS_WITH_EXPR = {
    "grad": ["--at", "x=1"],
    "jacobian": ["--at", "x=1"],
    "graph": ["--at", "x=1", "-o", "-", "--format", "dot"],
    "explain": ["--at", "x=1"],
    "check": ["--at", "x=1"],
    "plot": ["-o", "-"],
    "hessian": ["--at", "x=1"],
    "diff": [],
}


@pytest.mark.parametrize("command", extended(sorted(COMMANDS_WITH_EXPR), 3))
def test_max_nodes_means_one_thing_in_every_command(command: str) -> None:
    # x*x + x is three nodes: x, x*x and the sum.
    args = [command, "x*x + x", *COMMANDS_WITH_EXPR[command]]
    refused = run_cli(*args, "--max-nodes", "2")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == (
        "autodiff: error: the expression has more than 2 nodes;"
        " raise the limit with --max-nodes N\n"
    )
    assert run_cli(*args, "--max-nodes", "3").returncode == 0
