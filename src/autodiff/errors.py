"""The exceptions autodiff raises: one base class, one type per kind of mistake.

The library raises them with everything a caller needs to explain the problem;
only the command line turns them into messages and exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence

from .safe_text import visible


class AutodiffError(Exception):
    """Base of every error autodiff raises on purpose."""


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

    def __str__(self) -> str:
        return f"{self.message} (line {self.line}, column {self.column})"

    def pointer(self, width: int = 76) -> str:
        """The offending line of the text with a caret under the column.

        Characters a terminal would act on are escaped visibly, and a long
        line is cut to a window of about ``width`` characters around the column.
        """
        lines = self.text.split("\n")  # as the parser counts lines: VT and FF do not end one
        source = lines[min(self.line, len(lines)) - 1]
        column = min(max(self.column, 1), len(source) + 1)
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
    """The call is incomplete or malformed: a missing value, a bad option."""


class LimitError(UsageError):
    """The input is larger than a configured limit."""


class OutputError(AutodiffError):
    """The result could not be written: a file-system failure, or Graphviz missing or failing."""


class EvaluationError(AutodiffError):
    """The expression has no finite value or derivative at the point.

    ``op`` names the function, ``arguments`` are the arguments it got, and
    ``derivative`` tells whether the value or its derivative failed.
    """

    def __init__(
        self,
        op: str,
        args: Sequence[float],
        reason: str,
        *,
        derivative: bool = False,
        message: str | None = None,
        symbol: str = "",
    ) -> None:
        self.op = op
        self.arguments = tuple(args)
        self.reason = reason
        self.derivative = derivative
        override = message
        shown = ", ".join(format_number(a) for a in self.arguments)
        if derivative:
            where = shown if len(self.arguments) == 1 else f"({shown})"
            message = f"the derivative of {op} at {where} {reason}"
        elif symbol and len(self.arguments) == 2:
            a, b = (format_number(x) for x in self.arguments)
            if symbol == "**" and a.startswith("-"):
                a = f"({a})"  # -2**1.5 would read as -(2**1.5)
            message = f"{a}{symbol}{b} {reason}"
        else:
            message = f"{op}({shown}) {reason}"
        super().__init__(message if override is None else override)


def format_number(x: float) -> str:
    """Shortest text that reads back as the same float, without a needless '.0'."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text
