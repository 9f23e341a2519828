"""An Expression as LaTeX: presentation only, one pass over the steps, no recursion.

>>> from autodiff import parse
>>> print(latex(parse("x1*sin(x1)**2/(2*y) - sqrt(x + 1)")))
\\frac{x_{1} \\sin\\left(x_{1}\\right)^{2}}{2 y} - \\sqrt{x + 1}
"""

from __future__ import annotations

import re

from ..expression import Expression

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

# Binding strength, as in the text printer: sums, products, signs, powers, atoms.
_SUM, _PRODUCT, _SIGN, _POWER, _ATOM = 1, 2, 3, 4, 5


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
    """The expression in LaTeX, with the parentheses it needs as \\left( \\right)."""
    pieces: list[tuple[str, int]] = []
    for step in expression.steps:
        if step.op is None:
            if step.value is None or step.name in ("pi", "e"):
                pieces.append((latex_name(step.name), _ATOM))
            else:
                text = _number(step.name)
                pieces.append((text, _SIGN if text.startswith("-") else _ATOM))
            continue
        name = step.op.name
        args = [pieces[i] for i in step.args]
        pieces.append(_combine(name, args))
    return pieces[-1][0]


def _wrap(piece: tuple[str, int], below: int) -> str:
    text, strength = piece
    return rf"\left({text}\right)" if strength < below else text


def _combine(name: str, args: list[tuple[str, int]]) -> tuple[str, int]:
    if name in ("add", "sub"):
        left, right = args
        sign = " + " if name == "add" else " - "
        limit = _SUM + 1 if name == "sub" else _SUM
        if right[1] == _SIGN:
            limit = _SIGN + 1
        return _wrap(left, _SUM) + sign + _wrap(right, limit), _SUM
    if name == "mul":
        left, right = args
        shown_right = _wrap(right, _PRODUCT + 1 if right[1] != _SIGN else _SIGN + 1)
        joint = r" \cdot " if shown_right[:1].isdigit() else " "
        return _wrap(left, _PRODUCT) + joint + shown_right, _PRODUCT
    if name == "div":
        top, bottom = args
        return rf"\frac{{{top[0]}}}{{{bottom[0]}}}", _POWER  # binds like a power
    if name == "neg":
        return "-" + _wrap(args[0], _SIGN), _SIGN
    if name == "pow":
        base, exponent = args
        return f"{_wrap(base, _ATOM)}^{{{exponent[0]}}}", _POWER
    inner = ", ".join(a[0] for a in args)
    if name == "sqrt":
        return rf"\sqrt{{{inner}}}", _ATOM
    if name == "abs":
        return rf"\left|{inner}\right|", _ATOM
    command = _FUNCTIONS.get(name, rf"\operatorname{{{name}}}")
    return rf"{command}\left({inner}\right)", _ATOM
