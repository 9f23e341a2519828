"""Every benchmark, one after the other: python benchmarks/run_all.py [--quick]

Prints Markdown tables (start-up, one point, large expressions, memory,
time per node) ready to paste into docs/performance.md. --quick uses
smaller sizes to check the scripts run (a few seconds instead of minutes).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from _common import PYTHON

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few runs")
    quick = parser.parse_args().quick
    runs = [
        ["startup.py", "--runs", "5" if quick else "30"],
        ["one_point.py"],
        ["value_api.py", "--rounds", "3" if quick else "15"],
        ["pipelines.py", *(["--sizes", "1e3,1e4", "--stream", "1e4"] if quick else [])],
        ["large.py", *(["--sizes", "100,1000", "--deep", "10000"] if quick else [])],
    ]
    for script, *args in runs:
        print(flush=True)
        status = subprocess.call([PYTHON, str(HERE / script), *args])
        if status:
            sys.exit(status)


if __name__ == "__main__":
    main()
