"""An Expression as LaTeX: presentation only, one pass over the steps, no recursion.

>>> from autodiff import parse
>>> print(latex(parse("x1*sin(x1)**2/(2*y) - sqrt(x + 1)")))
\\frac{x_{1} \\sin\\left(x_{1}\\right)^{2}}{2 y} - \\sqrt{x + 1}
"""

from __future__ import annotations

import re

from ..core.expression import Expression
from ..core.program import ATOM, POWER, PRODUCT, SIGN, SUM  # the one precedence table

_FUNCTIONS = {
    "sin": r"\sin",
    "cos": r"\cos",
    "tan": r"\tan",
    "asin": r"\arcsin",
    "acos": r"\arccos",
    "atan": r"\arctan",
    "sinh": r"\sinh",
    "cosh": r"\cosh",
    "tanh": r"\tanh",
    "exp": r"\exp",
    "log": r"\log",
}
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
}  # fmt: skip
_INDEXED = re.compile(r"([A-Za-z]+)_?(\d+)")


def latex_name(name: str) -> str:
    """x, x_{1} for x1, \\alpha for alpha, \\pi; \\mathrm{} for longer names."""
    if name == "pi" or name in _GREEK:
        return "\\" + name
    indexed = _INDEXED.fullmatch(name)
    if indexed:
        stem, index = indexed.groups()
        shown = "\\" + stem if stem in _GREEK else stem if len(stem) == 1 else rf"\mathrm{{{stem}}}"
        return f"{shown}_{{{index}}}"
    if len(name) == 1:
        return name
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


def _number(text: str) -> str:
    mantissa, e, exponent = text.partition("e")
    if not e:
        return text
    power = f"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return mantissa[:-1] + power
    return rf"{mantissa} \cdot {power}"


def latex(expression: Expression) -> str:
    """The expression in LaTeX, with the parentheses it needs as \\left( \\right).

    Two passes, no recursion: bottom-up, how strongly each step binds and the
    character its text starts with; then top-down, an explicit stack of text
    pieces and steps still to print (building strings bottom-up would copy
    every level of a deep expression into the next).
    """
    steps = expression.steps
    strength: list[int] = []
    first: list[str] = []
    leaves: dict[int, str] = {}
    for index, step in enumerate(steps):
        if step.op is None:
            if step.constant is None or step.text in ("pi", "e"):
                text = latex_name(step.text)
            else:
                text = _number(step.text)
            leaves[index] = text
            strength.append(SIGN if text.startswith("-") else ATOM)
            first.append(text[:1])
            continue
        bound, parts = _layout(step.op.name, [strength[i] for i in step.args])
        strength.append(bound)
        head = parts[0]
        if isinstance(head, str):
            first.append(head[:1])
        else:
            child, wrap = head
            first.append("\\" if wrap else first[step.args[child]])
    pieces: list[str] = []
    stack: list[str | int] = [len(steps) - 1]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            pieces.append(item)
            continue
        step = steps[item]
        if step.op is None:
            pieces.append(leaves[item])
            continue
        _, parts = _layout(step.op.name, [strength[i] for i in step.args])
        if step.op.name == "mul":
            right = step.args[1]
            wrapped_right = isinstance(parts[2], tuple) and parts[2][1]
            digit = not wrapped_right and first[right][:1].isdigit()
            parts[1] = r" \cdot " if digit else " "
        for part in reversed(parts):
            if isinstance(part, tuple):
                child, wrap = part
                index = step.args[child]
                stack.extend([r"\right)", index, r"\left("] if wrap else [index])
            else:
                stack.append(part)
    return "".join(pieces)


Part = str | tuple[int, bool]  # text, or (argument number, wrap it in parentheses)


def _layout(name: str, bound: list[int]) -> tuple[int, list[Part]]:
    """How a step prints: how strongly it binds, and its parts in order."""
    if name in ("add", "sub"):
        limit = SUM + 1 if name == "sub" else SUM
        if bound[1] == SIGN:
            limit = SIGN + 1
        sign = " + " if name == "add" else " - "
        return SUM, [(0, bound[0] < SUM), sign, (1, bound[1] < limit)]
    if name == "mul":
        limit = SIGN + 1 if bound[1] == SIGN else PRODUCT + 1
        return PRODUCT, [(0, bound[0] < PRODUCT), " ", (1, bound[1] < limit)]
    if name == "div":  # binds like a power
        return POWER, [r"\frac{", (0, False), "}{", (1, False), "}"]
    if name == "neg":
        return SIGN, ["-", (0, bound[0] < SIGN)]
    if name == "pow":
        return POWER, [(0, bound[0] < ATOM), "^{", (1, False), "}"]
    inner: list[Part] = []
    for k in range(len(bound)):
        inner += [", ", (k, False)] if k else [(k, False)]
    if name == "sqrt":
        return ATOM, [r"\sqrt{", *inner, "}"]
    if name == "abs":
        return ATOM, [r"\left|", *inner, r"\right|"]
    command = _FUNCTIONS.get(name, rf"\operatorname{{{name}}}")
    return ATOM, [command + r"\left(", *inner, r"\right)"]
