"""Autodiff against finite differences: the computation behind ``autodiff check``.

For each variable the exact partial (reverse mode) is compared with the
central difference ``(f(x+h) - f(x-h)) / 2h``. The seed notebook's one-sided
``(f(x+h) - f(x)) / h`` is reported beside it for comparison only: its error
shrinks like h, the central one's like h².

A finite difference only means something where f is smooth. Before
comparing, the differences are repeated with a step four times smaller:

- at a *kink* (abs or relu at 0) the slopes from the left and from the right
  differ by an amount that does not shrink with the step;
- at a *jump* (sign at 0), or where the step is too large for how fast f
  changes, f(x+h) - f(x-h) does not shrink with the step.

Either makes the partial *undetermined*, not a disagreement.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ..core.engine import Value
from ..core.errors import EvaluationError, UnknownVariableError, UsageError, format_number
from ..core.expression import Expression

EPS = sys.float_info.epsilon
DEFAULT_RTOL = 1e-6
# cbrt(eps) balances the central difference's truncation error (~h²) against
# its rounding error (~eps/h); scaled by |x| so that x ± h still differs from x.
STEP_FACTOR = EPS ** (1.0 / 3.0)
# Room above the first-order rounding estimate (see _rounding_scale): two
# evaluations enter a difference, and a library function may be 1 ulp off.
ROUNDING_SAFETY = 8.0
# Rounding error above this fraction of |f| makes a disagreement undetermined.
NOISY = 1e-3
# The default step is divided by 4 at most this often (4**-20 is about 1e-12).
MAX_SHRINKS = 20

Status = Literal["agree", "disagree", "undetermined"]


@dataclass(frozen=True)
class PartialCheck:
    """One variable's partial: autodiff against the finite differences."""

    name: str
    autodiff: float
    central: float | None  # None when f cannot be evaluated at x ± h
    one_sided: float | None
    step: float
    abs_error: float | None  # |autodiff - central|
    rel_error: float | None  # abs_error / max(|autodiff|, |central|), 0 when both are 0
    tolerance: float | None  # the largest abs_error that still agrees
    status: Status
    reason: str = ""  # why a partial is undetermined or disagrees


@dataclass(frozen=True)
class CheckResult:
    expr: str
    at: dict[str, float]
    value: float
    grad: dict[str, float]  # the autodiff partials that were checked
    rtol: float
    partials: tuple[PartialCheck, ...]

    @property
    def ok(self) -> bool:
        return not self.disagreements

    @property
    def disagreements(self) -> list[PartialCheck]:
        return [p for p in self.partials if p.status == "disagree"]


def default_step(x: float) -> float:
    return float(STEP_FACTOR * max(1.0, abs(x)))


def check(
    expression: Expression,
    point: Mapping[str, float],
    *,
    step: float | None = None,
    rtol: float = DEFAULT_RTOL,
    wrt: Iterable[str] | None = None,
) -> CheckResult:
    """Compare every partial (or those named in ``wrt``) with finite differences.

    Raises what ``Expression.backward`` raises when f or a partial cannot be
    evaluated at the point itself; a neighbour where f is undefined only makes
    that partial undetermined.
    """
    if step is not None and not (step > 0.0 and step < float("inf")):
        raise UsageError.argument("step", f"must be a positive number, got {format_number(step)}")
    if not (rtol >= 0.0 and rtol < float("inf")):
        raise UsageError.argument("rtol", f"must be a number >= 0, got {format_number(rtol)}")
    values = expression.backward(point)
    grad = {s.text: v.grad for s, v in zip(expression.steps, values, strict=True) if s.is_variable}
    names = list(dict.fromkeys(wrt)) if wrt is not None else list(grad)
    for name in names:
        if name not in grad:
            raise UnknownVariableError(name, expression.variables)
    at = {name: float(point[name]) for name in expression.variables}
    rounding = _rounding_scale(values)
    partials = tuple(
        _check_one(expression, at, name, grad[name], step, rtol, rounding) for name in names
    )
    value = float(values[-1].data)
    return CheckResult(expression.text, at, value, {n: grad[n] for n in names}, rtol, partials)


