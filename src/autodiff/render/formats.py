"""Every result as plain text, JSON, CSV or TSV, one at a time or as a stream of records.

For pipes and scripts: floats round-trip (repr); JSON never holds NaN or
Infinity. Sections: the gradient, higher derivatives and formulas, a check,
the explain trace, then streams. Tables for people are in table.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any, TextIO

from ..core.errors import UsageError
from ..core.safe_text import excerpt, visible
from . import terminal
from .delimited import needs_quoting, rows_text
from .terminal import rounded

if TYPE_CHECKING:  # grad's start-up loads this module: the features it renders load only with them
    from ..features.check import CheckResult
    from ..features.derivatives import DerivativeAt, HessianResult
    from ..features.explain import Edge, Trace
    from ..features.gradient import Gradient
    from ..features.jacobian import Jacobian


def render(record: Gradient, fmt: str) -> str:
    if fmt == "plain":
        return plain(record)
    if fmt in ("json", "jsonl"):
        return json_text(record)
    if fmt in ("csv", "tsv"):
        return delimited(record, "," if fmt == "csv" else "\t")
    raise ValueError(f"no such format: {fmt}")


def plain(record: Gradient) -> str:
    """``value<TAB>number`` then one ``d/d<name><TAB>number`` line per variable.

    With the steps, ``n.value`` and ``n.grad`` lines follow: the seed's names.
    """
    lines = [f"value\t{record.value!r}"]
    lines += [f"d/d{name}\t{partial!r}" for name, partial in record.grad.items()]
    for name, step in (record.steps or {}).items():
        lines += [f"{name}.value\t{step.value!r}", f"{name}.grad\t{step.grad!r}"]
    return "\n".join(lines) + "\n"


def as_json(record: Gradient) -> dict[str, object]:
    found: dict[str, object] = {
        "expr": record.expr,
        "at": record.at,
        "value": record.value,
        "grad": record.grad,
    }
    if record.steps is not None:
        found["steps"] = {n: {"value": s.value, "grad": s.grad} for n, s in record.steps.items()}
    return found


def json_text(record: Gradient) -> str:
    return json.dumps(as_json(record), allow_nan=False) + "\n"


def delimited(record: Gradient, delimiter: str) -> str:
    """A header (the point's variables, value, d_<name>...) and one row."""
    header = [*record.at, "value", *(f"d_{n}" for n in record.grad)]
    row = list(map(repr, [*record.at.values(), record.value, *record.grad.values()]))
    for name, step in (record.steps or {}).items():
        header += [f"{name}.value", f"{name}.grad"]
        row += [repr(step.value), repr(step.grad)]
    return rows_text([header, row], delimiter)


# -- grad --order, hessian, diff ------------------------------------------------


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def plain_label(name: str, order: int) -> str:
    """``d/dx``, ``d2/dx2``."""
    return f"d/d{name}" if order == 1 else f"d{order}/d{name}{order}"


def pretty_label(name: str, order: int) -> str:
    """``∂f/∂x``, ``∂²f/∂x²``."""
    if order == 1:
        return f"∂f/∂{name}"
    power = str(order).translate(_SUPERSCRIPT)
    return f"∂{power}f/∂{name}{power}"


def render_order(record: DerivativeAt, fmt: str) -> str:
    if fmt == "plain":
        label = plain_label(record.wrt, record.order)
        return f"value\t{record.value!r}\n{label}\t{record.derivative!r}\n"
    if fmt in ("json", "jsonl"):  # one record: the same line either way
        data = {
            "expr": record.expr,
            "at": record.at,
            "value": record.value,
            "grad": {record.wrt: record.derivative},
            "order": record.order,
        }
        return json.dumps(data, allow_nan=False) + "\n"
    if fmt in ("csv", "tsv"):
        power = "" if record.order == 1 else str(record.order)  # d_x as in grad, d2_x
        header = [*record.at, "value", f"d{power}_{record.wrt}"]
        row = [*record.at.values(), record.value, record.derivative]
        return _delimited([header, [repr(x) for x in row]], fmt)
    raise ValueError(f"no such format: {fmt}")


def render_hessian(record: HessianResult, fmt: str) -> str:
    if fmt == "plain":
        lines = [f"value\t{record.value!r}"]
        lines += [f"d/d{n}\t{g!r}" for n, g in record.grad.items()]
        for a, row in zip(record.variables, record.hessian, strict=True):
            for b, h in zip(record.variables, row, strict=True):
                label = f"d2/d{a}2" if a == b else f"d2/d{a}d{b}"
                lines.append(f"{label}\t{h!r}")
        return "\n".join(lines) + "\n"
    if fmt == "json":
        data = {
            "expr": record.expr,
            "at": record.at,
            "variables": list(record.variables),
            "value": record.value,
            "grad": record.grad,
            "hessian": record.hessian,
        }
        return json.dumps(data, allow_nan=False) + "\n"
    if fmt in ("csv", "tsv"):
        rows = [["", *record.variables]]
        rows += [
            [name, *(repr(h) for h in row)]
            for name, row in zip(record.variables, record.hessian, strict=True)
        ]
        return _delimited(rows, fmt)
    raise ValueError(f"no such format: {fmt}")


@dataclass(frozen=True)
class Formula:
    """A derivative as text: d^order f / d wrt^order = text, in the language or in LaTeX."""

    wrt: str
    text: str


def render_formulas(expr: str, order: int, formulas: Sequence[Formula], fmt: str) -> str:
    """One formula alone on a line; several as ``name: formula`` lines."""
    single = len(formulas) == 1
    if fmt == "plain":
        if single:
            return formulas[0].text + "\n"
        return "".join(f"{f.wrt}: {f.text}\n" for f in formulas)
    if fmt == "latex":
        if single:
            return formulas[0].text + "\n"
        return "".join(f"{latex_label(f.wrt, order)} = {f.text}\n" for f in formulas)
    if fmt == "json":
        items = [
            {"expr": expr, "wrt": f.wrt, "order": order, "derivative": f.text} for f in formulas
        ]
        return json.dumps(items[0] if single else items) + "\n"
    raise ValueError(f"no such format: {fmt}")


def latex_label(name: str, order: int) -> str:
    from .latex import latex_name

    shown = latex_name(name)
    if order == 1:
        return rf"\frac{{\partial f}}{{\partial {shown}}}"
    return rf"\frac{{\partial^{{{order}}} f}}{{\partial {shown}^{{{order}}}}}"


def _delimited(rows: list[list[str]], fmt: str) -> str:
    return rows_text(rows, "," if fmt == "csv" else "\t")


# -- check ------------------------------------------------------------------------


# Plain text: a header, then one row per variable; floats round-trip (repr).
PLAIN_HEADER = (
    "name",
    "autodiff",
    "central",
    "one_sided",
    "step",
    "abs_error",
    "rel_error",
    "status",
    "reason",
)


def _exact(x: float | None) -> str:
    return "" if x is None else repr(x)


def check_plain(result: CheckResult) -> str:
    rows = [PLAIN_HEADER]
    for p in result.partials:
        rows.append(
            (
                p.name,
                repr(p.autodiff),
                _exact(p.central),
                _exact(p.one_sided),
                repr(p.step),
                _exact(p.abs_error),
                _exact(p.rel_error),
                p.status,
                p.reason,
            )
        )
    return "".join("\t".join(row) + "\n" for row in rows)


def check_as_json(result: CheckResult) -> dict[str, object]:
    return {
        "expr": result.expr,
        "at": result.at,
        "value": result.value,
        "grad": result.grad,
        "rtol": result.rtol,
        "ok": result.ok,
        "checks": [asdict(p) for p in result.partials],
    }


def check_json(result: CheckResult) -> str:
    return json.dumps(check_as_json(result), allow_nan=False) + "\n"


# -- explain: the trace as aligned text (for people reading a pipe) or JSON ----------


FORWARD_TITLE = "forward pass: each node after its inputs"


BACKWARD_TITLE = (
    "backward pass: output first (gradient 1); each edge adds upstream * local to its input"
)


FORWARD_HEADER = ("node", "definition", "value", "expression")


BACKWARD_HEADER = ("edge", "local derivative", "upstream", "product", "gradient of the input")


def forward_rows(trace: Trace, precision: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for node in trace.forward:
        leaf = node.op in ("variable", "constant")
        rows.append(
            (
                node.name,
                node.op if leaf else node.definition,
                rounded(node.value, precision),
                "" if leaf else node.expression,
            )
        )
    return rows


def local_text(edge: Edge, precision: int) -> str:
    """``d tanh(n9)/dn9 = 1 - tanh(n9)**2 = 0.5``; a formula that is a number stands alone."""
    value = rounded(edge.local, precision)
    if edge.formula == value:
        return f"{edge.derivative} = {edge.formula}"
    return f"{edge.derivative} = {edge.formula} = {value}"


def gradient_text(edge: Edge, precision: int) -> str:
    """``x = 3`` the first time an input is reached, ``x now 6 (+= 3)`` after."""
    if edge.accumulated:
        return (
            f"{edge.input} now {rounded(edge.grad, precision)} "
            f"(+= {rounded(edge.product, precision)})"
        )
    return f"{edge.input} = {rounded(edge.grad, precision)}"


def backward_rows(trace: Trace, precision: int) -> list[tuple[str, ...]]:
    return [
        (
            f"{edge.node} → {edge.input}",
            local_text(edge, precision),
            rounded(edge.upstream, precision),
            rounded(edge.product, precision),
            gradient_text(edge, precision),
        )
        for edge in trace.backward
    ]


def grad_rows(trace: Trace, precision: int) -> list[tuple[str, ...]]:
    return [(f"∂f/∂{name}", rounded(g, precision)) for name, g in trace.grad.items()]


def columns(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns two spaces apart, without trailing blanks."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return [
        (indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))).rstrip()
        for row in rows
    ]


