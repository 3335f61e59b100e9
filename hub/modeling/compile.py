"""`hub compile`: a model's SQL for another warehouse, through sqlglot's AST.

Models are DuckDB SQL; sqlglot rewrites them for the target dialect. Before it does, the rules of
:mod:`hub.modeling.dialects` replace the DuckDB calls sqlglot would translate into something that runs but means
another thing, and inline hub's SQL helpers (``_hub.survivor_key``), so the output is self-contained. Nothing is
hidden: what the rules know still differs heads the output as ``-- differs:`` comments, what sqlglot itself reports
as untranslatable as ``-- not portable:`` comments.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from hub.errors import UnknownNameError
from hub.modeling.catalog import Catalog
from hub.modeling.dialects import RULES, rewrite
from hub.modeling.entities import UNIONS, union_model
from hub.modeling.model import DIALECT, Model

DIALECTS = tuple(RULES)
_HELPER = re.compile(r"\b_hub\.(\w+)\s*\(", re.I)     # a call of one of hub's macros, not a table


def compile_sql(catalog: Catalog, name: str, dialect: str) -> str:
    """The SQL of model ``name`` in ``dialect``, pretty-printed, with portability warnings as leading comments."""
    if dialect not in DIALECTS:
        raise UnknownNameError("dialect", dialect, DIALECTS)
    model = catalog.get(name)
    sql = source_sql(catalog, model)
    tree = sqlglot.parse_one(sql, read=DIALECT)
    if model.kind == "union":
        _type_the_nulls(tree, [catalog.models[r.name] for r in model.refs])
    tree, differs = rewrite(tree, dialect)
    with _warnings() as warnings:
        out = tree.sql(dialect=dialect, pretty=True, unsupported_level=ErrorLevel.WARN)
    notes = [f"-- differs: {note}" for note in differs]
    notes += [f"-- not portable: {' '.join(w.split())}" for w in dict.fromkeys(warnings)]
    notes += [f"-- needs hub's SQL helper _hub.{name}() in the target warehouse (see hub/warehouse/functions.py)"
              for name in dict.fromkeys(_HELPER.findall(out))]
    return "\n".join([*notes, out]) + "\n"


def source_sql(catalog: Catalog, model: Model) -> str:
    """The DuckDB SQL behind a model (generated for a union over all its possible members)."""
    if model.kind == "identity":
        raise model.error("is resolved by hub's identity engine (Python over DuckDB), not by SQL",
                          hint="compile the models that read it, e.g. canonical.person")
    if model.kind == "union":
        entity = UNIONS[model.table.removesuffix("_records")]
        members = [catalog.models[r.name] for r in model.refs]
        return union_model(entity, members).sql or ""
    return model.body


def _type_the_nulls(union: exp.Expression, members: list[Model]) -> None:
    """Give each ``NULL AS extra`` of a union the type another member gives that column.

    DuckDB types a bare NULL from the union's other branches; Postgres resolves a UNION pair by pair from the left,
    so two bare NULLs become text and then refuse to meet a member's BIGINT. Only types written in the members' SQL
    (a cast) are known here; a column of unknown type keeps its bare NULL, which every warehouse reads as text.
    """
    from sqlglot.optimizer.annotate_types import annotate_types

    types: dict[str, exp.DataType] = {}
    for member in members:
        try:
            select = annotate_types(sqlglot.parse_one(member.body, read=DIALECT))
        except sqlglot.errors.SqlglotError:
            continue    # a member sqlglot cannot read gives no types; the union's own parse reports the problem
        for column in select.selects if isinstance(select, exp.Select) else []:
            kind = _known_type(column.unalias())
            if column.alias_or_name and kind is not None:
                types.setdefault(column.alias_or_name, kind)
    for alias in list(union.find_all(exp.Alias)):
        if isinstance(alias.this, exp.Null) and alias.alias in types:
            alias.this.replace(exp.cast(exp.null(), types[alias.alias].copy()))


_UNTYPED = (exp.DataType.Type.UNKNOWN, exp.DataType.Type.NULL)


def _known_type(expression: exp.Expression) -> exp.DataType | None:
    """sqlglot's type of an expression; for ``coalesce(column, true)``, the type of its typed argument."""
    kind = expression.type
    if (kind is None or kind.is_type(*_UNTYPED)) and isinstance(expression, exp.Coalesce):
        return next((k for k in (_known_type(a) for a in (expression.this, *expression.expressions))
                     if k is not None), None)
    return None if kind is None or kind.is_type(*_UNTYPED) else kind


@contextmanager
def _warnings() -> Iterator[list[str]]:
    """Collect what sqlglot logs about unsupported constructs while transpiling."""
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger = logging.getLogger("sqlglot")
    handler, propagate = Collect(level=logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
