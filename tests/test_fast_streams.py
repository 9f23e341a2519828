"""The C paths of a stream (issue 17, goal 3) against the careful paths they
stand in for: block-read lines against readline, orjson's numbers against
repr, a plain CSV chunk against the csv module's reading, and JSON records
assembled from texts against json.dumps. Each pair must agree exactly."""

from __future__ import annotations

import io
import json
import math
import random
import re

import numpy as np
import pytest

from autodiff.features import points
from autodiff.features.lines import BlockLines, LongLine, bounded_lines
from autodiff.render import formats
from autodiff.render.numbers import float_texts, number_rows
from conftest import extended

PIECES = ["a", "bc", "12345", "\n", "\r", "\r\n", "\n\n", "xxxxxxxxxxxx", "é", ","]


def shapes(lines):
    return [("long", x.limit) if isinstance(x, LongLine) else x for x in lines]


def reference_lines(text: str, limit: int) -> list[object]:
    """Lines as readline splits them with newline="" (\n, \r\n, \r), each kept
    with its end; one whose text past its end is longer than ``limit`` is long."""
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)
    return [("long", limit) if len(x.rstrip("\r\n")) > limit else x for x in lines]


@pytest.mark.parametrize("seed", extended(list(range(60)), keep=20))
def test_block_lines_split_as_readline_does(seed):
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 80)))
    limit = rng.choice([3, 5, 8, 1000])
    want = reference_lines(text, limit)
    one_by_one = shapes(bounded_lines(io.StringIO(text, newline=""), limit, "t"))
    assert one_by_one == want, repr(text)

    class Small(BlockLines):
        BLOCK = rng.choice([1, 2, 3, 7, 64])

    reader = Small(io.StringIO(text, newline=""), limit, "t")
    got: list[object] = []
    while batch := reader.take(rng.choice([1, 2, 5])):
        got += batch
    assert shapes(got) == want, repr(text)