def _rounding_scale(values: Sequence[Value]) -> float:
    """How much rounding can move f, in units of eps: the sum of |∂f/∂node · node|.

    Each operation rounds its result by about eps relative, and an error at a
    node reaches f multiplied by ∂f/∂node, which backward() has given: the
    first-order rounding estimate. Leaves are exact (x ± h is formed exactly
    below) or the same in every evaluation (pi), so they do not count.
    """
    scale = math.fsum(abs(float(v.grad) * float(v.data)) for v in values if v.op is not None)
    if math.isfinite(scale):
        return scale
    return max(abs(float(v.data)) for v in values)


@dataclass(frozen=True)
class _Probe:
    """The finite differences at one step h, and at h/4 to see how they change."""

    h: float
    central: float
    central4: float
    one_sided: float  # (f(x+h) - f(x)) / h, the seed's
    left: float  # (f(x) - f(x-h)) / h
    right4: float
    left4: float
    rise: float  # |f(x+h) - f(x-h)|
    rise4: float
    size: float  # the largest |f| among f(x), f(x+h), f(x-h)
    noise: float  # the rounding error an evaluation of f can carry


class _NoProbe(Exception):
    """No difference at this step: f is undefined there, or h vanishes in x ± h."""

    def __init__(self, message: str, lost: bool = False) -> None:
        super().__init__(message)
        self.lost = lost


class _Partial:
    """One variable's check: probes f along that variable, others held fixed."""

    def __init__(
        self, expression: Expression, point: dict[str, float], name: str, noise: float
    ) -> None:
        self.expression = expression
        self.point = point
        self.name = name
        self.x = point[name]
        self.noise = noise
        self.f0 = self._f(self.x, "x")

    def _f(self, at: float, where: str) -> float:
        """f at the point with this variable moved to ``at``."""
        try:
            values = self.expression.evaluate_all({**self.point, self.name: at})
        except EvaluationError as error:
            raise _NoProbe(
                f"f cannot be evaluated at {self.name} = {where} = {format_number(at)}: {error}"
            ) from None
        return float(values[-1].data)

    def _steps(self, h: float, label: str) -> tuple[float, float]:
        # The steps actually taken, (x+h) - x and x - (x-h), are exact in
        # floating point, while h itself may not survive the addition.
        hp, hm = (self.x + h) - self.x, self.x - (self.x - h)
        if hp == 0.0 or hm == 0.0:
            raise _NoProbe(
                f"the step {format_number(h)} is lost in rounding {self.name} ± {label}",
                lost=True,
            )
        return hp, hm

    def probe(self, h: float) -> _Probe:
        x, f0 = self.x, self.f0
        hp, hm = self._steps(h, "h")
        hp4, hm4 = self._steps(h / 4.0, "h/4")
        fp, fm = self._f(x + h, "x+h"), self._f(x - h, "x-h")
        fp4, fm4 = self._f(x + h / 4.0, "x+h/4"), self._f(x - h / 4.0, "x-h/4")
        numbers = (
            (fp - fm) / (hp + hm),
            (fp4 - fm4) / (hp4 + hm4),
            (fp - f0) / hp,
            (f0 - fm) / hm,
            (fp4 - f0) / hp4,
            (f0 - fm4) / hm4,
        )
        if not all(map(math.isfinite, numbers)):
            raise _NoProbe(f"a finite difference overflows at the step {format_number(h)}")
        size = max(abs(f0), abs(fp), abs(fm))
        return _Probe(h, *numbers, abs(fp - fm), abs(fp4 - fm4), size, self.noise)


