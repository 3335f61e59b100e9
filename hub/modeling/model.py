"""One model: a SELECT in DuckDB SQL, its header of ``-- key: value`` comments, and the tables it reads.

The text a user wrote is what runs: sqlglot parses it to find references (with their line and column) and to compile it
for other warehouses, but DuckDB executes the original, so nothing is lost to a round trip through an AST. A header::

    -- materialized: incremental      (table | view | incremental; table by default)
    -- unique_key: person_id          (incremental: the key rows are replaced by)
    -- changes: _hub.person_changes   (incremental: a change log of keys, or `cursor: updated_at` for a high-water mark)
    -- audit: unique(person_id)       (repeatable; also not_null(col), accepted_values(col, ['a', 'b']), file.sql)
    -- entity: person                 (feeds the person records that identity resolution reads)
    -- description: One row per person.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from hub.errors import ModelError

MATERIALIZATIONS = ("table", "view", "incremental")
ENTITIES = ("person", "company", "lead", "deal", "order", "invoice", "payment", "ticket")  # hub.modeling.entities.UNIONS
HEADER_KEYS = ("materialized", "unique_key", "changes", "cursor", "audit", "entity", "description")
DIALECT = "duckdb"
META_SCHEMAS = ("information_schema", "pg_catalog")     # DuckDB's own catalog views, always there
_HEADER_LINE = re.compile(r"^(\s*--\s*)([A-Za-z_]+)(\s*:\s*)(.*?)\s*$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Position:
    """Where something is in a model's file (1-based)."""

    line: int | None = None
    col: int | None = None


@dataclass(frozen=True)
class Ref:
    """A table a model reads, as written, with its position."""

    schema: str
    table: str
    position: Position

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class Audit:
    """One ``-- audit:`` line: the text after the colon and where it is."""

    text: str
    position: Position


@dataclass(frozen=True)
class Header:
    """The parsed ``-- key: value`` lines at the top of a model."""

    materialized: str = "table"
    unique_key: tuple[str, ...] = ()
    changes: str | None = None
    cursor: str | None = None
    entity: str | None = None
    description: str | None = None
    audits: tuple[Audit, ...] = ()
    positions: dict[str, Position] = field(default_factory=dict)


