"""The computation graph as a picture: Graphviz DOT, laid out by Graphviz's ``dot``.

The picture a learner draws by hand, as micrograd's ``draw_dot`` does: each
value is a record node ``{ label | data 2.0000 | grad -1.5000 }`` and each
operation a small node of its own, with an edge into the value it makes.
Node ids come from graph order (``v0``, ``o3``), so the same graph gives the
same DOT text, byte for byte.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..core.engine import Value
from ..core.errors import AutodiffError, LimitError, OutputError, UsageError, format_number
from ..core.expression import Expression
from ..core.ops import Primitive
from ..core.program import Step, format_all

if TYPE_CHECKING:
    import graphviz

# Pictures past this many values are refused: some shapes (a sum of
# v_i*v_{i+1}) take dot 3 s at 2,500 values and 6 minutes at 4,800
# (docs/graph.md). DOT text has no limit: writing it needs no layout.
DEFAULT_MAX_NODES = 2500
# A notebook cell shows a picture up to this many values, a summary past it:
# a cell must stay interactive (under about half a second of layout).
NOTEBOOK_MAX_NODES = 500
LABEL_LIMIT = 30  # characters of a sub-expression before the ellipsis
RANKDIRS = ("LR", "TB")
FORMATS = ("svg", "png", "pdf", "dot", "gv")
TEXT_FORMATS = ("svg", "dot", "gv")  # what `-o -` may write to a pipe

# Colours chosen to read on white and in greyscale: light fills under black
# text, and the output told apart by its border, not by its colour alone.
VARIABLE_FILL = "#d6e6f5"
OUTPUT_FILL = "#fbe3c4"
OPERATION_FILL = "#ededed"
EDGE_COLOUR = "#555555"

# Layout effort. newrank ranks the whole graph in one network-simplex pass:
# 15x faster than dot's default on long chains, the same picture on small
# graphs. Past FULL_EFFORT nodes the positioning passes get a bounded number
# of iterations (about ITERATIONS whatever the size) and crossing minimisation
# half its effort: docs/graph.md has the measurements.
FULL_EFFORT = 1000
ITERATIONS = 500


def layout_attributes(dot_nodes: int) -> dict[str, str]:
    attrs = {"newrank": "true"}
    if dot_nodes > FULL_EFFORT:
        share = f"{ITERATIONS / dot_nodes:.3g}"
        attrs.update(nslimit=share, nslimit1=share, mclimit="0.5", searchsize="10")
    return attrs


FAR_BUDGET = 2000  # invisible nodes dot may add before far inputs are written inline
MAX_SPAN = 4  # ranks an edge may cross once they are (see far_uses)

VARIABLE_STYLE = f' style=filled fillcolor="{VARIABLE_FILL}"'
CONSTANT_STYLE = " style=dashed"
OUTPUT_STYLE = f' style="filled,bold" penwidth=2.5 fillcolor="{OUTPUT_FILL}"'
OPERATION_STYLE = (
    f' shape=ellipse fillcolor="{OPERATION_FILL}" fontsize=11 margin="0.05,0.02" height=0.3'
)
INLINE_NOTE = (
    "A dashed operation names an input drawn far away (as in 'x +'): "
    "its edge is left out to keep the layout fast."
)

INSTALL_GRAPHVIZ = (
    "drawing {fmt} needs Graphviz's 'dot' program, which is not on PATH. Install Graphviz:\n"
    "  sudo apt-get install graphviz   (Debian, Ubuntu)\n"
    "  brew install graphviz           (macOS)\n"
    "  conda install graphviz          (conda)\n"
    "DOT text needs nothing: -o graph.dot"
)


@dataclass(frozen=True)
class Node:
    """One value of the graph, as the picture needs it."""

    op: Primitive | None  # the operation that made it; None for a leaf
    inputs: tuple[int, ...]  # indices of earlier nodes
    name: str  # a leaf's variable name or literal, or a value's own label
    constant: bool  # depends on no variable, so no gradient flows into it
    data: Any = None  # None: the structure alone
    grad: Any = None


def nodes_of(graph: Value | Expression, constant_per_use: bool = True) -> list[Node]:
    """The nodes of a Value's graph (inputs first), or of an Expression's program.

    A number or a constant of the language used in several places is drawn
    once per use, as micrograd draws it: one shared ``2`` would pull an
    exponent and a coefficient together across the picture. Without
    ``constant_per_use``, node i is step i of an Expression.
    """
    nodes = _nodes_of(graph)
    return _constant_per_use(nodes)[0] if constant_per_use else nodes


def drawn_nodes(graph: Value | Expression) -> tuple[list[Node], list[int]]:
    """The boxes as drawn (see nodes_of), and for each the index of its node in graph order."""
    return _constant_per_use(_nodes_of(graph))


def _nodes_of(graph: Value | Expression) -> list[Node]:
    if isinstance(graph, Expression):
        return _expression_nodes(graph)
    order = graph.topological_order()
    index = {value: i for i, value in enumerate(order)}
    nodes = []
    for value in order:
        name = value.label
        if not name and value.op is None:
            name = _leaf_text(value.data)
        nodes.append(
            Node(
                value.op,
                tuple(index[i] for i in value.inputs),
                name,
                not value.requires_grad,
                value.data,
                value.grad,
            )
        )
    return nodes


def _expression_nodes(expression: Expression) -> list[Node]:
    nodes: list[Node] = []
    for i, step in enumerate(expression.steps):
        if step.op is None:
            constant = step.constant is not None
        else:
            constant = all(nodes[i].constant for i in step.args)
        nodes.append(Node(step.op, step.args, expression.labels.get(i, step.text), constant))
    return nodes


_LITERAL = re.compile(r"([0-9.].*|pi|e)")


def _constant_per_use(nodes: list[Node]) -> tuple[list[Node], list[int]]:
    """A copy of a shared literal leaf just before each use after the first; each box's origin."""
    used = [0] * len(nodes)
    for node in nodes:
        for j in node.inputs:
            used[j] += 1
    if not any(
        n > 1 and nodes[j].op is None and nodes[j].constant and _LITERAL.fullmatch(nodes[j].name)
        for j, n in enumerate(used)
    ):
        return nodes, list(range(len(nodes)))
    drawn: list[Node] = []
    origin: list[int] = []
    new_index: list[int] = []
    seen: set[int] = set()
    for i, node in enumerate(nodes):
        inputs = []
        for j in node.inputs:
            leaf = nodes[j]
            shared = used[j] > 1 and leaf.op is None and leaf.constant
            if shared and _LITERAL.fullmatch(leaf.name) and j in seen:
                drawn.append(leaf)
                origin.append(j)
                inputs.append(len(drawn) - 1)
            else:
                inputs.append(new_index[j])
                seen.add(j)
        new_index.append(len(drawn))
        drawn.append(replace(node, inputs=tuple(inputs)) if node.inputs else node)
        origin.append(i)
    return drawn, origin


