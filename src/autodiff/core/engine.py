"""Value: a number that remembers how it was computed, and backward().

Operators and functions build the graph eagerly; ``backward()`` walks it in
reverse topological order and applies each node's local derivative from the
primitive table (ops.py). Data may be a float or a numpy array (many points
at once); with ``create_graph=True`` the gradients are Values themselves and
can be differentiated again.
"""

from __future__ import annotations

import functools
import gc
import math
import operator
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from . import ops
from .errors import EvaluationError
from .ops import Primitive

Number = float | int
# What backward() tells a caller about an edge: (node, input index, upstream, local, share).
OnEdge = Callable[["Value", int, Any, Any, Any], None]


class Value:
    """A node of the computation graph: its data, its gradient and where it came from."""

    __slots__ = ("_data", "grad", "ignored", "inputs", "label", "op", "requires_grad")

    def __init__(
        self,
        data: Any,
        inputs: tuple[Value, ...] = (),
        op: Primitive | None = None,
        label: str = "",
        requires_grad: bool = True,
    ) -> None:
        if op is not None and op.__class__ is not Primitive:
            # The seed's Value(t, (self,), 'tanh') would fail much later, in backward().
            raise TypeError(
                f"Value's op must be a primitive of the table (autodiff.ops.BY_NAME[name])"
                f" or None, not {op!r}: to name a value, pass label={op!r}"
            )
        # The engine reads the slot _data; the property below is for users.
        self._data = float(data) if isinstance(data, int) else data
        self.grad: Any = 0.0
        self.inputs = inputs
        self.op = op
        self.label = label
        self.requires_grad = requires_grad
        # Per input, whether op ignores it here (ops.flat), when it ignores one:
        # worked out by apply(), so that backward() need not ask again.
        self.ignored: list[Any] | None = None

    @property
    def data(self) -> Any:
        return self._data

    @data.setter
    def data(self, data: Any) -> None:
        # As the constructor does: an int set later would otherwise send the
        # next operation down the arrays' path, which skips the finiteness check.
        self._data = float(data) if isinstance(data, int) else data

    # The seed notebook's name for the same number: reads and writes data.
    @property
    def value(self) -> Any:
        return self._data

    @value.setter
    def value(self, data: Any) -> None:
        self.data = data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter shows a Value as the picture of its graph (text without Graphviz)."""
        # The one import that points up, from the engine to the renderer: made
        # here, when a notebook asks for a picture, so that the engine itself
        # never depends on presentation (nor on graphviz being installed).
        try:
            from ..render.graph import mimebundle
        except ImportError:
            return {"text/plain": repr(self)}
        return mimebundle(self)

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

        An explicit stack instead of recursion: a chain a million deep works
        (how the walk keeps the order: the function of the same name below).
        """
        return topological_order([self])

    def backward(self, create_graph: bool = False, on_edge: OnEdge | None = None) -> None:
        """Set ``grad`` on every node of the graph to d(self)/d(node).

        Gradients are reset first, so calling it twice gives the same result.
        With ``create_graph`` the gradients are Values whose own graph can be
        differentiated again (the rules run on the Value namespace).
        ``on_edge(node, k, upstream, local, share)`` is called for each edge
        as it is taken: the node's whole gradient, the local derivative with
        respect to input ``k`` and their product, the share that input gets
        (``autodiff explain`` records its trace this way).

        Only inputs that vary near the point get a share (``requires_grad``,
        see ``apply``). A node fed from several places sums its shares when
        it is reached, with ``math.fsum`` (arrays: a compensated sum) from
        three shares on, so that cancellation between them costs no digits.
        """
        order = self.topological_order()
        with paused_gc():
            for node in order:
                node.grad = None
            self.grad = Value(1.0, requires_grad=False) if create_graph else 1.0
            numbers = ops.math_for(self._data)
            m = VALUE_MATH if create_graph else numbers
            # A result that does not vary near the point passes nothing on.
            for node in reversed(order) if self.requires_grad else ():
                grad = node.grad
                if grad is None:
                    continue
                if grad.__class__ is list:  # shares from several places, all in by now
                    # Two: one rounding of a + b is already what fsum would give.
                    grad = grad[0] + grad[1] if len(grad) == 2 else m.total(grad)
                    node.grad = grad
                op = node.op
                if op is None:
                    continue
                inputs = node.inputs
                # Every primitive takes one or two inputs: spelled out, the
                # call is cheaper than one through *args.
                args: Any
                out: Any
                rules: Any
                if create_graph:
                    args, out, rules = inputs, node, op.partials
                else:
                    args = (
                        (inputs[0]._data, inputs[1]._data)
                        if len(inputs) == 2
                        else (inputs[0]._data,)
                    )
                    out, rules = node._data, op.careful or op.partials
                masks: Any = None
                if node.ignored is not None:
                    rules, masks = _heeded(node.ignored, rules, create_graph)
                # Indexing rather than a zip of inputs, rules and masks: this
                # loop runs for every edge of the graph.
                for k, inp in enumerate(inputs):
                    partial = rules[k]
                    if partial is None or not inp.requires_grad:
                        continue
                    try:
                        local = (
                            partial(m, args[0], args[1], out)
                            if len(args) == 2
                            else partial(m, args[0], out)
                        )
                    except (ValueError, ArithmeticError, EvaluationError) as error:
                        # On Values (create_graph) the rule fails inside apply():
                        # still say which derivative failed, as with floats.
                        raise derivative_error(op, args, error) from None
                    step = grad * local
                    if masks is not None and masks[k] is not None:
                        step = numbers.unless(masks[k], step)  # arrays: 0 where ignored
                    if on_edge is not None:
                        on_edge(node, k, grad, local, step)
                    have = inp.grad
                    if have is None:
                        inp.grad = step
                    elif have.__class__ is list:
                        have.append(step)
                    else:
                        inp.grad = [have, step]
            for node in order:
                if node.grad is None:
                    node.grad = 0.0