def random_floats(rng: np.random.Generator, size: int) -> np.ndarray:
    bits = rng.integers(0, 2**64, size, dtype=np.uint64).view(np.float64)
    decades = rng.standard_normal(size) * 10.0 ** rng.integers(-12, 20, size)
    mixed = np.where(rng.random(size) < 0.5, bits, decades)
    mixed[:: max(size // 50, 1)] = 1.5e-5  # orjson's positional spelling
    return np.where(np.isfinite(mixed), mixed, -0.0)


@pytest.mark.parametrize("seed", range(3))
def test_floats_are_written_as_repr_writes_them(seed):
    rng = np.random.default_rng(seed)
    values = random_floats(rng, 20_000)
    assert float_texts(values) == [repr(v) for v in values.tolist()]
    with_gaps = [*values[:50].tolist(), None, math.nan, math.inf]
    assert float_texts(with_gaps) == [*(repr(v) for v in values[:50].tolist()), "", "", ""]
    columns = [random_floats(rng, 5_000) for _ in range(3)]
    want = [",".join(map(repr, row)) for row in zip(*(c.tolist() for c in columns), strict=True)]
    assert number_rows(columns, ",") == want
    failed = [0, 7, 4999]
    rows = number_rows(columns, "\t", failed)
    assert all(rows[i] == "\t\t" for i in failed) and rows[1] == want[1].replace(",", "\t")


def test_rows_at_the_bounds_of_repr_exponents_are_spelled_as_repr():
    """number_rows mends only rows with a number near where repr starts writing
    an exponent: each bound, a step either side, and their negatives."""
    bounds = [1e-5, 1e-4, 1e-3, 1e15, 1e16, 1e17, 5e-324, 2.2250738585072014e-308, 1.7e308]
    near = [b2 for b in bounds for b2 in (np.nextafter(b, 0), b, np.nextafter(b, np.inf))]
    values = np.array([*near, *(-v for v in near), 0.0, -0.0, 1.0])
    columns = [values, np.roll(values, 1), np.full(len(values), 2.5)]
    want = [",".join(map(repr, row)) for row in zip(*(c.tolist() for c in columns), strict=True)]
    assert number_rows(columns, ",") == want


def test_records_whose_field_counts_make_up_for_each_other_are_errors(cli):
    """Three fields then one add up to two records of two: each is still wrong."""
    run = cli("grad", "x+y", "--points", "-", "--format", "csv", input="x,y\n1,2,3\n4\n5,6\n")
    assert run.returncode == 2
    assert run.stdout.splitlines()[1:] == [
        '1,2,,,,"expected 2 fields, got 3"',
        '4,,,,,"expected 2 fields, got 1"',
        "5,6,11.0,1.0,1.0,",
    ]
    assert "line 2: error: expected 2 fields, got 3" in run.stderr


NUMBERS = ["1", "-0", "0", "2.5", "1e5", "-3E-7", ".5", "5.", "+1", " 2", "1_0", "٣", "nan", "inf"]
NUMBERS += ["", "true", "null", "0x1", "1e999", "12345678901234567890123", "[1]", "1 2"]
TEXTS = ["a", "", " b ", "x y", "é", "[1]"]


def chunks_both_ways(text: str, variables, defaults, fmt: str = "csv"):
    """The chunks as read, and as the csv module's path alone reads them; and
    how many chunks the plain path read."""
    taken = []

    def read(fast: bool):
        reader = points.PointReader(io.StringIO(text, newline=""), fmt, variables, defaults)
        plain = reader._unquoted
        if fast:
            reader._unquoted = lambda *args: taken.append(plain(*args)) or taken[-1]
        else:
            reader._unquoted = lambda *args: None  # the csv module's path, always
        return list(reader)

    return read(True), read(False), sum(chunk is not None for chunk in taken)


def assert_same_chunks(fast, slow, text):
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        assert a.lines == b.lines and [list(f) for f in a.fields] == [list(f) for f in b.fields]
        assert {i: str(e) for i, e in a.errors.items()} == {i: str(e) for i, e in b.errors.items()}
        for name in ("x", "y"):
            assert a.values[name].tobytes() == b.values[name].tobytes(), (name, text)


@pytest.mark.parametrize("seed", extended(list(range(40)), keep=12))
@pytest.mark.parametrize("shape", ["x,y,note", "x,y", "y,x", "x\ty"])
def test_a_plain_chunk_reads_as_the_csv_module_reads_it(seed, shape):
    """With a column of text, and with every column a variable (read whole)."""
    rng = random.Random(seed)
    d = "\t" if "\t" in shape else ","
    rows = []
    for _ in range(rng.randrange(1, 30)):
        pick = NUMBERS if rng.random() < 0.2 else NUMBERS[:6]
        rows.append([rng.choice(pick), rng.choice(pick), rng.choice(TEXTS)][: shape.count(d) + 1])
    text = shape + "\n" + "\n".join(d.join(r) for r in rows) + rng.choice(["", "\n"])
    fmt = "tsv" if d == "\t" else "csv"
    fast, slow, _ = chunks_both_ways(text, ["x", "y"], {"y": 7.0} if seed % 2 else {}, fmt)
    assert_same_chunks(fast, slow, text)


@pytest.mark.parametrize(
    ("text", "fmt", "failed"),
    [
        ("x\ty\n1,5\t2\n3\t4\n", "tsv", [0]),
        ("x,y\n1,2\n3,\n", "csv", [1]),
        ("x,y\n1,2\n3,", "csv", [1]),
        # A comma in one field and an empty last field: one number too many
        # and one too few, which must not make up for each other.
        ("x\ty\n1,5\t2\n3\t\n", "tsv", [0, 1]),
        ("x\ty\n1,5\t2\n3\t", "tsv", [0, 1]),
    ],
)
def test_a_comma_in_tsv_or_an_empty_last_field_is_no_number_when_read_whole(text, fmt, failed):
    fast, slow, _ = chunks_both_ways(text, ["x", "y"], {}, fmt)
    assert_same_chunks(fast, slow, text)
    assert list(fast[0].errors) == failed


def test_a_variable_without_a_column_takes_its_default_when_read_whole():
    text = "x,y\n1,2\n3,4\n"
    fast, slow, plain = chunks_both_ways(text, ["x", "y", "z"], {"z": 1.5})
    assert plain == 1 and fast[0].values["z"].tolist() == [1.5, 1.5]
    assert_same_chunks(fast, slow, text)


# Spellings the plain path reads itself: signed and padded zeros among them.
PLAIN = ["1", "-0", " -0", "-0 ", "-0.0", "0", "2.5", "1e5", "-3E-7", " 4", "1E+2", "-0e3"]


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("note", [True, False])
def test_the_plain_path_reads_what_the_csv_module_reads(seed, note):
    rng = random.Random(seed)
    rows = [[rng.choice(PLAIN), rng.choice(PLAIN), rng.choice(TEXTS)][: 3 if note else 2]
            for _ in range(40)]  # fmt: skip
    header = "x,y,note" if note else "x,y"
    text = header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    fast, slow, plain = chunks_both_ways(text, ["x", "y"], {})
    assert plain == len(fast) == 1  # the plain path read it, and read it the same
    assert_same_chunks(fast, slow, text)


@pytest.mark.parametrize("seed", range(20))
def test_json_records_assembled_from_texts_equal_json_dumps(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 40))
    x, value, grad = (random_floats(rng, size).tolist() for _ in range(3))
    errors = {int(i): f"error {i}" for i in rng.integers(0, size, int(rng.integers(0, 3)))}
    for i in errors:
        value[i] = None
    batch = formats.Batch(
        ["x"], [[repr(v)] for v in x], ["sin(x)"] * size, {"x": x}, value, {"x": grad}, errors
    )
    texts = formats._json_texts(batch)
    assert texts == [json.dumps(r, allow_nan=False) for r in formats._json_records(batch)]
    value[0] = None  # a number missing outside a failed record: the general path
    assert formats._json_texts(formats.Batch(
        ["x"], [[""]] * size, ["x"] * size, {"x": x}, value, {"x": grad}, {}
    )) is None  # fmt: skip