def _leaf_text(data: Any) -> str:
    # An unlabelled leaf (a number in Python arithmetic) is named by its value.
    return format_number(data) if isinstance(data, float) else "?"


def check_size(count: int, max_nodes: int | None, hint: str = "") -> None:
    """Refuse a graph of more than ``max_nodes`` values: dot would take minutes."""
    if max_nodes is not None and count > max_nodes:
        raise LimitError(
            f"the graph has {count} values, more than the limit of {max_nodes}"
            + (f"; {hint}" if hint else "")
        )


def draw(
    graph: Value | Expression,
    *,
    rankdir: str = "LR",
    grad: bool = True,
    decimals: int = 4,
    max_nodes: int | None = DEFAULT_MAX_NODES,
) -> graphviz.Digraph:
    """The graph of a Value (data and grad on every node) or an Expression (labels only).

    A constant, and anything computed from constants alone, shows its data but
    no grad: nothing flows back into it. ``grad=False`` leaves out every grad.
    """
    if rankdir not in RANKDIRS:
        raise UsageError(f"unknown rankdir '{rankdir}' (choose from {', '.join(RANKDIRS)})")
    if not 0 <= decimals <= 17:
        raise UsageError.argument("decimals", f"must be between 0 and 17, got {decimals}")
    nodes = nodes_of(graph)
    check_size(len(nodes), max_nodes, "pass max_nodes=None to draw it anyway")
    return draw_nodes(nodes, rankdir=rankdir, grad=grad, decimals=decimals)


