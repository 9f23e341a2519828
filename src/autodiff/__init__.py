"""autodiff: reverse-mode automatic differentiation of expressions.

>>> from autodiff import parse
>>> parse("4*x**2 - 2*x + 5").gradient({"x": 3})
(35.0, {'x': 22.0})
"""

from .engine import Value
from .errors import AutodiffError, EvaluationError, ExpressionError, LimitError, UsageError
from .expression import Expression, parse
from .render.graph import draw

__version__ = "0.1.0"

__all__ = [
    "AutodiffError",
    "EvaluationError",
    "Expression",
    "ExpressionError",
    "LimitError",
    "UsageError",
    "Value",
    "__version__",
    "draw",
    "parse",
]
