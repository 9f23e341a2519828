"""Hostile records in a stream: each is an error record with a one-line message,
the records around it are kept in order, and memory stays bounded.

Through real processes: the promise is about what a shell user sees.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import cli_env, run_cli

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INT = "9" * 5000
BIG_INT = "9" * 400


def _records(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


# (what the bad record holds, a word its message must contain)
CARRIED = [
    ("NaN", "NaN is not a JSON number"),
    ("Infinity", "Infinity is not a JSON number"),
    ("-Infinity", "Infinity is not a JSON number"),
    ("1e999", "beyond the range of a float"),
    (HUGE_INT, "an integer of more than 4,300 digits"),
    ("1" * 400 + ".5", "beyond the range of a float"),
    (DEEP, "nested more than 100 levels"),
    ('"\\ud800"', "\\ud800 alone is not a character"),
]


BAD_RECORDS = [
    *[(f'{{"x": 2, "note": {text}}}', message) for text, message in CARRIED],
    *[(f'{{"x": {text}}}', message) for text, message in CARRIED],
    ('{"x": 2, "\\udfff": 1}', "\\udfff alone is not a character"),
]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table"])
def test_hostile_json_records_are_error_records_and_the_others_are_kept(fmt: str) -> None:
    """One stream, a good record after each bad one: every bad one has its own
    message and error record, and every good one its answer, in order."""
    lines = []
    for k, (bad, _) in enumerate(BAD_RECORDS):
        lines += [f'{{"x": {k}, "note": "n{k}"}}', bad]
    result = run_cli("grad", "x**2", "--points", "-", "--format", fmt, input="\n".join(lines))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    messages = result.stderr.splitlines()
    assert len(messages) == len(BAD_RECORDS)
    for k, (line, (_, message)) in enumerate(zip(messages, BAD_RECORDS, strict=True)):
        assert line.startswith(f"autodiff: line {2 * k + 2}: error: ") and message in line
        assert len(line) < 200
    if fmt == "jsonl":
        records = _records(result.stdout)
        assert [r["value"] for r in records[::2]] == [float(k * k) for k in range(len(BAD_RECORDS))]
        for record, (_, message) in zip(records[1::2], BAD_RECORDS, strict=True):
            assert record["value"] is None and message in str(record["error"])
    elif fmt == "csv":
        rows = result.stdout.splitlines()[1:]
        for k, (_, message) in enumerate(BAD_RECORDS):
            assert rows[2 * k].startswith(f"{k},n{k},{float(k * k)},{2.0 * k}")
            assert message in rows[2 * k + 1]


def test_values_within_the_limits_are_carried_exactly() -> None:
    stdin = f'{{"x": 1, "n": {BIG_INT}, "deep": {"[" * 99}{"]" * 99}, "s": "\\ud83d\\ude00"}}\n'
    result = run_cli("grad", "x", "--points", "-", "--format", "jsonl", input=stdin)
    assert result.returncode == 0, result.stderr
    (record,) = _records(result.stdout)
    extra = record["extra"]
    assert isinstance(extra, dict)
    assert extra["n"] == int(BIG_INT) and extra["s"] == "\N{GRINNING FACE}"
    csv_out = run_cli("grad", "x", "--points", "-", "--format", "csv", input=stdin)
    assert csv_out.returncode == 0 and BIG_INT in csv_out.stdout


def test_an_integer_past_the_float_range_is_not_a_finite_variable() -> None:
    result = run_cli("grad", "x", "--points", "-", input=f'{{"x": {BIG_INT}}}\n')
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "is not a finite number" in result.stderr and len(result.stderr) < 200


def test_a_csv_header_field_over_the_csv_limit_is_a_usage_error(tmp_path) -> None:
    points = tmp_path / "p.csv"
    points.write_text("x," + "a" * 200_000 + "\n1,2\n")
    result = run_cli("grad", "x", "--points", str(points))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == (
        "autodiff: error: line 1: the header is not valid CSV:"
        " field larger than field limit (131072)\n"
    )


def test_a_csv_field_over_the_csv_limit_is_one_error_record(tmp_path) -> None:
    points = tmp_path / "p.csv"
    points.write_text("x,a\n1,b\n2," + "a" * 200_000 + "\n3,c\n")
    result = run_cli("grad", "x", "--points", str(points), "--format", "csv")
    assert result.returncode == 2
    assert result.stdout.splitlines()[1:] == [
        "1,b,1.0,1.0,",
        ",,,,not valid CSV: field larger than field limit (131072)",
        "3,c,3.0,1.0,",
    ]


def _long_line_run(args: list[str], head: bytes, filler: bytes, size: int, tail: bytes):
    """Feed ``head``, ``size`` bytes of ``filler`` on one line, then ``tail``, through a
    pipe in pieces, and measure the child's peak memory (KiB)."""
    # VmHWM, not getrusage: Linux carries ru_maxrss across exec, so the child
    # would report the (large) pytest worker's peak; VmHWM starts afresh.
    code = (
        "import runpy, sys; sys.argv = ['autodiff', *sys.argv[1:]];\n"
        "try:\n    runpy.run_module('autodiff', run_name='__main__')\n"
        "finally:\n"
        "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "    print('PEAK', hwm.split()[1], file=sys.stderr)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    assert process.stdin is not None
    process.stdin.write(head)
    piece = filler * (2**20)
    for _ in range(size // len(piece)):
        process.stdin.write(piece)
    process.stdin.write(b"\n" + tail)
    process.stdin.close()
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()  # both are short
    process.wait(timeout=120)
    text = err.decode()
    peak = int(text.rsplit("PEAK ", 1)[1])
    return process.returncode, out.decode(), text.rsplit("PEAK ", 1)[0], peak


LIMIT_MESSAGE = (
    "the line is longer than 16,777,216 characters; raise the limit with --max-line-length N"
)


@pytest.mark.parametrize("filler", [b" ", b"x"], ids=["spaces", "one long name"])
def test_a_line_of_200_mb_on_stdin_is_an_error_record_in_bounded_memory(filler: bytes) -> None:
    code, out, err, peak = _long_line_run(
        ["grad", "x", "--points", "-", "--format", "csv"], b"x\n1\n", filler, 200 * 2**20, b"2\n"
    )
    assert code == 2 and "Traceback" not in err
    assert out.splitlines() == [
        "x,value,d_x,error",
        "1,1.0,1.0,",
        f',,,"{LIMIT_MESSAGE}"',
        "2,2.0,1.0,",
    ]
    assert err == f"autodiff: line 3: error: {LIMIT_MESSAGE}\n"
    assert peak < 200 * 1024, f"peak {peak} KiB: the line was held whole"


def test_a_long_expression_line_is_an_error_record_and_the_next_is_read() -> None:
    code, out, err, peak = _long_line_run(
        ["grad", "-", "--at", "x=3", "--format", "jsonl"], b"x\n", b"y", 40 * 2**20, b"x**2\n"
    )
    assert code == 2 and err == f"autodiff: line 2: error: {LIMIT_MESSAGE}\n"
    first, second, third = _records(out)
    assert (first["value"], third["value"]) == (3.0, 9.0) and second["error"] == LIMIT_MESSAGE
    assert peak < 200 * 1024


def test_the_line_length_limit_is_an_option() -> None:
    stdin = "x\n" + "1" + " " * 200 + "\n"
    low = run_cli("grad", "x", "--points", "-", "--max-line-length", "100", input=stdin)
    assert low.returncode == 2 and "longer than 100 characters" in low.stderr
    high = run_cli("grad", "x", "--points", "-", "--max-line-length", "1000", input=stdin)
    assert high.returncode == 0 and "1.0" in high.stdout


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/dev/zero", "line 1: the line is longer than 16,777,216 characters"),
        ("/proc/self/mem", "cannot read --points /proc/self/mem: Input/output error"),
    ],
)
def test_a_device_as_points_is_a_usage_error_not_gigabytes(path: str, message: str) -> None:
    result = run_cli("grad", "x", "--points", path, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_crlf_line_just_past_the_limit_keeps_the_line_numbers():
    # The read of limit + 2 characters ends at the long line's "\r"; its "\n"
    # is no line of its own, so log(0) is still line 3.
    result = run_cli(
        "grad", "-", "--at", "x=1", "--max-line-length", "6", "--format", "csv",
        input="x+1\r\nx**2222\r\nlog(0)\r\n",
    )  # fmt: skip
    assert "line 2: error: the line is longer" in result.stderr
    assert "line 3: error: log(0) is undefined" in result.stderr
