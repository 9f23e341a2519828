"""A stream's chunks read in a second process while this one computes.

Reading text into numbers holds the GIL (``str.split``, the csv module,
orjson), so threads cannot overlap it with the arithmetic and the writing;
a forked child can. The child takes over the reader as it stands (its
stream open, the header read), iterates it and sends each chunk down a
pipe, pickled; the parent takes them in order, so records, their error
records and their messages come out as they would from one process. The
pipe holds what fits in it and the child blocks on the rest, so a child
that is ahead waits, and memory stays flat when reading a pipe.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from ..core.errors import UsageError

T = TypeVar("T")


def can_fork() -> bool:
    """Whether a child can take the reader: a POSIX fork, from a process with
    one thread (a fork copies no other thread, nor anything it had locked).
    Not on macOS, where system libraries a process has touched (numpy's
    Accelerate among them) are not safe to use after a fork, and where
    Python's own multiprocessing stopped forking for that reason."""
    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


class ReadAhead(Generic[T]):
    """``chunks`` iterated in a forked child; ``tell()``: how far its stream had
    been read (``position`` of the child) when the last chunk taken was sent."""

    def __init__(self, chunks: Iterable[T], position: Callable[[], int] | None = None) -> None:
        self.chunks = chunks
        self.position = position
        self.read = 0

    def tell(self) -> int:
        return self.read

    def __iter__(self) -> Iterator[T]:
        read_end, write_end = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's coverage is not collected
            os.close(read_end)
            self._send(write_end, parent)
        os.close(write_end)
        finished = False
        try:
            with os.fdopen(read_end, "rb") as pipe:
                while True:
                    kind, payload, self.read = pickle.load(pipe)
                    if kind == "end":
                        finished = True
                        return
                    if kind == "error":
                        finished = True
                        raise payload
                    yield payload
        except (EOFError, pickle.UnpicklingError):  # the child died (killed, out of
            # memory): between messages, or in the middle of one
            raise UsageError("the process reading the points stopped unexpectedly") from None
        finally:
            if not finished:  # stopped early: an error, Ctrl-C, a closed stdout
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    def _send(self, fd: int, parent: int) -> None:  # pragma: no cover - runs in the child
        code = 0
        try:
            # Ctrl-C reaches both processes: the parent answers it and stops this one.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            # A parent killed outright (SIGKILL, or SIGHUP to it alone) runs no
            # clean-up: the kernel ends this child then, which could otherwise
            # read a `tail -f` forever.
            _end_with_parent()
            if os.getppid() != parent:  # it died before that was set
                return
            # stdout is the parent's: this process writes only to the pipe.
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            with os.fdopen(fd, "wb") as pipe:
                message: tuple[str, Any, int]
                try:
                    for chunk in self.chunks:
                        pickle.dump(("chunk", chunk, self._where()), pipe, pickle.HIGHEST_PROTOCOL)
                        pipe.flush()
                    message = ("end", None, self._where())
                except Exception as error:
                    message = ("error", _portable(error), self._where())
                pickle.dump(message, pipe, pickle.HIGHEST_PROTOCOL)
        except BaseException:  # the parent is gone (a broken pipe): nothing to tell
            code = 1
        finally:
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers

    def _where(self) -> int:  # pragma: no cover - runs in the child
        if self.position is None:
            return 0
        try:
            return self.position()
        except (OSError, ValueError):
            return 0


def _end_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask Linux to send this process SIGKILL when its parent dies (elsewhere: nothing)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _portable(error: Exception) -> Exception:  # pragma: no cover - runs in the child
    """``error``, if it survives pickling (autodiff's own errors do); else its message."""
    try:
        pickle.loads(pickle.dumps(error, pickle.HIGHEST_PROTOCOL))
    except Exception:
        return UsageError(f"reading the points failed: {error}")
    return error
