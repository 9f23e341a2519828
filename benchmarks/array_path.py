"""Goal 4, both cores: Expression.gradient on a million points against jitted JAX.

    python benchmarks/array_path.py [--points 1000000] [--rounds 7]

autodiff's array path with its defaults (the cores this process may use)
and on one thread, against ``jax.jit(jax.vmap(jax.value_and_grad(f)))`` on
the same points (float64, CPU, compiled once before timing), medians of
interleaved rounds in one process. Checks that the threads change no bit.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _common import machine, optional, table
from autodiff import parse
from autodiff.core.expression import available_cores

TEXT = "sin(x*y) + exp(-x**2)*cos(y) + log(1 + x**2)*y"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, options.points)
    y = rng.uniform(-2, 2, options.points)
    expression = parse(TEXT)
    cores = available_cores()
    runs = {
        f"autodiff, default ({cores} threads)": lambda: expression.gradient({"x": x, "y": y}),
        "autodiff, 1 thread": lambda: expression.gradient({"x": x, "y": y}, threads=1),
    }
    if optional("jax"):
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)

        def f(p):  # type: ignore[no-untyped-def]
            a, b = p[0], p[1]
            return jnp.sin(a * b) + jnp.exp(-(a**2)) * jnp.cos(b) + jnp.log(1 + a**2) * b

        both = jax.jit(jax.vmap(jax.value_and_grad(f)))
        stacked = jnp.stack([jnp.asarray(x), jnp.asarray(y)], axis=1)
        jax.block_until_ready(both(stacked))  # compiled before timing

        runs["jax.jit(vmap(value_and_grad))"] = lambda: jax.block_until_ready(both(stacked))
    else:
        print("jax is not installed (pip install 'jax[cpu]'): no ratio to it")
    one, many = runs["autodiff, 1 thread"](), next(iter(runs.values()))()
    assert np.array_equal(one[0], many[0]) and all(
        np.array_equal(one[1][n], many[1][n]) for n in one[1]
    ), "the threads changed a number"
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(options.rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    jax_time = medians.get("jax.jit(vmap(value_and_grad))")
    rows = [
        [name, f"{t * 1e3:.0f} ms", f"{jax_time / t:.2f}" if jax_time else "-"]
        for name, t in medians.items()
    ]
    print(f"## {TEXT} at {options.points:,} points ({machine()}, median of {options.rounds})\n")
    print(table(["who", "time", "speed / JAX's"], rows))


if __name__ == "__main__":
    main()
