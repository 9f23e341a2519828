"""Backprop you can step through: ``autodiff explain ... -o page.html``.

One self-contained HTML file: the graph laid out once by Graphviz (the
records of ``autodiff graph``, inlined as SVG), a panel that explains the
current step, and controls. The steps are the trace's own (features/explain):
the forward pass node by node, then the backward pass edge by edge in the
order ``Value.backward`` takes them. Everything the page shows is computed
and formatted here; the hand-written script only replays it, so the page
and ``autodiff explain`` cannot disagree. No request leaves the page: the
styles and the script are inline, allowed by their hashes in the page's own
Content-Security-Policy, and every user string reaches the page as text
(escaped for HTML, or as JSON that cannot close its script element).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .graph import Node, number
from .terminal import rounded, title

if TYPE_CHECKING:
    from ..features.explain import Edge, Trace

PRECISION = 6  # significant digits in the panel, as explain's tables
DECIMALS = 4  # digits after the point in the picture, as graph's


@dataclass(frozen=True)
class Page:
    html: str
    values: int  # boxes in the picture
    steps: int


def page(trace: Trace, svg: str, boxes: Sequence[Node], origin: Sequence[int]) -> Page:
    """The page for ``trace``, its graph already laid out as ``svg``.

    ``boxes`` are the value records of the drawing (v0, v1, ...) and
    ``origin[i]`` the trace node that box i shows (a number used twice is
    two boxes of one node).
    """
    index = {node.name: i for i, node in enumerate(trace.forward)}
    steps = _forward_steps(trace) + _backward_steps(trace, index, boxes, origin)
    data = {
        "boxes": [_box(trace, i, box, origin[i]) for i, box in enumerate(boxes)],
        "nodes": [_node(trace, t) for t in range(len(trace.forward))],
        "steps": steps,
        "final": [[f"∂f/∂{name}", repr(grad)] for name, grad in trace.grad.items()],
    }
    count = len(steps)
    heading = title(trace.expr, trace.at)
    body = _TEMPLATE.format(
        title=html.escape(heading),
        heading=html.escape(heading),
        svg=_inline(svg),
        status=f"step 0 of {count}",
        data=_json_for_script(data),
        csp=_csp(),
        style=_STYLE,
        script=_SCRIPT,
    )
    return Page(body, len(boxes), count)


def _box(trace: Trace, i: int, box: Node, t: int) -> dict[str, object]:
    node = trace.forward[t]
    return {"id": f"v{i}", "node": t, "constant": box.constant, "name": node.name}


def _node(trace: Trace, t: int) -> dict[str, object]:
    node = trace.forward[t]
    return {
        "name": node.name,
        "value": repr(float(node.value)),
        "shown": number(node.value, DECIMALS),
        "formula": node.expression or node.definition,
        "kind": node.op,
    }


def _forward_steps(trace: Trace) -> list[dict[str, object]]:
    steps: list[dict[str, object]] = []
    for t, node in enumerate(trace.forward):
        value = rounded(float(node.value), PRECISION)
        if node.op == "variable":
            lines = [f"{node.name} is a variable: {node.name} = {value}"]
        elif node.op == "constant":
            lines = [f"{node.name} is a constant: it gets no gradient"]
        else:
            lines = [f"{node.name} = {node.definition} = {value}"]
            if node.expression and node.expression != node.definition:
                lines.append(f"that is, {node.expression}")
        steps.append(
            {
                "phase": "forward",
                "lines": [f"Forward pass, node {t + 1} of {len(trace.forward)}", *lines],
                "values": [t],
                "grads": [],
                "focus": [t],
                "edge": None,
            }
        )
    return steps


def _backward_steps(
    trace: Trace, index: dict[str, int], boxes: Sequence[Node], origin: Sequence[int]
) -> list[dict[str, object]]:
    box_of = {t: i for i, t in reversed(list(enumerate(origin)))}  # a node's first box
    uses = {name: 0 for name in index}
    for edge in trace.backward:
        uses[edge.input] += 1
    shares: dict[str, list[float]] = {}
    taken: dict[tuple[int, int], int] = {}  # (box, input position) already highlighted
    steps: list[dict[str, object]] = []
    output = len(trace.forward) - 1
    for k, edge in enumerate(trace.backward):
        node, into = index[edge.node], index[edge.input]
        shares.setdefault(edge.input, []).append(edge.product)
        where = f"edge {k + 1} of {len(trace.backward)}"
        lines = [f"Backward pass, {where}: {edge.node} → {edge.input}"]
        grads = [[into, repr(edge.grad), number(edge.grad, DECIMALS)]]
        if k == 0:
            lines.append(f"The output's gradient is 1: d{edge.node}/d{edge.node} = 1")
            grads.insert(0, [output, "1.0", number(1.0, DECIMALS)])
        lines += _edge_lines(edge, uses[edge.input], shares[edge.input])
        steps.append(
            {
                "phase": "backward",
                "lines": lines,
                "values": [],
                "grads": grads,
                "focus": [node, into],
                "edge": _edge_ids(box_of[node], into, boxes, origin, taken),
            }
        )
    return steps


def _edge_lines(edge: Edge, uses: int, shares: list[float]) -> list[str]:
    def r(x: float) -> str:
        return rounded(float(x), PRECISION)

    formula = edge.formula if edge.formula == r(edge.local) else f"{edge.formula} = {r(edge.local)}"
    lines = [
        f"local derivative: {edge.derivative} = {formula}",
        f"upstream × local = contribution: {r(edge.upstream)} × {r(edge.local)}"
        f" = {r(edge.product)}",
    ]
    if uses > 1:
        times = "twice" if uses == 2 else f"{uses} times"
        total = " + ".join(r(s) for s in shares)
        lines.append(f"{edge.input} is used {times}: {total} = {r(edge.grad)} so far")
    lines.append(f"{edge.input}.grad = {r(edge.grad)}")
    return lines


def _edge_ids(
    box: int,
    into: int,
    boxes: Sequence[Node],
    origin: Sequence[int],
    taken: dict[tuple[int, int], int],
) -> list[str]:
    """The SVG titles of what an edge of the trace lights up: the operation, its
    input's edge into it, and its output's edge."""
    inputs = boxes[box].inputs
    # The k-th edge of a node into one input is the k-th position that input holds.
    for position, j in enumerate(inputs):
        if origin[j] == into and (box, position) not in taken:
            taken[(box, position)] = 1
            return [f"o{box}", f"v{j}->o{box}", f"o{box}->v{box}", f"v{j}"]
    return [f"o{box}", f"o{box}->v{box}"]


_XML_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _inline(svg: str) -> str:
    """Graphviz's SVG for inlining: no XML prologue or comments; its natural
    size stays, for a phone to scroll, and the page's style scales it elsewhere."""
    svg = _XML_PROLOGUE.sub("", svg, count=1)
    svg = _COMMENT.sub("", svg)
    return svg.replace("<svg ", '<svg class="graph" ', 1).strip()