def trace_plain(trace: Trace, precision: int) -> str:
    lines = [terminal.title(trace.expr, trace.at), "", FORWARD_TITLE]
    lines += columns([FORWARD_HEADER, *forward_rows(trace, precision)])
    lines += ["", BACKWARD_TITLE]
    backward = backward_rows(trace, precision)
    if backward:
        lines += columns([BACKWARD_HEADER, *backward])
    else:
        lines.append("  (no edges: the expression depends on no variable)")
    lines += ["", "gradient"]
    grads = grad_rows(trace, precision)
    lines += columns(grads) if grads else ["  (no variables)"]
    return "\n".join(lines) + "\n"


def trace_as_json(trace: Trace) -> dict[str, object]:
    return {
        "expr": trace.expr,
        "at": trace.at,
        "value": trace.value,
        "forward": [
            {**asdict(node), "inputs": list(node.inputs), "value": node.value}
            for node in trace.forward
        ],
        "backward": [asdict(edge) for edge in trace.backward],
        "grad": trace.grad,
    }


def trace_json(trace: Trace) -> str:
    return json.dumps(trace_as_json(trace), allow_nan=False) + "\n"


# -- streams of records -------------------------------------------------------


@dataclass
class Batch:
    """Consecutive records of a stream, column by column.

    ``columns`` and ``fields`` are what leads each record (the expression, or
    the input's columns carried through). ``at``, ``value`` and ``grad`` hold
    one entry per record: a float, or None where a record has no such number.
    A record listed in ``errors`` failed; its numbers are not shown.
    """

    columns: Sequence[str]
    fields: Sequence[Sequence[str]]
    exprs: Sequence[str]
    at: Mapping[str, Sequence[float | None]]
    value: Sequence[float | None]
    grad: Mapping[str, Sequence[float | None]]
    errors: Mapping[int, str]
    extras: Sequence[Mapping[str, object]] | None = None
    arrow: Any = None  # the input's record batch, when it was Parquet

    def __len__(self) -> int:
        return len(self.value)


