"""A sync's ``where``: one boolean expression over the model's columns, parsed and checked before any SQL runs.

``where`` is text from hub.toml that ends up inside the SQL a push runs on the warehouse's writable connection. Pasted
as it is, ``true); DELETE FROM canonical.person; SELECT (true`` would run a DELETE, even under ``--dry-run``. So it is
parsed with sqlglot (DuckDB dialect) into exactly one expression, every node is checked against what a row filter
needs (columns of the model, literals, operators, a list of side-effect-free scalar functions), and the SQL that runs
is rendered back from the checked tree, never taken from the text::

    where = "email_is_valid and lower(email) not like '%@example.com'"
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp

from hub.config import CONFIG_FILE
from hub.errors import ConfigError, UnknownNameError
from hub.warehouse.translate import quiet_sqlglot

#: Scalar functions a filter may call: pure, no file, network, session or catalog access (sqlglot's names, and the
#: names DuckDB spells differently). Anything else, table functions and aggregates included, is refused.
SAFE_FUNCTIONS = frozenset("""
    ABS CEIL CEILING COALESCE CONCAT CONTAINS CURRENT_DATE CURRENT_TIMESTAMP DATE DATEDIFF DATE_DIFF DATE_PART
    DATE_TRUNC DATE_ADD DATE_SUB DATETRUNC DAY DAYOFWEEK ENDS_WITH EPOCH EXTRACT FLOOR GREATEST HOUR IFNULL ILIKE
    INSTR LEAST LEFT LENGTH LEN LOWER LPAD LTRIM MONTH NOW NULLIF REGEXP_FULL_MATCH REGEXP_LIKE REGEXP_MATCHES
    REGEXP_REPLACE REPLACE REVERSE RIGHT ROUND RPAD RTRIM SPLIT_PART STARTS_WITH STARTSWITH STRLEN STRPOS
    STR_POSITION SUBSTR SUBSTRING TIMESTAMP_TRUNC TODAY TRIM TRY_CAST UPPER WEEK YEAR
""".split())
#: Nodes that compute with values and never reach outside the row (functions are checked by name separately).
_PLAIN = (exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Connector, exp.Not,
          exp.Binary, exp.Predicate, exp.Neg, exp.Tuple, exp.Interval, exp.Var, exp.DataType, exp.Case, exp.If,
          exp.Cast, exp.TryCast, exp.Between, exp.In, exp.Is, exp.Like, exp.ILike, exp.Escape)
#: Deepest nesting accepted: deeper is no filter a person writes, and recursion must not crash hub.
MAX_DEPTH = 64
MAX_LENGTH = 10_000
HINT = "write one condition on the model's columns, e.g. where = \"email_is_valid and phone is not null\""


def parse(text: str, *, sync: str, line: int | None = None) -> exp.Expression:
    """``text`` as one checked expression tree; refuses statements, subqueries, tables, unsafe functions, parameters."""

    def refuse(message: str) -> ConfigError:
        return ConfigError(f"[syncs.{sync}] where: {message}", file=CONFIG_FILE, line=line, key="where", hint=HINT)

    if len(text) > MAX_LENGTH:
        raise refuse(f"is {len(text):,} characters long; at most {MAX_LENGTH:,}")
    if _nesting(text) > MAX_DEPTH:
        raise refuse(f"nests parentheses more than {MAX_DEPTH} deep")
    try:
        with quiet_sqlglot():
            trees = sqlglot.parse(text, read="duckdb")
    except (sqlglot.errors.SqlglotError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise refuse(f"is not a SQL condition ({first})") from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise refuse(f"must be one condition, found {len(trees)} statements")
    tree = trees[0]
    for node in tree.walk():
        # statements and tables first, for a clearer message; anything else outside _PLAIN is refused below
        if isinstance(node, (exp.Query, exp.Subquery, exp.Table, exp.Command, exp.DDL, exp.DML)):
            raise refuse(f"must be a condition, not {node.key.upper()} ({_short(node)})")
        if isinstance(node, (exp.Placeholder, exp.Parameter)):
            raise refuse(f"cannot hold a parameter ({_short(node)})")
        if isinstance(node, (exp.AggFunc, exp.Window)):
            raise refuse(f"cannot aggregate or use a window ({_short(node)})")
        if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and isinstance(node.this, exp.Star)):
            raise refuse("cannot hold *")
        if isinstance(node, exp.Func) and not isinstance(node, _PLAIN):
            name = _function_name(node)
            if name not in SAFE_FUNCTIONS:
                raise refuse(f"function {name.lower()}() is not allowed in a filter (allowed: "
                             f"{', '.join(sorted(f.lower() for f in SAFE_FUNCTIONS))})")
        elif not isinstance(node, (*_PLAIN, exp.Func)):
            raise refuse(f"cannot hold {node.key.upper()} ({_short(node)})")
        if isinstance(node, exp.Column) and node.table:
            raise refuse(f"column {node.sql('duckdb')} must be named alone, without a table or struct path")
    if isinstance(tree, (exp.Literal, exp.Null)) or (isinstance(tree, exp.Cast) and not tree.to.is_type("boolean")):
        raise refuse(f"{_short(tree)} is not a condition (true or false per row)")
    return tree


def render(text: str, columns: Mapping[str, str], *, sync: str, model: str, line: int | None = None) -> str:
    """The SQL to run for ``text``: parsed and checked by :func:`parse`, its columns checked against ``columns``
    (name -> DuckDB type), rendered back from the tree."""
    tree = parse(text, sync=sync, line=line)
    for column in tree.find_all(exp.Column):
        if column.name not in columns:
            raise UnknownNameError("column", column.name, columns, file=CONFIG_FILE, line=line,
                                   where=f" of model {model} in [syncs.{sync}] where")
    if isinstance(tree, exp.Column) and columns[tree.name].upper() != "BOOLEAN":
        raise ConfigError(f"[syncs.{sync}] where: column {tree.name} is {columns[tree.name]}, not a condition",
                          file=CONFIG_FILE, line=line, key="where", hint=HINT)
    return tree.sql(dialect="duckdb")


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).upper()
    return node.sql_name().upper()


def _nesting(text: str) -> int:
    depth = deepest = 0
    for char in text:
        depth += (char == "(") - (char == ")")
        deepest = max(deepest, depth)
    return deepest


def _short(node: exp.Expression) -> str:
    text = node.sql("duckdb")
    return text if len(text) <= 60 else text[:57] + "..."
