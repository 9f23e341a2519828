"""Goal 2, one point: the gradient of 4*x**2 - 2*x + 5 at x=3, in one process.

    python benchmarks/one_point.py

Each contender builds its graph (or runs its program) and back-propagates
once per call; all run back to back in each round and the table shows the
median time per call and how many times faster than micrograd autodiff is.
Peers that are not installed are skipped (pip install micrograd jax sympy).
"""

from __future__ import annotations

from collections.abc import Callable

from _common import machine, optional, table, time_calls, us
from autodiff import Value, parse

TEXT = "4*x**2 - 2*x + 5"


def contenders() -> dict[str, Callable[[], object]]:
    found: dict[str, Callable[[], object]] = {}
    if optional("micrograd"):
        from micrograd.engine import Value as MicrogradValue

        def micrograd() -> object:
            x = MicrogradValue(3.0)
            y = 4 * x**2 - 2 * x + 5
            y.backward()
            return x.grad

        found["micrograd Value"] = micrograd

    def value_api() -> object:
        x = Value(3.0)
        y = 4 * x**2 - 2 * x + 5
        y.backward()
        return x.grad

    found["autodiff Value (same code)"] = value_api
    expression = parse(TEXT)
    found["autodiff Expression.gradient (parsed once)"] = lambda: expression.gradient({"x": 3.0})
    found["autodiff parse + gradient"] = lambda: parse(TEXT).gradient({"x": 3.0})

    if optional("jax"):
        import jax

        jax.config.update("jax_platforms", "cpu")
        f = jax.jit(jax.value_and_grad(lambda x: 4 * x**2 - 2 * x + 5))
        found["jax jit(value_and_grad)"] = lambda: f(3.0)[1].block_until_ready()
    if optional("sympy"):
        import sympy

        x = sympy.Symbol("x")
        body = sympy.sympify("4*x**2 - 2*x + 5")
        gradient = sympy.lambdify(x, [body, sympy.diff(body, x)])
        found["sympy lambdify (compiled once)"] = lambda: gradient(3.0)
        found["sympy sympify + diff + subs"] = lambda: sympy.diff(
            sympy.sympify("4*x**2 - 2*x + 5"), x
        ).subs(x, 3.0)
    return found


def main() -> None:
    functions = contenders()
    results = time_calls(functions)
    base = results.get("micrograd Value")
    rows = []
    for name, seconds in results.items():
        faster = f"{base / seconds:.2f}x" if base else "-"
        rows.append([name, us(seconds), faster])
    print(f"## One point: {TEXT} at x=3 ({machine()}, median of 7 rounds)\n")
    print(table(["contender", "per gradient", "micrograd time / this"], rows))


if __name__ == "__main__":
    main()
