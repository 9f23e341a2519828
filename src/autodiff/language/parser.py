"""Text to Expression: the grammar, the builder and syntax errors that say where.

Layer 4, above the Expression it builds. The LALR parser builds the program
bottom-up while it reduces, so no recursion grows with the size or the depth
of the input.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..core import ops
from ..core.engine import paused_gc
from ..core.errors import AutodiffError, ExpressionError, LimitError, UsageError
from ..core.expression import Expression, program
from ..core.ops import Primitive
from ..core.program import Step
from ..core.safe_text import excerpt
from .lalr import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

if TYPE_CHECKING:
    from .lalr import Tables, Token


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
    package = Path(__file__).resolve().parents[1]  # src/autodiff, or autodiff when installed
    packaged = package / "grammars" / "expr.lark"
    if packaged.exists():
        return packaged
    return package.parents[1] / "grammars" / "expr.lark"


class _Builder:
    """Appends one step per reduction; each callback returns the new step's index.

    The LALR parser (lalr.py) calls the method named after each rule's alias,
    as Lark's would; a plain class serves.
    A definition is reduced before the next statement is read, so a name
    means its definition from the statement after it on.
    """

    def __init__(self) -> None:
        self.reset("")

    def reset(self, text: str, max_nodes: int | None = None) -> None:
        self.text = text
        self.max_nodes = max_nodes
        self.steps: list[Step] = []
        self.leaves: dict[tuple[str, str], int] = {}
        self.definitions: dict[str, int] = {}  # name -> the step it names
        self.defined_at: dict[str, tuple[int, int]] = {}  # name -> (line, column)
        self.first_use: dict[str, Token] = {}  # variable -> where it is first used
        self.last: _Statement | None = None  # the last statement so far, and where it starts
        self.last_begin = 0
        self.program: Expression | None = None

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
            raise LimitError(f"the expression has more than {self.max_nodes:,} nodes", "max_nodes")

    def _error(self, message: str, token: Token) -> ExpressionError:
        return ExpressionError(message, self.text, token.column or 1, token.line or 1)

    def number(self, children: list[Token]) -> int:
        (token,) = children
        value = float(token)
        if not math.isfinite(value):
            raise self._error(f"the number {excerpt(token)} is too large", token)
        return self._leaf("constant", str(token), value)

    def name(self, children: list[Token]) -> int:
        (token,) = children
        defined = self.definitions.get(token)
        if defined is not None:
            return defined
        if token in ops.CONSTANTS:
            return self._leaf("constant", str(token), ops.CONSTANTS[token])
        if token in ops.FUNCTIONS or token in ops.ALIASES:
            example = ", ".join("xyz"[: ops.FUNCTIONS[ops.ALIASES.get(token, token)].arity])
            raise self._error(f"'{token}' is a function: call it, as in {token}({example})", token)
        self.first_use.setdefault(str(token), token)
        return self._leaf("variable", str(token), None)

    def call(self, children: list[Any]) -> int:
        token, *args = children
        name = ops.ALIASES.get(str(token), str(token))
        if name in ops.CONSTANTS:
            raise self._error(f"'{excerpt(name)}' is a constant, not a function", token)
        op = ops.FUNCTIONS.get(name)
        if op is None and name in _FUNCTION_HINTS:
            raise self._error(f"unknown function '{name}': write {_FUNCTION_HINTS[name]}", token)
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

    # -- statements ---------------------------------------------------------

    def define(self, children: list[Any]) -> _Statement:
        token, index = children
        name = str(token)
        if name in ops.FUNCTIONS or name in ops.ALIASES or name in ops.CONSTANTS:
            kind = "constant" if name in ops.CONSTANTS else "function"
            raise self._error(f"'{name}' is a {kind}: a definition needs a name of its own", token)
        if name in self.defined_at:
            line, column = self.defined_at[name]
            raise self._error(
                f"'{name}' is defined twice (first at line {line}, column {column})", token
            )
        if name in self.first_use:
            use = self.first_use[name]
            if (use.line, use.column) > (token.line, token.column):
                raise self._error(f"'{name}' is used in its own definition", use)
            raise self._error(
                f"'{name}' is used before it is defined (defined at line {token.line},"
                f" column {token.column}): define it in an earlier statement",
                use,
            )
        step = self.steps[index]
        if step.op is None and step.constant is not None:
            # c = 2 names a node of its own: another 2 in the program stays a plain 2.
            self._check_size()
            self.steps.append(step)
            index = len(self.steps) - 1
        self.definitions[name] = index
        self.defined_at[name] = (token.line or 1, token.column or 1)
        return _Statement((index,), name)

    def outputs(self, children: list[int]) -> _Statement:
        return _Statement(tuple(children), None)

    def first(self, children: list[Any]) -> None:
        self._statement(children, 0)

    def more(self, children: list[Any]) -> None:
        # children: the statements so far (None), the separator, maybe a statement
        separator = next(c for c in children if c is not None and not isinstance(c, _Statement))
        self._statement(children, separator.end_pos)

    def _statement(self, children: list[Any], begin: int) -> None:
        """The next statement (if not empty), which starts after ``begin``."""
        statement = next((c for c in children if isinstance(c, _Statement)), None)
        if statement is None:
            return
        if self.last is not None and self.last.name is None:
            rest = self.text[self.last_begin :]
            start = self.last_begin + len(rest) - len(rest.lstrip())
            raise ExpressionError(
                "only the last statement is the output: name this one (NAME = ...)"
                " or remove it; to continue a formula on the next line,"
                " end the line with its operator",
                self.text,
                *_column_line(self.text, start),
            )
        self.last, self.last_begin = statement, begin

    def start(self, children: list[Any]) -> None:
        """The whole program: its last statement gives the outputs."""
        if self.last is None:
            empty = not self.text.strip()
            message = (
                "the expression is empty"
                if empty
                else "the program has no output: end it with an expression or a definition"
            )
            raise ExpressionError(message, self.text, *_column_line(self.text, len(self.text)))
        self.program = program(self.steps, self.text, self.definitions, self.last.roots)


# Functions people expect that the table spells otherwise.
_FUNCTION_HINTS = {
    "log10": "log(x)/log(10)",
    "lg": "log(x)/log(10)",
    "log2": "log(x)/log(2)",
    "arcsin": "asin(x)",
    "arccos": "acos(x)",
    "arctan": "atan(x)",
    "max": "relu(a - b) + b for max(a, b)",
    "min": "b - relu(b - a) for min(a, b)",
}

# Operators as the docs, web pages and word processors print them: the minus
# sign U+2212, the multiplication signs and the division sign read as ASCII.
# One character for one, so every column of an error stays where it was.
_SPELLINGS = str.maketrans(
    {"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u00f7": "/"}
)


class _Statement(NamedTuple):
    roots: tuple[int, ...]  # the steps it outputs (a definition: the one it names)
    name: str | None  # a definition's name


def _column_line(text: str, position: int) -> tuple[int, int]:
    before = text[:position]
    line = before.count("\n") + 1
    return position - (before.rfind("\n") + 1) + 1, line


class _LineEnds:
    """The postlexer: a line end inside parentheses or after an operator is a space.

    So a formula continues on the next line where it visibly cannot end (``x +``
    or a function's name at a line end, an open parenthesis), and a line end
    elsewhere ends a statement, as ``;`` does.
    """

    always_accept = ()
    _CONTINUE = frozenset(
        {"PLUS", "MINUS", "STAR", "SLASH", "POW", "LPAR", "COMMA", "EQUAL", "FUNCTION"}
    )

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        previous = "SEP"
        for token in stream:
            kind = token.type
            if kind == "SEP" and token == "\n" and (depth or previous in self._CONTINUE):
                continue
            if kind == "NAME" and token in ops.FUNCTIONS:
                kind = "FUNCTION"
            if kind == "LPAR":
                depth += 1
            elif kind == "RPAR":
                depth = max(depth - 1, 0)
            previous = kind
            yield token


def _tables(builder: _Builder) -> Tables:
    """The LALR tables shipped in the package, run by lalr.py; built by Lark
    afresh only where the grammar was edited after compiling.

    Never Lark's ``cache=True``: it unpickles a file from the shared temporary
    directory, which another local user can plant (docs/reliability.md,
    "Threat model"). The shipped tables are plain literals; they are used when
    they were generated from this very grammar (grammars/compile.py), and a
    grammar edited in a checkout is compiled in memory instead.
    """
    from . import grammar_tables
    from .lalr import Tables

    try:
        grammar = grammar_path().read_text(encoding="utf-8")
    except OSError:  # no grammar beside the code (src/ copied alone): the tables hold it
        grammar = grammar_tables.GRAMMAR
    if grammar == grammar_tables.GRAMMAR:
        return Tables(grammar_tables.DATA, grammar_tables.MEMO, builder)
    from lark import Lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    # The options grammars/compile.py compiles with.
    compiled = Lark(grammar, parser="lalr", lexer="basic", maybe_placeholders=False)
    data, memo = compiled.memo_serialize([TerminalDef, Rule])
    return Tables(data, memo, builder)


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
    "a comma outside a function call": ["(x,y)", ",", "x+(1,2)"],
}

_READABLE = {
    "NUMBER": "a number",
    "NAME": "a name",
    "$END": "end of input",
    "POW": "'**'",
    "SEP": "';' or a line end",
}


class _Parser:
    _instance: _Parser | None = None

    def __init__(self) -> None:
        self.builder = _Builder()
        self.tables = _tables(self.builder)
        self.line_ends = _LineEnds()
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
                    self._run(text.translate(_SPELLINGS))
            except UnexpectedInput as err:
                raise self._syntax_error(err, text) from None
            finally:
                built = self.builder.program
                self.builder.reset("")
        assert built is not None
        return built

    def _run(self, text: str) -> Any:
        return self.tables.parse(self.line_ends.process(self.tables.tokens(text)))

    def _probe(self, text: str) -> Any:
        self.builder.reset(text)
        return self._run(text)

    def _syntax_error(self, err: UnexpectedInput, text: str) -> ExpressionError:
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
            if left in ops.FUNCTIONS or left in ops.ALIASES:
                return ExpressionError(
                    f"missing parentheses: write {left}({word}) (a function's argument goes in"
                    " parentheses)",
                    text,
                    column,
                    line,
                )
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
                except (UnexpectedInput, AutodiffError):
                    continue
        return None

    def _terminal(self, name: str) -> str:
        pattern = self.tables.patterns.get(name)
        return name if pattern is None else repr(pattern)


_CHARACTER_HINTS = {
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


def constant_value(text: str) -> float:
    """The value of a constant expression such as ``pi/2`` or ``2**0.5``."""
    expression = parse(text)
    if expression.variables:
        raise UsageError(
            f"'{excerpt(text)}' is not a number (it names {excerpt(expression.variables[0])!r})"
        )
    return float(expression.evaluate({}).data)
