"""autodiff grad in shell pipelines, through a real subprocess: expressions and
points from stdin, every format, per-record errors and their exit codes."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys

import pytest

from conftest import cli_env, extended, run_cli

F = "sin(x)*exp(-y/2) + x**2*y"


def f_and_grad(x: float, y: float) -> tuple[float, float, float]:
    s, e = math.sin(x), math.exp(-y / 2)
    return s * e + x * x * y, math.cos(x) * e + 2 * x * y, -s * e / 2 + x * x


def rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


# -- expressions from stdin ---------------------------------------------------


def test_one_expression_from_stdin_as_json_is_an_array_of_one():
    # One shape per mode (issue 14, item 8): a stream is an array, however long.
    result = run_cli("grad", "-", "--at", "x=3,y=1", "--format", "json", input="x**2 + y\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {
            "expr": "x**2 + y",
            "at": {"x": 3.0, "y": 1.0},
            "value": 10.0,
            "grad": {"x": 6.0, "y": 1.0},
        }
    ]
    assert result.stderr == ""


def test_expressions_from_stdin_as_csv_one_row_each_in_at_order():
    text = "x**2\nsin(x)\n\n# a comment\nx*y\n"
    result = run_cli("grad", "-", "--at", "y=2,x=1", "--format", "csv", input=text)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "expr,value,d_y,d_x,error"
    assert lines[1] == "x**2,1.0,,2.0,"
    assert lines[2] == f"sin(x),{math.sin(1)!r},,{math.cos(1)!r},"
    assert lines[3] == "x*y,2.0,1.0,2.0,"
    assert len(lines) == 4


def test_expressions_from_stdin_as_json_array_jsonl_plain_and_tsv():
    text = "x**2\nx*y\n"
    at = ("--at", "x=1,y=2")
    many = json.loads(run_cli("grad", "-", *at, "--format", "json", input=text).stdout)
    assert [r["expr"] for r in many] == ["x**2", "x*y"]
    assert many[1]["grad"] == {"x": 2.0, "y": 1.0} and many[0]["at"] == {"x": 1.0}
    lines = run_cli("grad", "-", *at, "--format", "jsonl", input=text).stdout.splitlines()
    assert [json.loads(line) for line in lines] == many
    plain = run_cli("grad", "-", *at, input=text).stdout
    assert (
        plain
        == "expr\tx**2\nvalue\t1.0\nd/dx\t2.0\n\nexpr\tx*y\nvalue\t2.0\nd/dx\t2.0\nd/dy\t1.0\n"
    )
    tsv = run_cli("grad", "-", *at, "--format", "tsv", input=text).stdout
    assert tsv.splitlines() == [
        "expr\tvalue\td_x\td_y\terror",
        "x**2\t1.0\t2.0\t\t",
        "x*y\t2.0\t2.0\t1.0\t",
    ]


def test_wrt_chooses_the_partial_columns_of_an_expression_stream():
    result = run_cli(
        "grad", "-", "--at", "x=1,y=2", "--wrt", "y", "--format", "csv", input="x*y\nx\n"
    )
    assert result.stdout.splitlines() == ["expr,value,d_y,error", "x*y,2.0,1.0,", "x,1.0,,"]


def test_a_table_of_expressions_in_a_pipe_has_no_box_drawing():
    result = run_cli("grad", "-", "--at", "x=2", "--format", "table", input="x**2\nlog(x)\n")
    assert result.returncode == 0
    assert "∂f/∂x" in result.stdout and "0.693147" in result.stdout
    assert not any(c in result.stdout for c in "─│╭\x1b")


def test_failed_expression_lines_keep_their_records_and_name_their_lines():
    text = "x**2\nlog(x-2)\n\nx*y\n"
    result = run_cli("grad", "-", "--at", "x=1", "--format", "csv", input=text)
    assert result.returncode == 2, result.stderr  # a missing value is a usage error
    assert rows(result.stdout) == [
        {"expr": "x**2", "value": "1.0", "d_x": "2.0", "error": ""},
        {"expr": "log(x-2)", "value": "", "d_x": "", "error": rows(result.stdout)[1]["error"]},
        {
            "expr": "x*y",
            "value": "",
            "d_x": "",
            "error": "no value for variable 'y'; add --at y=VALUE",
        },
    ]
    assert rows(result.stdout)[1]["error"] == "log(-1) is undefined: its argument must be > 0"
    assert result.stderr.splitlines() == [
        "autodiff: line 2: error: log(-1) is undefined: its argument must be > 0",
        "autodiff: line 4: error: no value for variable 'y'; add --at y=VALUE",
    ]


def test_evaluation_failures_alone_exit_1_and_json_has_null_and_error():
    result = run_cli("grad", "-", "--at", "x=0", "--format", "json", input="1/x\nx+1\n")
    assert result.returncode == 1
    first, second = json.loads(result.stdout)
    assert first == {
        "expr": "1/x",
        "at": {"x": 0.0},
        "value": None,
        "grad": None,
        "error": "1/0 is undefined: the divisor must not be 0",
    }
    assert second["value"] == 1.0 and "error" not in second
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout


def test_a_syntax_error_line_shows_a_caret_and_exits_2():
    result = run_cli("grad", "-", "--at", "x=1", "--format", "jsonl", input="sqrt(x)/0\n(x\n")
    assert result.returncode == 2  # syntax outranks the evaluation failure of line 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[1]["expr"] == "(x" and records[1]["error"].startswith(
        "syntax error: missing ')'"
    )
    assert records[1]["at"] == {} and records[1]["value"] is None
    lines = result.stderr.splitlines()
    assert lines[0].startswith("autodiff: line 1: error: ")
    assert lines[1].startswith("autodiff: line 2: syntax error: missing ')'")
    assert lines[2:] == ["  (x", "    ^"]


def test_expressions_from_stdin_cannot_take_points_too():
    result = run_cli("grad", "-", "--points", "p.csv", input="x\n")
    assert result.returncode == 2 and result.stdout == ""
    assert "--points" in result.stderr


# -- points -------------------------------------------------------------------


POINTS = "id,x,y\na,0.5,1\nb,-1.25,2.5\nc,3,0\n"


def test_points_csv_carries_columns_through_and_round_trips(tmp_path):
    (tmp_path / "points.csv").write_text(POINTS)
    result = run_cli("grad", F, "--points", "points.csv", "--format", "csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "id,x,y,value,d_x,d_y,error"
    got = rows(result.stdout)
    assert [r["id"] for r in got] == ["a", "b", "c"]
    assert [(r["x"], r["y"]) for r in got] == [("0.5", "1"), ("-1.25", "2.5"), ("3", "0")]
    for r in got:
        expected = f_and_grad(float(r["x"]), float(r["y"]))
        numbers = (float(r["value"]), float(r["d_x"]), float(r["d_y"]))
        assert numbers == pytest.approx(expected, rel=1e-14, abs=1e-15)
        assert r["error"] == ""


def test_every_format_for_points_from_stdin():
    at = ("--points", "-")
    tsv = run_cli("grad", "x*y", *at, "--format", "tsv", input=POINTS).stdout
    assert rows(tsv, "\t")[1] == {
        "id": "b",
        "x": "-1.25",
        "y": "2.5",
        "value": "-3.125",
        "d_x": "2.5",
        "d_y": "-1.25",
        "error": "",
    }
    records = json.loads(run_cli("grad", "x*y", *at, "--format", "json", input=POINTS).stdout)
    assert records[0] == {
        "expr": "x*y",
        "at": {"x": 0.5, "y": 1.0},
        "value": 0.5,
        "grad": {"x": 1.0, "y": 0.5},
        "extra": {"id": "a"},
    }
    jsonl = run_cli("grad", "x*y", *at, "--format", "jsonl", input=POINTS).stdout
    assert [json.loads(line) for line in jsonl.splitlines()] == records
    plain = run_cli("grad", "x*y", *at, input=POINTS).stdout
    assert plain.split("\n\n")[2] == "id\tc\nx\t3\ny\t0\nvalue\t0.0\nd/dx\t0.0\nd/dy\t3.0\n"
    table = run_cli(
        "grad", "x*y", *at, "--format", "table", "--precision", "2", input=POINTS
    ).stdout
    assert "-3.1" in table and "∂f/∂y" in table and "id" in table


def test_one_point_as_json_is_an_array_of_one_and_at_is_one_object():
    result = run_cli("grad", "x", "--points", "-", "--format", "json", input="x\n2\n")
    assert json.loads(result.stdout) == [
        {"expr": "x", "at": {"x": 2.0}, "value": 2.0, "grad": {"x": 1.0}}
    ]
    single = run_cli("grad", "x", "--at", "x=2", "--format", "json")
    assert json.loads(single.stdout) == {
        "expr": "x",
        "at": {"x": 2.0},
        "value": 2.0,
        "grad": {"x": 1.0},
    }


def test_no_points_gives_a_header_or_an_empty_array():
    assert (
        run_cli("grad", "x", "--points", "-", "--format", "csv", input="x\n").stdout
        == "x,value,d_x,error\n"
    )
    assert run_cli("grad", "x", "--points", "-", "--format", "json", input="x\n").stdout == "[]\n"


def test_at_gives_defaults_for_absent_columns_and_empty_fields():
    text = 'x,note\n1,"a, b"\n,"quoted ""q"""\n'
    result = run_cli(
        "grad", "x*y", "--points", "-", "--at", "y=3,x=10", "--format", "csv", input=text
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "x,note,value,d_x,d_y,error",
        '1,"a, b",3.0,3.0,1.0,',
        ',"quoted ""q""",30.0,3.0,10.0,',
    ]


