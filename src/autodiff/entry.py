"""The command's entry point: signals are handled before anything is imported.

Importing the command line (typer, rich, the parser) takes most of a short
run; a Ctrl-C in that time must end the run as quietly as one later on.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType


def _terminated(signum: int, frame: FrameType | None) -> None:
    # An exception, not an exit at once: a file being written is removed on the way out.
    raise SystemExit(143)  # 128 + SIGTERM


def main() -> None:
    try:
        import signal  # inside the try: a Ctrl-C may come while it loads

        signal.signal(signal.SIGTERM, _terminated)
        from .cli import main as run

        run()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(130)  # 128 + SIGINT
