"""A GraphQL reader for the subset of the language the Admin API emulator serves.

It reads what the connector and ``shopify.GraphQL().execute`` send: one or more ``query`` operations (named or
anonymous, with variable definitions and defaults), fields with aliases and arguments (variables, ints, floats,
strings, block strings, booleans, null, enums, lists, input objects), named fragments with ``...Name`` spreads and
inline fragments ``... on Type``. What it does not serve (directives, subscriptions, mutations) is refused with a
GraphQL error that says so and where, never silently ignored. Errors carry ``locations`` (line, column) as
Shopify's do (``syntax error, unexpected ... at [line, column]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r'''
    (?P<ws>[\s,\ufeff]+|\#[^\n\r]*)
  | (?P<block>"""(?:\\"""|[^"]|"(?!""))*""")
  | (?P<string>"(?:\\.|[^"\\\n\r])*")
  | (?P<float>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+))
  | (?P<int>-?(?:0|[1-9][0-9]*))
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$&()\:=@\[\]{}|])
''', re.VERBOSE)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class GraphQLSyntaxError(Exception):
    """A document the reader cannot (or will not) read; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class EnumValue:
    name: str


@dataclass
class Field:
    name: str
    alias: str | None
    arguments: dict[str, Any]
    selections: list[Any]       # Field | FragmentSpread | InlineFragment
    line: int
    column: int

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class FragmentSpread:
    name: str
    line: int
    column: int


@dataclass
class InlineFragment:
    type_condition: str | None
    selections: list[Any]
    line: int
    column: int


@dataclass
class Operation:
    kind: str
    name: str | None
    variables: dict[str, tuple[str, Any, bool]]  # name -> (type text, default, has default)
    selections: list[Any]
    line: int
    column: int


@dataclass
class Document:
    operations: list[Operation]
    fragments: dict[str, InlineFragment] = field(default_factory=dict)

    def operation(self, name: str | None) -> Operation:
        """The operation to run: the one named, or the only one."""
        if name:
            for op in self.operations:
                if op.name == name:
                    return op
            raise GraphQLSyntaxError(f"No operation named \"{name}\"", 1, 1)
        if len(self.operations) != 1:
            raise GraphQLSyntaxError("An operation name is required", 1, 1)
        return self.operations[0]


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                line, col = self._where(pos)
                raise GraphQLSyntaxError(f"Parse error on \"{text[pos]}\" at [{line}, {col}]", line, col)
            kind = match.lastgroup or ""
            if kind != "ws":
                self.tokens.append((kind, match.group(), pos))
            pos = match.end()
        self.tokens.append(("eof", "", len(text)))
        self.at = 0

    def _where(self, pos: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, pos) + 1
        return line, pos - (self.text.rfind("\n", 0, pos) + 1) + 1

    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        k, v, _ = self.tokens[self.at]
        return (value is None or v == value and k in ("punct", "name", "spread")) and (kind is None or k == kind)

    def where(self) -> tuple[int, int]:
        return self._where(self.tokens[self.at][2])

    def fail(self, what: str | None = None) -> GraphQLSyntaxError:
        kind, value, _ = self.tokens[self.at]
        line, col = self.where()
        shown = "end of file" if kind == "eof" else f"{kind.upper()} (\"{value}\")"
        return GraphQLSyntaxError(what or f"syntax error, unexpected {shown} at [{line}, {col}]", line, col)

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        if not self.peek(value, kind):
            raise self.fail()
        token = self.tokens[self.at]
        self.at += 1
        return token[1]

    # --- the grammar ----------------------------------------------------------------------------------------

    def document(self) -> Document:
        doc = Document([])
        while not self.peek(kind="eof"):
            line, col = self.where()
            if self.peek("{"):
                doc.operations.append(Operation("query", None, {}, self.selection_set(), line, col))
            elif self.peek("query") or self.peek("mutation") or self.peek("subscription"):
                kind = self.take()
                if kind != "query":
                    raise GraphQLSyntaxError(f"{kind} operations are not served by this emulator (it reads; see "
                                             f"docs/vendors.md)", line, col)
                name = self.take(kind="name") if self.peek(kind="name") else None
                variables = self.variable_definitions() if self.peek("(") else {}
                self.no_directives()
                doc.operations.append(Operation("query", name, variables, self.selection_set(), line, col))
            elif self.peek("fragment"):
                self.take()
                name = self.take(kind="name")
                self.take("on")
                condition = self.take(kind="name")
                self.no_directives()
                doc.fragments[name] = InlineFragment(condition, self.selection_set(), line, col)
            else:
                raise self.fail()
        if not doc.operations:
            raise GraphQLSyntaxError("No operations given", 1, 1)
        return doc

    def no_directives(self) -> None:
        if self.peek("@"):
            line, col = self.where()
            raise GraphQLSyntaxError(f"directives are not served by this emulator at [{line}, {col}]", line, col)

    def variable_definitions(self) -> dict[str, tuple[str, Any, bool]]:
        self.take("(")
        out: dict[str, tuple[str, Any, bool]] = {}
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name")
            self.take(":")
            kind = self.type_text()
            has_default = self.peek("=")
            default = None
            if has_default:
                self.take("=")
                default = self.value(const=True)
            out[name] = (kind, default, has_default)
        self.take(")")
        return out

    def type_text(self) -> str:
        if self.peek("["):
            self.take("[")
            inner = self.type_text()
            self.take("]")
            text = f"[{inner}]"
        else:
            text = self.take(kind="name")
        if self.peek("!"):
            self.take("!")
            text += "!"
        return text

    def selection_set(self) -> list[Any]:
        self.take("{")
        selections: list[Any] = []
        while not self.peek("}"):
            line, col = self.where()
            if self.peek(kind="spread"):
                self.take()
                if self.peek("on"):
                    self.take("on")
                    condition = self.take(kind="name")
                    self.no_directives()
                    selections.append(InlineFragment(condition, self.selection_set(), line, col))
                elif self.peek("{"):
                    selections.append(InlineFragment(None, self.selection_set(), line, col))
                else:
                    selections.append(FragmentSpread(self.take(kind="name"), line, col))
                    self.no_directives()
                continue
            name = self.take(kind="name")
            alias = None
            if self.peek(":"):
                self.take(":")
                alias, name = name, self.take(kind="name")
            arguments = self.arguments() if self.peek("(") else {}
            self.no_directives()
            inner = self.selection_set() if self.peek("{") else []
            selections.append(Field(name, alias, arguments, inner, line, col))
        self.take("}")
        if not selections:
            raise self.fail()
        return selections

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        out: dict[str, Any] = {}
        while not self.peek(")"):
            name = self.take(kind="name")
            self.take(":")
            out[name] = self.value()
        self.take(")")
        return out

    def value(self, const: bool = False) -> Any:
        kind, text, _ = self.tokens[self.at]
        if kind == "punct" and text == "$" and not const:
            self.take("$")
            return Variable(self.take(kind="name"))
        if kind == "int":
            self.at += 1
            return int(text)
        if kind == "float":
            self.at += 1
            return float(text)
        if kind == "string":
            self.at += 1
            return _unescape(text[1:-1])
        if kind == "block":
            self.at += 1
            return _block(text[3:-3])
        if kind == "name":
            self.at += 1
            return {"true": True, "false": False, "null": None}.get(text, EnumValue(text)) \
                if text in ("true", "false", "null") else EnumValue(text)
        if text == "[":
            self.take("[")
            items = []
            while not self.peek("]"):
                items.append(self.value(const))
            self.take("]")
            return items
        if text == "{":
            self.take("{")
            obj = {}
            while not self.peek("}"):
                key = self.take(kind="name")
                self.take(":")
                obj[key] = self.value(const)
            self.take("}")
            return obj
        raise self.fail()


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt == "u":
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _block(body: str) -> str:
    lines = body.replace('\\"""', '"""').splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    common = min(indents) if indents else 0
    lines = lines[:1] + [line[common:] for line in lines[1:]]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def parse(text: str) -> Document:
    """Read a document; raises :class:`GraphQLSyntaxError` with where it stopped."""
    if not isinstance(text, str) or not text.strip():
        raise GraphQLSyntaxError("No query string was present", 1, 1)
    return _Reader(text).document()
