"""autodiff diff against SymPy on textbook expressions: length of the text, time, agreement.

Run from the top of a checkout:

    python benchmarks/derivatives.py            # the summary table
    python benchmarks/derivatives.py --each     # one line per derivative

For each expression and variable (first and second order), it compares the
length of our printed derivative with ``str(sympy.diff(...))``, the time of
parse + derivative + print against ``sympy.diff`` + ``str`` (SymPy's own
parsing not counted), and checks that both formulas agree at random points.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import sympy
from sympy.core.cache import clear_cache

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from autodiff import EvaluationError, parse  # noqa: E402
from autodiff.features.derivatives import derivatives  # noqa: E402

CORPUS = [
    # polynomials
    "4*x**2 - 2*x + 5",
    "x**3 - 3*x**2 + 3*x - 1",
    "(x + 1)**5",
    "3*x**4*y**2 - 2*x*y + y**3",
    "(x**2 + y**2)**2",
    "x**2*y**3",
    # products
    "x*sin(x)",
    "x**2*exp(x)",
    "exp(x)*cos(x)",
    "x*log(x) - x",
    "sin(x)*cos(x)*tan(x)",
    "x*y*exp(x*y)",
    # quotients
    "1/x",
    "sin(x)/x",
    "(x**2 + 1)/(x - 1)",
    "x/(x**2 + 1)",
    "(2*x + 3)/(3*x - 2)**2",
    "exp(x)/(1 + exp(x))",
    "x/y + y/x",
    # chains of elementary functions
    "sin(x**2)",
    "exp(sin(x))",
    "log(cos(x))",
    "sqrt(1 + x**2)",
    "atan(y/x)",
    "exp(-x**2/2)",
    "log(x + sqrt(x**2 + 1))",
    "sin(cos(tan(x)))",
    "asin(2*x)",
    "tanh(3*x + 1)",
    "x**x",
    "2**x",
    "x**y",
    "sqrt(x)*log(x)",
    "exp(x*y)*sin(x + y)",
    # neurons
    "tanh(x1*w1 + x2*w2 + b)",
    "sigmoid(w*x + b)",
    "log(1 + exp(w*x + b)) - y*(w*x + b)",
    "(tanh(w*x + b) - y)**2",
]

SYMPY_NAMES = {"sigmoid": lambda a: 1 / (1 + sympy.exp(-a)), "e": sympy.E}


def timed(function, repeat: int = 5) -> float:
    """The best of ``repeat`` runs, in seconds, each long enough to time."""
    best = math.inf
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            function()
        elapsed = time.perf_counter() - start
        if elapsed > 0.02:
            break
        number *= 4
    best = elapsed / number
    for _ in range(repeat - 1):
        start = time.perf_counter()
        for _ in range(number):
            function()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def agree(ours: str, theirs: sympy.Expr, names: list[str], rng: random.Random) -> bool | None:
    """Both formulas at five random points: True, False, or None if never defined."""
    formula = parse(ours)
    tested = 0
    for _ in range(20):
        point = {n: rng.uniform(0.2, 1.8) for n in names}
        try:
            mine = formula.evaluate({n: point[n] for n in formula.variables}).data
        except EvaluationError:
            continue
        value = complex(theirs.evalf(30, subs={sympy.Symbol(n): v for n, v in point.items()}))
        if value.imag or not math.isfinite(value.real):
            continue
        if not math.isclose(mine, value.real, rel_tol=1e-9, abs_tol=1e-12):
            return False
        tested += 1
        if tested == 5:
            return True
    return True if tested else None


def cli_seconds(command: list[str], repeat: int = 5) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        subprocess.run(command, check=True, capture_output=True, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--each", action="store_true", help="one line per derivative")
    args = parser.parse_args()
    rng = random.Random(1)
    formulas = []
    times = []
    for text in CORPUS:
        expression = parse(text)
        reference = sympy.sympify(text, locals=SYMPY_NAMES)
        for order in (1, 2):
            ours = derivatives(expression, None, order)
            for name, formula in ours.items():
                symbol = sympy.Symbol(name)
                theirs = sympy.diff(reference, symbol, order)
                mine = formula.format()
                ok = agree(mine, theirs, list(expression.variables), rng)
                formulas.append((text, name, order, mine, str(theirs), ok))
        our_time = timed(lambda t=text: [str(f) for f in derivatives(parse(t)).values()])
        # SymPy caches every result: clear the cache so that each run does the work.
        their_time = timed(
            lambda r=reference, e=expression: [
                clear_cache() or str(sympy.diff(r, sympy.Symbol(n))) for n in e.variables
            ]
        )
        warm_time = timed(
            lambda r=reference, e=expression: [
                str(sympy.diff(r, sympy.Symbol(n))) for n in e.variables
            ]
        )
        times.append((text, our_time, their_time, warm_time))

    if args.each:
        for text, name, order, mine, theirs, _ in formulas:
            ratio = len(mine) / len(theirs)
            print(f"{ratio:5.2f}  d{order}/d{name} {text}")
            print(f"       ours:  {mine}\n       sympy: {theirs}")
    for order in (1, 2):
        chosen = [r for r in formulas if r[2] == order]
        ratios = [len(r[3]) / len(r[4]) for r in chosen]
        wrong = [r for r in chosen if r[5] is False]
        print(
            f"order {order}: {len(chosen)} derivatives of {len(CORPUS)} expressions; "
            f"length ours/sympy: mean {statistics.mean(ratios):.2f}, "
            f"median {statistics.median(ratios):.2f}, max {max(ratios):.2f}; "
            f"total {sum(len(r[3]) for r in chosen)} vs {sum(len(r[4]) for r in chosen)} "
            f"characters; disagreements: {len(wrong)}"
        )
        for r in wrong:
            print("  WRONG:", r)
    speedups = [their / ours for _, ours, their, _ in times]
    print(
        f"time of every first derivative, parse + diff + print vs sympy.diff + str: "
        f"ours {sum(t[1] for t in times) * 1e3:.1f} ms, sympy {sum(t[2] for t in times) * 1e3:.1f}"
        f" ms in total; per expression ours is {statistics.geometric_mean(speedups):.1f}x "
        f"faster (geometric mean; min {min(speedups):.1f}x, max {max(speedups):.1f}x)"
    )
    print(
        f"the same with SymPy's cache warm (the same derivative asked again): "
        f"sympy {sum(t[3] for t in times) * 1e3:.1f} ms in total"
    )
    expr = "tanh(x1*w1 + x2*w2 + b)"
    ours_cli = cli_seconds([sys.executable, "-m", "autodiff", "diff", expr])
    sympy_cli = cli_seconds(
        [
            sys.executable,
            "-c",
            "import sympy; f = sympy.sympify('tanh(x1*w1 + x2*w2 + b)'); "
            "print([str(sympy.diff(f, s)) for s in sorted(f.free_symbols, key=str)])",
        ]
    )
    print(
        f"a whole process for the neuron: autodiff diff {ours_cli * 1e3:.0f} ms, "
        f"python -c 'import sympy; ...' {sympy_cli * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()
