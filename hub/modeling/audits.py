"""Audits: checks on a model's freshly built rows that fail its build (and so keep the previous table).

Declared in the header, one per line: ``unique(col[, col])``, ``not_null(col[, col])``, ``accepted_values(col, ['a',
'b'])``, or a path to a SQL file (``audits/no_test_emails.sql``, relative to the project) whose query returns the
offending rows; it reads the model by its name. A failure says how many rows offend and shows a few of them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from hub.modeling.model import DIALECT, Audit, Model, parse_select, strip_trailer
from hub.warehouse.duck import Warehouse
from hub.warehouse.sql import qualified, quote

BUILTIN_AUDITS = ("unique", "not_null", "accepted_values")
SAMPLE = 3
_CALL = re.compile(r"^\s*([A-Za-z_]+)\s*\((.*)\)\s*$", re.S)


@dataclass(frozen=True)
class Check:
    """One parsed audit of a model."""

    audit: Audit
    kind: str                                 # unique | not_null | accepted_values | custom
    columns: tuple[str, ...] = ()
    values: tuple[Any, ...] = ()
    sql: str | None = None


def validate(model: Model, root: Path) -> list[Check]:
    """Parse every audit of ``model``; a malformed one is a ModelError at its line."""
    return [parse(a, model, root) for a in model.header.audits]


def parse(audit: Audit, model: Model, root: Path) -> Check:
    text = audit.text.strip()
    if text.lower().endswith(".sql"):
        return _custom(audit, model, root / text)
    match = _CALL.match(text)
    if not match:
        raise model.error(f"cannot read audit '{text}'", audit.position,
                          hint="write unique(col), not_null(col), accepted_values(col, ['a', 'b']) "
                               "or path/to/audit.sql")
    name, args = match.group(1).lower(), match.group(2)
    if name not in BUILTIN_AUDITS:
        close = difflib.get_close_matches(name, BUILTIN_AUDITS, n=1)
        raise model.error(f"unknown audit '{name}'", audit.position,
                          hint=f"did you mean '{close[0]}'?" if close else
                          f"use one of {', '.join(BUILTIN_AUDITS)}, or a .sql file")
    try:
        parsed = sqlglot.parse_one(f"SELECT {args}", read=DIALECT).expressions
    except sqlglot.errors.SqlglotError:
        raise model.error(f"cannot read the arguments of audit '{text}'", audit.position) from None
    if name == "accepted_values":
        if len(parsed) != 2 or not isinstance(parsed[0], exp.Column) or not isinstance(parsed[1], exp.Array):
            raise model.error(f"audit '{text}' needs a column and a list", audit.position,
                              hint="accepted_values(status, ['open', 'closed'])")
        values = tuple(_literal(v, model, audit) for v in parsed[1].expressions)
        return Check(audit, name, (parsed[0].name.lower(),), values)
    if not parsed or not all(isinstance(p, exp.Column) for p in parsed):
        raise model.error(f"audit '{text}' takes column names", audit.position, hint=f"{name}(email)")
    return Check(audit, name, tuple(p.name.lower() for p in parsed))


def run(wh: Warehouse, model: Model, checks: list[Check], scope: str | None = None) -> None:
    """Run ``checks`` against the model's relation as it now stands; the first failure raises.

    ``scope``, a condition on the relation's rows, limits the built-in checks to the rows a build just wrote (a
    unique check still compares them with every row); a custom audit always sees everything.
    """
    target = qualified(model.schema, model.table)
    for check in checks:
        count, detail, sample = _offending(wh, target, check, scope)
        if count:
            raise model.error(f"audit {check.audit.text} failed: {count:,} {detail}; e.g. {sample}",
                              check.audit.position, hint="the previous version of the model was kept")


def _offending(wh: Warehouse, target: str, check: Check, scope: str | None) -> tuple[int, str, str]:
    cols = ", ".join(quote(c) for c in check.columns)
    within = f"WHERE {scope}" if scope else ""
    if check.kind == "unique":
        values = f"SELECT {cols} FROM {target} {within}"
        near = "" if not scope else f"WHERE ({cols}) IN ({values})" if len(check.columns) > 1 else \
            f"WHERE {cols} IN ({values})"
        groups = f"SELECT {cols}, count(*) AS n FROM {target} {near} GROUP BY {cols} HAVING count(*) > 1"
        count, rows = wh.query(f"SELECT count(*), sum(n) FROM ({groups})").rows[0]
        sample = wh.query(f"{groups} ORDER BY n DESC, {cols} LIMIT {SAMPLE}").records()
        return count, f"duplicated value(s) in {rows or 0:,} rows", _format(sample)
    if check.kind == "not_null":
        where = "(" + " OR ".join(f"{quote(c)} IS NULL" for c in check.columns) + ")" + \
            (f" AND {scope}" if scope else "")
        count = wh.query(f"SELECT count(*) FROM {target} WHERE {where}").scalar()
        sample = wh.query(f"SELECT * FROM {target} WHERE {where} LIMIT {SAMPLE}").records()
        return count, "row(s) with NULL", _format(sample)
    if check.kind == "accepted_values":
        marks = ", ".join("?" for _ in check.values) or "NULL"
        where = f"{cols} IS NOT NULL AND {cols} NOT IN ({marks})" + (f" AND {scope}" if scope else "")
        count = wh.query(f"SELECT count(*) FROM {target} WHERE {where}", list(check.values)).scalar()
        sample = wh.query(f"SELECT {cols}, count(*) AS n FROM {target} WHERE {where} GROUP BY {cols} "
                          f"ORDER BY n DESC LIMIT {SAMPLE}", list(check.values)).records()
        return count, f"row(s) outside {list(check.values)}", _format(sample)
    assert check.sql is not None
    count = wh.query(f"SELECT count(*) FROM ({check.sql}\n)").scalar()
    sample = wh.query(f"SELECT * FROM ({check.sql}\n) LIMIT {SAMPLE}").records()
    return count, "offending row(s)", _format(sample)


def _custom(audit: Audit, model: Model, path: Path) -> Check:
    try:
        sql = path.read_text(encoding="utf-8")
    except OSError:
        raise model.error(f"audit file {audit.text.strip()} not found", audit.position,
                          hint=f"looked for {path}") from None
    probe = Model(name=model.name, kind="sql", header=model.header, sql=sql, file=str(path))
    parse_select(sql, probe)
    return Check(audit, "custom", sql=strip_trailer(sql))


def _literal(node: exp.Expression, model: Model, audit: Audit) -> Any:
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        number = float(node.this)
        return int(number) if number.is_integer() else number
    if isinstance(node, exp.Boolean):
        return node.this
    raise model.error(f"accepted_values takes literal values, not {node.sql(dialect=DIALECT)}", audit.position)


def _format(rows: list[dict[str, Any]]) -> str:
    """A few offending rows, shortened so the message stays one readable line."""
    def short(value: Any) -> str:
        text = repr(value) if isinstance(value, str) else str(value)
        return text if len(text) <= 40 else text[:37] + "..."
    parts = ["{" + ", ".join(f"{k}={short(v)}" for k, v in list(row.items())[:6]) + "}" for row in rows]
    return "; ".join(parts) if parts else "(no sample)"