def _heeded(
    ignored: list[Any], rules: tuple[Any, ...], create_graph: bool
) -> tuple[list[Any], list[Any]]:
    """The rules for the inputs a node heeds (None for one it ignores), and masks.

    For arrays, an input ignored at some points only gets a mask: its share
    is 0 at those points, whatever the slopes above were there.
    """
    heeded = [None if flat is True else rule for flat, rule in zip(ignored, rules, strict=True)]
    masks = [None if flat is True or flat is False or create_graph else flat for flat in ignored]
    return heeded, masks


def apply(op: Primitive, *inputs: Value | Number) -> Value:
    """Run a primitive forward and record it as a new node of the graph.

    The new node requires a gradient when it varies with the variables near
    the point: some input that does is not one the primitive ignores there
    (``flat`` in ops.py; for arrays, at some point). So relu(x) at x=-1 is a
    constant to backward(), and nothing above it is asked for a slope.
    """
    # Every primitive takes one or two inputs; spelled out rather than looped
    # over, building 4*x**2 - 2*x + 5 takes a fifth less time (6.5 to 5.1 µs).
    a = inputs[0] if isinstance(inputs[0], Value) else Value(inputs[0], requires_grad=False)
    if len(inputs) == 1:
        values: tuple[Value, ...] = (a,)
        args: tuple[Any, ...] = (a._data,)
        requires_grad = a.requires_grad
    else:
        b = inputs[1] if isinstance(inputs[1], Value) else Value(inputs[1], requires_grad=False)
        values, args = (a, b), (a._data, b._data)
        requires_grad = a.requires_grad or b.requires_grad
    floats = isinstance(args[0], float) and (len(args) == 1 or isinstance(args[1], float))
    m = ops.FLOAT if floats else ops.numpy_math()
    try:
        data = op.forward(m, args[0], args[1]) if len(args) == 2 else op.forward(m, args[0])
    except (ValueError, ArithmeticError) as error:
        raise forward_error(op, args, error) from None
    # Arrays are checked by their caller, point by point; a float here must be finite.
    if floats and not math.isfinite(data):
        raise forward_error(op, args)
    ignored = _ignored(op, m, values, args) if requires_grad and op.flat else None
    node = Value(data, values, op, "", requires_grad)
    if ignored is not None:
        # It varies when some input that does is one it heeds (arrays: somewhere).
        node.requires_grad = any(
            v.requires_grad and flat is not True for v, flat in zip(values, ignored, strict=True)
        )
        node.ignored = ignored
    return node


