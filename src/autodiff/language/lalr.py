"""The grammar's LALR tables, run without importing Lark.

grammars/compile.py has Lark compile grammars/expr.lark into tables that
ship as plain literals (grammar_tables.py). Importing Lark to run them cost
20 to 30 ms at every start, most of it Lark's grammar compiler, which its
package imports whatever one asks for. This module runs the same tables the
way Lark runs them (its basic lexer, its LALR loop, its tree rules), so that
a run imports Lark only where the grammar was edited after compiling:

- the lexer tries the terminals in Lark's order (priority, then the longest
  possible match, then the longest pattern, then the name) at each position
  and drops the ignored ones;
- each reduction calls the builder's method named after the rule's alias (or
  its name), with the rule's anonymous tokens (``"("``, ``"+"``) left out, a
  ``?rule`` of one child replaced by that child, and the children of a rule
  whose name starts with ``_`` spliced into its parent's;
- a mistake raises ``UnexpectedCharacters`` or ``UnexpectedToken``, with
  what parser.py reads of Lark's: the character or token, its line and
  column, the state and the terminals the state expects.

tests/test_language.py holds it to Lark itself on random inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_SHIFT = 0  # Lark's serialized actions: 0 shift to a state, 1 reduce by a rule


class Token(str):
    """A piece of the input: its text, its terminal's name and where it is."""

    __slots__ = ("column", "end_pos", "line", "start_pos", "type")

    type: str
    start_pos: int
    end_pos: int
    line: int
    column: int

    def __new__(cls, kind: str, text: str, start: int, line: int, column: int) -> Token:
        token = super().__new__(cls, text)
        token.type, token.start_pos, token.end_pos = kind, start, start + len(text)
        token.line, token.column = line, column
        return token


class UnexpectedInput(Exception):
    """The input is not in the language; line and column are 1-based."""

    line: int
    column: int


class UnexpectedCharacters(UnexpectedInput):
    def __init__(self, text: str, position: int, line: int, column: int) -> None:
        super().__init__(f"unexpected character {text[position]!r} at line {line}, column {column}")
        self.char, self.line, self.column = text[position], line, column


@dataclass(frozen=True)
class ParserState:
    position: int  # the state the parser was in


class UnexpectedToken(UnexpectedInput):
    def __init__(self, token: Token, expected: set[str], state: int) -> None:
        super().__init__(f"unexpected {token.type} at line {token.line}, column {token.column}")
        self.token, self.expected, self.state = token, expected, ParserState(state)
        self.line, self.column = token.line, token.column


@dataclass(frozen=True)
class _Rule:
    origin: str
    size: int
    reduce: Callable[[list[Any]], Any]


class _Spliced(list[Any]):
    """The children of a ``_rule``, to be spliced into its parent's."""