def _json_for_script(data: object) -> str:
    """JSON that no string inside can end: ``<``, ``>`` and ``&`` as escapes."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _digest(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _csp() -> str:
    return (
        "default-src 'none'; "
        f"script-src 'sha256-{_digest(_SCRIPT)}'; "
        f"style-src 'sha256-{_digest(_STYLE)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


_STYLE = """
* { box-sizing: border-box; }
:root { color-scheme: light dark; }
body { margin: 0; font: 16px/1.45 system-ui, sans-serif; color: #1d1d1f; background: #ffffff; }
header { padding: 0.75rem 1rem 0.25rem; }
h1 { font-size: 1.15rem; margin: 0; }
.expr { margin: 0.25rem 0 0; color: #5b5b60; font-family: ui-monospace, monospace;
  overflow-wrap: anywhere; }
main { padding: 0.5rem 1rem; }
#graph { background: #ffffff; border: 1px solid #d0d0d6; border-radius: 8px;
  padding: 0.5rem; overflow: auto; }
svg.graph { width: 100%; height: auto; max-height: 62vh; display: block; }
#panel { background: #f4f4f6; border-radius: 8px; padding: 0.75rem 1rem; }
#status { font-weight: 600; margin: 0 0 0.5rem; }
#explanation p, #details p { margin: 0.2rem 0; font-family: ui-monospace, monospace;
  font-size: 0.92rem; overflow-wrap: anywhere; }