def draw_nodes(
    nodes: Sequence[Node], *, rankdir: str = "LR", grad: bool = True, decimals: int = 4
) -> graphviz.Digraph:
    """The DOT of boxes as nodes_of gives them: value ``v<i>``, its operation ``o<i>``."""
    import graphviz  # here, not at the top: every command would pay for it at start-up

    labels = subexpression_labels(nodes)
    far = far_uses(nodes)
    dot = graphviz.Digraph(
        "autodiff",
        graph_attr={"rankdir": rankdir, **layout_attributes(2 * len(nodes))},
        node_attr={"shape": "record", "fontname": "Helvetica", "fontsize": "12"},
        edge_attr={"color": EDGE_COLOUR, "arrowsize": "0.7"},
    )
    # Lines of DOT written here rather than through dot.node() and dot.edge(),
    # which re-quote every attribute: 10x slower, minutes for DOT of 10^6 values.
    body = dot.body
    last = len(nodes) - 1
    for i, node in enumerate(nodes):
        fields = [escape_label(labels[i], record=True)]
        if node.data is not None:
            fields.append(f"data {number(node.data, decimals)}")
            if grad and not node.constant:
                fields.append(f"grad {number(node.grad, decimals)}")
        if i == last:
            style = OUTPUT_STYLE
        elif node.constant:
            style = CONSTANT_STYLE
        elif node.op is None:
            style = VARIABLE_STYLE
        else:
            style = ""
        body.append(f'\tv{i} [label="{{ {" | ".join(fields)} }}"{style}]\n')
        if node.op is None:
            continue
        inline = [labels[j] if (i, k) in far else "" for k, j in enumerate(node.inputs)]
        text = escape_label(operation_text(node.op, inline))
        style = OPERATION_STYLE + (' style="filled,dashed"' if any(inline) else " style=filled")
        body.append(f'\to{i} [label="{text}"{style}]\n')
        for k, j in enumerate(node.inputs):
            if not inline[k]:
                body.append(f"\tv{j} -> o{i}\n")
        body.append(f"\to{i} -> v{i}\n")
    if far:
        dot.attr(label=INLINE_NOTE, fontsize="11", labeljust="l")
    return dot


def values_drawn(dot: graphviz.Digraph) -> int:
    """How many value records a drawing holds (a number used twice counts twice)."""
    return sum(1 for line in dot.body if line.startswith("\tv") and " [label=" in line)


def operation_text(op: Primitive, inline: Sequence[str]) -> str:
    """An operation's node: its symbol, with the inputs drawn inline written in place."""
    if not any(inline):
        return op.symbol or op.name
    if op.symbol and len(inline) == 2:
        return " ".join(t for t in (inline[0], op.symbol, inline[1]) if t)
    if op.symbol:
        return op.symbol + inline[0]
    return f"{op.name}({', '.join(t or '·' for t in inline)})"


def far_uses(nodes: Sequence[Node]) -> set[tuple[int, int]]:
    """The uses of a value too far away for an edge: ``(consumer, argument)`` pairs.

    dot lays out every edge across ranks with a chain of invisible nodes; a
    value used all along a long chain (``x*1 + x*2 + ... + x*300``) makes a
    quadratic number of them, and dot then takes minutes and gigabytes.
    Ranks here are as late as possible: each value just before its first
    consumer, as dot would place it. When the edges would need more than
    FAR_BUDGET invisible nodes, every use further than MAX_SPAN ranks away is
    written inside its operation's node instead of drawn as an edge. (A
    dashed copy of the value beside each far use, tried first, made dot's
    network simplex start from a poor tree: 8 s for a 2,000-step chain.)
    """
    depth = [0] * len(nodes)  # ranks from the output; an operation sits at depth + 1
    for i in reversed(range(len(nodes))):
        for j in nodes[i].inputs:
            depth[j] = max(depth[j], depth[i] + 2)
    spans = [
        (i, k, depth[j] - depth[i] - 1)
        for i, node in enumerate(nodes)
        for k, j in enumerate(node.inputs)
    ]
    if sum(span - 1 for _, _, span in spans) <= FAR_BUDGET:
        return set()
    return {(i, k) for i, k, span in spans if span > MAX_SPAN}


def number(x: Any, decimals: int) -> str:
    """Fixed-point with ``decimals`` digits after the point, or exponent notation
    where that would hide it."""
    if isinstance(x, Value):  # a gradient of backward(create_graph=True)
        x = x.data
    try:
        x = float(x)
    except TypeError:
        size = getattr(x, "size", None)
        return f"[{size} values]" if size is not None else "?"
    if x == 0.0:
        x = 0.0  # no "-0.0000"
    magnitude = abs(x)
    if x != x or magnitude == float("inf"):
        return repr(x)
    if magnitude >= 1e9 or (magnitude and magnitude < 0.5 * 10.0**-decimals):
        return f"{x:.{decimals}e}"
    return f"{x:.{decimals}f}"


