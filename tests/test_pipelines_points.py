"""The library side of many points: arrays through Expression.gradient, and
points read in chunks (autodiff.features.points)."""

from __future__ import annotations

import io
import math
import sys

import numpy as np
import pytest

import autodiff.core.expression as expression_module
from autodiff import EvaluationError, UsageError, parse
from autodiff.core.errors import MissingValueError
from autodiff.features import points as points_module
from conftest import run_cli

EXPRESSIONS = [
    "sin(x)*exp(-y/2) + x**2*y",
    "tanh(x*y + 1) / (1 + x**2)",
    "sigmoid(x) * relu(y) + abs(x - y)",
    "atan(x) + cosh(y/3) - sqrt(x**2 + y**2 + 1)",
    "pow(x, 3) - log(1 + y**2)",
    "x",
    "x - x + 2*y",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_arrays_agree_with_floats_point_by_point(text):
    rng = np.random.default_rng(7)
    x, y = rng.uniform(-2, 2, 200), rng.uniform(-2, 2, 200)
    expression = parse(text)
    value, grad = expression.gradient({"x": x, "y": y})
    assert value.shape == (200,) and set(grad) == set(expression.variables)
    for i in range(0, 200, 13):
        v, g = expression.gradient({"x": float(x[i]), "y": float(y[i])})
        assert value[i] == pytest.approx(v, rel=1e-13, abs=1e-14)
        for name in g:
            assert grad[name][i] == pytest.approx(g[name], rel=1e-13, abs=1e-14)


def test_arrays_cross_chunk_boundaries(monkeypatch):
    monkeypatch.setattr(expression_module, "ARRAY_CHUNK", 7)
    x = np.linspace(-1, 1, 50)
    value, grad = parse("x**3 + 2*x").gradient({"x": x})
    assert np.array_equal(value, x**3 + 2 * x)
    assert np.allclose(grad["x"], 3 * x**2 + 2, rtol=1e-15)


@pytest.mark.parametrize("threads", [2, 3, 8])
def test_threads_change_no_number(monkeypatch, threads):
    # Chunks start where they would on one thread, so every point's arithmetic is the same.
    monkeypatch.setattr(expression_module, "ARRAY_CHUNK", 1000)
    rng = np.random.default_rng(threads)
    point = {"x": rng.uniform(-3, 3, 10_000), "y": rng.uniform(-3, 3, 10_000)}
    point["x"][[5, 4000]] = [0.0, -1.0]  # log(0) and log(-1) on the way: NaN where undefined
    expression = parse("sin(x*y) + exp(-x**2)*cos(y) + log(x**2 + x)*y")
    one = expression.gradient(point, threads=1)
    many = expression.gradient(point, threads=threads)
    assert np.array_equal(one[0], many[0], equal_nan=True)
    for name in ("x", "y"):
        assert np.array_equal(one[1][name], many[1][name], equal_nan=True)
    assert not np.isfinite(many[0][[5, 4000]]).any()


def test_the_threads_option_gives_the_same_stream(tmp_path):
    path = tmp_path / "points.csv"
    rng = np.random.default_rng(1)
    rows = [f"{a!r},{b!r}" for a, b in rng.uniform(-2, 2, (3000, 2))]
    path.write_text("x,y\n" + "\n".join(rows) + "\n")
    outputs = {
        n: run_cli("grad", "sin(x*y)*exp(x)", "--points", str(path), "--format", "csv",
                   "--threads", n).stdout
        for n in ("1", "2")
    }  # fmt: skip
    assert outputs["1"] == outputs["2"] and outputs["1"].count("\n") == 3001
    refused = run_cli("grad", "x", "--points", str(path), "--threads", "0")
    assert (
        refused.returncode == 2
        and "--threads must be a whole number of at least 1" in refused.stderr
    )


def test_arrays_broadcast_with_floats_and_keep_their_shape():
    x = np.arange(6.0).reshape(2, 3)
    value, grad = parse("x*y").gradient({"x": x, "y": 2.0})
    assert value.shape == grad["y"].shape == (2, 3)
    assert np.array_equal(grad["x"], np.full((2, 3), 2.0))
    assert np.array_equal(grad["y"], x)
    value, grad = parse("x*y").gradient({"x": [1.0, 2.0], "y": 3})  # lists too
    assert value.tolist() == [3.0, 6.0]
    empty, grads = parse("sin(x)").gradient({"x": np.empty(0)})
    assert empty.shape == grads["x"].shape == (0,)


def test_arrays_are_nan_or_infinite_where_undefined_and_warn_nothing(recwarn):
    value, grad = parse("log(x)").gradient({"x": np.array([-1.0, 0.0, 1.0])})
    assert math.isnan(value[0]) and value[1] == -math.inf and value[2] == 0.0
    assert grad["x"][2] == 1.0 and not np.isfinite(grad["x"][1])
    assert not recwarn.list


def test_arrays_need_every_variable():
    with pytest.raises(MissingValueError, match="'y'"):
        parse("x + y").gradient({"x": np.ones(3)})


def read(text: str, variables=("x", "y"), defaults=None, fmt="csv", chunk_size=4):
    reader = points_module.PointReader(
        io.StringIO(text), fmt, variables, defaults or {}, chunk_size
    )
    return reader, list(reader)


def test_csv_points_in_chunks_keep_order_lines_and_fields():
    text = "x,y,id\n" + "".join(f"{i},{-i},r{i}\n" for i in range(10))
    reader, chunks = read(text)
    assert reader.columns == ("x", "y", "id")
    assert [len(c) for c in chunks] == [4, 4, 2]
    assert chunks[1].lines == [6, 7, 8, 9]
    assert chunks[2].values["y"].tolist() == [-8.0, -9.0]
    assert chunks[2].fields[1] == ["9", "-9", "r9"]
    assert chunks[0].extras(("x", "y"))[0] == {"id": "r0"}


def test_a_quoted_field_is_never_cut_between_chunks():
    text = 'x,note\n1,a\n2,"b\nc\nd"\n3,e\n'
    _, chunks = read(text, ("x",), chunk_size=2)
    fields = [row for chunk in chunks for row in chunk.fields]
    lines = [line for chunk in chunks for line in chunk.lines]
    assert fields == [["1", "a"], ["2", "b\nc\nd"], ["3", "e"]]
    assert lines == [2, 3, 6]
    assert not any(chunk.errors for chunk in chunks)


def test_bad_csv_records_carry_errors_and_nan():
    text = "x,y\n1,2\n\n1\nq,2\n3,4\n"
    _, (chunk,) = read(text, chunk_size=100)
    assert chunk.lines == [2, 4, 5, 6]
    assert {i: str(e) for i, e in chunk.errors.items()} == {
        1: "expected 2 fields, got 1",
        2: "x: 'q' is not a number",
    }
    assert all(isinstance(e, UsageError) for e in chunk.errors.values())
    assert np.isnan(chunk.values["x"][1]) and np.isnan(chunk.values["y"][2])
    assert chunk.values["y"][3] == 4.0


def test_defaults_fill_absent_columns_and_empty_fields():
    _, (chunk,) = read("x\n1\n\n \n", defaults={"y": 5.0, "x": -1.0})
    assert chunk.values["y"].tolist() == [5.0, 5.0] == [5.0] * len(chunk)
    assert chunk.values["x"].tolist() == [1.0, -1.0]


def test_a_missing_column_without_a_default_stops_the_stream():
    with pytest.raises(UsageError, match="no column 'y'"):
        read("x\n1\n")


def test_jsonl_points():
    text = '{"x": 1, "y": 2, "id": "a"}\n\n{"x": true}\n{"x": 1e400}\n[]\nnot json\n{"x": 3}\n'
    reader, chunks = read(text, fmt="jsonl", defaults={"y": 0.5}, chunk_size=3)
    assert reader.columns == ("x", "y", "id")
    records = [(line, chunk) for chunk in chunks for line in chunk.lines]
    assert [line for line, _ in records] == [1, 3, 4, 5, 6, 7]
    errors = {chunk.lines[i]: str(e) for chunk in chunks for i, e in chunk.errors.items()}
    assert errors == {
        3: "x: true is not a number",
        4: "not valid JSON here: 1e400 is beyond the range of a float",
        5: 'expected a JSON object, as in {"x": 1}',
        6: errors[6],
    }
    assert errors[6].startswith("not valid JSON")
    last = chunks[-1]
    assert last.values["x"][-1] == 3.0 and last.values["y"][-1] == 0.5
    assert last.fields[-1] == ["3", "", ""]
    assert chunks[0].extras(("x", "y"))[0] == {"id": "a"}


def test_formats_from_extension_or_option():
    assert points_module.format_for("p.JSONL", None) == "jsonl"
    assert points_module.format_for("p.ndjson", None) == "jsonl"
    assert points_module.format_for("p.tsv", None) == "tsv"
    assert points_module.format_for("p.csv", None) == "csv"
    assert points_module.format_for("p.txt", None) == "auto"
    assert points_module.format_for("", None) == "auto"  # stdin
    assert points_module.format_for("p.jsonl", "csv") == "csv"
    with pytest.raises(UsageError, match="xml"):
        points_module.format_for("p", "xml")


@pytest.mark.parametrize(
    ("text", "fmt", "line"),
    [('\n{"x": 1}\n', "jsonl", 2), ("x\n1\n", "csv", 2), ("\n x \n\n1\n", "csv", 4)],
)
def test_auto_format_looks_at_the_first_line(text, fmt, line):
    reader, (chunk,) = read(text, ("x",), fmt="auto")
    assert reader.fmt == fmt and chunk.values["x"].tolist() == [1.0] and chunk.lines == [line]


def test_failed_points_get_the_float_path_message():
    _, (chunk,) = read("x,y\n1,1\n0,1\n-1,2\n", chunk_size=10)
    result = points_module.gradient(parse("log(x)*y"), chunk)
    assert result.value[0] == 0.0 and result.grad["x"][0] == 1.0
    assert {i: str(e) for i, e in result.errors.items()} == {
        1: "log(0) is undefined: its argument must be > 0",
        2: "log(-1) is undefined: its argument must be > 0",
    }
    assert all(isinstance(e, EvaluationError) for e in result.errors.values())


def test_a_constant_expression_over_points():
    _, (chunk,) = read("x\n1\n2\n", ("x",), chunk_size=10)
    result = points_module.gradient(parse("2**3"), chunk)
    assert result.value.tolist() == [8.0, 8.0] and result.grad == {}
    result = points_module.gradient(parse("log(-1)"), chunk)
    assert set(result.errors) == {0, 1}


def test_the_progress_line_appears_only_on_a_terminal(monkeypatch):
    from autodiff.cli import streams

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, shown in ((Terminal(), True), (io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stream)
        monkeypatch.setattr(streams.Progress, "DELAY", 0.0)
        progress = streams.Progress("-", io.StringIO())
        progress.update(1500)
        progress.update(1500)
        progress.close()
        text = stream.getvalue()
        assert ("autodiff: 3,000 points" in text) is shown
        assert text.endswith("\r\x1b[K") is shown
