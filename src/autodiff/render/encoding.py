"""ASCII spellings for the few non-ASCII characters the tool writes itself.

A stream that cannot encode them (``PYTHONIOENCODING=ascii``, ``LC_ALL=C``
without UTF-8 mode) gets ``df/dx`` for ``∂f/∂x``, ``->`` for ``→`` and so on,
instead of a UnicodeEncodeError. Any other character it cannot encode (one
from the user's own data) is written as a Python-style escape, ``\\xe9``.
"""

from __future__ import annotations

import codecs
import io
from typing import TextIO

SPELLINGS = {
    "∂": "d",
    "→": "->",
    "…": "...",
    "±": "+/-",
    "·": "*",
    "×": "*",
    "−": "-",
    **{s: f"^{d}" for s, d in zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789", strict=True)},
}
_HANDLER = "autodiff-ascii"


def _spell(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    spelled = "".join(
        SPELLINGS.get(c) or c.encode("ascii", "backslashreplace").decode() for c in text
    )
    return spelled, error.end


codecs.register_error(_HANDLER, _spell)


def spell_what_cannot_be_encoded(stream: TextIO) -> None:
    """Make ``stream`` write ASCII spellings for characters its encoding lacks."""
    if not isinstance(stream, io.TextIOWrapper) or stream.errors == _HANDLER:
        return
    try:
        "∂→…±·×−²".encode(stream.encoding)
    except (UnicodeEncodeError, LookupError):
        stream.reconfigure(errors=_HANDLER)
