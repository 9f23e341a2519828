"""Grammar fuzzing: whatever the input, autodiff answers with an exit code, never a traceback.

Three generators (random bytes, random token sequences, mutations of valid
expressions) feed ``autodiff grad`` twice over: in-process through
``autodiff.cli.main`` (fast, so thousands of cases; an exception that is not
an orderly exit fails the test) and in real subprocesses (a few dozen cases,
the whole path from argv bytes to the exit status). Then the extremes: deep
nesting, long inputs, huge and tiny numbers, NUL bytes, invalid UTF-8.

Every run must end with exit 0, 1 or 2; when not 0, a message on stderr and
nothing on stdout; never "Traceback". The cases come from a seeded
random.Random, so a failure reproduces; AUTODIFF_FUZZ_RUNS=N (the long mode,
docs/reliability.md) multiplies the number of cases and AUTODIFF_FUZZ_SEED
picks other ones.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from autodiff import Expression, parse
from autodiff.cli import main
from autodiff.core.ops import CONSTANTS, FUNCTIONS
from conftest import cli_env, extended

LONG_RUNS = int(os.environ.get("AUTODIFF_FUZZ_RUNS", "0") or 0)
SEED = os.environ.get("AUTODIFF_FUZZ_SEED", "")  # another seed, other cases
IN_PROCESS_CASES = max(LONG_RUNS, 200)  # per generator
SUBPROCESS_CASES = max(LONG_RUNS // 100, 8)  # per generator
DEEP = 1_000_000 if LONG_RUNS else 50_000  # far past any recursion limit either way
ARGV_DEPTH = 60_000  # "(" * 60000 + "x" + ")" * 60000 fits in one argv string (128 KiB)

VALID = (
    "4*x**2 - 2*x + 5",
    "tanh(x1*w1 + x2*w2 + b)",
    "sin(x)*exp(-y/2)",
    "pow(x, 2) + sqrt(abs(y)) - log(1 + x^2)",
    "-x**2^-1 / (relu(x) + sigmoid(-y))",
    "asin(x/4) + acos(y/9) + atan(x*y) - cosh(.5e1) + sinh(1e-3)",
    "sign(x) * step(y) + e**pi - 2.5E+2",
    "log(y) + sqrt(x - 1)",  # not defined at the point: exit 1
    "1/(x - 0.5) + tan(x1*pi/6)",
)
TOKENS = (
    *sorted(FUNCTIONS),
    *sorted(CONSTANTS),
    "x", "y", "w_1", "_", "x1", "sinx", "0", "1", "2.5", ".5", "1e3", "1e308", "1e-400",
    "1e400", "9" * 400, "+", "-", "*", "/", "**", "^", "(", ")", ",", " ", "\t", "\n",
    "(", ")", "=", ";", ".", "..", "'", '"', "[", "]", "!", "@", "&", "|", "%", "#",
    "\x1b[31m", "\u202e", "é", "∂", "\udcff", "\x7f", "--", "--at", "-h",
)  # fmt: skip
AT = ("--at", "x=0.5,y=-1.5,w_1=2,x1=3,x2=-1,w1=0.25,w2=4,b=1,sinx=0.1,_=1")
# Every command that reads an expression, with the options that give it a
# point: a new command joins the fuzzing with a line here.
COMMANDS: dict[str, tuple[str, ...]] = {"grad": AT, "jacobian": AT}


def random_bytes(rng: random.Random) -> bytes:
    size = rng.choice((1, 2, 3, 5, 8, 20, 100, 1000))
    return bytes(rng.randrange(1, 256) for _ in range(size))  # argv holds no NUL


def random_tokens(rng: random.Random) -> str:
    return "".join(rng.choice(TOKENS) for _ in range(rng.randrange(1, 25)))


def mutation(rng: random.Random) -> str:
    chars = list(rng.choice(VALID))
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(len(chars))
        kind = rng.randrange(4)
        if kind == 0 and len(chars) > 1:
            del chars[i]
        elif kind == 1:
            chars.insert(i, chars[i])
        elif kind == 2:
            j = rng.randrange(len(chars))
            chars[i], chars[j] = chars[j], chars[i]
        else:
            chars.insert(i, rng.choice(TOKENS))
    return "".join(chars)


GENERATORS: dict[str, Callable[[random.Random], str | bytes]] = {
    "bytes": random_bytes,
    "tokens": random_tokens,
    "mutations": mutation,
}


def as_text(arg: str | bytes) -> str:
    """What Python makes of an argv string: undecodable bytes become lone surrogates."""
    return os.fsdecode(arg) if isinstance(arg, bytes) else arg


def run_in_process(args: Sequence[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code: object = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exit:
            code = exit.code
    return (0 if code is None else code), out.getvalue(), err.getvalue()  # type: ignore[return-value]


def run_process(args: Sequence[str | bytes], stdin: bytes | None = None) -> tuple[int, str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "autodiff", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=cli_env(),
        timeout=300,
    )
    decode = lambda b: b.decode("utf-8", "backslashreplace")  # noqa: E731
    return result.returncode, decode(result.stdout), decode(result.stderr)


def check_outcome(case: object, code: object, out: str, err: str) -> None:
    assert code in (0, 1, 2), f"{case!r}: exit {code!r}\n{err[-2000:]}"
    assert "Traceback" not in err, f"{case!r}:\n{err[-2000:]}"
    if code == 0:
        assert out, f"{case!r}: exit 0 without output"
    else:
        assert err.strip(), f"{case!r}: exit {code} without a message"
        assert out == "", f"{case!r}: exit {code} with output {out[:200]!r}"
    # Nothing the user typed reaches the terminal as a control character.
    assert not any(c in err for c in "\x1b\x07\x7f\u202e"), f"{case!r}: {err!r}"


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", GENERATORS)
def test_random_input_in_process(kind, command):
    rng = random.Random(f"in-process {kind} {SEED}")
    options = COMMANDS[command]
    outcomes = {0: 0, 1: 0, 2: 0}
    for _ in range(IN_PROCESS_CASES):
        expr = as_text(GENERATORS[kind](rng))
        after = rng.random() < 0.2  # the expression after "--"
        args = [command, *options, "--", expr] if after else [command, expr, *options]
        code, out, err = run_in_process(args)
        check_outcome(args, code, out, err)
        outcomes[code] += 1
    if kind == "mutations":  # the mutations exercise all three outcomes
        assert all(outcomes.values()), outcomes


@pytest.mark.parametrize("command", extended(list(COMMANDS), 1))
@pytest.mark.parametrize("kind", GENERATORS)
def test_random_input_through_the_command_line(kind, command):
    rng = random.Random(f"subprocess {kind} {SEED}")
    cases = [GENERATORS[kind](rng) for _ in range(SUBPROCESS_CASES)]
    options = COMMANDS[command]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = pool.map(lambda expr: run_process([command, expr, *options]), cases)
        for expr, (code, out, err) in zip(cases, results, strict=True):
            check_outcome(expr, code, out, err)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["grad", "1e308*10"], 1, "overflows"),
        (["grad", "x*1e308", "--at", "x=10"], 1, "overflows"),
        (["grad", "1e400"], 2, "too large"),
        (["grad", "9" * 400], 2, "too large"),
        (["grad", "x", "--at", "x=1e400"], 2, "not a finite number"),
        (["grad", "x\x00+1"], 2, "unexpected character '\\x00'"),
        (["grad", "x+\udcff"], 2, "unexpected character '\\udcff'"),
        (["grad", "x", "--at", "x\udcff=1"], 2, "'x\\udcff' is not a variable name"),
        (["grad", "\x1b[2J"], 2, "unexpected character '\\x1b'"),
    ],
)
def test_extreme_inputs_in_process(args, code, message):
    got, out, err = run_in_process(args)
    check_outcome(args, got, out, err)
    assert got == code and message in err, err


def test_tiny_numbers_underflow_to_zero():
    code, out, err = run_in_process(["grad", "1e-400 + x*1e-320", "--at", "x=1e-10"])
    assert code == 0, err
    assert out == "value\t0.0\nd/dx\t1e-320\n"


@pytest.mark.slow  # scale: CI runs it; the library's deep cases run every time
def test_deep_and_long_inputs_through_argv():
    """The largest inputs one argv string carries: 120 KB, 60,000 levels deep."""
    cases = [
        ("(" * ARGV_DEPTH + "x" + ")" * ARGV_DEPTH, 0),
        ("-" * (2 * ARGV_DEPTH) + "x", 0),
        ("x" + "+x" * ARGV_DEPTH + "+", 2),  # the caret line is cut to a window
    ]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = pool.map(lambda c: run_process(["grad", c[0], "--at", "x=0.5"]), cases)
        for (expr, want), (code, out, err) in zip(cases, results, strict=True):
            check_outcome(expr[:40], code, out, err)
            assert code == want, err[:500]
            assert len(err) < 1000  # a message, not the input echoed back
    assert len(("(" * ARGV_DEPTH + "x" + ")" * ARGV_DEPTH).encode()) < 128 * 1024


def test_junk_stdin_is_ignored_when_the_expression_is_an_argument():
    junk = bytes(range(256)) * 4 + b"\x00\xff\xfe(((("
    code, out, err = run_process(["grad", "x*2", "--at", "x=3"], stdin=junk)
    assert (code, out, err) == (0, "value\t6.0\nd/dx\t2.0\n", "")


STDIN_CASES = {
    "nul": b"x\x00+1\n",
    "invalid-utf8": b"x+\xff\xfe1\n",
    "all-bytes": bytes(range(256)) * 4,
    "unclosed": b"((((x\n",
    "control": b"\x1b[31mx\x07\n",
}


@pytest.mark.parametrize("case", STDIN_CASES)
def test_junk_expressions_on_stdin_fail_per_line_without_a_traceback(case):
    """EXPR '-' reads expressions from stdin: junk there is a syntax error per line (exit 2)."""
    code, out, err = run_process(
        ["grad", "-", "--at", "x=1", "--format", "jsonl"], STDIN_CASES[case]
    )
    assert code == 2, err
    assert "Traceback" not in err and "syntax error" in err
    assert not any(c in err for c in "\x1b\x07"), err
    records = [json.loads(line) for line in out.splitlines()]
    assert records and all(r["error"] and r["value"] is None for r in records)


def test_random_lines_on_stdin(tmp_path):
    rng = random.Random(SEED)
    lines = [GENERATORS[kind](rng) for kind in GENERATORS for _ in range(SUBPROCESS_CASES)]
    data = b"\n".join(
        (line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")).replace(
            b"\n", b" "
        )
        for line in lines
    )
    code, out, err = run_process(["grad", "-", "--at", "x=0.5,y=2", "--format", "jsonl"], data)
    assert code in (0, 1, 2) and "Traceback" not in err
    for line in out.splitlines():
        record = json.loads(line)  # every record is valid JSON, failed or not
        assert record.get("error") or math.isfinite(record["value"])


STDIN_DEEP = 1_000_000 if LONG_RUNS else 200_000


@pytest.mark.parametrize(
    "text",
    ["(" * STDIN_DEEP + "x" + ")" * STDIN_DEEP, "-" * STDIN_DEEP + "x"],
    ids=["parentheses", "unary-minus"],
)
@pytest.mark.slow
def test_deep_expressions_through_stdin(text):
    """Past argv's 128 KiB cap: the whole pipeline, no recursion anywhere."""
    code, out, err = run_process(["grad", "-", "--at", "x=3", "--format", "jsonl"], text.encode())
    assert code == 0, err[-2000:]
    record = json.loads(out)
    expected = 3.0 if text.startswith("(") else (-3.0 if STDIN_DEEP % 2 else 3.0)
    assert record["value"] == expected


