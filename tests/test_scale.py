"""Beyond one machine (issue 17, goal 5): Parquet in and out of `grad --points`,
and the Dask example of docs/scale.md on a real LocalCluster with 2 workers."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from autodiff import parse
from conftest import ROOT, cli_env, run_cli

F = "sin(x)*exp(-y/2) + x**2*y"
EXAMPLE = ROOT / "docs" / "examples" / "dask_gradient.py"


def dataset(folder: Path, parts: int = 4, rows: int = 3000) -> None:
    rng = np.random.default_rng(7)
    folder.mkdir()
    for k in range(parts):
        ids = np.arange(k * rows, (k + 1) * rows)
        table = pa.table({"id": ids, "x": rng.uniform(-2, 2, rows), "y": rng.uniform(-2, 2, rows)})
        pq.write_table(table, folder / f"part{k}.parquet")


def test_parquet_in_and_out_carries_the_columns_with_their_types(tmp_path):
    source = tmp_path / "points.parquet"
    table = pa.table(
        {
            "id": pa.array([1, 2, 3, 4], pa.int32()),
            "x": [1.0, None, -1.0, 2.5],
            "y": [2.0, 3.0, 4.0, 5.0],
            "tag": ["a", "b", "c", "d"],
        }
    )
    pq.write_table(table, source, row_group_size=2)
    out = tmp_path / "out.parquet"
    result = run_cli("grad", "log(x)*y", "--points", str(source), "-o", str(out))
    assert result.returncode == 2  # row 2 has no x: a record error, as a malformed CSV row
    assert f"wrote {out}" in result.stderr
    written = pq.read_table(out)
    assert written.schema.field("id").type == pa.int32()
    assert written.column_names == ["id", "x", "y", "tag", "value", "d_x", "d_y", "error"]
    rows = written.to_pylist()
    assert [r["id"] for r in rows] == [1, 2, 3, 4] and rows[3]["tag"] == "d"
    assert rows[0]["value"] == 0.0 and rows[0]["d_x"] == 2.0 and rows[0]["error"] is None
    assert rows[1]["value"] is None and "no value for variable 'x'" in rows[1]["error"]
    assert "log(-1) is undefined" in rows[2]["error"]
    assert rows[3]["value"] == float(np.log(2.5) * 5.0)
    csv = run_cli("grad", "log(x)*y", "--points", str(source), "--format", "csv").stdout
    assert csv.splitlines()[0] == "id,x,y,tag,value,d_x,d_y,error"
    assert csv.splitlines()[4].startswith("4,2.5,5,d,")  # numbers as Arrow writes them


@pytest.mark.parametrize(
    ("command", "results"),
    [
        (["grad", "x**2*y"], ["value", "grad"]),
        (["jacobian", "x**2*y, x"], ["value", "jacobian"]),
        (["taylor", "x**2*y", "--wrt", "x", "--order", "2"], ["coefficients", "polynomial"]),
        (["uncertainty", "x**2*y"], ["value", "sigma", "budget"]),
    ],
)
def test_every_points_command_reads_parquet_and_keeps_json_types(tmp_path, command, results):
    source = tmp_path / "points.parquet"
    table = pa.table(
        {
            "id": pa.array([7, 8], pa.int64()),
            "x": [1.0, 2.0],
            "x_sigma": [0.1, 0.2],
            "y": [3.0, 4.0],
            "ok": [True, False],
            "tag": ["a", None],
            "ratio": [float("nan"), 0.5],
        }
    )
    pq.write_table(table, source)
    result = run_cli(*command, "--points", str(source), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["at"]["x"] for r in records] == [1.0, 2.0]
    assert all(k in r for r in records for k in results)
    # The carried columns keep their Parquet types; NaN, which JSON lacks, as its text.
    extra = records[0]["extra"]
    assert extra["id"] == 7 and extra["ok"] is True and extra["tag"] == "a"
    assert extra["ratio"] == "nan" and records[1]["extra"]["tag"] is None
    assert records[1]["extra"]["ratio"] == 0.5


def test_a_float32_column_is_carried_as_its_shortest_text_says(tmp_path):
    source = tmp_path / "narrow.parquet"
    pq.write_table(pa.table({"x": [1.0], "w": pa.array([0.1], pa.float32())}), source)
    result = run_cli("grad", "x", "--points", str(source), "--format", "jsonl")
    assert json.loads(result.stdout)["extra"] == {"w": 0.1}  # not 0.10000000149011612


def test_parquet_refusals(tmp_path):
    source = tmp_path / "p.parquet"
    pq.write_table(pa.table({"x": ["a", "b"]}), source)
    cases = [
        (["x", "--points", str(source), "--format", "parquet"], "give it with -o FILE"),
        (["x", "--points", str(source)], "holds string, not numbers"),
        (["x", "--points", "-", "--points-format", "parquet"], "not stdin"),
        (["x", "--at", "x=1", "-o", str(tmp_path / "o.parquet")], "-o writes the records"),
        (["x", "--points", str(tmp_path / "missing.parquet")], "cannot read"),
    ]
    for args, said in cases:
        result = run_cli("grad", *args)
        assert result.returncode == 2 and said in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_without_pyarrow_parquet_says_how_to_get_it(tmp_path):
    blocker = tmp_path / "block"
    (blocker / "pyarrow").mkdir(parents=True)
    (blocker / "pyarrow" / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = cli_env()
    env["PYTHONPATH"] = f"{blocker}:{env['PYTHONPATH']}"
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "autodiff", "grad", "x", "--points", "p.parquet"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "pip install 'autodiff-cli[parquet]'" in result.stderr
    # and the core works without it
    ok = subprocess.run(
        [sys.executable, "-m", "autodiff", "grad", "x*y", "--at", "x=1,y=2"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert ok.returncode == 0 and ok.stdout == "value\t2.0\nd/dx\t2.0\nd/dy\t1.0\n"


def test_the_docs_show_the_example_file():
    page = (ROOT / "docs" / "scale.md").read_text()
    shown = re.search(r"```python\n(.*?)```", page, re.S)
    assert shown is not None and shown.group(1) == EXAMPLE.read_text()


@pytest.mark.slow
def test_the_dask_example_on_a_local_cluster_equals_one_process(tmp_path):
    from dask.distributed import Client, LocalCluster

    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import dask_gradient
    finally:
        sys.path.remove(str(EXAMPLE.parent))
    dataset(tmp_path / "points")
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        client.upload_file(str(EXAMPLE))  # the workers import the script as the test does
        dask_gradient.differentiate_dataset(F, str(tmp_path / "points"), str(tmp_path / "out"))
    result = pq.read_table(tmp_path / "out").to_pandas().sort_values("id")
    whole = pq.read_table(tmp_path / "points").to_pandas().sort_values("id")
    value, grad = parse(F).gradient({"x": whole["x"].to_numpy(), "y": whole["y"].to_numpy()})
    assert len(result) == len(whole) == 12000
    assert np.array_equal(result["id"].to_numpy(), whole["id"].to_numpy())
    assert np.array_equal(result["value"].to_numpy(), value)
    assert np.array_equal(result["d_x"].to_numpy(), grad["x"])
    assert np.array_equal(result["d_y"].to_numpy(), grad["y"])