class StreamWriter:
    """Writes batches of records to ``out`` as they come; ``close()`` ends the output."""

    def __init__(self, out: TextIO, columns: Sequence[str], partials: Sequence[str]) -> None:
        self.out = out
        self.columns = list(columns)
        self.partials = list(partials)

    def write(self, batch: Batch) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.out.flush()


class DelimitedWriter(StreamWriter):
    """CSV or TSV: the leading columns, value, d_<name> per partial, error."""

    def __init__(
        self, out: TextIO, columns: Sequence[str], partials: Sequence[str], delimiter: str
    ) -> None:
        super().__init__(out, columns, partials)
        self.delimiter = delimiter
        results = ["value", *(f"d_{n}" for n in self.partials), "error"]
        clash = next((c for c in self.columns if c in results), None)
        if clash is not None:
            # A header with one name twice reads back wrong in every CSV tool.
            raise UsageError(
                f"the input column '{excerpt(clash)}' has the name of an output column"
                f" ({', '.join(results)}); rename it, or write JSON Lines"
            )
        self.out.write(rows_text([[*self.columns, *results]], delimiter))

    def write(self, batch: Batch) -> None:
        size = len(batch)
        if not size:
            return
        from .numbers import number_rows  # streams only: one point never loads orjson

        d = self.delimiter
        columns = [batch.value, *(batch.grad.get(n, [None] * size) for n in self.partials)]
        numbers = number_rows(columns, d, list(batch.errors))
        # Records read as whole unquoted lines (points.SplitRecords) are
        # written back as they are, when the delimiter is the same: they hold
        # no quote and no line end, so only the error messages may need quoting.
        records = getattr(batch.fields, "records", None)
        if getattr(batch.fields, "delimiter", None) != d:
            records = None
        # Numbers never need quoting; text may. Checking one joined string is cheap.
        text = "\0".join(batch.errors.values())
        if records is None:
            text += "\0" + "\0".join(map("\0".join, batch.fields))
        if needs_quoting(text, d):
            errors = [batch.errors.get(i, "") for i in range(size)]
            tails = ([*row.split(d), e] for row, e in zip(numbers, errors, strict=True))
            rows = ([*f, *tail] for f, tail in zip(batch.fields, tails, strict=True))
            self.out.write(rows_text(rows, d))
        else:
            # Each row is four pieces, laid side by side in one list by slices
            # and joined once: a join per row was a fifth of a million-row run.
            ends = [d + "\n"] * size
            for i, message in batch.errors.items():
                ends[i] = d + message + "\n"
            pieces = [d] * (4 * size)
            pieces[0::4] = records if records is not None else list(map(d.join, batch.fields))
            pieces[2::4] = numbers
            pieces[3::4] = ends
            self.out.write("".join(pieces))


