"""The exceptions autodiff raises: one base class, one type per kind of mistake.

The library raises them with everything a caller needs to explain the problem;
only the command line turns them into messages and exit codes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .safe_text import excerpt, visible


class AutodiffError(Exception):
    """Base of every error autodiff raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as it stands, not rebuilt through __init__ (whose arguments
        # differ from ``args`` in most subclasses): a stream's records are read
        # in a second process (features/read_ahead.py) and their errors sent back.
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(kind: type[AutodiffError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = kind.__new__(kind, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class ExpressionError(AutodiffError):
    """The text is not a valid expression (syntax, unknown name, wrong arity).

    ``column`` and ``line`` are 1-based and point at the offending character.
    """

    def __init__(self, message: str, text: str, column: int, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.column = column
        self.line = line
        self.source: str | None = None  # the file the text came from, when it did

    def __str__(self) -> str:
        return f"{self.message} (line {self.line}, column {self.column})"

    def pointer(self, width: int = 76) -> str:
        """The offending line of the text with a caret under the column.

        Characters a terminal would act on are escaped visibly, and a long
        line is cut to a window of about ``width`` characters around the column.
        """
        return pointer(self.text, self.line, self.column, width)


def pointer(text: str, line: int, column: int, width: int = 76) -> str:
    """Line ``line`` of ``text`` with a caret under ``column`` (both 1-based)."""
    lines = text.split("\n")  # as the parser counts lines: VT and FF do not end one
    source = lines[min(line, len(lines)) - 1]
    column = min(max(column, 1), len(source) + 1)
    start = max(0, column - 1 - width // 2)
    end = start + width
    before = visible(source[start : column - 1])
    shown = before + visible(source[column - 1 : end])
    if start > 0:
        before, shown = "…" + before, "…" + shown
    if end < len(source):
        shown += "…"
    return f"  {shown}\n  {' ' * len(before)}^"


class UsageError(AutodiffError):
    """The call is incomplete or malformed: a missing value, a bad argument.

    When one argument is at fault, ``parameter`` names it as the library does
    (``wrt``, ``step``, ``max_nodes``) and ``detail`` says what is wrong with
    it; the message reads ``step must be positive``. The command line words
    the same error with its own option (``--step must be positive``): only
    the command line speaks of flags.
    """

    def __init__(self, message: str, *, parameter: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.parameter = parameter
        self.detail = detail

    @classmethod
    def argument(cls, parameter: str, detail: str) -> UsageError:
        return cls(f"{parameter} {detail}", parameter=parameter, detail=detail)

    def for_option(self, option: str) -> str:
        """The message, the parameter named as the option ``option`` that sets it."""
        return f"{option} {self.detail}" if self.parameter else str(self)


class MarkedError(UsageError):
    """A usage error at one place of an option's text (``--at L=1±-0.1``): shown with a caret."""

    def __init__(self, message: str, text: str, column: int) -> None:
        super().__init__(message)
        self.text = text
        self.column = column

    def pointer(self) -> str:
        return pointer(self.text, 1, self.column)


class UnknownVariableError(UsageError):
    """A name given as a variable (``wrt``) is not one of the expression's."""

    def __init__(self, name: str, known: Sequence[str], parameter: str = "wrt") -> None:
        listed = ", ".join(known) or "none"
        detail = f"{excerpt(name)}: not a variable of the expression (variables: {listed})"
        super().__init__(f"{parameter} {detail}", parameter=parameter, detail=detail)
        self.name = name
        self.known = tuple(known)


class MissingValueError(UsageError):
    """A variable of the expression has no value at the point.

    ``columns``: the point came from a table with these columns, none of them the name.
    """

    def __init__(self, name: str, columns: Sequence[str] | None = None) -> None:
        message = f"no value for variable '{excerpt(name)}'"
        if columns is not None:
            message += (
                f": the points have no column '{excerpt(name)}' (columns: {', '.join(columns)})"
            )
        super().__init__(message)
        self.name = name
        self.columns = None if columns is None else tuple(columns)


class LimitError(UsageError):
    """The input is larger than a configured limit; ``parameter`` raises it."""

    def __init__(self, detail: str, parameter: str = "") -> None:
        message = f"{detail}; raise the limit with {parameter}=N" if parameter else detail
        super().__init__(message, parameter=parameter, detail=detail)

    def for_option(self, option: str) -> str:
        return f"{self.detail}; raise the limit with {option} N" if self.parameter else str(self)


class OutputError(AutodiffError):
    """The result could not be written: a file-system failure, or Graphviz missing or failing."""


class EvaluationError(AutodiffError):
    """The expression has no finite value or derivative at the point.

    ``kind`` says what failed: ``"value"`` (a primitive's result), or
    ``"derivative"`` (a primitive's local derivative), each with ``op`` the
    primitive's name, ``arguments`` what it got and ``reason`` why;
    ``"partial"`` (a partial of the whole expression, ``op`` its label such
    as ``d/dx``); ``"exact"`` (an exact number in a printed derivative); or
    ``"nowhere"`` (f undefined on a whole interval). Built by the class
    methods below, which word the message.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        op: str = "",
        arguments: Sequence[float] = (),
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.op = op
        self.arguments = tuple(arguments)
        self.reason = reason

    @property
    def derivative(self) -> bool:
        """The failure is in a derivative, not in the value itself."""
        return self.kind in ("derivative", "partial")

    @classmethod
    def of_value(
        cls, op: str, args: Sequence[float], reason: str, symbol: str = ""
    ) -> EvaluationError:
        """``log(-1) is undefined: ...``; an operator reads as written: ``1/0 ...``."""
        message = f"{call_text(op, args, symbol)} {reason}"
        return cls(message, kind="value", op=op, arguments=args, reason=reason)

    @classmethod
    def of_derivative(cls, op: str, args: Sequence[float], reason: str) -> EvaluationError:
        """``the derivative of sqrt at 0 is not finite``."""
        shown = ", ".join(format_number(a) for a in args)
        where = shown if len(args) == 1 else f"({shown})"
        message = f"the derivative of {op} at {where} {reason}"
        return cls(message, kind="derivative", op=op, arguments=args, reason=reason)

    @classmethod
    def not_finite(cls, label: str, noun: str = "partial") -> EvaluationError:
        """A partial of the whole expression (``d/dx``, ``d2/dx2``) is infinite or NaN."""
        return cls(f"the {noun} {label} is not finite", kind="partial", op=label)

    @classmethod
    def division_by_zero(cls) -> EvaluationError:
        return cls("division by zero", kind="value", op="div", reason="is a division by zero")

    @classmethod
    def inexact(cls, message: str) -> EvaluationError:
        """An exact number in a printed derivative has no float (or no value at all)."""
        return cls(message, kind="exact")

    @classmethod
    def nowhere(cls, message: str) -> EvaluationError:
        return cls(message, kind="nowhere")


def check_partials(partials: Mapping[str, float]) -> None:
    """Raise for the first partial d/dname that is infinite or NaN, as every path does."""
    for name, partial in partials.items():
        if not math.isfinite(partial):
            raise EvaluationError.not_finite(f"d/d{name}")


def call_text(op: str, args: Sequence[float], symbol: str = "") -> str:
    """A primitive applied to numbers, as the language writes it: ``log(-1)``,
    ``1/0``, ``(-2)**1.5`` (not -2**1.5, which reads as -(2**1.5))."""
    if symbol and len(args) == 2:
        a, b = (format_number(x) for x in args)
        if symbol == "**" and a.startswith("-"):
            a = f"({a})"
        return f"{a}{symbol}{b}"
    return f"{op}({', '.join(format_number(a) for a in args)})"


def format_number(x: float) -> str:
    """Shortest text that reads back as the same float, without a needless '.0'."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text
