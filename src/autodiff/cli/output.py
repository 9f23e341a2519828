"""Writing an output file: checked before any work, replaced atomically after it.

Shared by every command that writes a file (graph, plot, explain --graph).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import OutputError


def writable_path(output: str) -> Path:
    """Fail before any work when the file cannot be written where it should go."""
    path = Path(output)
    if path.is_dir():
        raise OutputError(f"cannot write {output}: it is a directory")
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {output}: no such directory {str(folder)!r}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {output}: permission denied in {str(folder)!r}")
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it into place.

    A reader sees the old file or the new one, never a part; any failure
    (a full disk, an interrupt) removes the temporary file and leaves
    ``path`` as it was.
    """
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        # mkstemp makes the file private (0600); give it the mode a new file gets.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException as error:
        Path(temp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
        raise