@dataclass(frozen=True)
class Model:
    """A node of the build graph. ``kind`` is ``sql`` (a file), ``union`` (generated) or ``identity`` (Python)."""

    name: str
    kind: str
    header: Header
    sql: str | None = None
    file: str | None = None                   # shown in errors: "models/x.sql" or "builtin:canonical/person.sql"
    path: Path | None = None
    refs: tuple[Ref, ...] = ()
    connection: str | None = None
    stream: str | None = None
    builtin: bool = False
    produces: tuple[str, ...] = ()            # further relations this node writes (identity tables)
    columns: tuple[str, ...] = ()             # the SELECT's output names, when sqlglot can tell

    @property
    def schema(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def table(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def materialized(self) -> str:
        return self.header.materialized

    @property
    def depends_on(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.name for r in self.refs))

    @property
    def body(self) -> str:
        """The SQL without a trailing semicolon or comment, safe to wrap in parentheses."""
        assert self.sql is not None
        return strip_trailer(self.sql)

    @property
    def fingerprint(self) -> str:
        """Changes whenever the SQL or header does: an incremental model is rebuilt whole when it changes."""
        return hashlib.sha256((self.sql or self.kind).encode()).hexdigest()[:16]

    def error(self, message: str, position: Position | None = None, hint: str | None = None) -> ModelError:
        """A :class:`ModelError` pointing into this model's file."""
        pos = position or Position()
        return ModelError(message, model=self.name, file=self.file, line=pos.line, col=pos.col, hint=hint)


@functools.lru_cache(maxsize=4096)
def parse_model(name: str, sql: str, *, file: str, path: Path | None = None, builtin: bool = False,
                connection: str | None = None, stream: str | None = None) -> Model:
    """Parse a model's text into a :class:`Model`; every problem is a :class:`ModelError` with file:line:col.

    Remembered per text (a Model is immutable): a long-lived process (``hub serve`` building a model for every
    trigger) parses a file again only when it changed. Errors are not remembered."""
    check_name(name, file)
    probe = Model(name=name, kind="sql", header=Header(), sql=sql, file=file)
    header = parse_header(sql, probe)
    tree = parse_select(sql, probe)
    return Model(name=name, kind="sql", header=header, sql=sql, file=file, path=path, refs=tuple(references(tree)),
                 connection=connection, stream=stream, builtin=builtin, columns=tuple(output_columns(tree)))


def check_name(name: str, file: str) -> None:
    schema, _, table = name.partition(".")
    if not (_NAME.match(schema) and _NAME.match(table)):
        raise ModelError(f"model name '{name}' is not lower-case letters, digits and _", file=file,
                         hint="rename the file (models/<schema>/<table>.sql names the model <schema>.<table>)")


def parse_header(sql: str, model: Model) -> Header:
    """The leading ``-- key: value`` comments; a misspelt key fails with did-you-mean, other comments are free."""
    values: dict[str, object] = {}
    positions: dict[str, Position] = {}
    audits: list[Audit] = []
    for number, line in enumerate(sql.splitlines(), start=1):
        if not line.strip():
            continue
        if not line.lstrip().startswith("--"):
            break
        match = _HEADER_LINE.match(line)
        if not match:
            continue
        lead, key, sep, value = match.groups()
        key_l = key.lower()
        key_pos = Position(number, len(lead) + 1)
        value_pos = Position(number, len(lead) + len(key) + len(sep) + 1)
        if key_l not in HEADER_KEYS:
            close = difflib.get_close_matches(key_l, HEADER_KEYS, n=1, cutoff=0.75)
            if close:
                raise model.error(f"unknown header key '{key}'", key_pos, hint=f"did you mean '{close[0]}'?")
            continue  # a plain comment that happens to contain a colon
        if key_l == "audit":
            audits.append(Audit(value, value_pos))
            continue
        if key_l in values:
            raise model.error(f"'{key_l}' is set twice in the header", key_pos)
        values[key_l] = value
        positions[key_l] = value_pos
    return _validate_header(values, positions, tuple(audits), model)


def _validate_header(values: dict[str, object], positions: dict[str, Position], audits: tuple[Audit, ...],
                     model: Model) -> Header:
    materialized = str(values.get("materialized", "table")).lower()
    if materialized not in MATERIALIZATIONS:
        close = difflib.get_close_matches(materialized, MATERIALIZATIONS, n=1)
        raise model.error(f"unknown materialization '{materialized}'", positions["materialized"],
                          hint=f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(MATERIALIZATIONS)}")
    keys = tuple(k.strip().lower() for k in str(values.get("unique_key", "")).split(",") if k.strip())
    changes = str(values["changes"]).strip().lower() if "changes" in values else None
    cursor = str(values["cursor"]).strip().lower() if "cursor" in values else None
    if materialized == "incremental":
        if not keys:
            raise model.error("an incremental model needs `-- unique_key: col[, col]`",
                              positions.get("materialized"), hint="name the key whose rows each build replaces")
        if bool(changes) == bool(cursor):
            raise model.error("an incremental model needs exactly one of `-- changes: <relation>` and "
                              "`-- cursor: <column>`", positions.get("materialized"),
                              hint="changes: a log of changed keys; cursor: a column that only grows")
    elif changes or cursor or keys:
        key = "changes" if changes else "cursor" if cursor else "unique_key"
        raise model.error(f"'{key}' only applies to `materialized: incremental`", positions[key])
    entity = str(values["entity"]).strip().lower() if "entity" in values else None
    if entity is not None and entity not in ENTITIES:
        raise model.error(f"unknown entity '{entity}'", positions["entity"],
                          hint=f"use one of {', '.join(ENTITIES)}")
    description = str(values["description"]) if "description" in values else None
    return Header(materialized=materialized, unique_key=keys, changes=changes, cursor=cursor, entity=entity,
                  description=description, audits=audits, positions=positions)


def parse_select(sql: str, model: Model) -> exp.Expression:
    """The one query of a model, or a :class:`ModelError` at the position sqlglot stopped."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None and not isinstance(s, exp.Semicolon)]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        message = str(first.get("description") or exc).split("\n")[0]
        near = first.get("highlight")
        raise model.error(f"cannot parse SQL: {message}" + (f" near '{near}'" if near else ""),
                          Position(first.get("line"), first.get("col"))) from None
    except TokenError as exc:
        raise model.error(f"cannot parse SQL: {exc}") from None
    if not statements:
        raise model.error("the file holds no SQL", hint="write one SELECT")
    if len(statements) > 1:
        raise model.error("a model is exactly one SELECT; this file holds several statements",
                          _position_of(statements[1]))
    query = statements[0]
    if not isinstance(query, exp.Query):
        raise model.error(f"a model is a SELECT, not {query.key.upper()}", _position_of(query),
                          hint="hub creates the table or view itself; write only the query")
    return query


def references(tree: exp.Expression) -> list[Ref]:
    """Every table the query reads, minus its own CTEs and table functions."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    out = []
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # read_parquet(...), range(...) and other table functions
        name = table.name.lower()
        schema = (table.db or "").lower()
        if not schema and name in ctes:
            continue
        identifier = table.args.get("db") or table.this
        out.append(Ref(schema or "main", name, _identifier_position(identifier)))
    return out


def output_columns(tree: exp.Expression) -> list[str]:
    """The SELECT's output names, or [] where a star hides them."""
    if any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
           for e in tree.selects):
        return []
    return [name.lower() for name in tree.named_selects]


def rewrite_schemas(sql: str, mapping: dict[str, str]) -> str:
    """``sql`` with table schemas renamed (``raw_<type>`` -> ``raw_crm``) in place, so lines and comments survive."""
    tree = sqlglot.parse_one(sql, read=DIALECT)
    edits = []
    for table in tree.find_all(exp.Table):
        db = table.args.get("db")
        if isinstance(db, exp.Identifier) and db.name.lower() in mapping:
            start, end = db.meta.get("start"), db.meta.get("end")
            if start is None or end is None:
                continue
            new = mapping[db.name.lower()]
            edits.append((start, end + 1, f'"{new}"' if db.quoted else new))
    for start, end, text in sorted(edits, reverse=True):
        sql = sql[:start] + text + sql[end:]
    return sql


def strip_trailer(sql: str) -> str:
    """``sql`` cut after its last real token: no trailing semicolon or comment to break a wrapping subquery."""
    tokens = [t for t in sqlglot.tokenize(sql, read=DIALECT) if t.token_type != sqlglot.TokenType.SEMICOLON]
    if not tokens:
        return sql
    return sql[: tokens[-1].end + 1]


def with_header(model: Model, **changes: object) -> Model:
    """A copy of ``model`` with header fields replaced (generated models set theirs in code)."""
    return replace(model, header=replace(model.header, **changes))


def _identifier_position(identifier: exp.Expression) -> Position:
    meta = identifier.meta
    line, col = meta.get("line"), meta.get("col")
    if line is None or col is None:
        return Position()
    start, end = meta.get("start"), meta.get("end")
    width = (end - start) if start is not None and end is not None else 0
    return Position(line, max(1, col - width))


def _position_of(node: exp.Expression) -> Position:
    for identifier in node.find_all(exp.Identifier):
        return _identifier_position(identifier)
    return Position()
