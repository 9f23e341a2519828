"""Where ``-o`` output goes: checked before any work, written after it.

Shared by every command that writes a file (graph, plot, explain --graph).
A regular file, or a name that does not exist yet, is replaced atomically:
a reader sees the old file or the new one, never a part. Anything else that
exists (a terminal, /dev/null, a FIFO, a socket, /dev/stdout, a process
substitution) is opened and written in place, as every Unix tool does; it is
never replaced by a regular file. The rules are in docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..core.errors import OutputError, UsageError
from ..core.safe_text import excerpt, visible


def format_of(
    path: str,
    formats: Sequence[str],
    *,
    option: str = "-o",
    requested: str | None = None,
    on_stdout: Sequence[str] = (),
) -> str:
    """The format to write ``path`` in: ``requested`` (--format), else its extension.

    ``on_stdout``: the formats ``-`` (stdout) may take, the first by default;
    none, and ``-`` is refused. The one place a file name becomes a format.
    """
    if requested is not None:
        fmt = requested.lower()
        if fmt not in formats:
            raise UsageError(f"unknown --format '{requested}' (choose from {', '.join(formats)})")
    elif path == "-" and on_stdout:
        fmt = on_stdout[0]
    else:
        fmt = Path(path).suffix.lower().lstrip(".")
        if path == "-" or fmt not in formats:
            endings = [f".{f}" for f in formats]
            listed = ", ".join(endings[:-1]) + f" or {endings[-1]}"
            hint = " (stdout holds the output)" if path == "-" else ""
            raise UsageError(f"{option} {excerpt(path)}: the file name must end in {listed}{hint}")
    if path == "-" and fmt not in on_stdout:
        raise UsageError(
            f"{option} - writes text ({', '.join(on_stdout)}); write {fmt} to a file,"
            f" as in {option} out.{fmt}"
        )
    return fmt


def announce(target: Target, what: str) -> None:
    """``wrote FILE (WHAT)`` on stderr, for a file written by name: every command
    that writes one says so, as `graph` always did; stdout and devices stay quiet."""
    if target.replace:
        print(f"wrote {target.shown} ({what})", file=sys.stderr)


@dataclass(frozen=True)
class Target:
    """A checked output: stdout (``-``), a device-like file, or a file to replace."""

    given: str
    path: Path | None = None  # None: a descriptor of this process (stdout for -)
    descriptor: int = 1
    replace: bool = False  # atomic replacement of ``path``, else written in place
    mode: int | None = None  # the permission bits a replaced file keeps
    owner: tuple[int, int] | None = None  # and its owner, where we may set it (root)

    @property
    def shown(self) -> str:
        """The name as the user gave it, safe on a terminal."""
        return visible(self.given)


def output_target(output: str, force: bool = False) -> Target:
    """Check where ``output`` goes, before any work: fail early, with the reason."""
    if output == "-":
        return Target(output)
    descriptor = _descriptor(output)
    shown = visible(output)
    if descriptor is not None:
        try:
            os.fstat(descriptor)
        except OSError as error:
            raise OutputError(f"cannot write {shown}: {error.strerror or error}") from None
        return Target(output, descriptor=descriptor)
    try:
        info = os.stat(output)  # follows symlinks: the link's target is what is written
    except FileNotFoundError:
        return Target(output, _new_file(output, shown), replace=True)
    except OSError as error:
        raise OutputError(f"cannot write {shown}: {error.strerror or error}") from None
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {shown}: it is a directory")
    if not stat.S_ISREG(info.st_mode):
        if not os.access(output, os.W_OK):
            raise OutputError(f"cannot write {shown}: permission denied")
        return Target(output, Path(output))
    real = Path(os.path.realpath(output))
    read_only = not info.st_mode & 0o222 or not os.access(output, os.W_OK)
    if read_only and not force:
        raise OutputError(f"cannot write {shown}: the file is read-only (--force replaces it)")
    _check_folder(real.parent, shown)
    owner = (info.st_uid, info.st_gid) if os.geteuid() == 0 else None
    return Target(output, real, replace=True, mode=stat.S_IMODE(info.st_mode), owner=owner)


def _new_file(output: str, shown: str) -> Path:
    path = Path(os.path.realpath(output))  # a dangling link: the file it names is created
    _check_folder(path.parent, shown)
    return path


def _check_folder(folder: Path, shown: str) -> None:
    if not folder.is_dir():
        raise OutputError(f"cannot write {shown}: no such directory {visible(str(folder))!r}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {shown}: permission denied in {visible(str(folder))!r}")


_NAMED_DESCRIPTORS = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_DESCRIPTOR_FOLDERS = ("/dev/fd/", "/proc/self/fd/", f"/proc/{os.getpid()}/fd/")


def _descriptor(output: str) -> int | None:
    """/dev/stdout, /dev/fd/3, /proc/self/fd/1: a file this process already has open.

    Written through that descriptor, never reopened: reopening a pipe fails
    for a user who does not own it, and a regular file behind ``>>`` would
    lose its appends.
    """
    if output in _NAMED_DESCRIPTORS:
        return _NAMED_DESCRIPTORS[output]
    for folder in _DESCRIPTOR_FOLDERS:
        number = output.removeprefix(folder)
        if number != output and number.isascii() and number.isdigit():
            return int(number)
    return None


def write_output(target: Target, data: bytes) -> None:
    """Write ``data`` where ``target`` says; any failure is an OutputError."""
    try:
        if target.path is None:
            sys.stdout.flush()
            sys.stderr.flush()
            # UTF-8 as written, whatever the locale; closefd=False leaves stdout open.
            with open(target.descriptor, "wb", closefd=False) as file:
                file.write(data)
        elif target.replace:
            _replace(target, target.path, data)
        else:
            with open(target.path, "wb") as file:  # a device, a FIFO: written in place
                file.write(data)
    except BrokenPipeError:
        raise  # the reader went away: the command line exits 141
    except OSError as error:
        raise OutputError(f"cannot write {target.shown}: {error.strerror or error}") from None


@contextlib.contextmanager
def opened(target: Target) -> Iterator[BinaryIO]:
    """A binary file to write ``target`` through as output streams out (``grad
    --points -o``): the same rules as write_output, a replaced file renamed
    into place only when the block ends without an error."""
    try:
        if target.path is None:
            sys.stdout.flush()
            with open(target.descriptor, "wb", closefd=False) as file:
                yield file
        elif target.replace:
            with _replacement(target, target.path) as file:
                yield file
        else:
            with open(target.path, "wb") as file:
                yield file
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(f"cannot write {target.shown}: {error.strerror or error}") from None


def _replace(target: Target, path: Path, data: bytes) -> None:
    with _replacement(target, path) as file:
        file.write(data)


@contextlib.contextmanager
def _replacement(target: Target, path: Path) -> Iterator[BinaryIO]:
    """A temporary file beside ``path``, renamed into place when the block ends.

    Any failure (a full disk, SIGINT, SIGTERM) removes the temporary file and
    leaves ``path`` as it was.
    """
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
        mode = target.mode
        if mode is None:
            # mkstemp makes the file private (0600); give it the mode a new file gets.
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        if target.owner is not None:
            os.chown(temp, *target.owner)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
