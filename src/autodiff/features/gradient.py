"""The value and the partials at one point: the result ``autodiff grad`` prints."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..core.errors import UnknownVariableError
from ..core.expression import Expression


@dataclass(frozen=True)
class Step:
    """A defined name's node at the point: its value and the output's derivative by it."""

    value: float
    grad: float


@dataclass(frozen=True)
class Gradient:
    """An expression evaluated at a point, with the partials asked for."""

    expr: str
    at: dict[str, float]  # the point, for the expression's variables only
    value: float
    grad: dict[str, float]  # in order of first appearance, or of ``wrt``
    steps: dict[str, Step] | None = None  # every defined name, when asked for


def gradient_at(
    expression: Expression,
    point: Mapping[str, float],
    wrt: Iterable[str] = (),
    steps: bool = False,
) -> Gradient:
    """The value and every partial (or those in ``wrt``) at ``point``.

    ``wrt`` may name a definition of the program (d output / d n), and
    ``steps`` adds every definition's value and gradient: both need each
    node's gradient, so the engine runs rather than the tape, which keeps
    only the variables'.
    """
    names = list(dict.fromkeys(wrt))
    for name in names:
        if name not in expression.variables and name not in expression.definitions:
            raise UnknownVariableError(name, [*expression.variables, *expression.definitions])
    defined = {n: i for n, i in expression.definitions.items() if n not in expression.variables}
    found: dict[str, Step] | None = None
    if steps or any(name in defined for name in names):
        values = expression.backward(point)
        value = float(values[-1].data)
        partials = {
            s.text: float(v.grad)
            for s, v in zip(expression.steps, values, strict=True)
            if s.is_variable
        }
        found = {n: Step(float(values[i].data), float(values[i].grad)) for n, i in defined.items()}
        for name in names:
            if name in found:
                partials[name] = found[name].grad
    else:
        value, partials = expression.gradient(point)
    if names:
        partials = {name: partials[name] for name in names}
    at = {name: float(point[name]) for name in expression.variables}
    return Gradient(expression.text, at, value, partials, found if steps else None)
