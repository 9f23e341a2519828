"""Numbers are never cut (issue 14, item 10): every table fits the terminal
by wrapping its text at operators and splitting its columns, and a long
stream's table keeps its columns where they are."""

from __future__ import annotations

import random
import re

import pytest

from autodiff.render.grid import grid, pieces, wrap
from conftest import run_cli, run_on_terminal

NEURON = ("tanh(x1*w1 + x2*w2 + b)", "x1=2,x2=0,w1=-3,w2=1,b=6.8813735870195432")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?")


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


def shown_at(columns: int, *args: str) -> list[str]:
    code, shown = run_on_terminal(*args, env={"COLUMNS": str(columns)})
    assert code == 0, shown
    return shown.decode().replace("\r\n", "\n").splitlines()


@pytest.mark.parametrize("columns", [40, 47, 61, 80, 120])
def test_check_on_the_neuron_loses_no_digit_at_any_width(columns):
    # In a pipe the table has its natural width: the numbers as they are.
    piped = run_cli("check", NEURON[0], "--at", NEURON[1], "--format", "table")
    whole = piped.stdout.splitlines()[1:]
    lines = shown_at(columns, "check", NEURON[0], "--at", NEURON[1])
    table = lines[1:]  # the title may be wider: the terminal wraps it, cutting nothing
    assert max(len(line) for line in table) <= columns
    # Labels repeat when the table is split: the same numbers, none cut or lost.
    assert set(numbers(" ".join(table))) == set(numbers(" ".join(whole)))
    assert "…" not in "".join(lines)


@pytest.mark.parametrize("columns", [40, 50, 66])
def test_explain_wraps_its_formulas_at_operators(columns):
    whole = run_cli("explain", NEURON[0], "--at", NEURON[1], "--format", "table").stdout
    lines = shown_at(columns, "explain", NEURON[0], "--at", NEURON[1])
    rows = [line for line in lines[1:] if line.startswith(" ")]
    assert max(len(line) for line in rows) <= columns
    for line in rows:
        # A line never ends in an operator: `= -3` and `- tanh(n9)**2` stay whole.
        assert not re.search(r"[-+*/=→]\s*$", line), line
    assert set(numbers(" ".join(lines[1:]))) == set(numbers(whole.split("\n", 1)[1]))


def test_a_wide_table_is_split_repeating_its_labels():
    names = [f"variable_{k}" for k in range(8)]
    expr = "*".join(names)
    at = ",".join(f"{n}=1.2345678" for n in names)
    lines = shown_at(40, "check", expr, "--at", at)
    headers = [line for line in lines if "∂f/∂variable_" in line]
    assert len(headers) > 1  # more than one table
    assert sum(line.count("∂f/∂variable_") for line in headers) == len(names)
    assert sum(line.lstrip().startswith("autodiff") for line in lines) == len(headers)


def test_a_long_points_table_keeps_its_columns_and_has_the_title(tmp_path):
    path = tmp_path / "points.csv"
    # Short results first, long ones after the first 1,000 rows (the carried
    # columns are as wide in both).
    rows = [f"{1000 + k},1.0e+00" for k in range(1000)]
    rows += [f"{2000 + k},-1e-300" for k in range(1500)]
    path.write_text("x,y\n" + "\n".join(rows) + "\n")
    result = run_cli("grad", "x*y", "--points", str(path), "--format", "table")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"f = x*y  at  each row of {path}"
    assert sum(line.split()[:3] == ["x", "y", "f"] for line in lines) == 1  # one header
    body = lines[2:]
    assert len(body) == len(rows)
    # The number columns end where the header's do, on every row.
    ends = [m.end() for m in re.finditer(r"\S+", lines[1])][2:]
    for line in body:
        assert [m.end() for m in re.finditer(r"\S+", line)][2:] == ends, line


def test_a_failed_row_says_its_error_in_the_table(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x\n1\n-1\n2\n")
    result = run_cli("grad", "log(x)", "--points", str(path), "--format", "table")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[2:]] == ["1", "-1", "2"]
    assert "error: log(-1) is undefined" in lines[3]


