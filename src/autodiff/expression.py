"""Text to Expression, and an Expression evaluated at a point.

An Expression is a flat program in topological order: each step is a leaf
(a variable or a constant, each appearing once) or a primitive applied to
earlier steps. The LALR parser builds it bottom-up while it reduces, so no
recursion grows with the size or the depth of the input.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import ops
from .engine import Value, derivative_error, forward_error, paused_gc
from .errors import EvaluationError, ExpressionError, LimitError, UsageError, format_number
from .ops import Primitive
from .safe_text import excerpt

if TYPE_CHECKING:
    # Lark is imported when the first expression is parsed, not with the
    # package: `autodiff --help` and library users who never parse skip it.
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput


class Step(NamedTuple):
    """One step of the program: a leaf (op is None) or a primitive on earlier steps."""

    op: Primitive | None
    args: tuple[int, ...] = ()
    name: str = ""  # a leaf's variable name or constant literal
    value: float | None = None  # a constant's value; None for a variable

    @property
    def is_variable(self) -> bool:
        return self.op is None and self.value is None


class MissingValueError(UsageError):
    """A variable of the expression has no value at the point."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no value for variable '{excerpt(name)}'")
        self.name = name


class Expression:
    """A parsed formula, independent of any point."""

    def __init__(self, steps: Sequence[Step], text: str | None = None) -> None:
        if not steps:
            raise ValueError("an expression needs at least one step")
        self.steps: tuple[Step, ...] = tuple(steps)
        self.variables: tuple[str, ...] = tuple(s.name for s in self.steps if s.is_variable)
        self.text = text if text is not None else self.format()

    def __repr__(self) -> str:
        return f"Expression({self.format()!r})"

    def __str__(self) -> str:
        return self.format()

    def __len__(self) -> int:
        return len(self.steps)

    def format(self, step: int = -1, limit: int | None = None) -> str:
        """The expression (or the sub-expression at ``step``) in the language's syntax."""
        return format_steps(self.steps, step % len(self.steps), limit)

    def evaluate_all(self, point: Mapping[str, Any]) -> list[Value]:
        """One Value per step, in program order; the last is the result."""
        values: list[Value] = []
        with paused_gc():
            for step in self.steps:
                if step.op is not None:
                    values.append(_apply(step.op, [values[i] for i in step.args]))
                elif step.value is None:
                    if step.name not in point:
                        raise MissingValueError(step.name)
                    values.append(Value(_as_data(point[step.name]), label=step.name))
                else:
                    values.append(Value(step.value, label=step.name, requires_grad=False))
        return values

    def evaluate(self, point: Mapping[str, Any]) -> Value:
        """The graph of Values at ``point``, ready for ``backward()``."""
        return self.evaluate_all(point)[-1]

    def gradient(self, point: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        """The value and every partial derivative, in order of first appearance.

        With floats, a value or partial that is not finite raises
        EvaluationError. With arrays (many points), value and partials are
        arrays of the points' shape, NaN or infinite where undefined.
        """
        arrays = False
        for v in point.values():  # a loop: a generator here cost a tenth of a small gradient
            arrays = arrays or not isinstance(v, (int, float))
        if arrays:
            return self._gradient_arrays(point)
        try:
            return self._float_sweep.gradient(point)
        except MissingValueError:
            self.evaluate_all(point)  # an earlier step may fail first, as in evaluate()
            raise

    def _gradient_arrays(self, point: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Many points at once: one graph per chunk of points, each node's data an array.

        Chunks keep every intermediate array in the cache; one graph over a
        million points spent most of its time on fresh memory (10x slower).
        A point where some step is not finite gets NaN, value and partials,
        even when the steps above made it finite again (atan(1e308*10)): the
        one-point path refuses it, and the caller can ask that path why.
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
        with np.errstate(all="ignore"):
            for start in range(0, size, chunk):
                part = slice(start, start + chunk)
                values = self.evaluate_all({n: a[part] for n, a in flat.items()})
                values[-1].backward()
                value[part] = values[-1].data
                for s, v in zip(self.steps, values, strict=True):
                    if s.is_variable:
                        grads[s.name][part] = v.grad
                hidden = _not_finite_inside(values)
                if hidden is not None:  # a value already NaN or infinite says so itself
                    where = np.flatnonzero(hidden & np.isfinite(value[part])) + start
                    value[where] = math.nan
                    for g in grads.values():
                        g[where] = math.nan
        return value.reshape(shape), {n: g.reshape(shape) for n, g in grads.items()}

    @cached_property
    def _float_sweep(self) -> _FloatSweep:
        with paused_gc():
            return _FloatSweep(self.steps)


# Points per graph on the array path: 2**14..2**16 measured fastest
# (intermediates stay in the cache); benchmarks/pipelines.py.
ARRAY_CHUNK = 2**15

# The memory a chunk's arrays may take: a large graph gets fewer points per
# chunk (docs/reliability.md). Per node and point, 8 bytes for each of the
# arrays held at the peak of backward(): the node's data, its gradient, the
# shares on their way and the temporaries of a rule (2.9 to 3.4 measured).
ARRAY_BUDGET = 256 * 2**20
ARRAYS_PER_NODE = 4


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


class _FloatSweep:
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
        constant = [s.op is None and s.value is not None for s in steps]
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
            if not math.isfinite(partial):
                raise EvaluationError(
                    f"d/d{name}", [], "", message=f"the partial d/d{name} is not finite"
                )
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


def _as_data(x: Any) -> Any:
    if isinstance(x, int | float):
        return float(x)
    import numpy as np

    return np.asarray(x, dtype=float)


def _apply(op: Primitive, inputs: list[Value]) -> Value:
    from .engine import apply

    return apply(op, *inputs)


# -- parsing ----------------------------------------------------------------


# A node costs about 0.4 KiB at the peak of parse, evaluate and backward: ten
# million peaked at 4.2 GB (docs/reliability.md); a bigger input fails early
# with a clear message instead of exhausting memory.
MAX_NODES = 10_000_000


def parse(text: str, max_nodes: int | None = MAX_NODES) -> Expression:
    """Parse ``text`` in the expression language (see docs/language.md).

    More than ``max_nodes`` steps (None: no limit) raises LimitError.
    """
    return _Parser.instance().parse(text, max_nodes)


def grammar_path() -> Path:
    """The grammar: inside the installed package, or at the top of a checkout."""
    packaged = Path(__file__).parent / "grammars" / "expr.lark"
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "grammars" / "expr.lark"


class _Builder:
    """Appends one step per reduction; each callback returns the new step's index.

    Lark's LALR parser calls the method named after each rule's alias; a
    plain class serves (no lark.Transformer base, so no lark import here).
    """

    def __init__(self) -> None:
        self.reset("")

    def reset(self, text: str, max_nodes: int | None = None) -> None:
        self.text = text
        self.max_nodes = max_nodes
        self.steps: list[Step] = []
        self.leaves: dict[tuple[str, str], int] = {}

    def _leaf(self, kind: str, name: str, value: float | None) -> int:
        key = (kind, name)
        if key not in self.leaves:
            self._check_size()
            self.leaves[key] = len(self.steps)
            self.steps.append(Step(None, (), name, value))
        return self.leaves[key]

    def _op(self, op: Primitive, *args: int) -> int:
        self._check_size()
        self.steps.append(Step(op, args))
        return len(self.steps) - 1

    def _check_size(self) -> None:
        if self.max_nodes is not None and len(self.steps) >= self.max_nodes:
            raise LimitError(
                f"the expression has more than {self.max_nodes:,} nodes, the limit;"
                " raise it with --max-nodes N"
            )

    def _error(self, message: str, token: Token) -> ExpressionError:
        return ExpressionError(message, self.text, token.column or 1, token.line or 1)

    def number(self, children: list[Token]) -> int:
        (token,) = children
        value = float(token)
        if not math.isfinite(value):
            raise self._error(f"the number {excerpt(token)} is too large", token)
        return self._leaf("const", str(token), value)

    def name(self, children: list[Token]) -> int:
        (token,) = children
        if token in ops.CONSTANTS:
            return self._leaf("const", str(token), ops.CONSTANTS[token])
        if token in ops.FUNCTIONS:
            example = ", ".join("xyz"[: ops.FUNCTIONS[token].arity])
            raise self._error(f"'{token}' is a function: call it, as in {token}({example})", token)
        return self._leaf("var", str(token), None)

    def call(self, children: list[Any]) -> int:
        token, *args = children
        name = str(token)
        if name in ops.CONSTANTS:
            raise self._error(f"'{excerpt(name)}' is a constant, not a function", token)
        op = ops.FUNCTIONS.get(name)
        if op is None:
            known = ", ".join(sorted(ops.FUNCTIONS))
            raise self._error(
                f"unknown function '{excerpt(name)}' (functions: {known});"
                f" for a product write {excerpt(name)}*(...)",
                token,
            )
        if len(args) != op.arity:
            plural = "argument" if op.arity == 1 else "arguments"
            raise self._error(f"{name} takes {op.arity} {plural}, got {len(args)}", token)
        return self._op(op, *args)

    def add(self, c: list[int]) -> int:
        return self._op(ops.ADD, c[0], c[1])

    def sub(self, c: list[int]) -> int:
        return self._op(ops.SUB, c[0], c[1])

    def mul(self, c: list[int]) -> int:
        return self._op(ops.MUL, c[0], c[1])

    def div(self, c: list[int]) -> int:
        return self._op(ops.DIV, c[0], c[1])

    def pow(self, c: list[Any]) -> int:
        return self._op(ops.POW, c[0], c[2])  # c[1] is the ** or ^ token

    def neg(self, c: list[int]) -> int:
        return self._op(ops.NEG, c[0])

    def pos(self, c: list[int]) -> int:
        return c[0]


def _lark(builder: _Builder) -> Lark:
    """The LALR parser: the tables shipped in the package, or built afresh.

    Never Lark's ``cache=True``: it unpickles a file from the shared temporary
    directory, which another local user can plant (docs/reliability.md,
    "Threat model"). The shipped tables are plain literals; they are used when
    they were generated from this very grammar (grammars/compile.py), and a
    grammar edited in a checkout is built in memory instead.
    """
    from lark import Lark

    from . import grammar_tables

    grammar = grammar_path().read_text(encoding="utf-8")
    if hashlib.sha256(grammar.encode("utf-8")).hexdigest() == grammar_tables.GRAMMAR_SHA256:
        try:
            # The loader of Lark's own standalone parsers; untyped in Lark.
            loaded: Lark = Lark._load_from_dict(  # type: ignore[no-untyped-call]
                grammar_tables.DATA, grammar_tables.MEMO, transformer=builder
            )
            return loaded
        except Exception:
            pass  # tables of another Lark release: build them
    return Lark(grammar, parser="lalr", transformer=builder, maybe_placeholders=False)


# Sample mistakes, matched to a failing input by parser state: Lark's
# example-driven error reporting, instead of hand-written state tables.
_MISTAKES: dict[str, list[str]] = {
    "missing ')'": ["(x", "sin(x", "(x+1", "((x)", "pow(x, 2"],
    "an operator with no right operand": [
        *("x+", "x-", "x*", "x/", "x**", "x^", "-", "+", "(x+"),
        *("(x+)", "(x-)", "(x*)", "(x/)", "(x**)", "(-)"),
    ],
    "an operator with no left operand": ["*x", "x+*y", "/x", "**x", "(*x", "x^*y", "^x"],
    "unmatched ')'": ["x)", "(x))", ")", "x+1)"],
    "empty parentheses": ["()", "x*()"],
    "a comma outside a function call": ["x,y", "(x,y)", ",", "x+(1,2)"],
    "the expression is empty": [""],
}

_READABLE = {"NUMBER": "a number", "NAME": "a name", "$END": "end of input", "POW": "'**'"}


class _Parser:
    _instance: _Parser | None = None

    def __init__(self) -> None:
        from lark.exceptions import UnexpectedInput

        self.unexpected_input = UnexpectedInput
        self.builder = _Builder()
        self.lark = _lark(self.builder)
        self.lock = threading.Lock()

    @classmethod
    def instance(cls) -> _Parser:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def parse(self, text: str, max_nodes: int | None = None) -> Expression:
        with self.lock:
            self.builder.reset(text, max_nodes)
            try:
                with paused_gc():  # a step per reduction: see paused_gc
                    self.lark.parse(text)
            except self.unexpected_input as err:
                raise self._syntax_error(err, text) from None
            finally:
                steps = self.builder.steps
                self.builder.reset("")
        return Expression(steps, text)

    def _probe(self, text: str) -> Any:
        self.builder.reset(text)
        return self.lark.parse(text)

    def _syntax_error(self, err: UnexpectedInput, text: str) -> ExpressionError:
        from lark.exceptions import UnexpectedCharacters, UnexpectedToken

        line, column = err.line, err.column
        if isinstance(err, UnexpectedToken) and err.token.type == "$END":
            lines = text.splitlines() or [""]
            line, column = len(lines), len(lines[-1]) + 1
        if not isinstance(line, int) or line < 1:
            line, column = 1, 1
        if isinstance(err, UnexpectedCharacters):
            message = f"unexpected character {err.char!r}"
            hint = _CHARACTER_HINTS.get(err.char)
            return ExpressionError(f"{message}: {hint}" if hint else message, text, column, line)
        assert isinstance(err, UnexpectedToken)
        before = _previous_char(text, err.token.start_pos if err.token.type != "$END" else None)
        if _is_implicit_product(err.token.type, before):
            left = _previous_word(text, err.token.start_pos)
            word = excerpt(str(err.token))
            fix = f"write {excerpt(left)}*{word}" if left else "put '*' between the factors"
            return ExpressionError(
                f"missing operator before '{word}': {fix} (products need an explicit '*')",
                text,
                column,
                line,
            )
        label = self._mistake(err)
        expected = ", ".join(sorted(_READABLE.get(t, self._terminal(t)) for t in err.expected))
        found = "end of input" if err.token.type == "$END" else repr(excerpt(str(err.token)))
        message = f"{label}: " if label else ""
        return ExpressionError(
            f"{message}unexpected {found}; expected {expected}", text, column, line
        )

    def _mistake(self, err: Any) -> str | None:
        """The mistake whose sample fails in the same parser state on the same kind of token.

        Not Lark's match_examples: it also compares the depth of the parser's
        stack, and falls back to a sample that failed on another token, so
        "2*(x" was called "a comma outside a function call".
        """
        from lark.exceptions import UnexpectedInput, UnexpectedToken

        for label, samples in _MISTAKES.items():
            for sample in samples:
                try:
                    self._probe(sample)
                except UnexpectedToken as probe:
                    if (
                        probe.state.position == err.state.position
                        and probe.token.type == err.token.type
                    ):
                        return label
                except UnexpectedInput:
                    continue
        return None

    def _terminal(self, name: str) -> str:
        try:
            pattern = self.lark.get_terminal(name).pattern.value
        except KeyError:
            return name
        return repr(pattern)


_CHARACTER_HINTS = {
    "=": "assignments are not part of the language; give values with --at NAME=VALUE",
    ";": "write one expression at a time",
    '"': "strings are not part of the language",
    "'": "strings are not part of the language",
    ".": "attribute access is not part of the language",
}


def _is_implicit_product(token_type: str, before: str) -> bool:
    """``4x``, ``2(x+1)``, ``x y``, ``(a)(b)``: two factors side by side."""
    factor_end = before.isalnum() or before in "_)"
    if token_type in ("NAME", "LPAR"):
        return factor_end and not (token_type == "LPAR" and before.isalpha())
    return token_type == "NUMBER" and (before.isalpha() or before in "_)")


def _previous_char(text: str, position: int | None) -> str:
    end = len(text) if position is None else position
    stripped = text[:end].rstrip()
    return stripped[-1] if stripped else ""


def _previous_word(text: str, position: int) -> str:
    stripped = text[:position].rstrip()
    start = len(stripped)
    while start > 0 and (stripped[start - 1].isalnum() or stripped[start - 1] in "_."):
        start -= 1
    word = stripped[start:]
    return word if (word and not word[0].isdigit()) or word.replace(".", "").isdigit() else ""


# -- printing ---------------------------------------------------------------

_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_INFIX = {"add": " + ", "sub": " - ", "mul": "*", "div": "/", "pow": "**"}
_ATOM = 5


def _precedence(step: Step) -> int:
    if step.op is None:
        return 3 if step.name.startswith("-") else _ATOM
    return _PRECEDENCE.get(step.op.name, _ATOM)


Piece = str | tuple[int, bool]  # literal text, or (input step, wrapped in parentheses)


def layout(steps: Sequence[Step], step: Step) -> list[Piece]:
    """How an operation prints: literal text around its inputs, each maybe in parentheses.

    The one place that knows precedence and associativity when printing.
    """
    assert step.op is not None
    name = step.op.name
    mine = _precedence(step)
    if name in ("add", "sub", "mul", "div"):
        left, right = step.args
        return [
            (left, _precedence(steps[left]) < mine),
            _INFIX[name],
            (right, _precedence(steps[right]) <= mine),  # a - (b - c) keeps its parentheses
        ]
    if name == "pow":
        base, exponent = step.args
        return [
            (base, _precedence(steps[base]) <= mine),
            "**",
            (exponent, _precedence(steps[exponent]) < 3),  # the exponent is a unary
        ]
    if name == "neg":
        (operand,) = step.args
        return ["-", (operand, _precedence(steps[operand]) < 3)]
    pieces: list[Piece] = [name + "("]
    for k, arg in enumerate(step.args):
        if k:
            pieces.append(", ")
        pieces.append((arg, False))
    pieces.append(")")
    return pieces


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def format_steps(steps: Sequence[Step], root: int, limit: int | None = None) -> str:
    """Print a program back as text, with only the parentheses it needs.

    An explicit stack of pieces (text, or a step still to print) instead of
    recursion; with ``limit`` it stops early and ends with an ellipsis.
    """
    pieces: list[str] = []
    size = 0
    stack: list[str | int] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            pieces.append(item)
            size += len(item)
            if limit is not None and size > limit:
                return _cut("".join(pieces), limit)
            continue
        step = steps[item]
        if step.op is None:
            stack.append(step.name)
            continue
        for part in reversed(layout(steps, step)):
            if isinstance(part, tuple):
                index, wrap = part
                stack.extend([")", index, "("] if wrap else [index])
            else:
                stack.append(part)
    return "".join(pieces)


def format_all(steps: Sequence[Step], limit: int) -> list[str]:
    """What ``format_steps(steps, i, limit)`` prints, for every step i, in linear time.

    Printing each step afresh walks its whole sub-expression: quadratic on a
    long chain. Each text here is assembled from its inputs' texts, already
    cut to ``limit + 1`` characters, which is all a cut text can show.
    """
    texts: list[str] = []
    for step in steps:
        if step.op is None:
            texts.append(step.name[: limit + 1])
            continue
        text = ""
        for piece in layout(steps, step):
            if isinstance(piece, str):
                text += piece
            else:
                index, wrap = piece
                text += f"({texts[index]})" if wrap else texts[index]
            if len(text) > limit:
                break
        texts.append(text[: limit + 1])
    return [_cut(text, limit) for text in texts]


def constant_value(text: str) -> float:
    """The value of a constant expression such as ``pi/2`` or ``2**0.5``."""
    expression = parse(text)
    if expression.variables:
        raise UsageError(
            f"'{excerpt(text)}' is not a number (it names {excerpt(expression.variables[0])!r})"
        )
    return float(expression.evaluate({}).data)


def iter_variables(expressions: Iterable[Expression]) -> list[str]:
    """Every variable of several expressions, in order of first appearance."""
    seen: dict[str, None] = {}
    for expression in expressions:
        seen.update(dict.fromkeys(expression.variables))
    return list(seen)


__all__ = ["Expression", "MissingValueError", "Step", "format_number", "parse"]
