"""Value: a number that remembers how it was computed, and backward().

Operators and functions build the graph eagerly; ``backward()`` walks it in
reverse topological order and applies each node's local derivative from the
primitive table (ops.py). Data may be a float or a numpy array (many points
at once); with ``create_graph=True`` the gradients are Values themselves and
can be differentiated again.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from . import ops
from .errors import EvaluationError
from .ops import Primitive

Number = float | int


class Value:
    """A node of the computation graph: its data, its gradient and where it came from."""

    __slots__ = ("data", "grad", "inputs", "label", "op", "requires_grad")

    def __init__(
        self,
        data: Any,
        inputs: tuple[Value, ...] = (),
        op: Primitive | None = None,
        label: str = "",
        requires_grad: bool = True,
    ) -> None:
        self.data = float(data) if isinstance(data, int) else data
        self.grad: Any = 0.0
        self.inputs = inputs
        self.op = op
        self.label = label
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # Arithmetic: a Value or a plain number on either side.
    def __add__(self, other: Value | Number) -> Value:
        return apply(ops.ADD, self, other)

    def __radd__(self, other: Number) -> Value:
        return apply(ops.ADD, other, self)

    def __sub__(self, other: Value | Number) -> Value:
        return apply(ops.SUB, self, other)

    def __rsub__(self, other: Number) -> Value:
        return apply(ops.SUB, other, self)

    def __mul__(self, other: Value | Number) -> Value:
        return apply(ops.MUL, self, other)

    def __rmul__(self, other: Number) -> Value:
        return apply(ops.MUL, other, self)

    def __truediv__(self, other: Value | Number) -> Value:
        return apply(ops.DIV, self, other)

    def __rtruediv__(self, other: Number) -> Value:
        return apply(ops.DIV, other, self)

    def __pow__(self, other: Value | Number) -> Value:
        return apply(ops.POW, self, other)

    def __rpow__(self, other: Number) -> Value:
        return apply(ops.POW, other, self)

    def __neg__(self) -> Value:
        return apply(ops.NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return apply(ops.BY_NAME["abs"], self)

    # Functions, one per primitive of the language.
    def exp(self) -> Value:
        return apply(ops.BY_NAME["exp"], self)

    def log(self) -> Value:
        return apply(ops.BY_NAME["log"], self)

    def sqrt(self) -> Value:
        return apply(ops.BY_NAME["sqrt"], self)

    def sin(self) -> Value:
        return apply(ops.BY_NAME["sin"], self)

    def cos(self) -> Value:
        return apply(ops.BY_NAME["cos"], self)

    def tan(self) -> Value:
        return apply(ops.BY_NAME["tan"], self)

    def asin(self) -> Value:
        return apply(ops.BY_NAME["asin"], self)

    def acos(self) -> Value:
        return apply(ops.BY_NAME["acos"], self)

    def atan(self) -> Value:
        return apply(ops.BY_NAME["atan"], self)

    def sinh(self) -> Value:
        return apply(ops.BY_NAME["sinh"], self)

    def cosh(self) -> Value:
        return apply(ops.BY_NAME["cosh"], self)

    def tanh(self) -> Value:
        return apply(ops.BY_NAME["tanh"], self)

    def abs(self) -> Value:
        return apply(ops.BY_NAME["abs"], self)

    def relu(self) -> Value:
        return apply(ops.BY_NAME["relu"], self)

    def sigmoid(self) -> Value:
        return apply(ops.BY_NAME["sigmoid"], self)

    def sign(self) -> Value:
        return apply(ops.BY_NAME["sign"], self)

    def step(self) -> Value:
        return apply(ops.BY_NAME["step"], self)

    def topological_order(self) -> list[Value]:
        """Every node that leads to this one, inputs before the nodes they feed.

        An explicit stack instead of recursion: a chain a million deep works.
        """
        order: list[Value] = []
        seen: set[Value] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                stack.extend((i, False) for i in reversed(node.inputs) if i not in seen)
        return order

    def backward(self, create_graph: bool = False) -> None:
        """Set ``grad`` on every node of the graph to d(self)/d(node).

        Gradients are reset first, so calling it twice gives the same result.
        With ``create_graph`` the gradients are Values whose own graph can be
        differentiated again (the rules run on the Value namespace).
        """
        order = self.topological_order()
        with paused_gc():
            for node in order:
                node.grad = None
            self.grad = Value(1.0, requires_grad=False) if create_graph else 1.0
            m = VALUE_MATH if create_graph else ops.math_for(self.data)
            for node in reversed(order):
                if node.op is None or node.grad is None:
                    continue
                args = node.inputs if create_graph else tuple(i.data for i in node.inputs)
                out = node if create_graph else node.data
                for inp, partial in zip(node.inputs, node.op.partials, strict=True):
                    if not inp.requires_grad:
                        continue
                    try:
                        step = node.grad * partial(m, *args, out)
                    except (ValueError, ArithmeticError) as error:
                        raise _derivative_error(node.op, args, error) from None
                    inp.grad = step if inp.grad is None else inp.grad + step
            for node in order:
                if node.grad is None:
                    node.grad = 0.0


def apply(op: Primitive, *inputs: Value | Number) -> Value:
    """Run a primitive forward and record it as a new node of the graph."""
    values = tuple(v if isinstance(v, Value) else Value(v, requires_grad=False) for v in inputs)
    args = tuple(v.data for v in values)
    m = ops.FLOAT
    for a in args:
        if not isinstance(a, float):
            m = ops.numpy_math()
            break
    try:
        data = op.forward(m, *args)
    except OverflowError:
        raise EvaluationError(op.name, args, "overflows", symbol=op.symbol) from None
    except (ValueError, ArithmeticError):
        reason = f"is undefined: {op.domain}" if op.domain else "is undefined"
        raise EvaluationError(op.name, args, reason, symbol=op.symbol) from None
    # Arrays are checked by their caller, point by point; a float here must be finite.
    if m is ops.FLOAT and not math.isfinite(data):
        finite_args = all(map(math.isfinite, args))
        raise EvaluationError(
            op.name, args, "overflows" if finite_args else "is not finite", symbol=op.symbol
        )
    requires_grad = any(v.requires_grad for v in values)
    return Value(data, values, op, requires_grad=requires_grad)


def _derivative_error(op: Primitive, args: tuple[Any, ...], error: Exception) -> EvaluationError:
    numbers = [a.data if isinstance(a, Value) else a for a in args]
    # A math domain error (log of a negative base) versus an infinite slope.
    reason = "is undefined" if type(error) is ValueError else "is not finite"
    return EvaluationError(op.name, numbers, reason, derivative=True)


def _value_function(op: Primitive) -> Any:
    return lambda *args: apply(op, *args)


# The namespace that runs the primitive rules on Values: derivatives as graphs.
VALUE_MATH = SimpleNamespace(**{p.name: _value_function(p) for p in ops.FUNCTIONS.values()})


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large graph.

    A graph holds no reference cycles, but every new node counts towards the
    collector's thresholds; full collections over millions of live nodes made
    large graphs several times slower.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
