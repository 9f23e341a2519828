"""The expression language: precedence, associativity, names, printing back."""

from __future__ import annotations

import math

import pytest

from autodiff import ExpressionError, parse


def value(text: str, **point: float) -> float:
    return parse(text).gradient(point)[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2*3", 7.0),
        ("(1 + 2)*3", 9.0),
        ("8/4/2", 1.0),
        ("8 - 4 - 2", 2.0),
        ("-2**2", -4.0),
        ("(-2)**2", 4.0),
        ("2**-1", 0.5),
        ("2^3^2", 512.0),
        ("2**3**2", 512.0),
        ("(2**3)**2", 64.0),
        ("--3", 3.0),
        ("-+-3", 3.0),
        ("2*-3", -6.0),
        ("2 - -3", 5.0),
        ("-2*3", -6.0),
        ("1e-3*1000", 1.0),
        ("2.5E+4/1e4", 2.5),
        (".5 + 3.", 3.5),
        ("pi", math.pi),
        ("e", math.e),
        ("pow(2, 10)", 1024.0),
        ("\t1 +\n\r2 ", 3.0),
    ],
)
def test_precedence_and_associativity(text, expected):
    assert value(text) == pytest.approx(expected)


def test_minus_binds_looser_than_power_for_variables():
    assert parse("-x**2").gradient({"x": 3}) == (-9.0, {"x": -6.0})
    assert parse("x^3^2").gradient({"x": 1.1})[0] == pytest.approx(1.1**9)


def test_names_and_variables_in_order_of_first_appearance():
    expression = parse("theta*w_2 + x1 - theta + _y")
    assert expression.variables == ("theta", "w_2", "x1", "_y")


def test_each_variable_and_constant_appears_once():
    expression = parse("x*x + 2*x + 2")
    leaves = [s for s in expression.steps if s.op is None]
    assert [leaf.text for leaf in leaves] == ["x", "2"]


@pytest.mark.parametrize(
    "text",
    [
        "4*x**2 - 2*x + 5",
        "-x**2",
        "(a - b) - (c - d)",
        "a/(b*c)",
        "(-2)**3*x",
        "2**-x",
        "x**y**z",
        "(x**y)**z",
        "sin(x)*exp(-y/2) + x**2*y",
        "-(a + b)",
        "a - -b",
        "tanh(pow(x, 2))",
    ],
)
def test_printing_reads_back_to_the_same_structure(text):
    once = str(parse(text))
    assert str(parse(once)) == once
    point = {name: 2.0 + i for i, name in enumerate(parse(text).variables)}
    # pytest.approx takes no nested structures (pytest 9): the value and the partials apart.
    value, grad = parse(once).gradient(point)
    expected_value, expected_grad = parse(text).gradient(point)
    assert value == pytest.approx(expected_value)
    assert grad == pytest.approx(expected_grad)


@pytest.mark.parametrize(
    ("text", "column", "needle"),
    [
        ("4x^2", 2, "4*x"),
        ("2(x+1)", 2, "*"),
        ("x y", 3, "x*y"),
        ("(x+1", 5, "missing ')'"),
        ("x+", 3, "no right operand"),
        ("*x", 1, "no left operand"),
        ("x)", 2, "unmatched ')'"),
        ("()", 2, "empty parentheses"),
        ("", 1, "empty"),
        ("x = x + 1", 5, "its own definition"),
        ("x; y", 1, "only the last statement"),
        ("'x'", 1, "strings"),
        ("a.b", 2, "attribute"),
        ("foo(x)", 1, "unknown function 'foo'"),
        ("sin(x, y)", 1, "sin takes 1 argument, got 2"),
        ("pow(x)", 1, "pow takes 2 arguments, got 1"),
        ("pi(2)", 1, "constant"),
        ("sin + 1", 1, "is a function"),
        ("1e400", 1, "too large"),
    ],
)
def test_syntax_errors_say_what_and_where(text, column, needle):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert info.value.column == column
    assert needle in info.value.message
    assert info.value.text == text


# -- lalr.py against Lark itself ---------------------------------------------------

PIECES = [
    "x", "y", "sin", "pow", "2", ".5e-3", "1e", "+", "-", "*", "/", "**", "^", "(", ")",
    ",", "=", ";", "\n", " ", "\t", "# note\n", "a1", "$", "'", "é",
]  # fmt: skip


def _outcome(run, text: str):
    """What one parser makes of ``text``: the program's steps, or where and how it failed."""
    from autodiff.core.errors import AutodiffError
    from autodiff.language.parser import _Parser

    builder = _Parser.instance().builder
    builder.reset(text)
    try:
        run(text)
    except AutodiffError as error:
        return ("refused", str(error))
    except Exception as error:  # either runtime's own UnexpectedToken/Characters
        token = getattr(error, "token", None)
        # The parser state matters for a token (parser.py matches mistakes by
        # it); Lark's lexer errors carry a state of their own, which nothing reads.
        state = getattr(error, "state", None) if token is not None else None
        return (
            type(error).__name__,
            getattr(error, "line", None),
            getattr(error, "column", None),
            getattr(error, "char", None),
            (token.type, str(token), token.start_pos) if token is not None else None,
            sorted(getattr(error, "expected", ())),
            getattr(state, "position", None),
        )
    finally:
        steps, builder.steps = getattr(builder, "steps", None), []
    return ("parsed", [repr(s) for s in steps or []])


@pytest.mark.parametrize("seed", range(6))
def test_the_tables_run_as_lark_runs_them(seed):
    import random

    from lark import Lark

    from autodiff.language import grammar_tables
    from autodiff.language.parser import _LineEnds, _Parser

    parser = _Parser.instance()
    lark = Lark._load_from_dict(
        grammar_tables.DATA, grammar_tables.MEMO, transformer=parser.builder, postlex=_LineEnds()
    )
    rng = random.Random(seed)
    samples = ["x", "x+", "(x", "sin(x, y)", "a = x; a*2", "x y", "pow(2,)", "x\n+1\n"]
    samples += [
        "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 12))) for _ in range(300)
    ]
    with parser.lock:
        for text in samples:
            ours = _outcome(parser._run, text)
            theirs = _outcome(lark.parse, text)
            assert ours[0].replace("lark.exceptions.", "") == theirs[0], text
            assert ours == theirs, text


def test_the_code_alone_parses_with_the_tables_it_ships(tmp_path):
    """src/ copied without grammars/ beside it (no expr.lark to compare the
    tables with) still parses: the tables were compiled from the grammar."""
    import shutil
    import subprocess
    import sys

    from conftest import SRC, cli_env

    shutil.copytree(SRC / "autodiff", tmp_path / "autodiff", ignore=shutil.ignore_patterns("*.pyc"))
    run = subprocess.run(
        [sys.executable, "-m", "autodiff", "grad", "4*x**2 - 2*x + 5", "--at", "x=3"],
        capture_output=True,
        text=True,
        env={**cli_env(), "PYTHONPATH": str(tmp_path)},
        timeout=60,
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, "value\t35.0\nd/dx\t22.0\n", "")