def test_jsonl_points_by_extension_and_by_option(tmp_path):
    text = '{"x": 2, "id": 7}\n\n{"x": 0.5, "y": 4, "tag": "t"}\n'
    (tmp_path / "p.jsonl").write_text(text)
    result = run_cli(
        "grad", "x*y", "--points", "p.jsonl", "--at", "y=1", "--format", "jsonl", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {
        "expr": "x*y",
        "at": {"x": 2.0, "y": 1.0},
        "value": 2.0,
        "grad": {"x": 1.0, "y": 2.0},
        "extra": {"id": 7},
    }
    assert second["value"] == 2.0 and second["extra"] == {"tag": "t"}
    # CSV columns of JSON Lines points are the first record's keys.
    result = run_cli(
        "grad",
        "x*y",
        "--points",
        "-",
        "--points-format",
        "jsonl",
        "--at",
        "y=1",
        "--format",
        "csv",
        input=text,
    )
    assert result.stdout.splitlines() == [
        "x,id,value,d_x,d_y,error",
        "2,7,2.0,1.0,2.0,",
        "0.5,,2.0,4.0,0.5,",
    ]


def test_jsonl_points_on_stdin_are_recognised_without_an_option():
    text = '{"x": 1, "y": 2}\n{"x": 3, "y": 4}\n'
    result = run_cli("grad", "x*y", "--points", "-", "--format", "csv", input=text)
    assert result.stdout.splitlines() == [
        "x,y,value,d_x,d_y,error",
        "1,2,2.0,2.0,1.0,",
        "3,4,12.0,4.0,3.0,",
    ]


def test_a_byte_order_mark_crlf_and_spaces_in_the_header(tmp_path):
    (tmp_path / "excel.csv").write_bytes(b"\xef\xbb\xbf x , y \r\n1,2\r\n3,4\r\n")
    result = run_cli("grad", "x*y", "--points", "excel.csv", "--format", "csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "x,y,value,d_x,d_y,error\n1,2,2.0,2.0,1.0,\n3,4,12.0,4.0,3.0,\n"


def test_tsv_points():
    result = run_cli(
        "grad",
        "x+y",
        "--points",
        "-",
        "--points-format",
        "tsv",
        "--format",
        "csv",
        input="x\ty\n1\t2\n",
    )
    assert result.stdout.splitlines() == ["x,y,value,d_x,d_y,error", "1,2,3.0,1.0,1.0,"]


def test_bad_rows_are_reported_and_kept_with_exit_2():
    text = "id,x\na,1\nb,abc\nc,1,2\nd,inf\n\ne,-1\n"
    result = run_cli("grad", "log(x)", "--points", "-", "--format", "csv", input=text)
    assert result.returncode == 2
    got = rows(result.stdout)
    assert [r["id"] for r in got] == ["a", "b", "c", "d", "e"]
    assert got[0]["value"] == "0.0" and got[0]["error"] == ""
    assert [r["value"] for r in got[1:]] == ["", "", "", ""]
    assert result.stderr.splitlines() == [
        "autodiff: line 3: error: x: 'abc' is not a number",
        "autodiff: line 4: error: expected 2 fields, got 3",
        "autodiff: line 5: error: x: 'inf' is not a finite number",
        "autodiff: line 7: error: log(-1) is undefined: its argument must be > 0",
    ]
    assert got[4]["error"] == "log(-1) is undefined: its argument must be > 0"


def test_domain_errors_alone_exit_1_and_every_point_is_written():
    text = "x\n4\n0\n-4\n9\n"
    result = run_cli("grad", "sqrt(x)", "--points", "-", "--format", "jsonl", input=text)
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["value"] for r in records] == [2.0, None, None, 3.0]
    assert records[1]["error"] == "the derivative of sqrt at 0 is not finite"
    assert records[2]["error"] == "sqrt(-4) is undefined: its argument must be >= 0"
    assert records[2]["at"] == {"x": -4.0}
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout
    assert result.stderr.splitlines() == [
        "autodiff: line 3: error: the derivative of sqrt at 0 is not finite",
        "autodiff: line 4: error: sqrt(-4) is undefined: its argument must be >= 0",
    ]


def test_a_quoted_field_over_two_lines_keeps_the_line_numbers_right():
    text = 'note,x\n"two\nlines",1\nok,-1\n'
    result = run_cli("grad", "log(x)", "--points", "-", "--format", "csv", input=text)
    assert (
        result.stderr == "autodiff: line 4: error: log(-1) is undefined: its argument must be > 0\n"
    )
    assert result.stdout.splitlines()[1:3] == ['"two', 'lines",1,0.0,1.0,']


@pytest.mark.parametrize(
    ("args", "stdin", "needles"),
    extended(
        [
            (
                ["x*y", "--points", "-"],
                "x\n1\n",
                ["no value for variable 'y'", "columns: x", "--at y="],
            ),
            (["x", "--points", "-"], "", ["no header row"]),
            (["x", "--points", "-"], "x,x\n1,2\n", ["names 'x' twice"]),
            (["x", "--points", "-"], "x,\n1,2\n", ["empty column name"]),
            (
                ["x", "--points", "no-such-file.csv"],
                None,
                ["cannot read --points no-such-file.csv"],
            ),
            (["x", "--points", "-", "--points-format", "xml"], "x\n1\n", ["xml", "jsonl"]),
            (["x", "--points", "-", "--wrt", "z"], "x\n1\n", ["--wrt z"]),
            (["(x", "--points", "-"], "x\n1\n", ["missing ')'"]),
            (["x", "--points", "-", "--format", "yaml"], "x\n1\n", ["yaml"]),
        ],
        5,
        several=True,
    ),
)
def test_a_stream_that_cannot_start_is_a_usage_error(args, stdin, needles):
    result = run_cli("grad", *args, input=stdin)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr


def test_same_input_same_bytes():
    text = "id,x,y\n" + "".join(f"r{i},{i / 7!r},{-i / 3!r}\n" for i in range(2000))
    outputs = {
        run_cli("grad", F, "--points", "-", "--format", fmt, input=text).stdout
        for fmt in ("csv",) * 2
    }
    assert len(outputs) == 1


def test_one_point_does_not_import_numpy():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "autodiff", "grad", "x*y", "--at", "x=1,y=2"],
        capture_output=True,
        text=True,
        env=cli_env(),
    )
    assert result.returncode == 0
    assert "autodiff.core.expression" in result.stderr  # the import log is really there
    assert "numpy" not in result.stderr