# Long mode adds a 10 MB expression (5e6 terms), as a release check: minutes, ~2 GB.
LONG_SUMS = [5_000_000] if LONG_RUNS else []


@pytest.mark.slow
@pytest.mark.parametrize("terms", [100_000, *LONG_SUMS])
def test_long_sums_through_stdin(terms):
    text = "+".join(["x"] * terms)
    code, out, err = run_process(["grad", "-", "--at", "x=1", "--format", "jsonl"], text.encode())
    assert code == 0, err[-2000:]
    assert json.loads(out)["grad"] == {"x": float(terms)}


@pytest.mark.parametrize(
    ("text", "size"),
    extended(
        [
            ("(" * DEEP + "x" + ")" * DEEP, 1),
            ("-" * DEEP + "x", DEEP + 1),
            ("+".join(["x"] * DEEP), DEEP),
            ("x**" * DEEP + "1", DEEP + 2),
        ],
        1,
        several=True,
    ),
    ids=["parentheses", "unary-minus", "sum-chain", "power-tower"],
)
def test_deep_inputs_in_the_library(text, size):
    """Parse, evaluate, backward and print, with no recursion over the input's depth."""
    started = time.perf_counter()
    expression = parse(text)
    assert len(expression) == size
    value, grads = expression.gradient({"x": 0.5})
    printed = str(expression)
    again: Expression = parse(printed)
    assert again.gradient({"x": 0.5}) == (value, grads)
    if text.startswith("-"):
        assert (value, grads) == (0.5, {"x": 1.0})  # an even number of minuses
    if text.startswith("x+"):
        assert (value, grads) == (0.5 * DEEP, {"x": float(DEEP)})
    print(f"{len(text)} characters, {size} nodes: {time.perf_counter() - started:.1f} s")