def _ignored(
    op: Primitive, m: SimpleNamespace, inputs: Sequence[Value], args: Sequence[Any]
) -> Any:
    """Per input: True where ``op`` ignores it (of those that require a gradient), else False.

    None when it ignores none. For arrays, True or False when that holds at
    every point, else the points where it does. Spelled out for one and two
    inputs (every primitive has one or two): this runs for every x**2.
    """
    rules, first = op.flat, inputs[0].requires_grad
    if len(args) == 1:
        flat = _spread(rules[0](m, args[0])) if first and rules[0] else False
        return None if flat is False else [flat]
    a, b = args
    flat_a = _spread(rules[0](m, a, b)) if first and rules[0] else False
    flat_b = _spread(rules[1](m, a, b)) if inputs[1].requires_grad and rules[1] else False
    return None if flat_a is False and flat_b is False else [flat_a, flat_b]


def _spread(flat: Any) -> Any:
    """A bool, or for arrays True or False when it holds at every point, else the array."""
    if flat is True or flat is False:
        return flat
    return True if flat.all() else (flat if flat.any() else False)


def forward_error(
    op: Primitive, args: Sequence[Any], error: Exception | None = None
) -> EvaluationError:
    """Why ``op`` has no finite value at ``args``: it raised ``error``, or gave inf or NaN."""
    if isinstance(error, OverflowError) or (error is None and all(map(math.isfinite, args))):
        return EvaluationError.of_value(op.name, args, "overflows", op.symbol)
    if error is None:
        return EvaluationError.of_value(op.name, args, "is not finite", op.symbol)
    reason = f"is undefined: {op.domain}" if op.domain else "is undefined"
    return EvaluationError.of_value(op.name, args, reason, op.symbol)


def derivative_error(op: Primitive, args: Sequence[Any], error: Exception) -> EvaluationError:
    """Why a local derivative of ``op`` at ``args`` failed."""
    numbers = [a.data if isinstance(a, Value) else a for a in args]
    # A math domain error (log of a negative base) versus an infinite slope.
    # Inside apply() a division by zero is "undefined"; here, as with floats,
    # it is an infinite slope.
    undefined = type(error) is ValueError or (
        isinstance(error, EvaluationError)
        and error.kind == "value"
        and error.op != "div"
        and error.reason.startswith("is undefined")
    )
    reason = "is undefined" if undefined else "is not finite"
    return EvaluationError.of_derivative(op.name, numbers, reason)


def _value_function(op: Primitive) -> Any:
    return lambda *args: apply(op, *args)


# The namespace that runs the primitive rules on Values: derivatives as graphs.
VALUE_MATH = SimpleNamespace(
    **{p.name: _value_function(p) for p in ops.FUNCTIONS.values()},
    total=lambda shares: functools.reduce(operator.add, shares),  # as a + b + c was built
)


class paused_gc:
    """Pause the cyclic garbage collector while building a large graph.

    A graph holds no reference cycles, but every new node counts towards the
    collector's thresholds; full collections over millions of live nodes made
    large graphs several times slower. (A class rather than @contextmanager:
    entering a generator-based one cost a tenth of a small backward().)
    """

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc_info: object) -> None:
        if self.was_enabled:
            gc.enable()


def topological_order(roots: Sequence[Value]) -> list[Value]:
    """Every node that leads to one of the roots, inputs first, each once (no recursion).

    A node with inputs is seen once: a marker that places it goes on the
    stack below its inputs not yet seen, so it comes off after all of them
    are placed (in a graph without cycles, a node seen but not yet placed is
    one whose inputs are still being taken, so it is never one of the inputs
    of the node at hand). One set and no second visit to each node: this
    walk was half of backward() on a network's graph.
    """
    order: list[Value] = []
    seen: set[Value] = set()
    stack: list[Any] = list(reversed(roots))
    push, pop, place, see = stack.append, stack.pop, order.append, seen.add
    while stack:
        node = pop()
        if node.__class__ is tuple:  # (node,): its inputs are all placed
            place(node[0])
        elif node not in seen:
            see(node)
            inputs = node.inputs
            if inputs:
                push((node,))
                for inp in reversed(inputs):
                    if inp not in seen:
                        push(inp)
            else:
                place(node)
    return order