def _check_one(
    expression: Expression,
    point: dict[str, float],
    name: str,
    exact: float,
    step: float | None,
    rtol: float,
    rounding: float,
) -> PartialCheck:
    partial = _Partial(expression, point, name, ROUNDING_SAFETY * EPS * rounding)
    x = partial.x
    h = default_step(x) if step is None else step

    def result(
        status: Status,
        reason: str,
        central: float | None = None,
        one_sided: float | None = None,
        errors: tuple[float | None, float | None, float | None] = (None, None, None),
    ) -> PartialCheck:
        """The check's outcome; ``errors``: absolute, relative and the tolerance."""
        abs_error, rel_error, tolerance = errors
        return PartialCheck(
            name=name,
            autodiff=exact,
            central=central,
            one_sided=one_sided,
            step=h,
            abs_error=abs_error,
            rel_error=rel_error,
            tolerance=tolerance,
            status=status,
            reason=reason,
        )

    # With the default step, shrink h until the central difference stops
    # changing: a function that changes fast, or a neighbour where f is
    # undefined, gets a smaller step. A step the user gave is used as it is.
    attempts = 1 if step is not None else MAX_SHRINKS
    for attempt in range(attempts):
        if attempt:
            h /= 4.0
        try:
            probe = partial.probe(h)
        except _NoProbe as why:
            if step is not None or why.lost or attempt == attempts - 1:
                return result("undetermined", str(why))
            continue
        # The error bar of the difference at h/4: a fifteenth of how much it
        # moved from h if its error shrinks like h**2 (smooth f), a third if
        # only like h (a kink in f'); half, to cover both. Settled judges the
        # differences by themselves, never by autodiff's answer.
        bar = 0.5 * abs(probe.central - probe.central4)
        settled = bar <= 0.5 * rtol * abs(probe.central4) + probe.noise / (h / 4.0)
        if settled:
            break

    if step is None:
        # The difference at h/4 is the better one; its error bar comes along.
        h, central, one_sided = h / 4.0, probe.central4, probe.right4
    else:
        # A given step is taken at its word: no error bar.
        central, one_sided, bar = probe.central, probe.one_sided, 0.0
    abs_error = abs(exact - central)
    size = max(abs(exact), abs(central))
    rel_error = abs_error / size if size else 0.0
    tolerance = rtol * size + probe.noise / h + bar
    agree = abs_error <= tolerance

    if not agree and probe.noise > NOISY * probe.size:
        # f's own value is mostly rounding error (cos of a huge argument, a
        # cancellation of huge terms): no step can show its slope.
        reason = (
            f"f is mostly rounding error here (about ±{probe.noise:.3g} on values up to "
            f"{probe.size:.3g}): no finite difference can resolve its slope"
        )
        return result("undetermined", reason, central, one_sided)
    # Smooth f: the gap between the one-sided slopes shrinks with the step
    # (to a quarter here); at a kink it stays.
    gap, gap4 = abs(probe.one_sided - probe.left), abs(probe.right4 - probe.left4)
    if gap4 > 0.5 * gap and gap4 > probe.noise / (probe.h / 4.0):
        reason = (
            f"a kink at {name} = {format_number(x)}: the slope from the left is about "
            f"{probe.left4:.6g}, from the right {probe.right4:.6g}"
        )
        return result("undetermined", reason, central, one_sided)
    if not settled and probe.rise4 > 0.5 * probe.rise and probe.rise4 > probe.noise:
        reason = (
            "f(x+h) - f(x-h) does not shrink with the step: a jump at "
            f"{name} = {format_number(x)}, or a step too large for how fast f changes"
        )
        return result("undetermined", reason, central, one_sided)
    errors = (abs_error, rel_error, tolerance)
    if agree:
        return result("agree", "", central, one_sided, errors)
    if not settled and step is None:
        reason = "the central difference does not settle as the step shrinks"
        return result("undetermined", reason, central, one_sided)
    reason = (
        f"autodiff gives {format_number(exact)}, the central difference "
        f"{format_number(central)} (relative error {rel_error:.3g}, "
        f"more than rtol {format_number(rtol)} allows)"
    )
    return result("disagree", reason, central, one_sided, errors)
