"""An Expression: a parsed program, evaluated at a point by the right driver.

Layer 3. The program itself (its Steps, its printing) is in program.py and
the parser that builds one from text in parse.py; here it meets the points.
``gradient`` chooses the chain-rule driver: at one point of floats the tape
(tape.py); for many points at once the engine on numpy arrays, a chunk of
points per graph; ``evaluate`` builds the engine's Value graph itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from .engine import OnEdge, Value, apply, paused_gc
from .errors import MissingValueError, UsageError, check_partials
from .program import Step, format_steps, needed, prune_many
from .safe_text import excerpt
from .tape import Tape


class Expression:
    """A parsed program, independent of any point.

    ``definitions`` maps each name the program defines (and its outputs
    use) to its step; ``outputs`` are the steps of the last statement, the
    last step when there is one output; ``unused`` names the definitions no
    output needs (they are not among the steps).
    """

    def __init__(
        self,
        steps: Sequence[Step],
        text: str | None = None,
        definitions: Mapping[str, int] | None = None,
        outputs: Sequence[int] | None = None,
        unused: Sequence[str] = (),
    ) -> None:
        if not steps:
            raise ValueError("an expression needs at least one step")
        self.steps: tuple[Step, ...] = tuple(steps)
        self.variables: tuple[str, ...] = tuple(s.text for s in self.steps if s.is_variable)
        self.definitions: dict[str, int] = dict(definitions or {})
        self.outputs: tuple[int, ...] = tuple(outputs) if outputs else (len(self.steps) - 1,)
        if len(self.outputs) == 1 and self.outputs[0] != len(self.steps) - 1:
            raise ValueError("a program with one output ends with it")
        self.unused: tuple[str, ...] = tuple(unused)
        # The name a node is drawn and traced with: the first definition that
        # names it (a definition of a variable, a = x, is another name for x).
        self.labels: dict[int, str] = {}
        for name, index in self.definitions.items():
            if not self.steps[index].is_variable:
                self.labels.setdefault(index, name)
        self.text = text if text is not None else self.format()

    def __repr__(self) -> str:
        return f"Expression({self.format()!r})"

    def __str__(self) -> str:
        return self.format()

    def __len__(self) -> int:
        return len(self.steps)

    def format(self, step: int = -1, limit: int | None = None, named: bool = False) -> str:
        """The expression (or the sub-expression at ``step``) in the language's syntax.

        ``named``: a defined step inside it prints as its name, as the user wrote it.
        """
        return format_steps(
            self.steps, step % len(self.steps), limit, self.labels if named else None
        )

    def output_texts(self) -> list[str]:
        """Each output as the last statement says it: a defined name, or its formula."""
        return [self.labels.get(i) or self.format(i, named=True) for i in self.outputs]

    def output(self, k: int) -> Expression:
        """The program of output ``k`` alone."""
        if len(self.outputs) == 1:
            return self
        steps, new_index = prune_many(self.steps, (self.outputs[k],))
        definitions = {n: new_index[i] for n, i in self.definitions.items() if i in new_index}
        return Expression(steps, self.output_texts()[k], definitions)

    def check_point(self, point: Mapping[str, Any]) -> None:
        """Refuse a value given for a name the program defines."""
        for name in point:
            if name in self.definitions:
                raise UsageError(
                    f"{excerpt(name)} is defined by the expression; it cannot be given a value"
                )

    def _one_output(self) -> None:
        if len(self.outputs) != 1:
            raise UsageError(
                f"the program has {len(self.outputs)} outputs"
                f" ({', '.join(self.output_texts())}); this needs one: for several,"
                " use jacobian"
            )

    def evaluate_all(self, point: Mapping[str, Any]) -> list[Value]:
        """One Value per step, in program order; the last is the result."""
        self._one_output()
        return self.evaluate_steps(point)

    def evaluate_steps(self, point: Mapping[str, Any]) -> list[Value]:
        """One Value per step, in program order, whatever the outputs.

        A defined node is labelled with its name.
        """
        if self.definitions:
            self.check_point(point)
        labels = self.labels
        values: list[Value] = []
        with paused_gc():
            for i, step in enumerate(self.steps):
                if step.op is not None:
                    value = apply(step.op, *[values[i] for i in step.args])
                    if labels and i in labels:
                        value.label = labels[i]
                    values.append(value)
                elif step.constant is None:
                    if step.text not in point:
                        raise MissingValueError(step.text)
                    values.append(Value(_as_data(point[step.text]), label=step.text))
                else:
                    label = labels.get(i, step.text)
                    values.append(Value(step.constant, label=label, requires_grad=False))
        return values

    def backward(self, point: Mapping[str, float], on_edge: OnEdge | None = None) -> list[Value]:
        """One Value per step at a point of floats, after the output's ``backward()``.

        Each Value has its data and its grad; ``on_edge`` is passed on to
        ``Value.backward``. A partial that is not finite raises
        EvaluationError, as ``gradient`` does: the commands that need the
        graph itself (graph, explain, check) get it and the gradient at once.
        """
        values = self.evaluate_all(point)
        values[-1].backward(on_edge=on_edge)
        check_partials(
            {s.text: v.grad for s, v in zip(self.steps, values, strict=True) if s.is_variable}
        )
        return values

    def evaluate(self, point: Mapping[str, Any]) -> Value:
        """The graph of Values at ``point``, ready for ``backward()``."""
        return self.evaluate_all(point)[-1]

    def gradient(
        self, point: Mapping[str, Any], threads: int | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """The value and every partial derivative, in order of first appearance.

        With floats, a value or partial that is not finite raises
        EvaluationError. With arrays (many points), value and partials are
        arrays of the points' shape, NaN or infinite where undefined; their
        chunks run on ``threads`` threads (default: the cores this process
        may use), with the same results as on one.
        """
        arrays = False
        for v in point.values():  # a loop: a generator here cost a tenth of a small gradient
            arrays = arrays or not isinstance(v, (int, float))
        if arrays:
            return self._gradient_arrays(point, threads or available_cores())
        if self.definitions:
            self.check_point(point)
        try:
            return self._float_sweep.gradient(point)
        except MissingValueError:
            self.evaluate_all(point)  # an earlier step may fail first, as in evaluate()
            raise

    def _gradient_arrays(
        self, point: Mapping[str, Any], threads: int
    ) -> tuple[Any, dict[str, Any]]:
        """Many points at once: one graph per chunk of points, each node's data an array.

        Chunks keep every intermediate array in the cache; one graph over a
        million points spent most of its time on fresh memory (10x slower).
        A point where some step is not finite gets NaN, value and partials,
        even when the steps above made it finite again (atan(1e308*10)): the
        one-point path refuses it, and the caller can ask that path why.

        Chunks are independent, so several threads take them (numpy lets go
        of the interpreter inside its loops); where chunks start does not
        depend on the threads, so every point's numbers are the same on one.
        """
        import numpy as np

        for name in self.variables:
            if name not in point:
                raise MissingValueError(name)
        inputs = {n: np.asarray(point[n], dtype=float) for n in self.variables}
        # Every array given sets the shape, used by the expression or not:
        # sin(4) over two points is two values.
        shape = np.broadcast_shapes(*(np.shape(a) for a in point.values()))
        flat = {n: np.broadcast_to(a, shape).reshape(-1) for n, a in inputs.items()}
        size = math.prod(shape)
        value = np.empty(size)
        grads = {n: np.empty(size) for n in self.variables}
        chunk = array_chunk(len(self.steps))

        def run(start: int) -> None:
            part = slice(start, start + chunk)
            with np.errstate(all="ignore"):  # per thread: numpy's error state is
                values = self.evaluate_all({n: a[part] for n, a in flat.items()})
                values[-1].backward()
                value[part] = values[-1].data
                for s, v in zip(self.steps, values, strict=True):
                    if s.is_variable:
                        grads[s.text][part] = v.grad
                hidden = _not_finite_inside(values)
                if hidden is not None:  # a value already NaN or infinite says so itself
                    where = np.flatnonzero(hidden & np.isfinite(value[part])) + start
                    value[where] = math.nan
                    for g in grads.values():
                        g[where] = math.nan

        starts = range(0, size, chunk)
        if threads > 1 and len(starts) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with paused_gc(), ThreadPoolExecutor(min(threads, len(starts))) as pool:
                for done in pool.map(run, starts):  # in order; the first error is raised
                    del done
        else:
            for start in starts:
                run(start)
        return value.reshape(shape), {n: g.reshape(shape) for n, g in grads.items()}

    @cached_property
    def _float_sweep(self) -> Tape:
        self._one_output()
        with paused_gc():
            return Tape(self.steps)


# Points per graph on the array path: 2**14..2**16 measured fastest
# (intermediates stay in the cache); benchmarks/pipelines.py. 2**15 also
# measured fastest on two threads (benchmarks/array_path.py); a stream's
# chunk of points (features/points.py) is two such graphs.
ARRAY_CHUNK = 2**15

# The memory a chunk's arrays may take: a large graph gets fewer points per
# chunk (docs/reliability.md). Per node and point, 8 bytes for each of the
# arrays held at the peak of backward(): the node's data, its gradient, the
# shares on their way and the temporaries of a rule (2.9 to 3.4 measured).
ARRAY_BUDGET = 256 * 2**20
ARRAYS_PER_NODE = 4


def available_cores() -> int:
    """The cores this process may run on (its affinity, not the machine's count)."""
    import os

    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def array_chunk(nodes: int) -> int:
    """Points per chunk for a graph of ``nodes`` steps: the fastest, within ARRAY_BUDGET."""
    return max(1, min(ARRAY_CHUNK, ARRAY_BUDGET // (8 * ARRAYS_PER_NODE * max(nodes, 1))))


def _not_finite_inside(values: Sequence[Value]) -> Any:
    """The points where some operation's value is not finite, or None if there are none."""
    import numpy as np

    hidden = None
    for v in values:
        data = v._data
        if v.op is not None and data.__class__ is not float and not np.isfinite(data).all():
            bad = ~np.isfinite(data)
            hidden = bad if hidden is None else hidden | bad
    return hidden


def _as_data(x: Any) -> Any:
    if isinstance(x, int | float):
        return float(x)
    import numpy as np

    return np.asarray(x, dtype=float)


def program(
    steps: Sequence[Step], text: str, definitions: Mapping[str, int], roots: Sequence[int]
) -> Expression:
    """The Expression of a program as built: only the steps its outputs need."""
    if len(roots) == 1 and roots[0] == len(steps) - 1 and all(needed(steps, roots)):
        # Nothing to drop (every formula without unused definitions): no copy.
        return Expression(steps, text, definitions)
    kept, new_index = prune_many(steps, roots)
    used = {n: new_index[i] for n, i in definitions.items() if i in new_index}
    unused = [n for n, i in definitions.items() if i not in new_index]
    outputs = [new_index[r] for r in roots]
    return Expression(kept, text, used, outputs, unused)


__all__ = ["Expression", "program"]
