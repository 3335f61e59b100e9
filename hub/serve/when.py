"""``when`` filters of triggers: a tiny, safe expression language over an event's JSON (no ``eval``).

Grammar (``or`` binds loosest)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := operand (("==" | "!=" | "<" | "<=" | ">" | ">=") operand)?
    operand := path | number | 'string' | "string" | true | false | null | "(" expr ")"
    path    := name ("." name)*           e.g. data.object.amount_paid

A path that does not exist is null. Comparing values of different kinds (a number with a string, anything ordered with
null) is false rather than an error: a filter must not crash the server on an event of an unexpected shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from hub.errors import ExpressionError

_TOKEN = re.compile(r"""\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'[^']*'|"[^"]*")|(?P<op>==|!=|<=|>=|<|>|\(|\))"""
                    r"""|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*))""")
_KEYWORDS = {"and", "or", "not", "true", "false", "null"}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}

Node = Callable[[Mapping[str, Any]], Any]
#: Deepest nesting of parentheses and ``not``: deeper is no filter a person writes, and both the parser and the
#: compiled filter recurse once per level, so an unbounded depth is a RecursionError.
MAX_DEPTH = 64


def compile_when(expression: str) -> Node:
    """Parse ``expression`` once; the result is a function of the event giving a truthy value when it matches."""
    return _Parser(expression).parse()


def matches(expression: str, event: Mapping[str, Any]) -> bool:
    """Whether ``event`` passes ``expression`` (parses each call; triggers keep the compiled form)."""
    return bool(compile_when(expression)(event))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise ExpressionError("unexpected character", text, len(text) - len(text[pos:].lstrip()))
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0
        self.depth = 0

    def _nest(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"nested more than {MAX_DEPTH} deep", self.text, position)

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("empty expression", self.text, 0)
        node = self._or()
        if self.i < len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.i][1]!r}", self.text, self.tokens[self.i][2])
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def _or(self) -> Node:
        parts = [self._and()]
        while self._peek() == "or":
            self.i += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda e: any(p(e) for p in parts))

    def _and(self) -> Node:
        parts = [self._not()]
        while self._peek() == "and":
            self.i += 1
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else (lambda e: all(p(e) for p in parts))

    def _not(self) -> Node:
        if self._peek() == "not":
            self._nest(self.tokens[self.i][2])
            self.i += 1
            inner = self._not()
            self.depth -= 1
            return lambda e: not inner(e)
        return self._compare()

    def _compare(self) -> Node:
        left = self._operand()
        op = self._peek()
        if op not in _COMPARE:
            return left
        self.i += 1
        right, test = self._operand(), _COMPARE[op]

        def compare(e: Mapping[str, Any]) -> bool:
            a, b = left(e), right(e)
            if op not in ("==", "!=") and (a is None or b is None):
                return False
            try:
                return test(a, b)
            except TypeError:
                return op == "!="
        return compare

    def _operand(self) -> Node:
        if self.i >= len(self.tokens):
            raise ExpressionError("expression ends too early", self.text, len(self.text))
        kind, value, position = self.tokens[self.i]
        self.i += 1
        if kind == "num":
            number = float(value) if "." in value else int(value)
            return lambda e: number
        if kind == "str":
            text = value[1:-1]
            return lambda e: text
        if value == "(":
            self._nest(position)
            inner = self._or()
            self.depth -= 1
            if self._peek() != ")":
                raise ExpressionError("missing ')'", self.text, self.tokens[self.i][2] if self.i < len(self.tokens)
                                      else len(self.text))
            self.i += 1
            return inner
        if kind == "name" and value in ("true", "false", "null"):
            constant = {"true": True, "false": False, "null": None}[value]
            return lambda e: constant
        if kind == "name" and value not in _KEYWORDS:
            parts = value.split(".")
            return lambda e: _lookup(e, parts)
        raise ExpressionError(f"expected a value, found {value!r}", self.text, position)


def _lookup(event: Any, parts: list[str]) -> Any:
    value = event
    for part in parts:
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
