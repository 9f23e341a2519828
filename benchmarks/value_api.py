"""Goal 1 of issue 17: the micrograd-style Value API against micrograd itself.

    python benchmarks/value_api.py [--rounds N]

Two jobs, each run with micrograd's Value and with autodiff's, back to back
in one process:

- the small case: build ``4*x**2 - 2*x + 5`` and the seed's neuron (with
  relu: micrograd's Value has no tanh), then ``backward()``;
- one training step of micrograd's own ``nn.py`` (imported from the
  installed micrograd, its ``Value`` swapped for autodiff's for the second
  run): an MLP(2, [16, 16, 1]) on 50 two-moons points, max-margin loss plus
  L2, forward, ``backward()`` and the update;

each with the garbage collector at its defaults and with ``gc.disable()``
(see ``median_seconds`` for how each library's garbage is charged to it).
Prints medians and micrograd's time over autodiff's (above 1: autodiff is
faster). Needs ``pip install micrograd``.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from _common import machine, optional, table, us
from autodiff import Value


def small_case(value: Any) -> Callable[[], object]:
    def run() -> object:
        x = value(3.0)
        y = 4 * x**2 - 2 * x + 5
        y.backward()
        x1, x2, w1, w2, b = (value(v) for v in (2.0, 0.0, -3.0, 1.0, 6.8813735870195432))
        o = (x1 * w1 + x2 * w2 + b).relu()
        o.backward()
        return x.grad, w1.grad

    return run


def two_moons(count: int, seed: int) -> tuple[list[list[float]], list[float]]:
    """Two interleaved half circles with a little noise; labels -1 and 1."""
    rng = random.Random(seed)
    points, labels = [], []
    for k in range(count):
        t = math.pi * rng.random()
        upper = k % 2 == 0
        x, y = (math.cos(t), math.sin(t)) if upper else (1 - math.cos(t), 0.5 - math.sin(t))
        points.append([x + rng.gauss(0, 0.1), y + rng.gauss(0, 0.1)])
        labels.append(-1.0 if upper else 1.0)
    return points, labels


def training_step(value: Any) -> Callable[[], object]:
    import micrograd.nn as nn

    nn.Value = value  # micrograd's own network code, on the Value given
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    points, labels = two_moons(50, 7)

    def run() -> object:
        inputs = [[value(a), value(b)] for a, b in points]
        scores = [model(x) for x in inputs]
        losses = [(1 + -label * score).relu() for label, score in zip(labels, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= 0.01 * p.grad
        return total.data

    return run


def median_seconds(
    jobs: dict[str, Callable[[], object]], rounds: int, collect: bool, passes: int = 3
) -> dict[str, float]:
    """Per job, the median of ``rounds`` runs, taken as a training loop takes them.

    With the collector on, each job runs its share of the rounds back to back
    (a loop of steps, as in training) from a heap collected beforehand, so a
    job pays for the collections its own garbage triggers, and not for the
    other library's: micrograd's graph is reference cycles that only the
    collector frees, and, interleaved step by step, the next job would pay
    for freeing them. The jobs take turns going first over ``passes`` passes
    so that drift in the machine's speed falls on both. With the collector
    off, the heap is collected after every run, outside the timing.
    """
    samples: dict[str, list[float]] = {name: [] for name in jobs}
    for job in jobs.values():
        job()  # warm up
    names = list(jobs)
    was = gc.isenabled()
    try:
        if not collect:
            gc.disable()
        for turn in range(passes):
            for name in names[turn % 2 :] + names[: turn % 2]:
                job = jobs[name]
                gc.collect()
                for _ in range(max(1, rounds // passes)):
                    start = time.perf_counter()
                    job()
                    samples[name].append(time.perf_counter() - start)
                    if not collect:
                        gc.collect()  # between runs, outside the timing
    finally:
        if was:
            gc.enable()
    return {name: statistics.median(s) for name, s in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    options = parser.parse_args()
    if not optional("micrograd"):
        raise SystemExit("pip install micrograd: it is the peer this benchmark measures against")
    from micrograd.engine import Value as MicrogradValue

    rows = []
    for label, make, repeat in [
        ("small case (polynomial, neuron)", small_case, 200),
        ("training step, MLP(2, [16, 16, 1]) on 50 points", training_step, 1),
    ]:
        for collect in (True, False):
            jobs = {"micrograd": make(MicrogradValue), "autodiff": make(Value)}
            if repeat > 1:
                jobs = {name: _repeated(job, repeat) for name, job in jobs.items()}
            found = median_seconds(jobs, options.rounds, collect)
            mg, ours = found["micrograd"] / repeat, found["autodiff"] / repeat
            gc_state = "gc on" if collect else "gc.disable()"
            rows.append([f"{label}, {gc_state}", us(mg), us(ours), f"{mg / ours:.2f}x"])
    print(f"## The Value API against micrograd ({machine()}, median of {options.rounds} rounds)\n")
    print(table(["job", "micrograd", "autodiff", "micrograd / autodiff"], rows))


def _repeated(job: Callable[[], object], times: int) -> Callable[[], object]:
    def run() -> object:
        for _ in range(times):
            job()
        return None

    return run


if __name__ == "__main__":
    main()
