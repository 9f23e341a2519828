"""autodiff explain: backpropagation at a point, step by step."""

from __future__ import annotations

from typing import Annotated

import typer

from ..core.errors import UsageError
from ..core.safe_text import visible
from ..language.parser import MAX_NODES
from .common import (
    AtOption,
    ExprArgument,
    FileOption,
    ForceOption,
    PrecisionOption,
    StrictOption,
    choose_format,
    colour_allowed,
    format_option,
    max_nodes_option,
    output_option,
    parse_point,
    read_program,
    stdout_is_terminal,
)
from .output import Target, announce, format_of, output_target, write_output

FORMATS = ("table", "plain", "json")


def explain(
    expr: ExprArgument = None,
    file: FileOption = None,
    strict: StrictOption = False,
    at: AtOption = None,
    format: Annotated[str | None, format_option(FORMATS)] = None,
    precision: PrecisionOption = 6,
    graph: Annotated[
        str | None,
        typer.Option(
            "--graph",
            metavar="FILE",
            help="Also draw the graph, each node with its data and grad: "
            "a .svg, .png, .pdf or .dot file.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        output_option(
            "Write a web page that steps through backprop on the graph, instead of the"
            " trace: an .html file, or - for stdout."
        ),
    ] = None,
    max_nodes: Annotated[int | None, max_nodes_option("a --graph picture")] = None,
    force: ForceOption = False,
) -> None:
    """Show the forward pass, every backward step of the chain rule, and the gradient.

    \b
    Examples:
      autodiff explain "x*x + x" --at x=3
      autodiff explain "n = x*w + b; o = tanh(n)" --at x=2,w=-3,b=1 -o page.html
    """
    # Imported here, not with the module: `autodiff --help` and other commands skip it.
    from ..features.explain import explain as trace_of
    from ..render import formats

    if output is not None and format is not None:
        raise UsageError("-o writes the web page, not the trace: drop --format, or -o")
    chosen = choose_format(format, FORMATS)
    page = _page_target(output, force) if output is not None else None
    picture = graph_target(graph, force) if graph is not None else None
    expression = read_program(
        expr, file, max_nodes or MAX_NODES, "explain", parse_point(at or []), strict=strict
    )
    if page is not None:
        from ..render.graph import DEFAULT_MAX_NODES, check_size

        check_size(
            len(expression),
            max_nodes if max_nodes is not None else DEFAULT_MAX_NODES,
            "raise the limit with --max-nodes N",
        )
    if picture is not None:
        from ..render.graph import DEFAULT_MAX_NODES, check_size

        dot_text = picture[1] in ("dot", "gv")
        limit = max_nodes if max_nodes is not None or dot_text else DEFAULT_MAX_NODES
        check_size(len(expression), limit, "raise the limit with --max-nodes N")
    point = parse_point(at or [])
    trace = trace_of(expression, point)
    if picture is not None:
        # Drawn and written before anything is printed: if the picture
        # fails, stdout stays empty, as for every error.
        from ..render.graph import draw, values_drawn
        from ..render.graph import render as render_graph

        assert trace.graph is not None
        path, fmt = picture
        drawn = draw(trace.graph, max_nodes=None)
        write_output(path, render_graph(drawn, fmt))
        count = values_drawn(drawn)
        announce(path, f"{count} value{'' if count == 1 else 's'}")
    if page is not None:
        from ..render import graph as graphs
        from ..render import stepper

        assert trace.graph is not None
        boxes, origin = graphs.drawn_nodes(trace.graph)
        svg = graphs.render(graphs.draw_nodes(boxes), "svg").decode("utf-8")
        made = stepper.page(trace, svg, boxes, origin)
        write_output(page, made.html.encode("utf-8"))
        values = f"{made.values} value{'' if made.values == 1 else 's'}"
        announce(page, f"{values}, {made.steps} step{'' if made.steps == 1 else 's'}")
        return
    if chosen == "table":
        from ..render.table import print_trace_table

        print_trace_table(
            trace, precision, colour=colour_allowed(), on_terminal=stdout_is_terminal()
        )
    elif chosen == "json":
        print(formats.trace_json(trace), end="")
    else:
        print(formats.trace_plain(trace, precision), end="")


def _page_target(path: str, force: bool) -> Target:
    """Where -o goes: an .html file or stdout; checked before any work."""
    if path != "-" and not path.lower().endswith((".html", ".htm")):
        raise UsageError(f"-o writes an HTML page: give a .html file or -, not {visible(path)}")
    return output_target(path, force)


def graph_target(path: str, force: bool) -> tuple[Target, str]:
    """Where --graph goes and in which format; checked before any work."""
    from ..render.graph import FORMATS

    fmt = format_of(path, FORMATS, option="--graph")
    return output_target(path, force), fmt
