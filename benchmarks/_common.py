"""What the benchmark scripts share: the checkout's environment, timing, tables.

Every script measures this checkout's code (``src/`` on PYTHONPATH), runs
the things it compares back to back in one process or one loop, and prints
medians and ratios, so the ratios hold even on a busy machine.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
GRAMMAR = ROOT / "grammars" / "expr.lark"
# The interpreter itself, not a wrapper script (a pyenv shim alone costs ~60 ms);
# inside a virtual environment its own link, which is what finds the venv's packages.
PYTHON = sys.executable if sys.prefix != sys.base_prefix else os.path.realpath(sys.executable)
# Bytecode cached as an installed package would have it, outside the checkout.
PYCACHE = Path(tempfile.gettempdir()) / "autodiff-bench-pycache"

if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))


def env() -> dict[str, str]:
    """The environment for a subprocess that runs this checkout's autodiff."""
    e = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    e["PYTHONPATH"] = str(SRC) + os.pathsep + e.get("PYTHONPATH", "")
    e["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return e


def autodiff_command(*args: str) -> list[str]:
    return [PYTHON, "-m", "autodiff", *args]


def machine() -> str:
    cpus = os.cpu_count()
    try:
        load = f"load {os.getloadavg()[0]:.1f}"
    except OSError:
        load = ""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.machine()}"
    return f"{system}, {cpus} CPUs ({model}), {load}, Python {platform.python_version()}"


def run_timed(command: Sequence[str], stdin: bytes | None = None) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds, peak RSS in bytes and exit status of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env(),
    )
    if stdin is not None:
        assert process.stdin is not None
        process.stdin.write(stdin)
        process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, process.returncode


def compare_commands(
    commands: dict[str, Sequence[str]], runs: int, warmup: int = 3
) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds per command, the commands interleaved run by run."""
    for command in commands.values():
        for _ in range(warmup):
            run_timed(command)
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            wall, cpu, _, status = run_timed(command)
            if status != 0:
                raise SystemExit(f"{name} failed: {' '.join(command)}")
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {n: (statistics.median(walls[n]), statistics.median(cpus[n])) for n in commands}


def time_calls(
    functions: dict[str, Callable[[], object]], seconds: float = 0.2, rounds: int = 7
) -> dict[str, float]:
    """Median seconds per call; each round runs every function once, back to back."""
    numbers = {}
    for name, f in functions.items():
        f()  # warm caches: the parser, the compiled program
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / rounds:
            f()
            n += 1
        numbers[name] = max(1, n)
    samples: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(rounds):
        for name, f in functions.items():
            k = numbers[name]
            start = time.perf_counter()
            for _ in range(k):
                f()
            samples[name].append((time.perf_counter() - start) / k)
    return {name: statistics.median(s) for name, s in samples.items()}


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, so the output pastes into docs/performance.md."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def have(program: str) -> bool:
    return shutil.which(program) is not None


def optional(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} µs"
