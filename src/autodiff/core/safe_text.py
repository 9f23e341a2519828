"""Text from the user, made safe to show on a terminal.

An expression, a variable name or an option value can carry ANSI escape
sequences, a carriage return or a bidirectional override; copied raw to a
terminal they recolour, rewrite or hide what is shown. Every such character
is shown instead as a visible escape, the way Python's repr() writes it.
"""

from __future__ import annotations

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def visible(text: str) -> str:
    """``text`` with every character that is not printable written as an escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def visible_lines(text: str) -> str:
    """Like visible(), but keeps the line breaks of a message of several lines."""
    return "\n".join(visible(line) for line in text.split("\n"))


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def excerpt(text: str, limit: int = 40) -> str:
    """``text``, or its two ends around an ellipsis when longer than ``limit``:
    a 100 KB literal quoted in a message is not echoed back whole."""
    if len(text) <= limit:
        return text
    tail = limit // 3
    return f"{text[: limit - tail - 1]}…{text[-tail:]}"
