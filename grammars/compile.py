"""Compile grammars/expr.lark into src/autodiff/language/grammar_tables.py, the shipped parser.

Lark can build its LALR tables at every start-up (~30 ms) or cache them as a
pickle in a shared temporary directory, which any local user can replace with
code of their own (docs/reliability.md, "Threat model"). Instead the tables are
built here, once, and written out as plain Python literals inside the package:
loading them runs no code but the package's own. Run it after editing the
grammar; tests/test_security.py fails while the tables are stale. Lark numbers
its states in the order of sets of objects, so two runs may number them
differently: the file is committed, and the wheel ships what was committed.

    python grammars/compile.py
"""

from __future__ import annotations

import hashlib
import pprint
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GRAMMAR = HERE / "expr.lark"
TABLES = HERE.parent / "src" / "autodiff" / "language" / "grammar_tables.py"

# The options autodiff's parser is built with; language/parser.py passes the same.
OPTIONS = {"parser": "lalr", "lexer": "basic", "maybe_placeholders": False}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def render(grammar: str) -> str:
    """The text of grammar_tables.py for ``grammar``."""
    from lark import Lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    data, memo = Lark(grammar, **OPTIONS).memo_serialize([TerminalDef, Rule])

    def literal(value: object) -> str:
        return pprint.pformat(value, width=100, sort_dicts=True)

    return (
        '"""The LALR tables of grammars/expr.lark, made by grammars/compile.py: do not edit."""\n'
        "\n"
        "# ruff: noqa\n"
        "from typing import Any\n"
        "\n"
        f"GRAMMAR_SHA256 = {digest(grammar)!r}\n"
        "\n"
        "# The grammar itself: the parser compares texts (hashing at start-up cost 5 ms).\n"
        f"GRAMMAR = {grammar!r}\n"
        "\n"
        f"DATA: dict[str, Any] = {literal(data)}\n"
        "\n"
        f"MEMO: dict[int, Any] = {literal(memo)}\n"
    )


def main() -> int:
    TABLES.write_text(render(GRAMMAR.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {TABLES.relative_to(HERE.parent)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
