"""Shared test helpers: run the real command line in a subprocess."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# A bug in the tool prints its traceback here (users see one line), so that
# every test asserting "no Traceback" still catches it.
os.environ["AUTODIFF_DEBUG"] = "1"


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a subprocess that imports this checkout's code."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def shell_env(folder: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment in which a shell's ``autodiff`` is this checkout's: a shim in
    ``folder``/bin, first on PATH (the docs' and the help's examples run this way)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "autodiff"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m autodiff "$@"\n')
    shim.chmod(0o755)
    return cli_env({"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **(extra or {})})


def run_cli(
    *args: str,
    input: str | bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``autodiff ARGS`` in a real process; stdout is a pipe, so never a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "autodiff", *args],
        input=input,
        capture_output=True,
        text=not isinstance(input, bytes),
        env=cli_env(env),
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli


def run_on_terminal(
    *args: str | bytes,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 120,
) -> tuple[int, bytes]:
    """``autodiff ARGS`` with stdout and stderr on one pseudo-terminal: (exit code, bytes shown)."""
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "autodiff", *args],
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=follower,
            stderr=follower,
            env=cli_env({"NO_COLOR": "1", **(env or {})}),
            cwd=cwd,
        )
        os.close(follower)
        follower = -1
        if input is not None:
            assert process.stdin is not None
            process.stdin.write(input)
            process.stdin.close()
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed and drained
                break
            if not chunk:
                break
            shown += chunk
        code = process.wait(timeout=timeout)
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    return code, shown


# The scale checks (a real wheel in a fresh venv, a million points through the
# command line) run with AUTODIFF_SLOW=1, as CI does; the README's command
# stays within its two minutes without them (docs/reliability.md, "Test modes").
SLOW = os.environ.get("AUTODIFF_SLOW", "") == "1"


def extended(cases: list[Any], keep: int, several: bool = False) -> list[Any]:
    """A test matrix whose first ``keep`` cases run every time and the rest with
    AUTODIFF_SLOW=1 (as CI runs): the everyday run stays within two minutes,
    and every case still runs before anything lands. ``several``: each case
    is a tuple of the test's several parameters."""
    return [
        case if k < keep else pytest.param(*(case if several else (case,)), marks=pytest.mark.slow)
        for k, case in enumerate(cases)
    ]


# Tests marked `dot` need Graphviz's dot: without it they skip, unless
# AUTODIFF_REQUIRE_ALL=1 (CI) makes the missing part a failure.
HAVE_DOT = shutil.which("dot") is not None
REQUIRE_ALL = os.environ.get("AUTODIFF_REQUIRE_ALL", "") == "1"


# Tests marked `browser` drive Debian's Chromium through Playwright, likewise.
CHROMIUM = "/usr/bin/chromium"
HAVE_BROWSER = os.path.exists(CHROMIUM) and importlib.util.find_spec("playwright") is not None


def pytest_configure(config: pytest.Config) -> None:
    # Compile the checkout once, so that the hundreds of `autodiff` processes
    # the tests start load bytecode instead of compiling every module afresh:
    # with PYTHONDONTWRITEBYTECODE set (as on the CI machines) nothing else
    # writes it, and compiling costs each process about a third of its start.
    import compileall

    compileall.compile_dir(str(SRC), quiet=1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not HAVE_DOT and not REQUIRE_ALL:
        skip = pytest.mark.skip(reason="Graphviz's dot is not installed (apt-get install graphviz)")
        for item in items:
            if item.get_closest_marker("dot"):
                item.add_marker(skip)
    if not (HAVE_BROWSER and HAVE_DOT) and not REQUIRE_ALL:
        skip = pytest.mark.skip(
            reason="needs Chromium (apt-get install chromium), Playwright and Graphviz's dot"
        )
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(skip)
    if SLOW:
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
