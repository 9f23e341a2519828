"""A picture of f and f' along one variable, drawn with matplotlib.

matplotlib is imported only here, and only when a plot is drawn: the other
commands start without it. The output is deterministic: fixed SVG ids
(``svg.hashsalt``) and no creation dates in the metadata.
"""

from __future__ import annotations

import io
import logging
import warnings

from ..features.curve import Curve
from . import terminal

FORMATS = ("svg", "png", "pdf")
_NO_DATES = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None},
    "png": {},
}


def title(curve: Curve) -> str:
    fixed = terminal.point_text(curve.fixed)
    return terminal.title(curve.expr) + (f"   ({fixed})" if fixed else "")


def draw(curve: Curve, fmt: str) -> bytes:
    """The plot as the bytes of an SVG, PNG or PDF file.

    matplotlib's own warnings (a missing glyph, a cache directory it had to
    make elsewhere) are not the user's business: stderr carries autodiff's
    messages only.
    """
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _draw(curve, fmt)


def _draw(curve: Curve, fmt: str) -> bytes:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"svg.hashsalt": "autodiff", "svg.fonttype": "path"}):
        figure = Figure(figsize=(8, 5), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        wrt = curve.wrt
        axes.axhline(0.0, color="0.75", linewidth=0.8)
        axes.plot(curve.x, curve.value, color="tab:blue", linewidth=2.0, label=f"f({wrt})")
        axes.plot(
            curve.x,
            curve.slope,
            color="tab:orange",
            linewidth=1.6,
            linestyle="--",
            label=f"f'({wrt}) = ∂f/∂{wrt}",
        )
        axes.set_xlabel(wrt)
        axes.set_ylabel(f"f({wrt}) and f'({wrt})")
        axes.set_title(title(curve))
        axes.set_xlim(float(curve.x[0]), float(curve.x[-1]))
        if curve.ylim is not None:
            axes.set_ylim(*curve.ylim)
        if curve.clipped:
            # Said in the legend, where the reader looks for what the lines mean.
            axes.plot([], [], " ", label="values beyond the axis are not shown")
        axes.grid(True, alpha=0.3)
        axes.legend(loc="best")
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, metadata=_NO_DATES[fmt])
    return buffer.getvalue()