def _texts(numbers: Sequence[float | None], errors: Mapping[int, str]) -> list[str]:
    """Each number as round-trip text; empty for None and for failed records."""
    from .numbers import float_texts

    texts = float_texts(numbers)
    for i in errors:
        texts[i] = ""
    return texts


class JsonLines:
    """Records as JSON text: one a line (``jsonl``), or one array (``json``),
    also for one record or none, so a reader meets one shape per mode."""

    def __init__(self, out: TextIO, lines: bool) -> None:
        self.out = out
        self.lines = lines
        self.count = 0

    def write(self, texts: Sequence[str]) -> None:
        if not texts:
            return
        if self.lines:
            self.out.write("\n".join(texts) + "\n")
        else:
            self.out.write(("[\n" if self.count == 0 else ",\n") + ",\n".join(texts))
        self.count += len(texts)

    def close(self) -> None:
        if not self.lines:
            self.out.write("[]\n" if self.count == 0 else "\n]\n")


class JsonWriter(StreamWriter):
    """One JSON object per record (see JsonLines)."""

    def __init__(
        self, out: TextIO, columns: Sequence[str], partials: Sequence[str], lines: bool
    ) -> None:
        super().__init__(out, columns, partials)
        self.json = JsonLines(out, lines)

    def write(self, batch: Batch) -> None:
        texts = _json_texts(batch)
        if texts is None:
            texts = [json.dumps(record, allow_nan=False) for record in _json_records(batch)]
        self.json.write(texts)

    def close(self) -> None:
        self.json.close()
        super().close()


