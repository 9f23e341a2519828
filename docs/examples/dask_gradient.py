"""Differentiate a dataset of many Parquet files with Dask (docs/scale.md).

    python dask_gradient.py "sin(x)*exp(-y/2) + x**2*y" points/ results/

Each partition is a pandas DataFrame; autodiff's array gradient runs on its
columns as numpy arrays and the value and partials are added as columns.
"""

from __future__ import annotations

import sys
from functools import cache

import dask.dataframe as dd
import pandas as pd

from autodiff import parse


@cache
def compiled(text: str):  # parsed once per worker process, not shipped to it
    return parse(text)


def differentiate(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    expression = compiled(text)
    point = {name: frame[name].to_numpy(dtype=float) for name in expression.variables}
    # One thread per task: Dask already runs a task per core.
    value, grad = expression.gradient(point, threads=1)
    partials = {f"d_{name}": grad[name] for name in expression.variables}
    return frame.assign(value=value, **partials)


def differentiate_dataset(text: str, source: str, target: str) -> None:
    points = dd.read_parquet(source)
    meta = points._meta.assign(value=0.0, **{f"d_{name}": 0.0 for name in compiled(text).variables})
    points.map_partitions(differentiate, text, meta=meta).to_parquet(target)


if __name__ == "__main__":
    from dask.distributed import Client

    with Client():  # a LocalCluster; Client("scheduler:8786") for a real one
        differentiate_dataset(*sys.argv[1:4])