_SPECIAL = re.compile(r'(["\\])')
_RECORD_SPECIAL = re.compile(r'([\\|{}<>"])')


def escape_label(text: str, record: bool = False) -> str:
    r"""Text for a DOT label: ``"`` and ``\`` escaped, a newline a line break.

    In a record field ``| { } < >`` are escaped too, so the text can never end
    a field, open a port or close the quoted string.
    """
    escaped = (_RECORD_SPECIAL if record else _SPECIAL).sub(r"\\\1", text)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", r"\n")


# -- labels -----------------------------------------------------------------


def subexpression_labels(nodes: Sequence[Node], limit: int = LABEL_LIMIT) -> list[str]:
    """Each node's label: its name, or the sub-expression it computes, cut at ``limit``."""
    return format_all(_as_steps(nodes), limit)


def _as_steps(nodes: Sequence[Node]) -> list[Step]:
    """A program to print: a named value (a leaf, or a labelled result) is a leaf."""
    return [
        Step(None, (), node.name) if node.op is None or node.name else Step(node.op, node.inputs)
        for node in nodes
    ]


# -- output -----------------------------------------------------------------


def dot_source(dot: graphviz.Digraph) -> str:
    return str(dot.source)


def render(dot: graphviz.Digraph, fmt: str) -> bytes:
    """The picture in ``fmt`` (svg, png, pdf) from Graphviz's ``dot``; DOT text needs no dot."""
    if fmt in ("dot", "gv"):
        return dot_source(dot).encode("utf-8")
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}' (choose from {', '.join(FORMATS)})")
    import graphviz

    try:
        data = bytes(dot.pipe(format=fmt))
    except graphviz.ExecutableNotFound:
        raise OutputError(INSTALL_GRAPHVIZ.format(fmt=fmt.upper())) from None
    except (graphviz.CalledProcessError, subprocess.CalledProcessError) as error:
        stderr = error.stderr.decode("utf-8", "replace").strip() if error.stderr else ""
        raise OutputError(f"Graphviz's dot failed: {stderr or error}") from None
    except OSError as error:
        raise OutputError(f"cannot run Graphviz's dot: {error.strerror or error}") from None
    return _without_creation_date(data) if fmt == "pdf" else data


_PDF_DATE = re.compile(rb"/CreationDate \(D:\d{14}Z?\)")


def _without_creation_date(pdf: bytes) -> bytes:
    """The PDF with cairo's creation date replaced by SOURCE_DATE_EPOCH, or by blanks.

    The same graph must give the same bytes (docs/cli.md, "Determinism"); the
    cairo in Debian 12 ignores SOURCE_DATE_EPOCH. The replacement has the
    same length, so the PDF's byte offsets stay right.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")

    def replace(match: re.Match[bytes]) -> bytes:
        if epoch.isdigit():
            when = time.strftime("%Y%m%d%H%M%S", time.gmtime(int(epoch)))
            dated = f"/CreationDate (D:{when}Z)".encode()
            if len(dated) <= len(match[0]):
                return dated.ljust(len(match[0]))
        return b" " * len(match[0])

    return _PDF_DATE.sub(replace, pdf)


def mimebundle(value: Value) -> dict[str, str]:
    """What Jupyter shows for a Value: its graph as SVG, or its repr without dot.

    Past NOTEBOOK_MAX_NODES values a picture would take seconds to lay out and
    be too wide to read in a cell: a one-line summary says how to draw it anyway.
    """
    count = len(value.topological_order())
    if count > NOTEBOOK_MAX_NODES:
        summary = (
            f"{value!r}: a graph of {count:,} values, more than the {NOTEBOOK_MAX_NODES:,}"
            " a notebook draws; to draw it anyway: autodiff.draw(v, max_nodes=None),"
            " or render(...) it to a file"
        )
        return {"text/plain": summary}
    bundle = {"text/plain": repr(value)}
    try:
        svg = render(draw(value), "svg").decode("utf-8")
    except AutodiffError:  # no dot, dot failed, or too large to lay out
        return bundle
    bundle["image/svg+xml"] = svg
    return bundle