@pytest.mark.parametrize(
    ("command", "columns"),
    [(["grad"], 56), (["grad"], 64), (["uncertainty", "--at", "x=1±0.1,y=1±0.1"], 72)],
)
def test_a_points_table_fits_the_terminal_and_its_errors_keep_the_border(
    tmp_path, command, columns
):
    path = tmp_path / "points.csv"
    path.write_text(
        "x,y,label\n1,2,first point here\n0,1,second\n3,4,third one with a long label\n"
    )
    name, *rest = command
    code, shown = run_on_terminal(
        name, "log(x)*y + sin(x*y)", "--points", str(path), *rest, "--format", "table",
        "--color", "always", env={"COLUMNS": str(columns)},
    )  # fmt: skip
    assert code == 1
    plain = re.sub(r"\x1b\[[0-9;]*m", "", shown.decode()).replace("\r\n", "\n")
    table = [line for line in plain.splitlines() if line[:1] in "╭│├╰"]
    assert table and max(len(line) for line in table) <= columns
    # Every line of the box, the error's lines too, ends at the same column.
    assert {len(line) for line in table} == {len(table[0])}
    assert "error: log(0) is undefined" in " ".join(line for line in table)
    for label in ("first point here", "third one with a long label"):
        assert label.split()[-1] in plain  # wrapped, not cut


def test_a_points_table_never_folds_a_number_of_its_input(tmp_path):
    path = tmp_path / "abc.csv"
    path.write_text("a,b,c,label\n1.5,-1.5,2.25,a label of some words\n0.5,-1.25,1,x\n")
    code, shown = run_on_terminal(
        "grad", "log(a)*b*c", "--points", str(path), "--format", "table",
        env={"COLUMNS": "50"},
    )  # fmt: skip
    assert code == 0
    text = shown.decode()
    for number in ("1.5", "-1.5", "2.25", "-1.25"):
        assert number in text, text  # whole on one line, though the label wraps


def test_the_one_point_tables_are_fitted_too():
    long = "a_rather_long_variable_name_indeed"
    lines = shown_at(40, "hessian", f"x*{long}*y", "--at", f"x=1.23456,{long}=2,y=3.5")
    assert max(len(line) for line in lines[1:]) <= 40


# -- the layout itself --------------------------------------------------------------


def test_pieces_break_before_operators():
    assert pieces("d tanh(n9)/dn9 = 1 - tanh(n9)**2 = 0.5") == [
        "d",
        "tanh(n9)/dn9",
        "= 1",
        "- tanh(n9)**2",
        "= 0.5",
    ]
    assert " ".join(pieces("x now 6 (+= 3)")) == "x now 6 (+= 3)"
    assert wrap("x1 = -1.5", 6) == ["x1", "= -1.5"]
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]  # text alone is folded


@pytest.mark.parametrize("seed", range(30))
def test_random_tables_fit_and_keep_every_number(seed):
    rng = random.Random(seed)
    width = rng.randint(40, 100)
    count = rng.randint(1, 9)
    right = [False] + [True] * count
    header = ["", *(f"∂f/∂v{k}" for k in range(count))]
    words = ["x", "= -3", "tanh(n)", "+", "central (f(x+h) - f(x))/h", "d(a*b)/da"]
    rows = [
        [" ".join(rng.choices(words, k=rng.randint(1, 6)))]
        + [f"{rng.uniform(-1e6, 1e6):.{rng.randint(1, 17)}g}" for _ in range(count)]
        for _ in range(rng.randint(1, 8))
    ]
    text = grid(header, rows, right, boxed=bool(seed % 2), bold_header=False, width=width)
    assert max(len(line) for line in text.splitlines() if line) <= width
    cells = {cell for line in text.splitlines() for cell in re.split(r"[\s│]+", line)}
    for row in rows:
        for number in row[1:]:
            assert number in cells
