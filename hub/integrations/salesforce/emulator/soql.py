"""A small SOQL parser: the subset connectors use, with Salesforce's error codes (evaluation: soql_eval).

Supported: SELECT fields (incl. one-level parent fields such as Account.Name), COUNT(), COUNT(field),
FROM, WHERE with = != <> < > <= >= LIKE IN / NOT IN, AND/OR/NOT and parentheses, NULL/TRUE/FALSE,
unquoted datetime and date literals, quoted strings with escapes, ORDER BY ... ASC|DESC NULLS FIRST|LAST,
LIMIT and OFFSET.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_OFFSET = 2000
KEYWORDS = frozenset("SELECT FROM WHERE AND OR NOT IN LIKE ORDER BY ASC DESC NULLS FIRST LAST LIMIT OFFSET NULL "
                     "TRUE FALSE COUNT".split())
_TOKEN = re.compile(r"""
  (?P<ws>\s+)
| (?P<string>'(?:[^'\\]|\\.)*')
| (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
| (?P<date>\d{4}-\d{2}-\d{2})
| (?P<number>-?\d+(?:\.\d+)?)
| (?P<op><=|>=|!=|<>|=|<|>)
| (?P<punct>[(),])
| (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
""", re.X)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}
WILD = "\x00"  # marks an escaped % or _ inside a string literal


class SOQLError(Exception):
    """A query Salesforce would refuse; ``code`` is its errorCode (MALFORMED_QUERY, INVALID_FIELD, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Token:
    """One lexical token and the column it starts at (for Salesforce-style error carets)."""

    kind: str
    value: str
    col: int

    @property
    def upper(self) -> str:
        """The identifier upper-cased (keywords are case-insensitive); empty for other tokens."""
        return self.value.upper() if self.kind == "ident" else ""


@dataclass
class Literal:
    """A constant in a WHERE clause."""

    kind: str  # string | number | datetime | date | null | boolean
    value: Any
    col: int


@dataclass
class Path:
    """A field reference such as ``Email`` or ``Account.Name``."""

    parts: list[str]
    col: int


@dataclass
class Query:
    """A parsed (not yet bound) SELECT statement."""

    text: str
    select: list[Path]
    count: Path | bool | None
    sobject: str
    sobject_col: int
    where: Any = None
    order: list[tuple[Path, bool, bool | None]] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


def position(text: str, col: int, message: str) -> str:
    """Salesforce's error layout: the query, a caret under the column, then Row/Column and the message."""
    return f"\n{text}\n{' ' * col}^\nERROR at Row:1:Column:{col + 1}\n{message}"


def tokenize(text: str) -> list[Token]:
    """Split SOQL into tokens; raises MALFORMED_QUERY on a character that starts no token."""
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise SOQLError("MALFORMED_QUERY", position(text, pos, f"unexpected token: '{text[pos]}'"))
        if m.lastgroup != "ws":
            tokens.append(Token(m.lastgroup or "", m.group(), pos))
        pos = m.end()
    return tokens


def _unescape(raw: str, text: str, col: int) -> str:
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if nxt.lower() in _ESCAPES or nxt in _ESCAPES:
            out.append(_ESCAPES.get(nxt, _ESCAPES.get(nxt.lower(), nxt)))
        elif nxt in "%_":
            out.append(WILD + nxt)
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", raw[i + 2:i + 6]):
            out.append(chr(int(raw[i + 2:i + 6], 16)))
            i += 4
        else:
            raise SOQLError("MALFORMED_QUERY", position(
                text, col, f"Invalid string literal '{raw}'. Illegal character sequence '\\{nxt}' in string literal."))
        i += 2
    return "".join(out)


class Parser:
    """Recursive-descent parser producing a Query."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> Token | None:
        """The token ``offset`` places ahead, without consuming it."""
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def fail(self, token: Token | None, expected: str = "") -> SOQLError:
        """MALFORMED_QUERY pointing at ``token`` (or at the end of the text)."""
        if token is None:
            return SOQLError("MALFORMED_QUERY", position(self.text, len(self.text),
                                                          f"unexpected token: <EOF>{expected}"))
        return SOQLError("MALFORMED_QUERY", position(self.text, token.col, f"unexpected token: {token.value}"))

    def take(self, keyword: str | None = None, kind: str | None = None) -> Token:
        """Consume the next token, which must be ``keyword`` or of ``kind``."""
        tok = self.peek()
        if tok is None or (keyword and tok.upper != keyword) or (kind and tok.kind != kind):
            raise self.fail(tok)
        self.pos += 1
        return tok

    def accept(self, *keywords: str) -> bool:
        """Consume the next token if it is one of ``keywords``."""
        tok = self.peek()
        if tok is not None and tok.upper in keywords:
            self.pos += 1
            return True
        return False

    def path(self) -> Path:
        """field := identifier ('.' identifier)*"""
        tok = self.take(kind="ident")
        if tok.upper in KEYWORDS:
            raise self.fail(tok)
        return Path(tok.value.split("."), tok.col)

    def parse(self) -> Query:
        """query := SELECT fields FROM object [WHERE cond] [ORDER BY ...] [LIMIT n] [OFFSET n]"""
        self.take("SELECT")
        select: list[Path] = []
        count: Path | bool | None = None
        nxt = self.peek(1)
        if self.peek() is not None and self.peek().upper == "COUNT" and nxt is not None and nxt.value == "(":
            self.pos += 2
            count = True if self.peek() is not None and self.peek().value == ")" else self.path()
            self.take(kind="punct")
        else:
            select.append(self.path())
            while self.peek() is not None and self.peek().value == ",":
                self.pos += 1
                select.append(self.path())
        self.take("FROM")
        sobject = self.take(kind="ident")
        query = Query(self.text, select, count, sobject.value, sobject.col)
        if self.accept("WHERE"):
            query.where = self.disjunction()
        if self.accept("ORDER"):
            self.take("BY")
            while True:
                path = self.path()
                descending = False
                if self.accept("DESC"):
                    descending = True
                else:
                    self.accept("ASC")
                nulls_first = None
                if self.accept("NULLS"):
                    if not self.accept("FIRST"):
                        self.take("LAST")
                        nulls_first = False
                    else:
                        nulls_first = True
                query.order.append((path, descending, nulls_first))
                if not (self.peek() is not None and self.peek().value == ","):
                    break
                self.pos += 1
        if self.accept("LIMIT"):
            query.limit = int(self.take(kind="number").value)
        if self.accept("OFFSET"):
            query.offset = int(self.take(kind="number").value)
        if self.peek() is not None:
            raise self.fail(self.peek())
        return query

    def disjunction(self) -> Any:
        """cond := conjunction (OR conjunction)*"""
        items = [self.conjunction()]
        while self.accept("OR"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else ("OR", items)

    def conjunction(self) -> Any:
        """conjunction := negation (AND negation)*"""
        items = [self.negation()]
        while self.accept("AND"):
            items.append(self.negation())
        return items[0] if len(items) == 1 else ("AND", items)

    def negation(self) -> Any:
        """negation := NOT negation | '(' cond ')' | condition"""
        if self.accept("NOT"):
            return ("NOT", self.negation())
        tok = self.peek()
        if tok is not None and tok.value == "(":
            self.pos += 1
            inner = self.disjunction()
            self.take(kind="punct")
            return inner
        return self.condition()

    def condition(self) -> Any:
        """condition := field (op literal | LIKE string | [NOT] IN '(' literals ')')"""
        path = self.path()
        if self.accept("LIKE"):
            return ("LIKE", path, self.literal())
        negate = self.accept("NOT")
        if self.accept("IN"):
            self.take(kind="punct")
            values = [self.literal()]
            while self.peek() is not None and self.peek().value == ",":
                self.pos += 1
                values.append(self.literal())
            if self.take(kind="punct").value != ")":
                raise self.fail(self.tokens[self.pos - 1])
            return ("NOT IN" if negate else "IN", path, values)
        if negate:
            raise self.fail(self.peek())
        op = self.take(kind="op").value
        return ("!=" if op == "<>" else op, path, self.literal())

    def literal(self) -> Literal:
        """A string, number, datetime, date, TRUE/FALSE or NULL."""
        tok = self.peek()
        if tok is None:
            raise self.fail(tok)
        self.pos += 1
        if tok.kind == "string":
            return Literal("string", _unescape(tok.value[1:-1], self.text, tok.col), tok.col)
        if tok.kind in ("number", "datetime", "date"):
            return Literal(tok.kind, tok.value, tok.col)
        if tok.upper in ("TRUE", "FALSE"):
            return Literal("boolean", tok.upper == "TRUE", tok.col)
        if tok.upper == "NULL":
            return Literal("null", None, tok.col)
        raise self.fail(tok)


def parse(text: str) -> Query:
    """Parse SOQL text; raises SOQLError(MALFORMED_QUERY)."""
    return Parser(text).parse()
