"""f and its derivative along one variable: the samples behind ``autodiff plot``.

All points are evaluated at once on numpy arrays (the engine's array path);
where f or f' is undefined or infinite the sample is NaN, which a plot
shows as a gap rather than an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.errors import EvaluationError, UnknownVariableError, UsageError, format_number
from ..core.expression import Expression

DEFAULT_SAMPLES = 400
MAX_SAMPLES = 1_000_000


@dataclass(frozen=True)
class Curve:
    expr: str
    wrt: str
    fixed: dict[str, float]  # the other variables, held at their --at values
    x: Any  # numpy arrays of the same length
    value: Any  # f, NaN where undefined
    slope: Any  # df/d(wrt), NaN where undefined


def sample(
    expression: Expression,
    wrt: str,
    low: float,
    high: float,
    point: Mapping[str, float],
    samples: int = DEFAULT_SAMPLES,
) -> Curve:
    """f and df/d``wrt`` at ``samples`` evenly spaced points from ``low`` to ``high``."""
    import numpy as np

    if wrt not in expression.variables:
        raise UnknownVariableError(wrt, expression.variables)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        a, b = format_number(low), format_number(high)
        raise UsageError(
            f"the interval from low={a} to high={b} is empty: low must be less than high",
            parameter="range",
            detail=f"{a}:{b} is empty: write LOW:HIGH with LOW < HIGH",
        )
    if not 2 <= samples <= MAX_SAMPLES:
        raise UsageError.argument("samples", f"must be between 2 and {MAX_SAMPLES}, got {samples}")
    x = np.linspace(low, high, samples)
    # A missing value raises MissingValueError from here, as for one point.
    value, grads = expression.gradient({**point, wrt: x})
    fixed = {name: float(point[name]) for name in expression.variables if name != wrt}
    slope = grads[wrt]
    defined = np.isfinite(value)
    # f' is drawn only where f is defined: sqrt(x) at 0 has a value, not a slope.
    slope = np.where(defined & np.isfinite(slope), slope, np.nan)
    value = np.where(defined, value, np.nan)
    if not defined.any():
        raise EvaluationError.nowhere(
            f"f is undefined everywhere on {wrt} from {format_number(low)} to {format_number(high)}"
        )
    return Curve(expression.text, wrt, fixed, x, value, slope)