def _json_texts(batch: Batch) -> list[str] | None:
    """The records as json.dumps writes them, assembled column by column from
    the numbers as text (render/numbers.py) rather than a dict and a dumps
    call per record; None where a record carries columns (``extra``) or lacks
    a number, which the general path writes, as it writes failed records."""
    from .numbers import float_texts

    if (batch.extras is not None and any(batch.extras)) or not len(batch):
        return None
    size = len(batch)
    numbers = [float_texts(v) for v in [*batch.at.values(), batch.value, *batch.grad.values()]]
    for texts in numbers:
        if "" in texts and not {i for i, t in enumerate(texts) if not t} <= batch.errors.keys():
            return None
    at, (value, *grad) = numbers[: len(batch.at)], numbers[len(batch.at) :]
    first = batch.exprs[0]
    if batch.exprs.count(first) == size:  # one expression at many points
        pieces: list[Any] = [repeat(f'{{"expr": {json.dumps(first)}, "at": {{', size)]
    else:
        pieces = [[f'{{"expr": {json.dumps(e)}, "at": {{' for e in batch.exprs]]
    for k, (name, texts) in enumerate(zip(batch.at, at, strict=True)):
        pieces += [repeat(f"{', ' if k else ''}{json.dumps(name)}: ", size), texts]
    pieces += [repeat('}, "value": ', size), value, repeat(', "grad": {', size)]
    for k, (name, texts) in enumerate(zip(batch.grad, grad, strict=True)):
        pieces += [repeat(f"{', ' if k else ''}{json.dumps(name)}: ", size), texts]
    pieces.append(repeat("}}", size))
    lines = list(map("".join, zip(*pieces, strict=False)))  # repeat() has no length
    if batch.errors:
        records = list(_json_records(batch))
        for i in batch.errors:
            lines[i] = json.dumps(records[i], allow_nan=False)
    return lines


def _json_records(batch: Batch) -> Iterator[dict[str, object]]:
    at = {name: list(values) for name, values in batch.at.items()}
    for i in range(len(batch)):
        record: dict[str, object] = {"expr": batch.exprs[i]}
        record["at"] = {n: v[i] for n, v in at.items() if v[i] is not None and v[i] == v[i]}
        message = batch.errors.get(i)
        if message is None:
            record["value"] = batch.value[i]
            record["grad"] = {n: g[i] for n, g in batch.grad.items() if g[i] is not None}
        else:
            record["value"] = record["grad"] = None
        if batch.extras is not None and batch.extras[i]:
            record["extra"] = batch.extras[i]
        if message is not None:
            record["error"] = message
        yield record


class PlainWriter(StreamWriter):
    """Each record as ``name<TAB>text`` lines; records separated by a blank line."""

    def __init__(self, out: TextIO, columns: Sequence[str], partials: Sequence[str]) -> None:
        super().__init__(out, columns, partials)
        self.started = False

    def write(self, batch: Batch) -> None:
        blocks = []
        for i in range(len(batch)):
            # One line per name: a field's tab, line break or escape byte is spelled out.
            pairs = zip(batch.columns, batch.fields[i], strict=True)
            lines = [f"{visible(c)}\t{visible(f)}" for c, f in pairs]
            message = batch.errors.get(i)
            if message is not None:
                lines.append(f"error\t{visible(message)}")
            else:
                lines.append(f"value\t{batch.value[i]!r}")
                for name, partials in batch.grad.items():
                    if partials[i] is not None:
                        lines.append(f"d/d{name}\t{partials[i]!r}")
            blocks.append("\n".join(lines) + "\n")
        if blocks:
            self.out.write(("\n" if self.started else "") + "\n".join(blocks))
            self.started = True


