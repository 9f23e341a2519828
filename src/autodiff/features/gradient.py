"""The value and the partials at one point: the result ``autodiff grad`` prints."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..core.errors import UnknownVariableError
from ..core.expression import Expression


@dataclass(frozen=True)
class Gradient:
    """An expression evaluated at a point, with the partials asked for."""

    expr: str
    at: dict[str, float]  # the point, for the expression's variables only
    value: float
    grad: dict[str, float]  # in order of first appearance, or of ``wrt``


def gradient_at(
    expression: Expression, point: Mapping[str, float], wrt: Iterable[str] = ()
) -> Gradient:
    """The value and every partial (or those in ``wrt``) at ``point``."""
    value, partials = expression.gradient(point)
    names = list(dict.fromkeys(wrt))
    for name in names:
        if name not in partials:
            raise UnknownVariableError(name, expression.variables)
    if names:
        partials = {name: partials[name] for name in names}
    at = {name: float(point[name]) for name in expression.variables}
    return Gradient(expression.text, at, value, partials)
