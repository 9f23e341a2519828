"""Goals 3, 5 and 6: large expressions, memory per node, linear growth.

    python benchmarks/large.py [--sizes 1000,10000,100000] [--deep 1000000]
                               [--statements 100000]

For a sum of N terms c_i*sin(x*a_i + y)*exp(-y*b_i) it times, each in a
fresh process: a bare Lark LALR parse of the text (no transformer: the
floor), autodiff's library path (parse + gradient) and the command line end
to end (the text on stdin when `autodiff grad -` is supported, else as an
argument while it fits in one: Linux caps one at 128 KiB). Then a chain
x*1.0000001*...*1.0000001 a million multiplications deep, and the same chain
for micrograd (recursion limit lifted) when it is installed, and a program
of named steps, s1 = x*1; s2 = s1*1; ... (linear in its statements). Peak memory is
the growth of the resident set over the process's size once the text is
loaded, divided by the graph's nodes (the program's steps).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import GRAMMAR, PYTHON, autodiff_command, env, machine, optional, run_timed, table

ARGV_LIMIT = 128 * 1024 - 1


def terms(n: int) -> str:
    rng = random.Random(n)
    parts = []
    for _ in range(n):
        c, a, b = rng.uniform(-1, 1), rng.uniform(0.1, 2), rng.uniform(0.1, 2)
        parts.append(f"{c:.6g}*sin(x*{a:.6g} + y)*exp(-y*{b:.6g})")
    return " + ".join(parts)


def chain(n: int) -> str:
    return "x" + "*1.0000001" * n


def statements(n: int) -> str:
    return "; ".join(["s1 = x*1", *(f"s{i} = s{i - 1}*1" for i in range(2, n + 1))])


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def worker(kind: str, path: str) -> None:
    """Run one measurement in this (fresh) process and print it as JSON."""
    text = Path(path).read_text()
    if kind == "lark":
        from lark import Lark

        parser = Lark(GRAMMAR.read_text(), parser="lalr")
        before = rss()
        start = time.perf_counter()
        parser.parse(text)
        seconds, nodes = time.perf_counter() - start, None
    elif kind == "autodiff":
        from autodiff import parse

        parse("x")  # load the parser, as the command line does before it reads
        before = rss()
        start = time.perf_counter()
        expression = parse(text)
        expression.gradient({"x": 0.5, "y": 0.25})
        seconds, nodes = time.perf_counter() - start, len(expression)
    elif kind in ("micrograd", "value"):
        import threading

        if kind == "value":
            from autodiff import Value
        else:
            from micrograd.engine import Value  # type: ignore[no-redef]

        n = text.count("*")
        before = rss()
        result: list[float] = []

        def run() -> None:
            x = Value(0.5)
            y = x
            for _ in range(n):
                y = y * 1.0000001
            y.backward()
            result.append(x.grad)
            del y  # freeing a million-deep micrograd graph is part of its cost

        sys.setrecursionlimit(10 * n + 1000)
        threading.stack_size(1 << 30)
        start = time.perf_counter()
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        # Each multiplication makes a node for the constant and one for the product.
        seconds, nodes = time.perf_counter() - start, 2 * n + 1
        if not result:
            raise SystemExit(1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "nodes": nodes, "extra": max(peak - before, 0)}))


def growth(sizes: list[int], rounds: int) -> None:
    """Time per node at several sizes, in one process, sizes interleaved round by round.

    Separate processes minutes apart see different loads on a shared
    machine; here every size meets the same conditions, so a slope is the code's.
    """
    import gc
    import statistics

    from lark import Lark

    from autodiff import parse

    bare = Lark(GRAMMAR.read_text(), parser="lalr")
    texts = {n: terms(n) for n in sizes}
    ours: dict[int, list[float]] = {n: [] for n in sizes}
    lark: dict[int, list[float]] = {n: [] for n in sizes}
    nodes: dict[int, int] = {}
    parse("x")
    for _ in range(rounds):
        for n, text in texts.items():
            start = time.perf_counter()
            expression = parse(text)
            expression.gradient({"x": 0.5, "y": 0.25})
            nodes[n] = len(expression)
            ours[n].append((time.perf_counter() - start) / nodes[n])
            del expression
            gc.collect()
            start = time.perf_counter()
            bare.parse(text)
            lark[n].append((time.perf_counter() - start) / nodes[n])
            gc.collect()
    result = {n: [nodes[n], statistics.median(ours[n]), statistics.median(lark[n])] for n in sizes}
    print(json.dumps(result))


def measure(kind: str, path: Path) -> dict[str, float] | None:
    result = subprocess.run(
        [PYTHON, __file__, "--worker", kind, str(path)], capture_output=True, text=True, env=env()
    )
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)


def stdin_supported() -> bool:
    result = subprocess.run(
        autodiff_command("grad", "-", "--at", "x=1", "--format", "json"),
        input="x",
        capture_output=True,
        text=True,
        env=env(),
    )
    return result.returncode == 0


def cli(path: Path, stdin: bool) -> tuple[float, int] | None:
    text = path.read_bytes()
    at = ["--at", "x=0.5,y=0.25", "--format", "json"]
    if stdin:
        wall, _, peak, status = run_timed(autodiff_command("grad", "-", *at), stdin=text)
    elif len(text) <= ARGV_LIMIT:
        wall, _, peak, status = run_timed(autodiff_command("grad", text.decode(), *at))
    else:
        return None
    return (wall, peak) if status == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--deep", type=int, default=1_000_000)
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--growth-rounds", type=int, default=3)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--growth-worker", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        worker(*options.worker)
        return
    if options.growth_worker:
        growth([int(n) for n in options.growth_worker.split(",")], options.growth_rounds)
        return

    stdin = stdin_supported()
    how = "text on stdin (grad -)" if stdin else "text as an argument, where it fits"
    # The resident set of a one-term run: the interpreter, typer, lark, autodiff.
    baseline = run_timed(autodiff_command("grad", "x", "--at", "x=1", "--format", "json"))[2]
    rows, peers = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [(f"{int(n):,} terms", terms(int(n))) for n in options.sizes.split(",")]
        cases.append((f"chain {options.deep:,} deep", chain(options.deep)))
        if options.statements:
            label = f"program of {options.statements:,} statements"
            cases.append((label, statements(options.statements)))
        for label, text in cases:
            path = Path(tmp) / "expr.txt"
            path.write_text(text)
            bare = measure("lark", path)
            ours = measure("autodiff", path)
            end_to_end = cli(path, stdin)
            assert ours is not None and bare is not None, label
            nodes = ours["nodes"]
            row = [
                label,
                f"{nodes:,}",
                f"{bare['seconds']:.2f} s",
                f"{ours['seconds']:.2f} s",
                f"{ours['seconds'] / bare['seconds']:.2f}",
            ]
            if end_to_end:
                wall, peak = end_to_end
                row += [f"{wall:.2f} s", f"{wall / bare['seconds']:.2f}"]
                row.append(f"{(peak - baseline) / nodes:.0f} B")
            else:
                row += ["-", "-", "-"]
            row.append(f"{ours['extra'] / nodes:.0f} B")
            rows.append(row)
            if label.startswith("chain") and optional("micrograd"):
                mg = measure("micrograd", path)
                if mg:
                    peers.append(
                        [
                            f"micrograd (recursion limit lifted), {label}",
                            f"{int(mg['nodes']):,}",
                            f"{mg['seconds']:.2f} s",
                            f"{mg['extra'] / mg['nodes']:.0f} B",
                        ]
                    )
                else:
                    peers.append([f"micrograd, {label}", "-", "fails", "-"])
                engine = measure("value", path)
                if engine:
                    peers.append(
                        [
                            f"autodiff Value, the same loop, {label}",
                            f"{int(engine['nodes']):,}",
                            f"{engine['seconds']:.2f} s",
                            f"{engine['extra'] / engine['nodes']:.0f} B",
                        ]
                    )
                peers.append(
                    [
                        f"autodiff library (parse the text + gradient), {label}",
                        f"{nodes:,}",
                        f"{ours['seconds']:.2f} s",
                        f"{ours['extra'] / nodes:.0f} B",
                    ]
                )

    print(f"## Large expressions ({machine()}; CLI: {how})\n")
    headers = ["case", "nodes", "bare Lark parse", "library: parse + gradient", "library / Lark"]
    headers += ["CLI end to end", "CLI / Lark", "CLI peak per node", "library peak per node"]
    print(table(headers, rows))
    if peers:
        print("\n## The deep chain against micrograd (graph build + backward)\n")
        print(table(["engine", "nodes", "time", "peak per node"], peers))
    print("\n## Time per node: sizes interleaved in one process (library path)\n")
    result = subprocess.run(
        [
            PYTHON,
            __file__,
            "--growth-worker",
            options.sizes,
            "--growth-rounds",
            str(options.growth_rounds),
        ],
        capture_output=True,
        text=True,
        env=env(),
        check=True,
    )
    rows = []
    for n, (nodes, ours, lark) in json.loads(result.stdout).items():
        rows.append(
            [
                f"{int(n):,} terms",
                f"{nodes:,}",
                f"{ours * 1e6:.2f} µs",
                f"{lark * 1e6:.2f} µs",
                f"{ours / lark:.2f}",
            ]
        )
    headers = ["case", "nodes", "parse + gradient per node", "bare Lark per node", "ratio"]
    print(table(headers, rows))
    print(f"\n(median of {options.growth_rounds} rounds)")


if __name__ == "__main__":
    main()
