"""Text for people: the one title helper, and the one way rich is used.

Everything that reaches rich here is plain text: markup and emoji codes are
off, so ``[red]`` or ``[link=...]`` in an input is shown as typed, and every
string from the user has gone through safe_text.visible first, so no escape
sequence reaches the terminal raw (docs/reliability.md, "Threat model").
"""

from __future__ import annotations

import re
from typing import IO, TYPE_CHECKING

from ..core.errors import format_number
from ..core.safe_text import visible

if TYPE_CHECKING:
    from rich.console import Console


def rounded(x: float, precision: int) -> str:
    """``x`` to ``precision`` significant digits, for the eye; -0.0 shows as 0,
    which is what a reader expects. The one rounding of every table and text."""
    return f"{x + 0.0:.{precision}g}"


def point_text(at: dict[str, float], sigmas: dict[str, float] | None = None) -> str:
    """``x = 3, L = 1 ± 0.01``: each name's value, and its uncertainty where it has one."""
    sigmas = sigmas or {}
    return ", ".join(
        f"{n} = {format_number(v)}" + (f" ± {format_number(sigmas[n])}" if n in sigmas else "")
        for n, v in at.items()
    )


def title(
    expr: str,
    at: dict[str, float] | None = None,
    rows: str | None = None,
    sigmas: dict[str, float] | None = None,
) -> str:
    """``f = EXPR  at  x = 3``, the expression made visible: shown the same by every command.

    A stream of points names them: ``f = x*y  at  each row of data.csv, y = 2``.

    A program that names its steps (``n = 2*x; tanh(n)``) is shown as written,
    its lines joined by ``; ``.
    """
    point = point_text(at or {}, sigmas)
    where = ", ".join(filter(None, [f"each row of {visible(rows)}" if rows else "", point]))
    lines = [line.strip() for line in expr.strip().split("\n") if line.strip()]
    shown = "; ".join(line.rstrip(";") for line in lines) if len(lines) > 1 else expr
    text = shown if _DEFINES.search(shown) else f"f = {shown}"
    return visible(text) + (f"  at  {where}" if where else "")


_DEFINES = re.compile(r"(^|[;\n])\s*[A-Za-z_][A-Za-z0-9_]*\s*=")


def console(colour: bool, width: int | None = None, file: IO[str] | None = None) -> Console:
    """A rich console that reads no markup, no emoji codes and highlights nothing.

    Without colour it writes no escape sequence at all (no bold either), so a
    terminal shows only characters.
    """
    from rich.console import Console

    class PlainConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1; the command line's one handler makes it 141.
            raise BrokenPipeError

    return PlainConsole(
        file=file,
        no_color=not colour,
        # Colour asked for is colour given (--color always into less -R), and
        # no colour is no escape at all; rich would look at the file itself.
        color_system="standard" if colour else None,
        force_terminal=colour,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        width=width,
    )