class TableWriter(StreamWriter):
    """For people at a terminal: numbers rounded to ``precision``, in one
    table under the title ``f = EXPR  at  ...`` when one expression is
    evaluated at many points (``title``); see grid.StreamTable for widths."""

    def __init__(
        self,
        out: TextIO,
        columns: Sequence[str],
        partials: Sequence[str],
        precision: int,
        colour: bool,
        rows: int = 1000,
        title: str | None = None,
    ) -> None:
        from ..core.safe_text import visible
        from .grid import StreamTable, terminal_width

        super().__init__(out, columns, partials)
        self.precision = precision
        header = [*map(visible, columns), "f", *(f"∂f/∂{visible(n)}" for n in partials)]
        right = [False] * len(columns) + [True] * (1 + len(partials))
        self.table = StreamTable(
            out, header, right, colour, colour, precision + 7, rows, terminal_width(out)
        )
        if title is not None:
            out.write((f"\x1b[1m{title}\x1b[0m" if colour else title) + "\n")

    def write(self, batch: Batch) -> None:
        from ..core.safe_text import visible

        size = len(batch)
        for i in range(size):
            fields = [visible(c) for c in batch.fields[i]]
            if i in batch.errors:
                self.table.add(fields, visible(batch.errors[i]))
                continue
            numbers = [
                batch.value[i],
                *(batch.grad.get(n, [None] * size)[i] for n in self.partials),
            ]
            self.table.add([*fields, *(self._number(x) for x in numbers)])

    def close(self) -> None:
        self.table.close()
        super().close()

    def _number(self, x: float | None) -> str:
        from .terminal import rounded

        return "" if x is None else rounded(x, self.precision)


def stream_writer(
    fmt: str,
    out: TextIO,
    columns: Sequence[str],
    partials: Sequence[str],
    precision: int = 6,
    colour: bool = False,
    rows: int = 1000,
    title: str | None = None,
) -> StreamWriter:
    """The writer of a stream in ``fmt``; a table holds ``rows`` records to
    choose its widths, and is headed by ``title`` when given."""
    if fmt in ("csv", "tsv"):
        return DelimitedWriter(out, columns, partials, "," if fmt == "csv" else "\t")
    if fmt in ("json", "jsonl"):
        return JsonWriter(out, columns, partials, lines=fmt == "jsonl")
    if fmt == "plain":
        return PlainWriter(out, columns, partials)
    if fmt == "table":
        return TableWriter(out, columns, partials, precision, colour, rows, title)
    raise ValueError(f"no such format: {fmt}")


# -- jacobian ---------------------------------------------------------------------


def render_jacobian(record: Jacobian, fmt: str) -> str:
    if fmt == "plain":
        return jacobian_plain(record)
    if fmt in ("json", "jsonl"):  # one record: the same line either way
        return json.dumps(jacobian_as_json(record), allow_nan=False) + "\n"
    if fmt in ("csv", "tsv"):
        return jacobian_delimited(record, "," if fmt == "csv" else "\t")
    raise ValueError(f"no such format: {fmt}")


def jacobian_plain(record: Jacobian) -> str:
    """A header ``output<TAB>value<TAB>d/d<name>...``, then one row per output:
    its text, its value and its partials, tab-separated."""
    return "".join("\t".join(row) + "\n" for row in _jacobian_rows(record, "d/d"))


def jacobian_as_json(record: Jacobian) -> dict[str, object]:
    return {
        "expr": record.expr,
        "at": record.at,
        "outputs": list(record.outputs),
        "variables": list(record.variables),
        "value": list(record.value),
        "jacobian": [list(row) for row in record.jacobian],
    }


def jacobian_delimited(record: Jacobian, delimiter: str) -> str:
    """A header ``output,value,d_<name>...`` and one row per output."""
    return rows_text(_jacobian_rows(record, "d_"), delimiter)


def _jacobian_rows(record: Jacobian, prefix: str) -> list[list[str]]:
    rows = [["output", "value", *(f"{prefix}{n}" for n in record.variables)]]
    for text, value, partials in zip(record.outputs, record.value, record.jacobian, strict=True):
        rows.append([text, repr(value), *map(repr, partials)])
    return rows


@dataclass
class JacobianBatch:
    """Consecutive records of a stream of points, each with every output's row.

    ``fields`` are each record's input columns, carried through; ``at`` (JSON
    only) each variable's value per record. ``value[k]`` holds output k's
    value per record and ``jacobian[k][j]`` its partial by column j. A record
    listed in ``errors`` failed; its numbers are not shown.
    """

    fields: Sequence[Sequence[str]]
    at: Mapping[str, Sequence[float | None]]
    value: Sequence[Sequence[float]]
    jacobian: Sequence[Sequence[Sequence[float]]]
    errors: Mapping[int, str]
    extras: Sequence[Mapping[str, object]] | None = None

    def __len__(self) -> int:
        return len(self.fields)