# -- pipes ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", extended(["csv", "jsonl", "plain"], 1))
def test_a_closed_pipe_ends_the_stream_quietly(tmp_path, fmt):
    points = tmp_path / "big.csv"
    points.write_text("x,y\n" + "".join(f"{i},{i % 5}\n" for i in range(300_000)))
    command = (
        f'"{sys.executable}" -m autodiff grad "{F}" --points big.csv --format {fmt}'
        ' | head -1; echo "${PIPESTATUS[0]}" >&2'
    )
    result = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cli_env(),
        timeout=120,
    )
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == "141\n"  # 128 + SIGPIPE, as for any command a pipe stopped


def test_a_closed_pipe_ends_an_expression_stream_quietly():
    command = (
        f'seq 1 200000 | sed "s/^/x*/" | "{sys.executable}" -m autodiff grad -'
        " --at x=2 --format csv | head -2"
    )
    result = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, env=cli_env(), timeout=120
    )
    assert result.stdout == "expr,value,d_x,error\nx*1,2.0,1.0,\n"
    assert result.stderr == ""


@pytest.mark.slow
def test_a_million_points_through_the_command_line(tmp_path):
    n = 1_000_000
    points, out = tmp_path / "points.csv", tmp_path / "out.csv"
    with points.open("w") as f:
        f.write("x,y\n")
        f.writelines(f"{(i % 2000) / 300 - 3!r},{(i % 777) / 200 - 2!r}\n" for i in range(n))
    with out.open("w") as f:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "autodiff",
                "grad",
                F,
                "--points",
                str(points),
                "--format",
                "csv",
            ],
            stdout=f,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
            timeout=300,
        )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    with out.open() as f:
        reader = csv.reader(f)
        assert next(reader) == ["x", "y", "value", "d_x", "d_y", "error"]
        count = 0
        for count, row in enumerate(reader, 1):
            if count % 9973 == 1:
                expected = f_and_grad(float(row[0]), float(row[1]))
                assert tuple(map(float, row[2:5])) == pytest.approx(expected, rel=1e-13, abs=1e-13)
                assert row[5] == ""
    assert count == n


