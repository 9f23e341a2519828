"""Every output of a program at a point: its value and its partials, the Jacobian.

Reverse mode, one row at a time: the program is evaluated once as a graph of
the engine's Values, so a sub-expression the outputs share (a defined name,
``r = sqrt(x**2 + y**2); r, atan(y/x)``) is computed once; then one
``backward()`` per output over that graph reads its row. A program of one
output gives one row, the numbers ``gradient_at`` gives.

Many points (``chunk_jacobian``) take the array path of ``features.points``
once per output: each output's own program (``Expression.output``) over the
chunk, so there the shared steps are evaluated once per output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.engine import Value
from ..core.errors import (
    AutodiffError,
    EvaluationError,
    MissingValueError,
    UnknownVariableError,
    check_partials,
)
from ..core.expression import Expression
from ..core.safe_text import excerpt

if TYPE_CHECKING:  # numpy and the reader load only with a stream of points
    from .points import PointChunk


@dataclass(frozen=True)
class Jacobian:
    """The outputs of a program at a point: row k is output k, column j variable j."""

    expr: str
    at: dict[str, float]  # the point, for the program's variables only
    outputs: tuple[str, ...]  # each output as the last statement says it
    variables: tuple[str, ...]  # the columns: every variable, or those of ``wrt``
    value: tuple[float, ...]  # one per output
    jacobian: tuple[tuple[float, ...], ...]  # d output k / d variables[j]


def columns_of(expression: Expression, wrt: Iterable[str] = ()) -> tuple[str, ...]:
    """The names of the columns: ``wrt`` in its order (each once), else every variable.

    A name the program defines is allowed (d output / d name, the others held
    fixed); any other name is an UnknownVariableError.
    """
    names = tuple(dict.fromkeys(wrt))
    for name in names:
        if name not in expression.variables and name not in expression.definitions:
            raise UnknownVariableError(name, [*expression.variables, *expression.definitions])
    return names or expression.variables


def jacobian_at(
    expression: Expression, point: Mapping[str, float], wrt: Iterable[str] = ()
) -> Jacobian:
    """The value of each output and its partials at ``point`` (columns: see ``columns_of``).

    One evaluation, then one backward pass per output. A value or partial
    that is not finite raises EvaluationError, its message naming the output
    (``output 2 (1/x): 1/0 is undefined: ...``); a variable without a value
    raises MissingValueError.
    """
    names = columns_of(expression, wrt)
    steps = expression.steps
    variables = [i for i, s in enumerate(steps) if s.is_variable]
    where = {steps[i].text: i for i in variables}
    where.update({n: i for n, i in expression.definitions.items() if n not in where})
    columns = [where[name] for name in names]
    texts = expression.output_texts()
    values = _evaluate(expression, point, texts)
    read = [values[i] for i in dict.fromkeys([*variables, *columns])]
    rows: list[tuple[float, ...]] = []
    results: list[float] = []
    for k, index in enumerate(expression.outputs):
        # backward() resets the nodes its output reaches; a variable it does
        # not reach still holds the last pass's gradient: 0 for this output.
        for node in read:
            node.grad = 0.0
        out = values[index]
        try:
            out.backward()
            check_partials({steps[i].text: values[i].grad for i in variables})
            check_partials({name: values[i].grad for name, i in zip(names, columns, strict=True)})
        except EvaluationError as error:
            raise named(k, texts[k], error) from None
        results.append(float(out.data))
        rows.append(tuple(float(values[i].grad) for i in columns))
    at = {name: float(point[name]) for name in expression.variables}
    return Jacobian(expression.text, at, tuple(texts), names, tuple(results), tuple(rows))


def _evaluate(expression: Expression, point: Mapping[str, float], texts: list[str]) -> list[Value]:
    """Every step's Value at ``point``; a step that fails is blamed on the first output
    that fails (each output's own program is evaluated again, on this path only)."""
    try:
        return expression.evaluate_steps(point)
    except EvaluationError as error:
        if len(expression.outputs) == 1:
            raise named(0, texts[0], error) from None
        for k in range(len(expression.outputs)):
            try:
                expression.output(k).evaluate_steps(point)
            except EvaluationError as own:
                raise named(k, texts[k], own) from None
            except MissingValueError:
                continue  # this output fails later, for want of a value
        raise


def named(k: int, text: str, error: EvaluationError) -> EvaluationError:
    """``error`` with its message saying which output (counted from 1) it is about."""
    return EvaluationError(
        f"output {k + 1} ({excerpt(text)}): {error}",
        kind=error.kind,
        op=error.op,
        arguments=error.arguments,
        reason=error.reason,
    )


def backward_visits(expression: Expression, limit: int) -> int:
    """The values the backward passes visit, one pass per output over the values it
    depends on; counted before any pass runs, and only until the count passes ``limit``."""
    steps = expression.steps
    total = 0
    for root in expression.outputs:
        seen = {root}
        stack = [root]
        while stack and total + len(seen) <= limit:
            for a in steps[stack.pop()].args:
                if a not in seen:
                    seen.add(a)
                    stack.append(a)
        total += len(seen)
        if total > limit:
            break
    return total


# -- many points --------------------------------------------------------------------


@dataclass
class ChunkJacobian:
    """A chunk's values and partials: ``value[k]`` is output k's array over the
    chunk, ``jacobian[k][j]`` its partial by column j. Failed records are in
    ``errors``: a record fails when it cannot be read or some output fails there."""

    value: list[Any]
    jacobian: list[list[Any]]
    errors: dict[int, AutodiffError]


def chunk_jacobian(
    parts: Sequence[Expression],
    texts: Sequence[str],
    columns: Sequence[str],
    chunk: PointChunk,
    threads: int | None = None,
) -> ChunkJacobian:
    """Every output's value and partials at each point of ``chunk``, as arrays.

    ``parts``: each output's own program (``Expression.output(k)``), in order,
    and ``texts`` how each is named in messages; ``columns``: variables of the
    whole program. A column an output does not use is 0. A record's error is
    the first output's that fails there.
    """
    import numpy as np

    from .points import gradient

    size = len(chunk)
    errors: dict[int, AutodiffError] = dict(chunk.errors)
    value: list[Any] = []
    jacobian: list[list[Any]] = []
    for k, part in enumerate(parts):
        result = gradient(part, chunk, threads)
        for i, error in sorted(result.errors.items()):
            if i not in errors:
                if isinstance(error, EvaluationError):
                    error = named(k, texts[k], error)
                errors[i] = error
        value.append(result.value)
        zeros = None
        row = []
        for name in columns:
            partial = result.grad.get(name)
            if partial is None:
                zeros = np.zeros(size) if zeros is None else zeros
                partial = zeros
            row.append(partial)
        jacobian.append(row)
    return ChunkJacobian(value, jacobian, errors)


__all__ = [
    "ChunkJacobian",
    "Jacobian",
    "backward_visits",
    "chunk_jacobian",
    "columns_of",
    "jacobian_at",
    "named",
]