class JacobianWriter:
    """Writes batches of Jacobian records to ``out``; ``close()`` ends the output.

    ``outputs`` are the outputs' texts, ``variables`` the columns' names.
    """

    def __init__(
        self,
        out: TextIO,
        columns: Sequence[str],
        expr: str,
        outputs: Sequence[str],
        variables: Sequence[str],
    ) -> None:
        self.out = out
        self.columns = list(columns)
        self.expr = expr
        self.outputs = list(outputs)
        self.variables = list(variables)

    def write(self, batch: JacobianBatch) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.out.flush()

    def numbers(self) -> list[str]:
        """The names of the numbers of a record, flat: ``f1, d1_x, d1_y, f2, ...``."""
        return [
            name
            for k in range(1, len(self.outputs) + 1)
            for name in (f"f{k}", *(f"d{k}_{v}" for v in self.variables))
        ]


def _flat(batch: JacobianBatch) -> list[Sequence[float]]:
    """The numbers of a batch as columns, in the order of ``JacobianWriter.numbers``."""
    found: list[Sequence[float]] = []
    for value, row in zip(batch.value, batch.jacobian, strict=True):
        found.append(value)
        found.extend(row)
    return found


class JacobianDelimitedWriter(JacobianWriter):
    """CSV or TSV: the input's columns, then ``f<k>`` and ``d<k>_<name>`` per output
    (k counted from 1), then ``error``."""

    def __init__(
        self,
        out: TextIO,
        columns: Sequence[str],
        expr: str,
        outputs: Sequence[str],
        variables: Sequence[str],
        delimiter: str,
    ) -> None:
        super().__init__(out, columns, expr, outputs, variables)
        self.delimiter = delimiter
        results = [*self.numbers(), "error"]
        taken = set(results)
        clash = next((c for c in self.columns if c in taken), None)
        if clash is not None:
            raise UsageError(
                f"the input column '{excerpt(clash)}' has the name of an output column"
                f" ({excerpt(', '.join(results), 80)}); rename it, or write JSON Lines"
            )
        self.out.write(rows_text([[*self.columns, *results]], delimiter))

    def write(self, batch: JacobianBatch) -> None:
        size = len(batch)
        if not size:
            return
        errors = [""] * size
        for i, message in batch.errors.items():
            errors[i] = message
        numbers = [_texts(column, batch.errors) for column in _flat(batch)]
        d = self.delimiter
        tails = zip(*numbers, errors, strict=True)
        rows = [[*f, *tail] for f, tail in zip(batch.fields, tails, strict=True)]
        text = "\0".join(map("\0".join, batch.fields)) + "\0".join(batch.errors.values())
        if needs_quoting(text, d):
            self.out.write(rows_text(rows, d))
        else:
            self.out.write("".join(d.join(row) + "\n" for row in rows))


class JacobianJsonWriter(JacobianWriter):
    """One object per record, as the single point's JSON (plus ``extra`` and
    ``error`` as in grad's streams), written as JsonLines says."""

    def __init__(
        self,
        out: TextIO,
        columns: Sequence[str],
        expr: str,
        outputs: Sequence[str],
        variables: Sequence[str],
        lines: bool,
    ) -> None:
        super().__init__(out, columns, expr, outputs, variables)
        self.json = JsonLines(out, lines)

    def write(self, batch: JacobianBatch) -> None:
        self.json.write([json.dumps(record, allow_nan=False) for record in self.records(batch)])

    def close(self) -> None:
        self.json.close()
        super().close()

    def records(self, batch: JacobianBatch) -> Iterator[dict[str, object]]:
        at = {name: list(values) for name, values in batch.at.items()}
        for i in range(len(batch)):
            record: dict[str, object] = {"expr": self.expr}
            record["at"] = {n: v[i] for n, v in at.items() if v[i] is not None and v[i] == v[i]}
            record["outputs"] = self.outputs
            record["variables"] = self.variables
            message = batch.errors.get(i)
            if message is None:
                record["value"] = [value[i] for value in batch.value]
                record["jacobian"] = [[p[i] for p in row] for row in batch.jacobian]
            else:
                record["value"] = record["jacobian"] = None
            if batch.extras is not None and batch.extras[i]:
                record["extra"] = batch.extras[i]
            if message is not None:
                record["error"] = message
            yield record