class Tables:
    """Lark's serialized parser (``memo_serialize``), ready to run with ``builder``."""

    def __init__(self, data: Mapping[str, Any], memo: Mapping[int, Any], builder: Any) -> None:
        parser = data["parser"]
        lexer = parser["lexer_conf"]
        terminals = [memo[ref["@"]] for ref in lexer["terminals"]]
        self.patterns = {t["name"]: t["pattern"]["value"] for t in terminals}
        terminals.sort(key=_lark_order)
        self.scanner = re.compile(
            "|".join(f"(?P<{t['name']}>{_regex(t['pattern'])})" for t in terminals),
            lexer["g_regex_flags"],
        )
        self.ignore = frozenset(lexer["ignore"])
        table = parser["parser"]
        names = table["tokens"]
        rules: dict[int, _Rule] = {}
        self.states: dict[int, dict[str, tuple[int, Any]]] = {}
        for state, actions in table["states"].items():
            row: dict[str, tuple[int, Any]] = {}
            for symbol, (action, argument) in actions.items():
                if action != _SHIFT:
                    ref = argument["@"]
                    if ref not in rules:
                        rules[ref] = _rule(memo[ref], builder)
                    argument = rules[ref]
                row[names[symbol]] = (action, argument)
            self.states[state] = row
        self.start = table["start_states"]["start"]
        self.end = table["end_states"]["start"]

    def tokens(self, text: str) -> Iterator[Token]:
        """The tokens of ``text``, as Lark's basic lexer finds them."""
        position, line, line_start, size = 0, 1, 0, len(text)
        match, ignore = self.scanner.match, self.ignore
        while position < size:
            found = match(text, position)
            if found is None or found.end() == position:  # (Lark refuses empty terminals)
                raise UnexpectedCharacters(text, position, line, position - line_start + 1)
            kind, value = found.lastgroup, found.group()
            assert kind is not None
            if kind not in ignore:
                yield Token(kind, value, position, line, position - line_start + 1)
            if "\n" in value:
                line += value.count("\n")
                line_start = position + value.rindex("\n") + 1
            position = found.end()

    def parse(self, tokens: Iterator[Token]) -> Any:
        """What the start rule's method returns for ``tokens``."""
        stack: list[int] = [self.start]
        values: list[Any] = []
        last: Token | None = None
        for token in tokens:
            last = token
            self._feed(token, stack, values)
        where = (last.start_pos, last.line, last.column) if last is not None else (0, 1, 1)
        return self._feed(Token("$END", "", *where), stack, values, end=True)

    def _feed(self, token: Token, stack: list[int], values: list[Any], end: bool = False) -> Any:
        """Shift ``token`` after the reductions it calls for; at the end, the result."""
        states = self.states
        while True:
            row = states[stack[-1]]
            try:
                action, argument = row[token.type]
            except KeyError:
                expected = {s for s in row if s.isupper()}  # terminals, not rules
                raise UnexpectedToken(token, expected, stack[-1]) from None
            if action == _SHIFT:
                stack.append(argument)
                values.append(token)
                return None
            rule: _Rule = argument
            if rule.size:
                children = values[-rule.size :]
                del stack[-rule.size :], values[-rule.size :]
            else:
                children = []
            values.append(rule.reduce(children))
            stack.append(states[stack[-1]][rule.origin][1])
            if end and stack[-1] == self.end:
                return values[-1]


def _lark_order(terminal: Mapping[str, Any]) -> tuple[int, int, int, str]:
    pattern = terminal["pattern"]
    widest = pattern["_width"][1] if pattern["__type__"] == "PatternRE" else len(pattern["value"])
    return (-terminal["priority"], -widest, -len(pattern["value"]), terminal["name"])


def _regex(pattern: Mapping[str, Any]) -> str:
    value: str = pattern["value"]
    text = value if pattern["__type__"] == "PatternRE" else re.escape(value)
    for flag in pattern["flags"]:
        text = f"(?{flag}:{text})"
    return text


def _rule(rule: Mapping[str, Any], builder: Any) -> _Rule:
    """The reduction of one rule: its children filtered and spliced, then the
    builder's method, or the one child of a ``?rule`` without an alias."""
    origin = rule["origin"]["name"]
    expansion = rule["expansion"]
    keep_all = rule["options"]["keep_all_tokens"]
    kept = [
        (i, s["__type__"] == "NonTerminal" and s["name"].startswith("_"))
        for i, s in enumerate(expansion)
        if keep_all or not (s["__type__"] == "Terminal" and s["filter_out"])
    ]
    method = getattr(builder, rule["alias"] or origin, None)
    call: Callable[[list[Any]], Any] = method if method is not None else _Spliced
    single = rule["options"]["expand1"] and not rule["alias"]
    plain = len(kept) == len(expansion) and not any(splice for _, splice in kept)

    def reduce(children: list[Any]) -> Any:
        if not plain:
            filtered: list[Any] = []
            for i, splice in kept:
                if splice:
                    filtered += children[i]
                else:
                    filtered.append(children[i])
            children = filtered
        if single and len(children) == 1:
            return children[0]
        return call(children)

    return _Rule(origin, len(expansion), reduce)
