"""Points per second for many points at once, and memory while streaming.

    python benchmarks/pipelines.py [--sizes 1e3,1e5,1e6] [--repeat 3] [--stream 1e6,1e7]

Measures ``sin(x)*exp(-y/2) + x**2*y`` with its two partials:

- library: ``parse(F).gradient({"x": array, "y": array})``, against SymPy's
  ``lambdify`` of the symbolic value and derivatives over the same numpy
  arrays, and against a point-by-point loop of ``Expression.gradient`` on
  floats (the Value engine one point at a time; timed on at most
  ``--loop-max`` points, as its rate does not depend on the count);
- command line, end to end: ``autodiff grad F --points in.csv --format csv``
  against a plain Python script doing the same with the csv module and
  hand-derived math formulas;
- streaming: peak RSS of ``autodiff grad`` reading generated CSV from a pipe
  (Linux: VmHWM from /proc).

Each figure is the best of ``--repeat`` runs. Prints a Markdown report for
docs/performance.md. Not part of the test suite: timing is never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from autodiff import parse  # noqa: E402

F = "sin(x)*exp(-y/2) + x**2*y"

BASELINE = textwrap.dedent(
    """
    import csv, math, sys
    reader = csv.reader(sys.stdin)
    writer = csv.writer(sys.stdout, lineterminator="\\n")
    writer.writerow([*next(reader), "value", "d_x", "d_y"])
    for xs, ys in reader:
        x, y = float(xs), float(ys)
        s, e = math.sin(x), math.exp(-y / 2)
        value = s * e + x * x * y
        writer.writerow([xs, ys, value, math.cos(x) * e + 2 * x * y, -s * e / 2 + x * x])
    """
)

# The same job written as JSON Lines, one json.dumps per record, in the
# shape `autodiff grad --format jsonl` writes.
BASELINE_JSONL = textwrap.dedent(
    """
    import csv, json, math, sys
    reader = csv.reader(sys.stdin)
    next(reader)
    write = sys.stdout.write
    expr = "sin(x)*exp(-y/2) + x**2*y"
    for xs, ys in reader:
        x, y = float(xs), float(ys)
        s, e = math.sin(x), math.exp(-y / 2)
        grad = {"x": math.cos(x) * e + 2 * x * y, "y": -s * e / 2 + x * x}
        record = {"expr": expr, "at": {"x": x, "y": y}, "value": s * e + x * x * y, "grad": grad}
        write(json.dumps(record) + "\\n")
    """
)

GENERATOR = textwrap.dedent(
    """
    import sys
    n = int(sys.argv[1])
    write = sys.stdout.write
    write("x,y\\n")
    for start in range(0, n, 10000):
        write("".join(f"{i % 6283 / 1000 - 3!r},{i % 997 / 250 - 2!r}\\n"
                      for i in range(start, min(n, start + 10000))))
    """
)


def best(run: Callable[[], object], repeat: int) -> float:
    """The least CPU time of ``repeat`` runs: on a busy machine, waiting for a
    core does not count (numpy runs these on one thread)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def library(sizes: list[int], repeat: int, loop_max: int) -> list[list[str]]:
    import sympy

    x_, y_ = sympy.symbols("x y")
    f = sympy.sin(x_) * sympy.exp(-y_ / 2) + x_**2 * y_
    sympy_fn = sympy.lambdify((x_, y_), [f, sympy.diff(f, x_), sympy.diff(f, y_)], "numpy")
    expression = parse(F)
    rng = np.random.default_rng(1)
    expression.gradient({"x": np.ones(2), "y": np.ones(2)})  # imports, first-call costs
    sympy_fn(np.ones(2), np.ones(2))
    table = []
    for n in sizes:
        x, y = rng.uniform(-3, 3, n), rng.uniform(-2, 2, n)
        ours = best(lambda x=x, y=y: expression.gradient({"x": x, "y": y}), repeat)
        theirs = best(lambda x=x, y=y: sympy_fn(x, y), repeat)
        m = min(n, loop_max)
        xs, ys = x[:m].tolist(), y[:m].tolist()
        loop = best(
            lambda xs=xs, ys=ys: [
                expression.gradient({"x": a, "y": b}) for a, b in zip(xs, ys, strict=True)
            ],
            1,
        ) * (n / m)
        table.append(
            [
                f"{n:.0e}",
                rate(n, ours),
                rate(n, theirs),
                f"{ours / theirs:.2f}x",
                rate(n, loop) + ("" if m == n else f" (on {m:.0e})"),
                f"{loop / ours:.0f}x",
            ]
        )
    return table