class JacobianPlainWriter(JacobianWriter):
    """Each record as ``name<TAB>field`` lines for its input's columns, then the
    single point's plain rows (or an ``error<TAB>message`` line); records
    separated by a blank line."""

    def __init__(
        self,
        out: TextIO,
        columns: Sequence[str],
        expr: str,
        outputs: Sequence[str],
        variables: Sequence[str],
    ) -> None:
        super().__init__(out, columns, expr, outputs, variables)
        self.started = False
        self.header = "\t".join(["output", "value", *(f"d/d{n}" for n in self.variables)])

    def write(self, batch: JacobianBatch) -> None:
        blocks = []
        for i in range(len(batch)):
            pairs = zip(self.columns, batch.fields[i], strict=True)
            lines = [f"{visible(c)}\t{visible(f)}" for c, f in pairs]
            message = batch.errors.get(i)
            if message is not None:
                lines.append(f"error\t{visible(message)}")
            else:
                lines.append(self.header)
                for text, value, row in zip(self.outputs, batch.value, batch.jacobian, strict=True):
                    lines.append("\t".join([text, repr(value[i]), *(repr(p[i]) for p in row)]))
            blocks.append("\n".join(lines) + "\n")
        if blocks:
            self.out.write(("\n" if self.started else "") + "\n".join(blocks))
            self.started = True


class JacobianTableWriter(JacobianWriter):
    """For people at a terminal: one row per record, the input's columns, then
    ``f<k>`` and ``∂f<k>/∂<name>`` per output, rounded to ``precision``, in
    one table as grad's stream is."""

    def __init__(
        self,
        out: TextIO,
        columns: Sequence[str],
        expr: str,
        outputs: Sequence[str],
        variables: Sequence[str],
        precision: int,
        colour: bool,
        rows: int = 1000,
        title: str | None = None,
    ) -> None:
        from ..core.safe_text import visible
        from .grid import StreamTable, terminal_width

        super().__init__(out, columns, expr, outputs, variables)
        self.precision = precision
        numbers = [
            label
            for k in range(1, len(outputs) + 1)
            for label in (f"f{k}", *(f"∂f{k}/∂{visible(v)}" for v in variables))
        ]
        header = [*map(visible, columns), *numbers]
        right = [False] * len(columns) + [True] * len(numbers)
        self.table = StreamTable(
            out, header, right, colour, colour, precision + 7, rows, terminal_width(out)
        )
        if title is not None:
            out.write((f"\x1b[1m{title}\x1b[0m" if colour else title) + "\n")

    def write(self, batch: JacobianBatch) -> None:
        from ..core.safe_text import visible

        flat = _flat(batch)
        for i in range(len(batch)):
            fields = [visible(c) for c in batch.fields[i]]
            if i in batch.errors:
                self.table.add(fields, visible(batch.errors[i]))
                continue
            self.table.add([*fields, *(rounded(column[i], self.precision) for column in flat)])

    def close(self) -> None:
        self.table.close()
        super().close()


def jacobian_writer(
    fmt: str,
    out: TextIO,
    columns: Sequence[str],
    expr: str,
    outputs: Sequence[str],
    variables: Sequence[str],
    precision: int = 6,
    colour: bool = False,
    title: str | None = None,
) -> JacobianWriter:
    """The stream writer of ``autodiff jacobian --points`` for ``fmt``."""
    if fmt in ("csv", "tsv"):
        delimiter = "," if fmt == "csv" else "\t"
        return JacobianDelimitedWriter(out, columns, expr, outputs, variables, delimiter)
    if fmt in ("json", "jsonl"):
        return JacobianJsonWriter(out, columns, expr, outputs, variables, lines=fmt == "jsonl")
    if fmt == "plain":
        return JacobianPlainWriter(out, columns, expr, outputs, variables)
    if fmt == "table":
        return JacobianTableWriter(
            out, columns, expr, outputs, variables, precision, colour, title=title
        )
    raise ValueError(f"no such format: {fmt}")
