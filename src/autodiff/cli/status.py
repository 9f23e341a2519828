"""Exit codes, the same for every command (docs/cli.md), and what each error exits with.

A module of its own, below the commands, so that a command reaches them
without importing the package that imports it.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from enum import IntEnum

from ..core.errors import AutodiffError, ExpressionError, MissingValueError, UsageError
from ..core.safe_text import excerpt


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1  # the math fails at the point, or the output cannot be written
    USAGE = 2  # a bad option, a syntax error, an input past a limit
    CHECK_FAILED = 3  # autodiff check found a wrong derivative
    INTERRUPTED = 130  # 128 + SIGINT
    BROKEN_PIPE = 141  # 128 + SIGPIPE: what `set -o pipefail` expects of `cat`, `seq`
    TERMINATED = 143  # 128 + SIGTERM


def wording(error: AutodiffError) -> str:
    """What the command line says for ``error``: the library's message, with
    the option that sets a parameter where the library names the parameter,
    and how to give a missing value."""
    if isinstance(error, MissingValueError):
        name = excerpt(error.name)
        hint = "add the column or --at" if error.columns is not None else "add --at"
        return f"{error}; {hint} {name}=VALUE"
    if isinstance(error, UsageError) and error.parameter:
        return error.for_option("--" + error.parameter.replace("_", "-"))
    return str(error)


def exit_status(error: AutodiffError) -> ExitStatus:
    if isinstance(error, ExpressionError | UsageError):
        return ExitStatus.USAGE
    return ExitStatus.ERROR


def silence_stdout() -> None:
    """After a reader went away: what is still buffered can never be written, so
    point stdout at /dev/null and the interpreter's last flush fails no more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


class _ClosedOutput(io.TextIOBase):
    """Standard output when the shell closed it (``>&-``): writing fails as a
    closed descriptor does, so only a command that prints is an error."""

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))


def replace_closed_streams() -> None:
    """Python leaves ``sys.stdout`` and ``sys.stderr`` as None when the descriptor is closed."""
    if sys.stdout is None:
        sys.stdout = _ClosedOutput()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 -- for the life of the process
