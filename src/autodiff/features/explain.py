"""Backpropagation, step by step: the trace behind ``autodiff explain``.

The forward pass lists every node of the graph after its inputs (a Wengert
list: each interior node gets a short name such as ``n3`` and is defined by
one primitive on named inputs). The backward pass walks the same order in
reverse, one edge (node -> input) at a time, exactly as ``Value.backward``
does: the input's gradient grows by upstream gradient times the local
derivative, which comes from the primitive table (``ops.py``) both as a
number and as a formula.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..core.engine import Value
from ..core.expression import Expression
from ..core.ops import Primitive
from ..core.program import Step, format_all, format_steps

# How much of a sub-expression the trace shows beside a node's name.
EXPRESSION_LIMIT = 30


@dataclass(frozen=True)
class Node:
    """One node of the forward pass."""

    name: str  # a variable's name, a constant's literal, or n<position> for the rest
    op: str  # "variable", "constant" or the primitive's name
    inputs: tuple[str, ...]  # the names of its inputs
    definition: str  # the node in terms of its inputs' names: "x1*w1", "tanh(n9)"
    expression: str  # the sub-expression it computes, shortened to EXPRESSION_LIMIT
    value: float


@dataclass(frozen=True)
class Edge:
    """One step of the backward pass: gradient flowing from a node into one input."""

    node: str
    input: str
    derivative: str  # what is differentiated: "d tanh(n9)/dn9", "d(x1*w1)/dx1"
    formula: str  # the local derivative in the inputs' names: "1 - tanh(n9)**2"
    local: float  # the formula's value at the point
    upstream: float  # d(output)/d(node), complete when the node is reached
    product: float  # upstream * local, added to the input's gradient
    grad: float  # the input's gradient after this edge
    accumulated: bool  # the input already had gradient from another edge


@dataclass(frozen=True)
class Trace:
    expr: str
    at: dict[str, float]
    value: float
    forward: tuple[Node, ...]
    backward: tuple[Edge, ...]
    grad: dict[str, float]  # the engine's gradient, in order of first appearance
    # The graph itself after backward(): every Value with its data and grad,
    # for a picture (explain --graph) or a closer look in a notebook.
    graph: Value | None = field(default=None, compare=False, repr=False)


def explain(expression: Expression, point: Mapping[str, float]) -> Trace:
    """The forward and backward pass of ``expression`` at ``point``, edge by edge.

    The engine's own ``backward()`` runs once and reports each edge as it
    takes it, so the trace is the computation, not a retelling of it: the
    same order, the same local derivatives, and at the end exactly the
    gradient ``grad`` prints. Raises what ``Expression.backward`` raises (a
    missing value, a point where the value or a partial is not finite).
    """
    taken: list[tuple[Value, int, float, float, float]] = []
    values = expression.backward(
        point,
        on_edge=lambda node, k, upstream, local, share: taken.append(
            (node, k, upstream, local, share)
        ),
    )
    root = values[-1]
    order = root.topological_order()
    step_of = {v: i for i, v in enumerate(values)}
    names = _names(order, expression.variables)
    for node in order:
        node.label = names[node]  # so that a picture of the graph names nodes as the trace does
    texts = format_all(expression.steps, EXPRESSION_LIMIT, expression.labels)

    forward: list[Node] = []
    for node in order:
        index = step_of[node]
        inputs = tuple(names[i] for i in node.inputs)
        if node.op is None:
            step = expression.steps[index]
            kind = "variable" if step.is_variable else "constant"
            forward.append(Node(names[node], kind, (), names[node], step.text, node.data))
        else:
            forward.append(
                Node(
                    names[node],
                    node.op.name,
                    inputs,
                    definition(node.op, inputs),
                    texts[index],
                    node.data,
                )
            )

    backward: list[Edge] = []
    running: dict[Value, float] = {}  # each input's gradient so far, as the reader adds it up
    for node, k, upstream, local, share in taken:
        assert node.op is not None
        inp = node.inputs[k]
        inputs = tuple(names[i] for i in node.inputs)
        before = running.get(inp)
        running[inp] = share if before is None else before + share
        backward.append(
            Edge(
                names[node],
                names[inp],
                derivative_of(node.op, inputs, k),
                local_formula(node.op, inputs, k),
                float(local),
                float(upstream),
                float(share),
                running[inp],
                before is not None,
            )
        )

    grad = {
        s.text: float(v.grad)
        for s, v in zip(expression.steps, values, strict=True)
        if s.is_variable
    }
    at = {name: float(point[name]) for name in expression.variables}
    return Trace(expression.text, at, float(root.data), tuple(forward), tuple(backward), grad, root)


def _names(order: Sequence[Value], variables: Sequence[str]) -> dict[Value, str]:
    """Leaves and defined nodes keep their names; node k of the forward pass is
    otherwise n<k> (1-based).

    If a name already looks like n<digits>, another prefix is taken, so that
    no name means two things.
    """
    prefix = _free_prefix({v.label for v in order if v.label} | set(variables))
    return {
        node: node.label if node.op is None or node.label else f"{prefix}{k}"
        for k, node in enumerate(order, start=1)
    }


def _free_prefix(taken: set[str]) -> str:
    prefix = ""
    for candidate in ("n", "t", "u", "v", "node"):
        prefix = candidate
        if not any(re.fullmatch(re.escape(prefix) + r"\d+", name) for name in taken):
            return prefix
    while any(name.startswith(prefix) for name in taken):
        prefix = "_" + prefix
    return prefix


def definition(op: Primitive, inputs: Sequence[str]) -> str:
    """``op`` applied to the named inputs, printed the way the language prints it."""
    distinct = list(dict.fromkeys(inputs))
    steps = [Step(None, (), name, None) for name in distinct]
    steps.append(Step(op, tuple(distinct.index(name) for name in inputs)))
    return format_steps(steps, len(steps) - 1)


def derivative_of(op: Primitive, inputs: Sequence[str], k: int) -> str:
    """``d tanh(n9)/dn9`` for a function, ``d(x1*w1)/dx1`` for an operator."""
    node = definition(op, inputs)
    return f"d {node}/d{inputs[k]}" if not op.symbol else f"d({node})/d{inputs[k]}"


_PLACEHOLDER = re.compile(r"\b[ab]\b")


def local_formula(op: Primitive, inputs: Sequence[str], k: int) -> str:
    """The table's formula for input ``k`` with a and b replaced by the inputs' names.

    Names are atoms (identifiers or unsigned number literals), so putting
    one in place of a or b never needs parentheses.
    """
    by_placeholder = dict(zip("ab", inputs, strict=False))
    return _PLACEHOLDER.sub(lambda m: by_placeholder[m.group(0)], op.formulas[k])
