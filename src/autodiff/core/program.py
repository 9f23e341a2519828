"""The program: a formula as a flat list of steps, and how it prints.

Layer 1, beside the primitive table it refers to: every other layer speaks
in Steps (the parser builds them, the engine and the tape evaluate them, the
derivative printer writes new ones, the renderers draw them), and none of
them needs the parser to print one. The one precedence table of the
language is here; the LaTeX printer reads its levels too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from .ops import Primitive


class Step(NamedTuple):
    """One step of the program: a leaf (op is None) or a primitive on earlier steps."""

    op: Primitive | None
    args: tuple[int, ...] = ()
    text: str = ""  # a leaf's variable name or constant literal, as written
    constant: float | None = None  # a constant leaf's number; None for a variable

    @property
    def is_variable(self) -> bool:
        return self.op is None and self.constant is None


# -- printing ---------------------------------------------------------------

# Binding strength of each operator, weakest first; leaves and calls are atoms.
SUM, PRODUCT, SIGN, POWER, ATOM = 1, 2, 3, 4, 5
PRECEDENCE = {"add": SUM, "sub": SUM, "mul": PRODUCT, "div": PRODUCT, "neg": SIGN, "pow": POWER}
_INFIX = {"add": " + ", "sub": " - ", "mul": "*", "div": "/", "pow": "**"}


def precedence(step: Step) -> int:
    if step.op is None:
        return SIGN if step.text.startswith("-") else ATOM
    return PRECEDENCE.get(step.op.name, ATOM)


Piece = str | tuple[int, bool]  # literal text, or (input step, wrapped in parentheses)


def layout(
    steps: Sequence[Step], step: Step, names: Mapping[int, str] | None = None
) -> list[Piece]:
    """How an operation prints: literal text around its inputs, each maybe in parentheses.

    The one place that knows precedence and associativity when printing. An
    input in ``names`` prints as its name, an atom.
    """
    assert step.op is not None
    name = step.op.name
    mine = precedence(step)

    def precedence_of(i: int) -> int:
        return ATOM if names and i in names else precedence(steps[i])

    if name in ("add", "sub", "mul", "div"):
        left, right = step.args
        return [
            (left, precedence_of(left) < mine),
            _INFIX[name],
            (right, precedence_of(right) <= mine),  # a - (b - c) keeps its parentheses
        ]
    if name == "pow":
        base, exponent = step.args
        return [
            (base, precedence_of(base) <= mine),
            "**",
            (exponent, precedence_of(exponent) < SIGN),  # the exponent is a unary
        ]
    if name == "neg":
        (operand,) = step.args
        return ["-", (operand, precedence_of(operand) < SIGN)]
    pieces: list[Piece] = [name + "("]
    for k, arg in enumerate(step.args):
        if k:
            pieces.append(", ")
        pieces.append((arg, False))
    pieces.append(")")
    return pieces


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def format_steps(
    steps: Sequence[Step],
    root: int,
    limit: int | None = None,
    names: Mapping[int, str] | None = None,
) -> str:
    """Print a program back as text, with only the parentheses it needs.

    An explicit stack of pieces (text, or a step still to print) instead of
    recursion; with ``limit`` it stops early and ends with an ellipsis. A step
    in ``names`` below the root prints as its name.
    """
    pieces: list[str] = []
    size = 0
    stack: list[str | int] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            pieces.append(item)
            size += len(item)
            if limit is not None and size > limit:
                return _cut("".join(pieces), limit)
            continue
        step = steps[item]
        if names and item != root and item in names:
            stack.append(names[item])
            continue
        if step.op is None:
            stack.append(step.text)
            continue
        for part in reversed(layout(steps, step, names)):
            if isinstance(part, tuple):
                index, wrap = part
                stack.extend([")", index, "("] if wrap else [index])
            else:
                stack.append(part)
    return "".join(pieces)


def format_all(
    steps: Sequence[Step], limit: int, names: Mapping[int, str] | None = None
) -> list[str]:
    """What ``format_steps(steps, i, limit, names)`` prints, for every step i, in linear time.

    Printing each step afresh walks its whole sub-expression: quadratic on a
    long chain. Each text here is assembled from its inputs' texts, already
    cut to ``limit + 1`` characters, which is all a cut text can show.
    """
    texts: list[str] = []
    for step in steps:
        if step.op is None:
            texts.append(step.text[: limit + 1])
            continue
        text = ""
        for piece in layout(steps, step, names):
            if isinstance(piece, str):
                text += piece
            else:
                index, wrap = piece
                inner = names[index] if names and index in names else texts[index]
                text += f"({inner})" if wrap else inner
            if len(text) > limit:
                break
        texts.append(text[: limit + 1])
    return [_cut(text, limit) for text in texts]


def prune(steps: Sequence[Step], root: int) -> list[Step]:
    """Only the steps the root needs, renumbered, in the same order."""
    return prune_many(steps, (root,))[0]


def needed(steps: Sequence[Step], roots: Sequence[int]) -> bytearray:
    """Per step, 1 if a root needs it: one sweep back, since inputs come before their step."""
    marks = bytearray(len(steps))
    for r in roots:
        marks[r] = 1
    for i in range(max(roots), -1, -1):
        if marks[i]:
            for a in steps[i].args:
                marks[a] = 1
    return marks


def prune_many(steps: Sequence[Step], roots: Sequence[int]) -> tuple[list[Step], dict[int, int]]:
    """Only the steps the roots need, renumbered, in the same order, and the renumbering.

    Found from the roots down, so the cost is that of the roots' own steps
    however many other formulas share the list."""
    keep = set(roots)
    stack = list(keep)
    while stack:
        for a in steps[stack.pop()].args:
            if a not in keep:
                keep.add(a)
                stack.append(a)
    new_index: dict[int, int] = {}
    kept: list[Step] = []
    for i in sorted(keep):
        step = steps[i]
        new_index[i] = len(kept)
        kept.append(step._replace(args=tuple(new_index[a] for a in step.args)))
    return kept, new_index
