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
    value: Any  # f, NaN where undefined (and between two samples on either side of a pole)
    slope: Any  # df/d(wrt), NaN where undefined
    ylim: tuple[float, float] | None = None  # the y-axis to show; None: fit everything
    clipped: bool = False  # some samples lie beyond ylim


# The bulk of a curve: the y-axis fits the samples between these quantiles
# when the rest reach much further (a pole, a derivative's spike).
BULK = (0.1, 0.9)
SPREAD = 4.0  # how much wider than the bulk the whole may be before it is clipped


def sample(
    expression: Expression,
    wrt: str,
    low: float,
    high: float,
    point: Mapping[str, float],
    samples: int = DEFAULT_SAMPLES,
    ylim: tuple[float, float] | None = None,
) -> Curve:
    """f and df/d``wrt`` at ``samples`` evenly spaced points from ``low`` to ``high``.

    The y-axis is ``ylim``, or the bulk of the samples when a few stray far
    (see ``_bulk``); the line is broken at poles either way.
    """
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
    bottom, top = ylim if ylim is not None else _bulk(value, slope)
    x, value, slope = _break_at_poles(x, value, slope, top - bottom)
    shown = np.concatenate([value, slope])
    shown = shown[np.isfinite(shown)]
    clipped = bool(((shown < bottom) | (shown > top)).any())
    if ylim is None and not clipped:
        return Curve(expression.text, wrt, fixed, x, value, slope)
    return Curve(expression.text, wrt, fixed, x, value, slope, (bottom, top), clipped)


def _bulk(value: Any, slope: Any) -> tuple[float, float]:
    """A y-range that fits the bulk of f and of f', each on its own, a little wider.

    tan(x) over -10:10 has samples near 10^4 beside its poles while the
    curve lives within a few units: an axis fitted to all of them is a flat
    line. A curve whose samples do not stray (a parabola) keeps them all.
    """
    ranges = [_bulk_of(samples) for samples in (value, slope) if _finite(samples).size]
    return min(low for low, _ in ranges), max(high for _, high in ranges)


def _finite(samples: Any) -> Any:
    import numpy as np

    return samples[np.isfinite(samples)]


def _bulk_of(samples: Any) -> tuple[float, float]:
    import numpy as np

    found = _finite(samples)
    low, high = float(found.min()), float(found.max())
    q_low, q_high = (float(q) for q in np.quantile(found, BULK))
    bulk = max(q_high - q_low, 1e-12 * max(abs(q_low), abs(q_high), 1.0))
    if high - low <= SPREAD * bulk:
        margin = 0.05 * (high - low or 1.0)
        return low - margin, high + margin
    return q_low - 0.25 * bulk, q_high + 0.25 * bulk


def _break_at_poles(x: Any, value: Any, slope: Any, span: float) -> tuple[Any, Any, Any]:
    """NaN between two samples where f jumps through infinity: a pole, not a steep curve.

    The jump goes against the slope at both ends (tan(x) rises to +inf and
    comes back from -inf), and it is larger than the axis shows.
    """
    import numpy as np

    jump = np.diff(value)
    rising = (slope[:-1] > 0) & (slope[1:] > 0)
    falling = (slope[:-1] < 0) & (slope[1:] < 0)
    against = (rising & (jump < 0)) | (falling & (jump > 0))
    poles = np.flatnonzero(against & (np.abs(jump) > span))
    if not len(poles):
        return x, value, slope
    middle = (x[poles] + x[poles + 1]) / 2
    return (
        np.insert(x, poles + 1, middle),
        np.insert(value, poles + 1, np.nan),
        np.insert(slope, poles + 1, np.nan),
    )
