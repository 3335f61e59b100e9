"""hub's statements, written once in DuckDB's dialect, as another engine runs them: the one place that translates.

Every statement of hub's own (bookkeeping, models, audits, identity) and every model is DuckDB SQL. A warehouse
whose engine is not DuckDB passes each through :func:`translate`, which parses it with sqlglot, applies the rules
of :mod:`hub.warehouse.dialect` (``arg_max``, ``try_cast``, hub's ``_hub.*`` functions inlined...) and writes the
engine's SQL. The result is cached on the text, so a statement run once per model or per batch is parsed once.

Statements that have no one-to-one counterpart come back as a :class:`Statement` of another ``kind``, which the
warehouse completes with what only the database knows:

=============================================  ===========  ====================================================
DuckDB                                         kind         the engine runs
=============================================  ===========  ====================================================
``CREATE OR REPLACE TABLE|VIEW x AS q``        replace      drop ``x`` and create it, in one transaction; views
                                                            built on ``x`` are re-created (DuckDB does not bind
                                                            views to tables, PostgreSQL does)
``DROP TABLE|VIEW x``                          drop         the views on ``x`` are dropped with it (CASCADE) and
                                                            re-created when ``x`` is created again (``create``)
``INSERT OR REPLACE INTO t ...``               upsert       ``... ON CONFLICT (<t's primary key>) DO UPDATE``
``INSERT INTO t BY NAME q``                    by_name      ``INSERT INTO t (<q's columns>) q``
``DESCRIBE q`` / ``DESCRIBE t``                describe     ``q`` with no rows; the columns and their types as
                                                            DuckDB names them
``SET``/``RESET`` of a DuckDB-only setting,    skip         nothing (memory and progress are DuckDB's concerns)
``CREATE MACRO _hub.*``
=============================================  ===========  ====================================================

Placeholders stay ``?`` (the warehouse turns them into its driver's); ``temp.x`` becomes ``pg_temp.x``. A statement
sqlglot cannot read (``?::VARCHAR[]``) is passed on as written: hub writes those in SQL both engines know.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from hub.errors import WarehouseError
from hub.warehouse.dialect import rewrite

#: DuckDB settings hub's statements set or reset that mean nothing to the other engines (PRAGMA-like knobs)
DUCKDB_SETTINGS = frozenset({"memory_limit", "preserve_insertion_order", "enable_progress_bar", "threads",
                             "enable_object_cache", "temp_directory", "max_temp_directory_size"})
#: DuckDB's schema of temporary objects, and the engine's
TEMP_SCHEMA = {"postgres": "pg_temp"}


@dataclass(frozen=True)
class Statement:
    """One statement for the engine: its SQL (``?`` placeholders) and what the warehouse must add (see the module)."""

    sql: str
    kind: str = "plain"          # plain | replace | create | drop | upsert | by_name | describe | skip
    target: str | None = None    # all but plain, describe, skip: the relation as the engine names it
    relation: str | None = None  # replace: TABLE or VIEW; describe: None
    temporary: bool = False      # replace: a temporary table or view
    #: replace, create, drop: the relation as ``schema.name``, lower case unless quoted (one key however it is spelled)
    key: str | None = None


def translate(sql: str, dialect: str) -> tuple[Statement, ...]:
    """``sql`` (DuckDB, one or more statements) as ``dialect`` runs it."""
    return _translate(sql, dialect)


@lru_cache(maxsize=2048)
def _translate(sql: str, dialect: str) -> tuple[Statement, ...]:
    try:
        with quiet_sqlglot():
            trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except SqlglotError:
        return (Statement(sql),)   # not DuckDB sqlglot knows: hub wrote it in SQL both engines run
    if any(isinstance(t, exp.Command) and not _is_reset(t) for t in trees):
        return (Statement(sql),)   # sqlglot kept some of it as raw text: pass the whole text on unchanged
    try:
        return tuple(_statement(tree, dialect) for tree in trees)
    except ValueError as exc:     # a rule that cannot apply: a call of hub's functions with the wrong arguments
        raise WarehouseError(f"cannot run this SQL on {dialect}: {exc}") from None


@contextmanager
def quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning for each statement it keeps as raw text (RESET, ``CALL f()``): hub expects those, and
    says what it refuses in one line of its own."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _statement(tree: exp.Expression, dialect: str) -> Statement:
    if _is_reset(tree) or _is_duckdb_setting(tree):
        return Statement("", "skip")
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "MACRO":
        return Statement("", "skip")   # hub's functions are inlined on other engines (hub.warehouse.functions)
    tree = _prepare(tree, dialect)
    if isinstance(tree, exp.Describe):
        inner = tree.this
        query = exp.select("*").from_(inner) if isinstance(inner, exp.Table) else \
            exp.select("*").from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("_d"))))
        return Statement(_write(query.limit(0), dialect), "describe")
    if isinstance(tree, exp.Create) and tree.args.get("replace") and \
            str(tree.args.get("kind", "")).upper() in ("TABLE", "VIEW"):
        tree.set("replace", False)
        props = tree.args.get("properties")
        temporary = bool(props and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions))
        return Statement(_write(tree, dialect), "replace", _write(tree.this, dialect),
                         str(tree.args["kind"]).upper(), temporary, _key(tree.this))
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() in ("TABLE", "VIEW"):
        table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        return Statement(_write(tree, dialect), "create", _write(table, dialect), str(tree.args["kind"]).upper(),
                         key=_key(table))
    tables = tree.args.get("tables") or [] if isinstance(tree, exp.Drop) else []
    if len(tables) == 1 and str(tree.args.get("kind", "")).upper() in ("TABLE", "VIEW") \
            and not tree.args.get("cascade"):
        return Statement(_write(tree, dialect), "drop", _write(tables[0], dialect), str(tree.args["kind"]).upper(),
                         key=_key(tables[0]))
    if isinstance(tree, exp.Insert):
        table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        if str(tree.args.get("alternative") or "").upper() == "REPLACE":
            tree.set("alternative", None)
            return Statement(_write(tree, dialect), "upsert", _write(table, dialect))
        if tree.args.get("by_name"):
            return Statement(_write(tree.expression, dialect), "by_name", _write(table, dialect))
    return Statement(_write(tree, dialect))


def _prepare(tree: exp.Expression, dialect: str) -> exp.Expression:
    """The dialect's rules applied; ``temp.x`` named as the engine names it; placeholders kept as ``?``."""
    tree, _ = rewrite(tree, dialect)
    temp = TEMP_SCHEMA.get(dialect)
    for table in tree.find_all(exp.Table):
        if temp and table.db.lower() == "temp" and not table.catalog:
            table.set("db", exp.to_identifier(temp))
    for node in list(tree.find_all(exp.Placeholder)):
        if not node.this:     # ``?``, not a named ``$name``
            node.replace(exp.var("?"))
    return tree


