"""Uncertainty propagation: a measurement's standard uncertainty through a formula.

First order (the GUM's law of propagation): with the gradient g at the
measured values and standard uncertainties s,

    var f = sum_i (g_i s_i)**2 + 2 sum_{i<j} g_i g_j r_ij s_i s_j

for correlations r_ij (0 unless given). The budget says where the
uncertainty comes from: each uncertain input's contribution |g_i| s_i and
its share (g_i s_i)**2 / var f, largest first. A Monte Carlo run checks the
linear figure by sampling the inputs as normal distributions and evaluating
the formula on the samples as arrays, a chunk at a time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from ..core.errors import (
    EvaluationError,
    LimitError,
    UnknownVariableError,
    UsageError,
    format_number,
)
from ..core.expression import Expression
from .gradient import gradient_at

# Samples a Monte Carlo run may draw: each costs one evaluation of the
# formula on arrays (about 0.1 µs a node a sample).
MAX_SAMPLES = 10_000_000
# Samples times the formula's nodes: about 20 s of arrays at most.
MAX_SAMPLE_WORK = 200_000_000
# Samples evaluated at once: the arrays of one chunk stay small.
SAMPLE_CHUNK = 2**16
# Monte Carlo and linear figures that differ by more than this (relative to
# the linear sigma) say the formula is too nonlinear at this uncertainty.
DISAGREEMENT = 0.1
# A spread of the samples this small against the value is the floats' rounding
# ((x + 0.1) - x), not a sign of nonlinearity.
ROUNDING = 1e-9


@dataclass(frozen=True)
class Contribution:
    """One uncertain input's part in the result's uncertainty."""

    name: str
    value: float
    sigma: float
    partial: float
    contribution: float  # |partial| * sigma
    share: float  # (partial * sigma)**2 / variance of f


@dataclass(frozen=True)
class MonteCarlo:
    samples: int
    seed: int
    mean: float
    sigma: float
    undefined: int  # samples where f has no finite value, left out


@dataclass(frozen=True)
class Uncertainty:
    expr: str
    at: dict[str, float]
    sigmas: dict[str, float]  # every uncertain input's standard uncertainty
    correlations: dict[tuple[str, str], float]
    value: float
    sigma: float
    grad: dict[str, float]
    budget: list[Contribution]
    monte_carlo: MonteCarlo | None = None

    @property
    def disagrees(self) -> bool:
        """The Monte Carlo figures differ from the linear ones by more than
        DISAGREEMENT of sigma, beyond three standard errors of the sampling
        (a sample of 100 has its standard deviation 7% off by chance alone)."""
        mc = self.monte_carlo
        if mc is None:
            return False
        if self.sigma == 0:  # flat to first order: a spread past rounding is the news
            return mc.sigma > ROUNDING * max(abs(self.value), abs(mc.mean))
        count = mc.samples - mc.undefined
        chance = 3 * mc.sigma / math.sqrt(max(count - 1, 1))  # SE of the mean is sigma/sqrt(n)
        off = max(abs(mc.sigma - self.sigma), abs(mc.mean - self.value))
        return off > DISAGREEMENT * self.sigma + chance


def check_inputs(
    expression: Expression,
    sigmas: Mapping[str, float],
    correlations: Mapping[tuple[str, str], float],
) -> None:
    """Refuse what cannot be an uncertainty: a negative sigma, a correlation past
    [-1, 1] or of a name the expression does not use."""
    for name, sigma in sigmas.items():
        if not sigma >= 0 or not math.isfinite(sigma):
            raise UsageError(f"the uncertainty of {name} must be a finite number >= 0, got {sigma}")
    for (a, b), r in correlations.items():
        for name in (a, b):
            if name not in expression.variables:
                raise UnknownVariableError(name, expression.variables)
        if a == b:
            raise UsageError(f"a correlation is between two inputs, not {a} with itself")
        if not -1 <= r <= 1:
            raise UsageError(f"the correlation of {a} and {b} must be between -1 and 1, got {r}")
    if correlations:
        _correlation_factor(sorted({n for pair in correlations for n in pair}), correlations)


def propagate(
    expression: Expression,
    point: Mapping[str, float],
    sigmas: Mapping[str, float],
    correlations: Mapping[tuple[str, str], float] | None = None,
) -> Uncertainty:
    """The value, its standard uncertainty and the budget, to first order.

    >>> from autodiff import parse
    >>> found = propagate(parse("x*y"), {"x": 2.0, "y": 3.0}, {"x": 0.1})
    >>> found.value, round(found.sigma, 12), [c.name for c in found.budget]
    (6.0, 0.3, ['x'])
    """
    correlations = dict(correlations or {})
    check_inputs(expression, sigmas, correlations)
    found = gradient_at(expression, point)
    uncertain = {n: float(sigmas[n]) for n in expression.variables if sigmas.get(n, 0) > 0}
    scaled = {n: found.grad[n] * s for n, s in uncertain.items()}
    # Every term over the largest: squares of 1e-170 or 1e170 neither vanish
    # nor overflow, so sigma is finite whenever the largest contribution is.
    largest = max((abs(v) for v in scaled.values()), default=0.0)
    if not math.isfinite(largest):
        raise EvaluationError.not_finite("sigma", "uncertainty")
    unit = {n: v / largest if largest else 0.0 for n, v in scaled.items()}
    cross = [
        2 * r * unit[a] * unit[b] for (a, b), r in correlations.items() if a in unit and b in unit
    ]
    relative = math.fsum([*(u * u for u in unit.values()), *cross])
    relative = max(relative, 0.0)  # a correlation of -1 can cancel to -1e-17
    sigma = largest * math.sqrt(relative)
    if not math.isfinite(sigma):
        raise EvaluationError.not_finite("sigma", "uncertainty")
    budget = [
        Contribution(
            name,
            found.at[name],
            uncertain[name],
            found.grad[name],
            abs(scaled[name]),
            (unit[name] ** 2 / relative) if relative else 0.0,
        )
        for name in uncertain
    ]
    budget.sort(key=lambda c: -c.contribution)
    return Uncertainty(
        found.expr,
        found.at,
        uncertain,
        correlations,
        found.value,
        sigma,
        found.grad,
        budget,
    )


def check_samples(expression: Expression, samples: int) -> None:
    """Refuse a Monte Carlo run past its limits, before any sample is drawn."""
    if not 2 <= samples <= MAX_SAMPLES:
        raise UsageError(
            f"the Monte Carlo samples must be from 2 to {MAX_SAMPLES:,}, got {samples:,}"
        )
    work = samples * len(expression)
    if work > MAX_SAMPLE_WORK:
        raise LimitError(
            f"{samples:,} Monte Carlo samples of a formula of {len(expression):,} nodes is"
            f" {work:,} node evaluations, more than the limit of {MAX_SAMPLE_WORK:,}:"
            " draw fewer samples"
        )


def monte_carlo(
    result: Uncertainty, expression: Expression, samples: int, seed: int
) -> Uncertainty:
    """``result`` with the mean and standard deviation of f over ``samples``
    draws of the inputs (normal, correlated as given), from numpy seeded with ``seed``."""
    import numpy as np

    check_samples(expression, samples)
    names = list(result.sigmas)
    rng = np.random.default_rng(seed)
    factor = _cholesky(names, result.sigmas, result.correlations)
    # The statistics are kept in units of the first finite sample's size, so
    # that squares of 1e200 neither overflow nor those of 1e-200 vanish.
    count, mean, m2, undefined, unit = 0, 0.0, 0.0, 0, 0.0
    done = 0
    while done < samples:
        size = min(SAMPLE_CHUNK, samples - done)
        done += size
        draws = rng.standard_normal((size, len(names))) @ factor.T if names else None
        point: dict[str, Any] = {n: np.full(size, v) for n, v in result.at.items()}
        for k, name in enumerate(names):
            point[name] = result.at[name] + draws[:, k]  # type: ignore[index]
        with np.errstate(all="ignore"):
            values = np.asarray(expression.evaluate(point).data, dtype=float)
        values = np.broadcast_to(values, (size,))
        finite = values[np.isfinite(values)]
        undefined += size - finite.size
        if finite.size and not unit:
            unit = float(np.abs(finite).max()) or 1.0
        if finite.size:  # Chan et al.: chunk statistics combined without cancellation
            finite = finite / unit
            n_b, mean_b = finite.size, float(finite.mean())
            m2_b = float(((finite - mean_b) ** 2).sum())
            total = count + n_b
            delta = mean_b - mean
            mean += delta * n_b / total
            m2 += m2_b + delta * delta * count * n_b / total
            count = total
    if count < 2:
        raise EvaluationError.nowhere("the formula has no finite value at the Monte Carlo samples")
    mean, spread = unit * mean, unit * math.sqrt(m2 / (count - 1))
    if not (math.isfinite(mean) and math.isfinite(spread)):
        raise EvaluationError.nowhere(
            "the Monte Carlo mean or standard deviation is past the float range"
        )
    found = MonteCarlo(samples, seed, mean, spread, undefined)
    return Uncertainty(**{**result.__dict__, "monte_carlo": found})


def _cholesky(
    names: Sequence[str], sigmas: Mapping[str, float], correlations: Mapping[tuple[str, str], float]
) -> Any:
    """L with L L^T the covariance of the uncertain inputs."""
    import numpy as np

    # The correlation matrix's factor, scaled by the sigmas afterwards: its
    # entries are all near 1, whatever the sigmas' magnitudes.
    return np.array([sigmas[n] for n in names])[:, None] * _correlation_factor(names, correlations)


def _correlation_factor(names: Sequence[str], correlations: Mapping[tuple[str, str], float]) -> Any:
    """L with L L^T the correlation matrix of ``names``; refused when no joint
    distribution has these correlations (the matrix is not positive semi-definite)."""
    import numpy as np

    index = {n: k for k, n in enumerate(names)}
    matrix = np.eye(len(names))
    for (a, b), r in correlations.items():
        if a in index and b in index:
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = r
    if not names:
        return np.zeros((0, 0))
    # An eigen-decomposition, not numpy's Cholesky: a correlation of exactly
    # 1 gives a matrix that is only semi-definite, which is still valid.
    values, vectors = np.linalg.eigh(matrix)
    if values.min() < -1e-12:
        raise UsageError("the correlations given are not consistent: no set of inputs has them")
    return vectors * np.sqrt(np.clip(values, 0, None))


def lab_rounding(value: float, sigma: float) -> str:
    """``9.81 ± 0.19``: sigma to two significant digits, the value to the same place.

    Very large or small magnitudes share one power of ten: ``(1.234 ± 0.012)e-07``.
    Rounded in exact decimals (half to even, as round() does on floats), so a
    subnormal sigma has its digits like any other.
    """
    if sigma == 0 or not math.isfinite(sigma):
        return f"{format_number(value)} ± 0"
    with localcontext() as context:
        context.prec = 800  # more than any float's exact decimal digits
        exact_sigma, exact_value = Decimal(sigma), Decimal(value)
        place = exact_sigma.adjusted() - 1
        if exact_sigma.quantize(Decimal(1).scaleb(place)).adjusted() > exact_sigma.adjusted():
            place += 1  # 0.0996 rounds to 0.10: one place up
        # The value's magnitude after rounding: the float 1e-07 is 9.99...e-08.
        scale = exact_value.quantize(Decimal(1).scaleb(place)).adjusted() if value else place + 1
        if scale - place > 17:  # sigma below the float's own resolution of the value
            return f"{value!r} ± {sigma:.2g}"
        if -6 <= place <= 5 and scale < 15:
            step = Decimal(1).scaleb(min(place, 0))
            v = exact_value.quantize(Decimal(1).scaleb(place)).quantize(step)
            s = exact_sigma.quantize(Decimal(1).scaleb(place)).quantize(step)
            return f"{v:f} ± {s:f}"
        exponent = max(scale, place + 1)
        step = Decimal(1).scaleb(place - exponent)
        v = exact_value.scaleb(-exponent).quantize(step)
        s = exact_sigma.scaleb(-exponent).quantize(step)
        return f"({v:f} ± {s:f})e{exponent:+03d}"
