"""The tape: the engine's rules and errors run on a flat list of floats.

Layer 2, beside the engine. Nearly every gradient the command line prints at
one point comes from here (docs/architecture.md says which path runs when):
a sweep forward over the program's steps and a sweep back, each step's data
and gradient a float in a list indexed by step, and no Value at all. It
applies the same primitive rules, in the same order, with the same sums and
the same errors as ``Expression.evaluate`` then ``Value.backward``, which is
what the tests hold it to, bit for bit; it is 4 to 9 times faster and uses
a fraction of the memory (docs/performance.md). It exists only for speed:
the engine is the definition.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from . import ops
from .engine import derivative_error, forward_error
from .errors import EvaluationError, MissingValueError
from .ops import Primitive
from .program import Step


class _Plan(NamedTuple):
    """Who passes a share of its gradient to whom, at a point or at every point."""

    into_first: bytearray  # step i passes a share to its first input
    into_second: bytearray  # ... to its second input
    # Per step: 0 not reached (backward() never asks its slopes), 1 reached,
    # 2 reached with three shares or more (collected, then summed with fsum).
    state: bytearray
    shared_steps: list[int]


class _Collected(list[float]):
    """The shares of a step with three or more: ``grad[i] += share`` collects them."""

    __slots__ = ()

    def __iadd__(self, share: Any) -> _Collected:  # type: ignore[override, misc]
        self.append(share)
        return self


class Tape:
    """Value and partials at one point of floats: a sweep forward, a sweep back.

    The same rules, the same arithmetic and the same errors as evaluate() then
    backward(), but on plain floats a list of numbers indexed by step is all
    the graph needed: no Value per step, so several times faster and a
    fraction of the memory (docs/performance.md). What does not depend on the
    point is worked out once per expression: where the constants go, which
    steps vary with a variable (the engine's requires_grad), which steps the
    result reaches through those, and which steps are fed from several
    places (their shares are summed with fsum, as backward() does). Only at a
    point where a primitive ignores a varying input (ops.flat: relu of a
    negative, 0**y) are the shares worked out again.
    """

    def __init__(self, steps: Sequence[Step]) -> None:
        n = len(steps)
        self.template = [0.0] * n  # the constants in place; variables fill in per point
        self.variables: list[tuple[int, str]] = []
        # The program as three columns, so that a step costs three list slots
        # rather than a tuple of its own. Every primitive takes one or two
        # inputs (ops.py); second = -1 marks a unary step.
        self.ops: list[Primitive | None] = [None] * n
        self.first = [0] * n
        self.second = [-1] * n
        self.varies = varies = bytearray(n)  # depends on a variable
        into_first, into_second = bytearray(n), bytearray(n)
        for i, (op, args, name, value) in enumerate(steps):
            if op is not None:
                self.ops[i] = op
                self.first[i] = a = args[0]
                into_first[i] = varies[a]
                if len(args) == 2:
                    self.second[i] = b = args[1]
                    into_second[i] = varies[b]
                varies[i] = into_first[i] or into_second[i]
            elif value is None:
                self.variables.append((i, name))
                varies[i] = True
            else:
                self.template[i] = value
        self.plan = self._plan(varies[-1], into_first, into_second)
        self.flat_edges: list[tuple[int, int]] = []  # (step, input) to ask at each point
        always = self._flat_edges(steps) if any(op and op.flat for op in self.ops) else None
        if always:
            self.varies, into_first, into_second = self._varying(always)
            self.plan = self._plan(self.varies[-1], into_first, into_second)

    def _flat_edges(self, steps: Sequence[Step]) -> dict[int, tuple[bool, bool]]:
        """The inputs that steps always ignore (x**0); those they may ignore, in flat_edges."""
        always: dict[int, tuple[bool, bool]] = {}
        constant = [s.op is None and s.constant is not None for s in steps]
        for i, op in enumerate(self.ops):
            if op is None or not op.flat or not self.varies[i]:
                continue
            args = steps[i].args
            for k, j in enumerate(args):
                if not self.varies[j] or k >= len(op.flat) or op.flat[k] is None:
                    continue
                reads = op.flat_reads[k] if k < len(op.flat_reads) else range(len(args))
                if not all(constant[args[r]] for r in reads):
                    self.flat_edges.append((i, k))
                elif ops.flat_at(op, k, ops.FLOAT, [self.template[j] for j in args]):
                    flags = always.get(i, (False, False))
                    always[i] = (True, flags[1]) if k == 0 else (flags[0], True)
        return always

    def _plan(self, root: int, into_first: bytearray, into_second: bytearray) -> _Plan:
        """Back from the result through the shares: what backward() will touch."""
        n = len(self.ops)
        reached, count = bytearray(n), [0] * n
        reached[-1] = root
        for i in range(n - 1, -1, -1):
            if reached[i] and self.ops[i] is not None:
                if into_first[i]:
                    reached[self.first[i]] = 1
                    count[self.first[i]] += 1
                if into_second[i]:
                    reached[self.second[i]] = 1
                    count[self.second[i]] += 1
        # Two shares need no list: one rounding of a + b is what fsum gives.
        steps = [i for i, c in enumerate(count) if c > 2]
        for i in steps:
            reached[i] = 2
        return _Plan(into_first, into_second, reached, steps)

    def _varying(
        self, flats: dict[int, tuple[bool, bool]]
    ) -> tuple[bytearray, bytearray, bytearray]:
        """Which steps vary, and which inputs get a share, when some steps ignore one.

        As apply() decides requires_grad: a step varies when an input that
        varies is not one it ignores; a step that does not vary gives no share.
        """
        varies = bytearray(self.varies)
        into_first = bytearray(self.plan.into_first)
        into_second = bytearray(self.plan.into_second)
        for i, op in enumerate(self.ops):
            if op is None or not self.varies[i]:
                continue
            a, b = self.first[i], self.second[i]
            flat_first, flat_second = flats.get(i, (False, False))
            into_first[i] = into_first[i] and varies[a] and not flat_first
            into_second[i] = into_second[i] and varies[b] and not flat_second
            varies[i] = into_first[i] or into_second[i]
        return varies, into_first, into_second

    def _flats(self, data: list[float]) -> dict[int, tuple[bool, bool]]:
        """The steps that ignore a varying input at this point, and which."""
        found: dict[int, tuple[bool, bool]] = {}
        for i, k in self.flat_edges:
            op = self.ops[i]
            assert op is not None
            if ops.flat_at(op, k, ops.FLOAT, _inputs(data, self.first[i], self.second[i])):
                flags = found.get(i, (False, False))
                found[i] = (True, flags[1]) if k == 0 else (flags[0], True)
        return found

    def gradient(self, point: Mapping[str, Any]) -> tuple[float, dict[str, float]]:
        m = ops.FLOAT
        data = self.template.copy()
        for i, name in self.variables:
            if name not in point:
                raise MissingValueError(name)
            data[i] = float(point[name])

        # A call with the inputs spelled out costs half of one through *args.
        program = zip(self.ops, self.first, self.second, strict=False)
        for i, (op, a, b) in enumerate(program):
            if op is None:
                continue
            try:
                out = op.forward(m, data[a]) if b < 0 else op.forward(m, data[a], data[b])
            except (ValueError, ArithmeticError) as error:
                raise forward_error(op, _inputs(data, a, b), error) from None
            if not math.isfinite(out):
                raise forward_error(op, _inputs(data, a, b))
            data[i] = out

        plan = self.plan
        if self.flat_edges:
            flats = self._flats(data)
            if flats:
                varies, into_first, into_second = self._varying(flats)
                plan = self._plan(varies[-1], into_first, into_second)
        into_first, into_second, state, shared_steps = plan

        # -0.0 + x is x for every float x (signed zeros included), so a sole
        # share lands exactly as the engine's `grad = step` would; a step
        # with three or more collects them instead, summed when it is reached.
        value = data[-1]
        grad: list[Any] = [-0.0] * len(data)
        for i in shared_steps:
            grad[i] = _Collected()
        grad[-1] = 1.0
        for i in range(len(data) - 1, -1, -1):
            reached = state[i]
            if not reached:
                continue
            op = self.ops[i]
            if op is None:
                continue
            g = grad[i] if reached == 1 else _total(grad[i])
            out, a, b = data[i], self.first[i], self.second[i]
            # Only earlier steps read these from here on: free the two floats,
            # so that memory peaks before this sweep rather than after it.
            data[i] = grad[i] = 0.0
            slopes = op.careful or op.partials  # op.slopes, without a property call
            try:
                if b < 0:
                    grad[a] += g * slopes[0](m, data[a], out)
                    continue
                if into_first[i]:
                    grad[a] += g * slopes[0](m, data[a], data[b], out)
                if into_second[i]:
                    grad[b] += g * slopes[1](m, data[a], data[b], out)
            except (ValueError, ArithmeticError) as error:
                raise derivative_error(op, _inputs(data, a, b), error) from None

        partials: dict[str, float] = {}
        for i, name in self.variables:
            reached = state[i]
            partial = 0.0 if not reached else grad[i] if reached == 1 else _total(grad[i])
            if not math.isfinite(partial):  # inline, not check_partials(): a call per gradient
                raise EvaluationError.not_finite(f"d/d{name}")
            partials[name] = partial
        return value, partials


def _total(shares: list[float]) -> float:
    """Three shares or more of one gradient, summed correctly rounded."""
    try:
        return math.fsum(shares)
    except (OverflowError, ValueError):
        return sum(shares, -0.0)  # says inf or NaN, as a plain sum would


def _inputs(data: list[float], a: int, b: int) -> list[float]:
    return [data[a]] if b < 0 else [data[a], data[b]]
