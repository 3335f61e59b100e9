"""The QuickBooks query language, as far as the connector, the pusher and python-quickbooks use it.

``SELECT * | COUNT(*) | f1, f2 FROM Entity [WHERE cond AND cond ...] [ORDERBY f [ASC|DESC], ...]
[STARTPOSITION n] [MAXRESULTS n]``, with ``cond`` one of ``f = v``, ``<``, ``>``, ``<=``, ``>=``, ``!=``, ``IN (v, ...)``
and ``LIKE 'x%'``; values in single quotes (``\\'`` escapes one), or true/false/numbers. Keywords are
case-insensitive, ``ORDER BY`` is read as ``ORDERBY`` (python-quickbooks' ``all()`` writes it so). QuickBooks has no
``OR``, no joins and no sub-queries: they are refused, as the real parser refuses them. MAXRESULTS is capped at 1000.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

MAX_RESULTS = 1000

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:\\'|''|[^'])*')|(?P<op><=|>=|!=|<>|=|<|>|\(|\)|,|\*)"
                    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*(?:\(\*\))?)|(?P<num>-?\d+(?:\.\d+)?))")


class QueryError(ValueError):
    """A query the QuickBooks parser would refuse (QueryParserError, code 4000)."""


@dataclass
class Condition:
    field: str
    op: str
    values: list[Any]


@dataclass
class Query:
    entity: str
    count: bool = False
    fields: list[str] | None = None   # None: every field
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)   # (field, descending)
    start: int = 1
    max_results: int = 100


def _tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    text = text.strip().rstrip(";")
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            if text[at:].strip() == "":
                break
            raise QueryError(f"Error parsing query: unexpected text at {text[at:at + 20]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        at = match.end()
    return out


def parse(text: str) -> Query:
    """``text`` as a :class:`Query`; raises QueryError as QuickBooks answers a statement it cannot parse."""
    tokens = _tokens(text)
    pos = 0

    def peek(upper: bool = True) -> str:
        if pos >= len(tokens):
            return ""
        kind, value = tokens[pos]
        return value.upper() if upper and kind == "word" else value

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(tokens):
            raise QueryError("Error parsing query: unexpected end of statement")
        pos += 1
        return tokens[pos - 1]

    if peek() != "SELECT":
        raise QueryError("Error parsing query: a query starts with SELECT")
    take()
    query = Query("")
    if peek() == "*":
        take()
        while peek() == ",":   # SELECT *, Sku FROM Item (python-quickbooks does so for Item)
            take()
            take()
    elif peek() == "COUNT(*)":
        take()
        query.count = True
    else:
        query.fields = []
        while True:
            kind, value = take()
            if kind != "word":
                raise QueryError(f"Error parsing query: {value!r} is not a field name")
            query.fields.append(value)
            if peek() != ",":
                break
            take()
    if peek() != "FROM":
        raise QueryError("Error parsing query: FROM expected")
    take()
    kind, query.entity = take()
    if kind != "word":
        raise QueryError("Error parsing query: an entity name follows FROM")
    if peek() == "WHERE":
        take()
        while True:
            query.where.append(_condition(take, peek))
            if peek() == "AND":
                take()
                continue
            if peek() == "OR":
                raise QueryError("Error parsing query: QuickBooks queries do not support OR")
            break
    if peek() == "ORDER":
        take()
        if peek() != "BY":
            raise QueryError("Error parsing query: ORDER BY expected")
        tokens[pos] = ("word", "ORDERBY")
    if peek() == "ORDERBY":
        take()
        while True:
            kind, name = take()
            descending = False
            if peek() in ("ASC", "DESC"):
                descending = take()[1].upper() == "DESC"
            query.order.append((name, descending))
            if peek() != ",":
                break
            take()
    while peek() in ("STARTPOSITION", "MAXRESULTS"):
        word = take()[1].upper()
        kind, value = take()
        if kind != "num" or int(float(value)) < 1:
            raise QueryError(f"Error parsing query: {word} takes a positive whole number")
        if word == "STARTPOSITION":
            query.start = int(value)
        else:
            query.max_results = min(int(value), MAX_RESULTS)
    if pos != len(tokens):
        raise QueryError(f"Error parsing query: unexpected {tokens[pos][1]!r}")
    return query


def _condition(take: Any, peek: Any) -> Condition:
    kind, name = take()
    if kind != "word":
        raise QueryError(f"Error parsing query: {name!r} is not a field name")
    op = peek()
    if op in ("=", "<", ">", "<=", ">=", "!=", "<>"):
        take()
        return Condition(name, "!=" if op == "<>" else op, [_value(take())])
    if op == "IN":
        take()
        if take()[1] != "(":
            raise QueryError("Error parsing query: IN takes a list in parentheses")
        values = []
        while True:
            values.append(_value(take()))
            sep = take()[1]
            if sep == ")":
                break
            if sep != ",":
                raise QueryError("Error parsing query: values of IN are separated by commas")
        return Condition(name, "IN", values)
    if op == "LIKE":
        take()
        return Condition(name, "LIKE", [_value(take())])
    raise QueryError(f"Error parsing query: operator expected after {name}")


def _value(token: tuple[str, str]) -> Any:
    kind, value = token
    if kind == "str":
        return value[1:-1].replace("\\'", "'").replace("''", "'")
    if kind == "num":
        return value
    if kind == "word" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise QueryError(f"Error parsing query: {value!r} is not a value")


# --- evaluation ---------------------------------------------------------------------------------------------

def lookup(record: dict[str, Any], name: str) -> Any:
    """A (dotted) field of a record; a reference or an email object compares by its value/address."""
    value: Any = record
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = next((v for k, v in value.items() if k.lower() == part.lower()), None)
    if isinstance(value, dict):
        for key in ("value", "Address", "FreeFormNumber"):
            if key in value:
                return value[key]
    return value


def _time(value: Any) -> datetime | None:
    text = str(value)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text[:10])
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _key(name: str, value: Any) -> Any:
    """A value as it compares: ids as numbers, times and dates as instants, text case-insensitively."""
    if value is None:
        return None
    last = name.split(".")[-1].lower()
    if last in ("id", "value") or name.lower().endswith("ref"):
        text = str(value)
        return (0, int(text)) if text.isdigit() else (1, text)
    if last.endswith("time") or last.endswith("date"):
        return _time(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    try:
        return float(text) if last in ("totalamt", "balance", "amount", "unitprice") else text.lower()
    except ValueError:
        return text.lower()


def matches(record: dict[str, Any], condition: Condition, wanted: list[Any] | frozenset[Any] | None = None) -> bool:
    """Whether ``record`` meets one condition of a WHERE clause (``wanted``: its values as they compare, computed
    once per query by :func:`run`)."""
    if condition.op == "LIKE":
        pattern = re.escape(str(condition.values[0]).lower()).replace("%", ".*")
        value = lookup(record, condition.field)
        return value is not None and re.fullmatch(pattern, str(value).lower()) is not None
    have = _key(condition.field, lookup(record, condition.field))
    if have is None:
        return False
    if wanted is None:
        wanted = _wanted(condition)
    if isinstance(have, bool) and not isinstance(next(iter(wanted), None), bool):
        wanted = [str(w).lower() == "true" for w in condition.values]
    try:
        if condition.op == "IN":
            return have in wanted
        other = next(iter(wanted))
        if other is None:
            return False
        return {"=": have == other, "!=": have != other, "<": have < other, ">": have > other,
                "<=": have <= other, ">=": have >= other}[condition.op]
    except TypeError:
        return False


def _wanted(condition: Condition) -> list[Any] | frozenset[Any]:
    keys = [_key(condition.field, v) for v in condition.values]
    if condition.op == "IN":
        try:
            return frozenset(keys)
        except TypeError:
            return keys
    return keys


def run(query: Query, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The page of ``records`` the query selects, and how many matched in all."""
    wanted = [_wanted(c) for c in query.where]
    hits = [r for r in records if all(matches(r, c, w) for c, w in zip(query.where, wanted))]
    order = query.order or [("Id", False)]
    for name, descending in reversed(order):
        present = [r for r in hits if _key(name, lookup(r, name)) is not None]
        absent = [r for r in hits if _key(name, lookup(r, name)) is None]
        present.sort(key=lambda r: _key(name, lookup(r, name)), reverse=descending)
        hits = present + absent
    total = len(hits)
    page = hits[query.start - 1: query.start - 1 + query.max_results]
    if query.fields is not None:
        keep = {f.split(".")[0].lower() for f in query.fields} | {"id", "synctoken", "metadata", "domain", "sparse"}
        page = [{k: v for k, v in r.items() if k.lower() in keep} for r in page]
    return page, total