def timed(cmd: list[str], stdin: Path | None = None) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one run of ``cmd``.

    CPU time is the steadier figure on a busy machine: waiting for a core
    does not count.
    """
    start = time.perf_counter()
    with open(stdin or os.devnull) as source:
        process = subprocess.Popen(cmd, stdin=source, stdout=subprocess.DEVNULL, env=env())
        _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, cmd
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def command_line(sizes: list[int], repeat: int, folder: Path, fmt: str) -> list[list[str]]:
    baseline = folder / f"baseline-{fmt}.py"
    baseline.write_text(BASELINE if fmt == "csv" else BASELINE_JSONL)
    table = []
    for n in sizes:
        points = folder / f"points-{n}.csv"
        if not points.exists():
            with points.open("w") as f:
                subprocess.run([sys.executable, "-c", GENERATOR, str(n)], stdout=f, check=True)
        ours_cmd = [sys.executable, "-m", "autodiff", "grad", F, "--points", str(points)]
        ours_cmd += ["--format", fmt]
        ours, theirs = [], []
        for _ in range(repeat):  # interleaved, so that both see the same load
            ours.append(timed(ours_cmd))
            theirs.append(timed([sys.executable, str(baseline)], points))
        wall, cpu = min(t for t, _ in ours), min(c for _, c in ours)
        wall_b, cpu_b = min(t for t, _ in theirs), min(c for _, c in theirs)
        table.append(
            [
                f"{n:.0e}",
                f"{wall:.2f} s ({cpu:.2f} s)",
                f"{wall / n * 1e6:.2f} µs",
                f"{wall_b:.2f} s ({cpu_b:.2f} s)",
                f"{wall_b / n * 1e6:.2f} µs",
                f"{wall_b / wall:.2f}x ({cpu_b / cpu:.2f}x)",
            ]
        )
    return table


# autodiff's own peak RSS: VmHWM belongs to the process image, while
# ru_maxrss would also count this (much larger) process, which it forked from.
# The process that reads ahead (a forked child, reaped before the exit) is
# reported apart: RUSAGE_CHILDREN's peak is that of the largest child.
PEAK_RSS = textwrap.dedent(
    """
    import atexit, resource, sys
    def report():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM"):
                sys.stderr.write(line)
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        sys.stderr.write(f"child: {child} kB\\n")
    atexit.register(report)
    from autodiff.cli import main
    main(sys.argv[1:])
    """
)


def streaming(sizes: list[int]) -> list[list[str]]:
    table = []
    for n in sizes:
        generator = subprocess.Popen(
            [sys.executable, "-c", GENERATOR, str(n)], stdout=subprocess.PIPE
        )
        start = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, "-c", PEAK_RSS, "grad", F, "--points", "-", "--format", "csv"],
            stdin=generator.stdout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env(),
            check=True,
        )
        elapsed = time.perf_counter() - start
        assert generator.stdout is not None
        generator.stdout.close()
        generator.wait()
        words = cli.stderr.split()  # "VmHWM:   71376 kB" "child: 70000 kB"
        kib, child = int(words[-5]), int(words[-2])
        table.append(
            [f"{n:.0e}", f"{kib / 1024:.0f} MiB", f"{child / 1024:.0f} MiB", f"{elapsed:.1f} s"]
        )
    return table


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s"


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, load {load:.1f} at start; "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )


def sizes_of(text: str) -> list[int]:
    return [int(float(s)) for s in text.split(",") if s]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e3,1e5,1e6", help="point counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--loop-max", type=float, default=2e4, help="points for the float loop")
    parser.add_argument("--stream", default="1e5,1e6", help="row counts for the RSS check")
    args = parser.parse_args()
    sizes = sizes_of(args.sizes)
    print(f"Machine: {machine()}\n")
    print(f"Command: `python benchmarks/pipelines.py {' '.join(sys.argv[1:])}`".strip() + "\n")
    print("Library, arrays (value and both partials; CPU time, best of --repeat):\n")
    header = ["points", "autodiff arrays", "SymPy lambdify + numpy", "ratio", "Value loop", "gain"]
    print(markdown(header, library(sizes, args.repeat, int(args.loop_max))) + "\n")
    with tempfile.TemporaryDirectory() as folder:
        for fmt, peer in [("csv", "csv + math script"), ("jsonl", "csv + math + json script")]:
            print(
                f"Command line, CSV in and {fmt} out (process start included; CPU time in"
                " brackets; per row: wall time over rows):\n"
            )
            header = ["rows", "autodiff", "per row", peer, "per row", "speed-up"]
            print(markdown(header, command_line(sizes, args.repeat, Path(folder), fmt)) + "\n")
    print("Streaming from a pipe (peak RSS of autodiff, and of its reading process):\n")
    header = ["rows", "peak RSS", "reading process", "time"]
    print(markdown(header, streaming(sizes_of(args.stream))))


if __name__ == "__main__":
    main()
