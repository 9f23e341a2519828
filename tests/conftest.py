"""Shared test helpers: run the real command line in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a subprocess that imports this checkout's code."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


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