def _key(node: exp.Expression) -> str | None:
    """A relation's ``schema.name`` as the database folds it: lower case unless quoted."""
    table = node.this if isinstance(node, exp.Schema) else node
    if not isinstance(table, exp.Table):
        return None
    parts = [table.args.get("db"), table.this]
    return ".".join((p.name if p.quoted else p.name.lower()) for p in parts if isinstance(p, exp.Identifier))


def _write(tree: exp.Expression, dialect: str) -> str:
    return tree.sql(dialect=dialect)


def _is_reset(tree: exp.Expression) -> bool:
    """``RESET <duckdb setting>`` (sqlglot keeps RESET as raw text)."""
    if not isinstance(tree, exp.Command) or str(tree.this).upper() != "RESET":
        return False
    name = tree.expression.name if isinstance(tree.expression, exp.Expression) else str(tree.expression or "")
    return name.strip().lower() in DUCKDB_SETTINGS


def _is_duckdb_setting(tree: exp.Expression) -> bool:
    if not isinstance(tree, exp.Set):
        return False
    names = []
    for item in tree.expressions:
        target = item.this.this if isinstance(item.this, exp.EQ) else item.this
        names.append(target.name.lower() if isinstance(target, exp.Expression) else str(target).lower())
    return bool(names) and all(n in DUCKDB_SETTINGS for n in names)