# -- a JSON array of objects (what `jq -s` makes): issue 14, item 8 -----------

PRETTY = """[
  {
    "x": 1,
    "id": "a"
  },
  {
    "x": 2.5,
    "id": "b, \\"quoted\\" ]"
  }
]
"""


def test_a_json_array_of_objects_is_read_as_json_lines():
    array = run_cli("grad", "x**2", "--points", "-", "--format", "jsonl", input=PRETTY)
    lines = run_cli(
        "grad",
        "x**2",
        "--points",
        "-",
        "--format",
        "jsonl",
        input='{"x": 1, "id": "a"}\n{"x": 2.5, "id": "b, \\"quoted\\" ]"}\n',
    )
    assert array.returncode == 0, array.stderr
    assert array.stdout == lines.stdout
    assert [json.loads(r)["extra"]["id"] for r in array.stdout.splitlines()] == [
        "a",
        'b, "quoted" ]',
    ]


def test_a_json_file_by_its_extension(tmp_path):
    (tmp_path / "p.json").write_text('[{"x": 3}, {"x": 4}]')
    result = run_cli("grad", "x*x", "--points", "p.json", "--format", "csv", cwd=tmp_path)
    assert result.stdout == "x,value,d_x,error\n3,9.0,6.0,\n4,16.0,8.0,\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"x": 1}, 7]', "expected a JSON object"),
        ('[{"x": 1}', "the JSON array is not closed"),
        ('[{"x": 1}] {"x": 2}', "not a JSON array: '{' after the array"),
    ],
)
def test_a_bad_array_keeps_the_good_records_and_says_what_is_wrong(text, message):
    result = run_cli("grad", "x", "--points", "-", "--format", "csv", input=text)
    assert result.returncode == 2
    assert result.stdout.splitlines()[:2] == ["x,value,d_x,error", "1,1.0,1.0,"]
    assert message in result.stdout.splitlines()[2]
    assert message in result.stderr


def test_a_csv_header_that_starts_with_a_bracket_stays_csv():
    result = run_cli("grad", "x", "--points", "-", "--format", "csv", input="[note],x\nhi,2\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[note],x,value,d_x,error\nhi,2,2.0,1.0,\n"


def test_the_point_formats_the_help_lists_are_the_reader_s():
    from autodiff.cli.common import POINT_FORMATS
    from autodiff.features.points import FORMATS

    assert POINT_FORMATS == FORMATS
