"""How long `dot` takes to lay out the graphs `autodiff graph` draws.

    python benchmarks/graph_layout.py            # every case
    python benchmarks/graph_layout.py tree-2000  # one case

For each case: the number of values, the seconds to build the DOT text, and
the wall-clock and CPU seconds of `dot -Tsvg` (CPU time is the steadier
number on a busy machine). Not part of the test suite: timings are never
asserted there.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import time
from collections.abc import Callable

from autodiff import Value, parse
from autodiff.render import graph


def balanced_sum(terms: list[str]) -> str:
    while len(terms) > 1:
        pairs = [f"({terms[i]} + {terms[i + 1]})" for i in range(0, len(terms) - 1, 2)]
        terms = pairs + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


def at(text: str, **point: float) -> Callable[[], Value]:
    def build() -> Value:
        expression = parse(text)
        values = {name: point.get(name, 0.5) for name in expression.variables}
        out = expression.evaluate(values)
        out.backward()
        return out

    return build


CASES: dict[str, Callable[[], Value]] = {
    "neuron": at("tanh(x1*w1 + x2*w2 + b)", x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432),
    "x-used-300-times": at(" + ".join(f"x*{k}" for k in range(1, 301)), x=2),
    "tree-2000": at(balanced_sum([f"sin(a{k})" for k in range(700)])),
    "chain-2000": at("+".join(["x"] * 2000)),
    "deep-2500": at("sin(" * 2499 + "x" + ")" * 2499),
    "chain-5000": at("+".join(["x"] * 5000)),
    "tree-5000": at(balanced_sum([f"sin(a{k})" for k in range(1666)])),
    "x-used-1666-times": at(" + ".join(f"x*{k}" for k in range(1, 1667))),
}


def run(name: str) -> None:
    out = CASES[name]()
    start = time.perf_counter()
    source = graph.dot_source(graph.draw(out, max_nodes=None))
    build = time.perf_counter() - start
    values = len(out.topological_order())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(["dot", "-Tsvg", "-o", os.devnull], input=source.encode(), check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(
        f"{name:20} {values:6} values  DOT {build:5.2f} s  dot {wall:6.2f} s wall {cpu:6.2f} s CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "cases",
        nargs="*",
        metavar="CASE",
        help=f"Cases to lay out (default: all): {', '.join(CASES)}",
    )
    chosen = parser.parse_args().cases or list(CASES)
    unknown = [name for name in chosen if name not in CASES]
    if unknown:
        parser.error(f"no such case: {', '.join(unknown)} (cases: {', '.join(CASES)})")
    for name in chosen:
        run(name)


if __name__ == "__main__":
    main()
