"""autodiff: reverse-mode automatic differentiation of expressions.

>>> from autodiff import parse
>>> parse("4*x**2 - 2*x + 5").gradient({"x": 3})
(35.0, {'x': 22.0})
"""

from __future__ import annotations

import importlib

from ._version import __version__

TYPE_CHECKING = False  # not typing's: importing typing costs more than this whole module
if TYPE_CHECKING:
    from typing import Any

    from .core.engine import Value
    from .core.errors import AutodiffError, EvaluationError, ExpressionError, LimitError, UsageError
    from .core.expression import Expression
    from .features.jacobian import Jacobian, jacobian_at
    from .language.parser import parse
    from .render.graph import draw

# Imported on first use (PEP 562): the command's entry point, inside this
# package, must start before the engine is loaded (see entry.py).
_HOMES = {
    "Value": "core.engine",
    "AutodiffError": "core.errors",
    "EvaluationError": "core.errors",
    "ExpressionError": "core.errors",
    "LimitError": "core.errors",
    "UsageError": "core.errors",
    "Expression": "core.expression",
    "Jacobian": "features.jacobian",
    "jacobian_at": "features.jacobian",
    "parse": "language.parser",
    "draw": "render.graph",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'autodiff' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AutodiffError",
    "EvaluationError",
    "Expression",
    "ExpressionError",
    "Jacobian",
    "LimitError",
    "UsageError",
    "Value",
    "__version__",
    "draw",
    "jacobian_at",
    "parse",
]
