"""The streams' fast table draws what rich draws, character for character."""

from __future__ import annotations

import io
import random
import re

import pytest
from rich import box
from rich.console import Console
from rich.table import Table

from autodiff.render.grid import grid

CELLS = ["", "x", "12345", "-1.5e-07", "漢字x", "∂f/∂y", "a b", "x**2+3*x"]


def _rich(header: list[str] | None, rows: list[list[str]], right: list[bool], boxed: bool) -> str:
    table = Table(box=box.ROUNDED if boxed else None, show_header=header is not None)
    for name, flush_right in zip(header or [""] * len(right), right, strict=True):
        table.add_column(name, justify="right" if flush_right else "left")
    for row in rows:
        table.add_row(*row)
    out = io.StringIO()
    console = Console(file=out, color_system=None, markup=False, highlight=False, width=10_000)
    console.print(table)
    return out.getvalue()


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("boxed", [False, True])
def test_grid_matches_rich(seed: int, boxed: bool) -> None:
    rng = random.Random(seed)
    columns = rng.randint(1, 5)
    header = [rng.choice(CELLS[1:]) for _ in range(columns)] if seed % 4 else None
    right = [rng.random() < 0.5 for _ in range(columns)]
    rows = [
        [rng.choice(CELLS) for _ in range(columns)]
        for _ in range(rng.randint(0 if header else 1, 6))
    ]
    assert grid(header, rows, right, boxed=boxed, bold_header=False) == _rich(
        header, rows, right, boxed
    )


def test_bold_header_changes_only_the_header() -> None:
    header, rows, right = ["expr", "f"], [["x", "1"]], [False, True]
    plain = grid(header, rows, right, boxed=True, bold_header=False)
    bold = grid(header, rows, right, boxed=True, bold_header=True)
    assert bold != plain
    assert re.sub(r"\x1b\[[0-9]*m", "", bold) == plain
    assert bold.splitlines()[2:] == plain.splitlines()[2:]
