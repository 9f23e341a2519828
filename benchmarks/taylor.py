"""grad --order N in Taylor mode against the repeated backward pass and SymPy.

    python benchmarks/taylor.py [--orders 1,2,5,10,20,50,100,200] [--sympy-up-to 50]

The N-th derivative of sin(x)*exp(x) at x = 0.3, three ways, in this
process: autodiff's Taylor mode (what `grad --order N` runs), autodiff's
`backward(create_graph=True)` run N times (what it ran before; its graph
triples per order, so it stops at the 60,000-node limit), and SymPy's
`series` (of f(0.3 + h) to order N, the coefficient times N!, evaluated to
30 digits). Each answer is compared with the exact
2**(N/2) * exp(0.3) * sin(0.3 + N*pi/4) from mpmath: the error in units in
the last place.
"""

from __future__ import annotations

import argparse
import math
import time

from _common import machine, table
from autodiff import parse
from autodiff.core.errors import LimitError
from autodiff.features.derivatives import backward_derivative
from autodiff.features.taylor import derivative

EXPR = "sin(x)*exp(x)"
AT = 0.3


def exact(order: int) -> float:
    import mpmath

    mpmath.mp.dps = 80
    x = mpmath.mpf(AT)
    turn = order * mpmath.pi / 4
    return float(mpmath.mpf(2) ** (order / 2) * mpmath.exp(x) * mpmath.sin(x + turn))


def timed(f, budget: float = 1.0) -> tuple[float, object]:
    """Median seconds of a call, and its answer (runs within about ``budget`` seconds)."""
    times, answer = [], None
    start = time.perf_counter()
    while len(times) < 5 and (not times or time.perf_counter() - start < budget):
        t = time.perf_counter()
        answer = f()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], answer


def ulps(found: float, want: float) -> str:
    if not math.isfinite(found):
        return "-"
    return f"{abs(found - want) / math.ulp(want):.0f}"


def measure(expression: object, n: int, with_sympy: bool) -> list[str]:
    """One row: the time and the error of each way, for order ``n``."""
    want = exact(n)
    t_taylor, found = timed(lambda: derivative(expression, {"x": AT}, "x", n))  # type: ignore[arg-type]
    cells = [str(n), f"{t_taylor * 1e3:.1f} ms", ulps(float(found), want)]  # type: ignore[arg-type]
    try:
        t_back, back = timed(lambda: backward_derivative(expression, {"x": AT}, "x", n))  # type: ignore[arg-type]
        cells += [f"{t_back * 1e3:.1f} ms", ulps(float(back), want)]  # type: ignore[arg-type]
    except LimitError:
        cells += ["refused (graph past 60,000 nodes)", "-"]
    if not with_sympy:
        return [*cells, "-", "-"]
    import sympy as sp

    def by_sympy() -> float:
        h = sp.Symbol("h")
        shifted = sp.sin(sp.Rational(AT) + h) * sp.exp(sp.Rational(AT) + h)
        series = sp.series(shifted, h, 0, n + 1).removeO()
        return float((series.coeff(h, n) * sp.factorial(n)).evalf(30))

    t_sympy, sym = timed(by_sympy, budget=0.1)
    return [*cells, f"{t_sympy * 1e3:.1f} ms", ulps(float(sym), want)]  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", default="1,2,5,10,20,50,100,200")
    parser.add_argument("--sympy-up-to", type=int, default=50)
    options = parser.parse_args()
    orders = [int(n) for n in options.orders.split(",")]
    expression = parse(EXPR)
    rows = []
    for n in orders:
        rows.append(measure(expression, n, n <= options.sympy_up_to))
    print(f"## The N-th derivative of {EXPR} at x = {AT} ({machine()})\n")
    headers = ["N", "Taylor mode", "ulps", "backward x N", "ulps", "SymPy series", "ulps"]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
