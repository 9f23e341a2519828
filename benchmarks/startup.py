"""Goal 1, start-up: a one-shot `autodiff grad` and `autodiff --help` against qalc.

    python benchmarks/startup.py [--runs N]

Runs every command interleaved, N times each after a warm-up, and prints
median wall and CPU times and the ratio to qalc on the same job. Python's
own start-up (`python -c pass`) is shown for reference: it is the floor
under any Python tool and it depends on the installation (site-packages,
.pth files), not on autodiff.

Then shell completion's share of a run: building the one command that
runs with and without Typer's completion options, in this process (the
command line builds them only for the overview: --help, completing).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from _common import PYTHON, autodiff_command, compare_commands, have, machine, ms, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()

    commands = {
        "python -c pass": [PYTHON, "-c", "pass"],
        "python -I -S -c pass (no site)": [PYTHON, "-I", "-S", "-c", "pass"],
        "autodiff --help": autodiff_command("--help"),
        "autodiff grad ... --format json": autodiff_command(
            "grad", "4*x**2-2*x+5", "--at", "x=3", "--format", "json"
        ),
    }
    if have("qalc"):
        commands["qalc -t 'diff(4x^2-2x+5,x,1,3)'"] = ["qalc", "-t", "diff(4x^2-2x+5,x,1,3)"]
    else:
        print("qalc is not installed (apt-get install qalc): no ratio to it", file=sys.stderr)

    results = compare_commands(commands, options.runs)
    qalc = next((v for k, v in results.items() if k.startswith("qalc")), None)
    rows = []
    for name, (wall, cpu) in results.items():
        ratio = f"{wall / qalc[0]:.2f}" if qalc else "-"
        rows.append([name, ms(wall), ms(cpu), ratio])
    print(f"## Start-up ({machine()}, median of {options.runs} interleaved runs)\n")
    print(table(["command", "wall", "CPU", "wall / qalc"], rows))
    print(f"\n## Shell completion's share (median of {options.runs} builds)\n")
    print(table(["click command built", "time"], completion_share(options.runs)))


def completion_share(runs: int) -> list[list[str]]:
    import typer.main

    from autodiff import cli

    def build(commands: tuple[str, ...], completion: bool) -> float:
        times = []
        for _ in range(runs):
            cli.app.registered_commands.clear()
            cli.app._add_completion = completion
            cli._register(commands)
            start = time.perf_counter()
            typer.main.get_command(cli.app)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return [
        ["grad alone, no completion (what `autodiff grad` builds)", ms(build(("grad",), False))],
        ["grad alone, with completion", ms(build(("grad",), True))],
        ["every command, with completion (`autodiff --help`)", ms(build(cli.COMMANDS, True))],
    ]


if __name__ == "__main__":
    main()