#explanation p:first-child { font-family: inherit; color: #5b5b60; }
#details { margin-top: 0.75rem; border-top: 1px solid #d0d0d6; padding-top: 0.5rem; }
#details:empty { display: none; }
nav { display: flex; flex-wrap: wrap; gap: 0.5rem; padding: 0.5rem 0; }
button { font: inherit; padding: 0.45rem 0.9rem; border-radius: 6px; cursor: pointer;
  border: 1px solid #d0d0d6; background: #f4f4f6; color: #1d1d1f; }
button:focus-visible, g.node:focus-visible { outline: 3px solid #c2410c; outline-offset: 2px; }
g.node { cursor: pointer; }
g.node > polygon, g.node > ellipse { pointer-events: all; }
g.pending text { fill: #8a8a8a; }
g.current > polygon, g.current > ellipse, g.current > path { stroke: #c2410c; stroke-width: 3; }
g.current > text { font-weight: bold; }
g.edge.current > path { stroke: #c2410c; stroke-width: 3; }
g.edge.current > polygon { stroke: #c2410c; fill: #c2410c; }
@media (prefers-color-scheme: dark) {
  body { color: #ececf0; background: #17171a; }
  .expr, #explanation p:first-child { color: #a9a9b2; }
  #graph { border-color: #3a3a42; }
  #panel { background: #232328; }
  #details { border-top-color: #3a3a42; }
  button { border-color: #3a3a42; background: #232328; color: #ececf0; }
}
@media (max-width: 760px) {
  svg.graph { width: auto; max-height: none; }
}
"""

_SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var steps = data.steps, total = steps.length, current = 0, timer = null;
  var byTitle = {};
  document.querySelectorAll("#graph g.node, #graph g.edge").forEach(function (g) {
    var t = g.querySelector("title");
    if (t) { byTitle[t.textContent] = g; }
  });
  var boxes = data.boxes.map(function (box) {
    var g = byTitle[box.id];
    var texts = g ? g.querySelectorAll("text") : [];
    if (g) { g.setAttribute("data-name", box.name); g.setAttribute("role", "button");
      g.setAttribute("tabindex", "0"); }
    return { box: box, g: g, data: texts[1] || null, grad: texts[2] || null };
  });

  function say(parent, lines) {
    while (parent.firstChild) { parent.removeChild(parent.firstChild); }
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      parent.appendChild(p);
    });
  }

  function state(k) {
    var values = {}, grads = {};
    for (var i = 0; i < k; i++) {
      steps[i].values.forEach(function (t) { values[t] = true; });
      steps[i].grads.forEach(function (g) { grads[g[0]] = g; });
    }
    return { values: values, grads: grads };
  }

  function show(k) {
    current = Math.max(0, Math.min(total, k));
    var s = state(current);
    var lit = {};
    if (current > 0) {
      var step = steps[current - 1];
      (step.edge || []).forEach(function (id) { lit[id] = true; });
      step.focus.forEach(function (t) {
        boxes.forEach(function (b) { if (b.box.node === t && step.phase === "forward") {
          lit[b.box.id] = true; } });
      });
    }
    var seen = null;
    Object.keys(byTitle).forEach(function (id) {
      byTitle[id].classList.toggle("current", !!lit[id]);
      if (lit[id] && seen === null && id.charAt(0) === "v") { seen = byTitle[id]; }
    });
    if (seen !== null && seen.scrollIntoView) {
      seen.scrollIntoView({ block: "nearest", inline: "nearest" });  // a phone scrolls the graph
    }
    boxes.forEach(function (b) {
      if (!b.g) { return; }
      var node = data.nodes[b.box.node];
      var known = !!s.values[b.box.node];
      var grad = s.grads[b.box.node];
      b.g.setAttribute("data-value", known ? node.value : "");
      b.g.setAttribute("data-grad", grad && !b.box.constant ? grad[1] : "");
      b.g.classList.toggle("pending", !known);
      if (b.data) { b.data.textContent = "data " + (known ? node.shown : "\\u00b7"); }
      if (b.grad) { b.grad.textContent = "grad " + (grad ? grad[2] : "\\u00b7"); }
    });
    document.getElementById("status").textContent = "step " + current + " of " + total;
    var lines;
    if (current === 0) {
      lines = ["Nothing computed yet.", "Next (\\u2192) runs the forward pass, node by node."];
    } else if (current === total) {
      lines = steps[current - 1].lines.concat(["Done: the gradient, as autodiff grad prints it"],
        data.final.map(function (f) { return f[0] + " = " + f[1]; }));
    } else {
      lines = steps[current - 1].lines;
    }
    say(document.getElementById("explanation"), lines);
    var fragment = "#step=" + (current === total ? "end" : String(current));
    if (location.hash !== fragment) {
      try { history.replaceState(null, "", fragment); } catch (e) { location.hash = fragment; }
    }
  }

  function fromHash() {
    var m = /^#step=(\\d+|end)$/.exec(location.hash);
    if (!m) { return 0; }
    return m[1] === "end" ? total : parseInt(m[1], 10);
  }

  function play(on) {
    if (timer !== null) { clearInterval(timer); timer = null; }
    if (on) {
      if (current === total) { show(0); }
      timer = setInterval(function () {
        if (current >= total) { play(false); } else { show(current + 1); }
      }, 1200);
    }
    var button = document.getElementById("play");
    button.textContent = timer !== null ? "Pause" : "Play";
    button.setAttribute("aria-pressed", timer !== null ? "true" : "false");
  }

  function details(b) {
    var node = data.nodes[b.box.node];
    var s = state(current);
    var grad = s.grads[b.box.node];
    say(document.getElementById("details"), [
      node.name + " (" + node.kind + ")",
      "value: " + (s.values[b.box.node] ? node.value : "not computed yet"),
      "grad: " + (b.box.constant ? "none (a constant)" : grad ? grad[1] : "not reached yet"),
      "formula: " + node.formula
    ]);
  }

  var moves = {
    first: function () { return 0; },
    prev: function () { return current - 1; },
    next: function () { return current + 1; },
    last: function () { return total; }
  };
  Object.keys(moves).forEach(function (id) {
    document.getElementById(id).addEventListener("click", function () {
      play(false);
      show(moves[id]());
    });
  });
  document.getElementById("play").addEventListener("click", function () { play(timer === null); });
  boxes.forEach(function (b) {
    if (!b.g) { return; }
    b.g.addEventListener("click", function () { details(b); });
    b.g.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { details(b); }
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var key = e.key;
    if (key === "ArrowRight") { play(false); show(current + 1); }
    else if (key === "ArrowLeft") { play(false); show(current - 1); }
    else if (key === "Home") { play(false); show(0); }
    else if (key === "End") { play(false); show(total); }
    else if (key === " " && !(e.target instanceof HTMLButtonElement)) { play(timer === null); }
    else { return; }
    e.preventDefault();
  });
  window.addEventListener("hashchange", function () {
    if (fromHash() !== current) { show(fromHash()); }
  });
  show(fromHash());
}());
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>autodiff explain: {title}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1>Backpropagation, step by step</h1>
<p class="expr">{heading}</p>
</header>
<main>
<div id="graph">{svg}</div>
<nav id="controls" aria-label="steps">
<button type="button" id="first" aria-keyshortcuts="Home">First</button>
<button type="button" id="prev" aria-keyshortcuts="ArrowLeft">Previous</button>
<button type="button" id="play" aria-keyshortcuts="Space" aria-pressed="false">Play</button>
<button type="button" id="next" aria-keyshortcuts="ArrowRight">Next</button>
<button type="button" id="last" aria-keyshortcuts="End">Last</button>
</nav>
<section id="panel" aria-live="polite">
<p id="status">{status}</p>
<div id="explanation"></div>
<div id="details"></div>
</section>
</main>
<script type="application/json" id="trace-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""

__all__ = ["Page", "page"]
