"""hub's SQL is DuckDB's; what other warehouses say differently, as data: one :class:`Rules` per target dialect.

sqlglot translates most of a statement. Where its output would not run, or would run and mean something else
(``try_cast`` turned into a plain ``CAST``, ``arg_max`` that Postgres lacks, ``split_part`` that BigQuery lacks), a
rule below replaces the DuckDB call before sqlglot writes the SQL. Each rule is a template in the *target's* own SQL
whose placeholder columns (``__value``, ``__key``...) are filled with the call's arguments, so the table reads like
the warehouses' manuals. hub's SQL functions (``_hub.survivor_key``, the two-way ones; :mod:`hub.warehouse.functions`)
are inlined the same way: the SQL needs nothing installed in the target warehouse beyond the tables it reads.

Two users: `hub compile --dialect` (a model for another warehouse, :mod:`hub.modeling.compile`) and a PostgreSQL
warehouse running hub's statements and models (:mod:`hub.warehouse.translate`). What a rule cannot make identical is
said in its ``notes``, which head the compiled SQL as ``-- differs:`` comments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

from hub.warehouse.functions import PARAMETERS, SECOND_OF_CHANGE, TEMPLATES

__all__ = ["BIGQUERY", "DUCKDB", "HELPERS", "POSTGRES", "RULES", "Rules", "SECOND_OF_CHANGE", "SNOWFLAKE", "rewrite"]


@dataclass(frozen=True)
class Rules:
    """How one warehouse writes the DuckDB constructs hub's models use (templates in that warehouse's SQL)."""

    name: str
    #: over __value, __key and __keep: the rows the aggregate may pick from, as DuckDB's arg_max does (its FILTER,
    #: a value that is not NULL, a key that is not NULL)
    arg_max: str | None = None
    #: over __value, __key and __keep: DuckDB's ``arg_max_null``, which keeps the rows whose value is NULL
    arg_max_null: str | None = None
    #: arg_max over one of hub's helpers, whose key is never NULL and never negative (None: ``arg_max`` serves)
    arg_max_helper_key: str | None = None
    try_cast: str | None = None             # over __x, with {type} the target type
    #: over __x, __pattern, __flags and __group (1 for the first group) or __group_index (sqlglot's subscript,
    #: zero-based: it writes the dialect's own base back)
    regexp_extract: str | None = None
    json_extract_string: str | None = None  # over __x, __path (the path as the template's {path_style} wants it)
    json_path_style: str = "jsonpath"       # jsonpath ($.a[0].b) | pg_array ({a,0,b}) | snowflake (a[0].b)
    concat_ws: str | None = None            # over __sep, __parts (the arguments, spliced)
    split_part: str | None = None           # over __x, __sep, __n
    to_timestamp: str | None = None         # over __x (seconds since the epoch)
    #: For try_cast: a pattern the text must match before CAST may run (Postgres has no try_cast), by target type.
    cast_guards: dict[str, str] = field(default_factory=dict)
    regexp_groups: str = "any"              # any | one (BigQuery: a pattern with exactly one capturing group)
    #: True: a subquery in FROM needs a name (Postgres before 16), which DuckDB does not ask for
    name_subqueries: bool = False
    #: True: unquoted names fold to upper case (Snowflake; dlt creates its tables so). A name quoted in the model,
    #: or one the dialect knows as a keyword (ORDER, CASE), is written quoted in upper case: the same name, now
    #: safe from the parser and from case-sensitive matching.
    upper_case_names: bool = False
    #: True statements about what still differs from DuckDB, keyed by the construct that brings them in.
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def helpers(self) -> dict[str, str]:
        """hub's SQL functions this dialect inlines, as templates over ``__<parameter>``."""
        return TEMPLATES.get(self.name, {})

    @property
    def survivor_key(self) -> str:
        """``_hub.survivor_key`` here, over __valid, __rank, __updated_at, __tiebreak."""
        return self.helpers["survivor_key"]


_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_BOOLEAN = r"^(t|f|true|false|y|n|yes|no|1|0)$"
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z| ?[+-]\d{2}(:?\d{2})?)?$"



POSTGRES = Rules(
    name="postgres",
    arg_max="(ARRAY_AGG(__value ORDER BY __key DESC) FILTER (WHERE __keep))[1]",
    arg_max_null="(ARRAY_AGG(__value ORDER BY __key DESC) FILTER (WHERE __keep))[1]",
    try_cast="CASE WHEN CAST(__x AS TEXT) ~* '{guard}' THEN CAST({inner} AS {type}) END",
    cast_guards={"DECIMAL": _NUMBER, "DOUBLE": _NUMBER, "FLOAT": _NUMBER, "BIGINT": _NUMBER, "INT": _NUMBER,
                 "BOOLEAN": _BOOLEAN, "TIMESTAMPTZ": _TIMESTAMP, "TIMESTAMP": _TIMESTAMP, "DATE": _TIMESTAMP},
    regexp_extract="COALESCE((REGEXP_MATCH(__x, __pattern))[__group_index], '')",
    json_extract_string="CAST(__x AS JSONB) #>> __path",
    json_path_style="pg_array",
    name_subqueries=True,
    notes={
        "two_way_key": "two-way ties (same edit, standing and second of change) are broken by md5 of the "
                       "tie-break here, by DuckDB's hash() in DuckDB: in such a tie the other side's value may win",
        "survivor_key": "survivorship ties (same validity, rank and second of change) are broken by md5 of the "
                        "source id here, by DuckDB's hash() in DuckDB: in such a tie another source's value may win",
        "try_cast": "try_cast is a CAST guarded by a pattern here: text of the right shape but out of range "
                    "(2024-02-30, a number too big for its type) fails the query instead of becoming NULL",
        "try_cast_unguarded": "try_cast to a type hub has no pattern for is a plain CAST here: a value that does "
                              "not convert fails the query instead of becoming NULL",
    },
)

SNOWFLAKE = Rules(
    name="snowflake",
    # Snowflake's reference does not say what MAX_BY does with a NULL key, so over hub's helpers (keys >= 0) the
    # rows left out get key -1 and a group with none kept is NULL, as in DuckDB; other keys rely on NULL (noted).
    arg_max="MAX_BY(__value, IFF(__keep, __key, NULL))",
    arg_max_helper_key="IFF(COUNT_IF(__keep) = 0, NULL, MAX_BY(__value, IFF(__keep, __key, -1)))",
    try_cast="TRY_CAST(CAST(__x AS VARCHAR) AS {type})",
    regexp_extract="COALESCE(REGEXP_SUBSTR(__x, __pattern, 1, 1, __flags, __group), '')",
    json_extract_string="JSON_EXTRACT_PATH_TEXT(TO_VARCHAR(__x), __path)",
    json_path_style="snowflake",
    upper_case_names=True,
    concat_ws="ARRAY_TO_STRING(ARRAY_CONSTRUCT_COMPACT(__parts), __sep)",
    to_timestamp="TO_TIMESTAMP_TZ(__x)",
    notes={
        "arg_max": "arg_max became MAX_BY with a NULL key for the rows it must skip: this assumes MAX_BY skips "
                   "NULL keys as DuckDB's arg_max does, which was not checked against a running Snowflake",
        "survivor_key": "survivorship ties (same validity, rank and second of change) are broken by Snowflake's "
                        "HASH() of the source id here, by DuckDB's hash() in DuckDB: in such a tie another "
                        "source's value may win",
    },
)

BIGQUERY = Rules(
    name="bigquery",
    arg_max="ARRAY_AGG(IF(__keep, __value, NULL) IGNORE NULLS ORDER BY __key DESC LIMIT 1)[SAFE_OFFSET(0)]",
    regexp_extract="COALESCE(REGEXP_EXTRACT(__x, __pattern), '')",
    regexp_groups="one",
    concat_ws="ARRAY_TO_STRING([__parts], __sep)",
    split_part="IF(__x IS NULL, NULL, COALESCE(SPLIT(__x, __sep)[SAFE_OFFSET(__n - 1)], ''))",
    notes={
        "survivor_key": "survivorship ties (same validity, rank and second of change) are broken by "
                        "FARM_FINGERPRINT() of the source id here, by DuckDB's hash() in DuckDB: in such a tie "
                        "another source's value may win",
    },
)

DUCKDB = Rules(name="duckdb")

RULES = {r.name: r for r in (POSTGRES, SNOWFLAKE, BIGQUERY, DUCKDB)}
#: hub's own SQL functions, by name (what ``_hub.<name>(`` calls in a model; :mod:`hub.warehouse.functions`).
HELPERS = tuple(PARAMETERS)


def rewrite(tree: exp.Expression, dialect: str) -> tuple[exp.Expression, list[str]]:
    """``tree`` (a DuckDB model) with every rule of ``dialect`` applied; also the notes of the rules that applied."""
    rules = RULES[dialect]
    used: list[str] = []
    for kind, matches, apply in _STEPS:
        for node in list(tree.find_all(*kinds_of(matches))):
            if matches(node):
                replacement = apply(rules, node)
                if isinstance(replacement, tuple):     # the step says which of its rules applied
                    replacement, applied = replacement
                else:
                    applied = kind
                if replacement is not None:
                    used.append(applied)
                    if node is tree:
                        tree = replacement
                    else:
                        node.replace(replacement)
    return tree, [rules.notes[k] for k in dict.fromkeys(used) if k in rules.notes]


# --- the steps: which DuckDB node each rule matches, and how its arguments fill the template ---------------------

def _is_helper(node: exp.Expression) -> bool:
    """A call ``_hub.<helper>(...)``: sqlglot reads it as a Dot over an Anonymous function."""
    return isinstance(node, exp.Dot) and isinstance(node.this, exp.Identifier) and node.this.name.lower() == "_hub" \
        and isinstance(node.expression, exp.Anonymous) and node.expression.name.lower() in HELPERS


def _helper(rules: Rules, node: exp.Expression) -> tuple[exp.Expression, str] | None:
    """``_hub.<name>(...)`` as the dialect's template (None: the dialect has none, the call stays)."""
    call = node.expression
    name = call.name.lower()
    template = rules.helpers.get(name)
    if template is None:
        return None
    params = PARAMETERS[name]
    if len(call.expressions) != len(params):
        raise ValueError(f"_hub.{name} takes {len(params)} arguments: {', '.join(params)}")
    args = [_inline(rules, a) for a in call.expressions]   # a call in a call: _hub.two_way_key(_hub.edited(...))
    return exp.paren(_fill(template, rules.name, **dict(zip(params, args))), copy=False), name


def _inline(rules: Rules, tree: exp.Expression) -> exp.Expression:
    """A copy of ``tree`` with every call of hub's functions the dialect has a template for inlined."""
    tree = tree.copy()
    while True:
        node = next((n for n in tree.find_all(exp.Dot)
                     if _is_helper(n) and n.expression.name.lower() in rules.helpers), None)
        if node is None:
            return tree
        replacement = _helper(rules, node)[0]   # type: ignore[index]
        if node is tree:
            tree = replacement
        else:
            node.replace(replacement)


def _is_key(node: exp.Expression) -> bool:
    """One of hub's key functions (``_hub.survivor_key``, ``_hub.two_way_key``): never NULL, never negative."""
    return _is_helper(node) and node.expression.name.lower().endswith("_key")


def _arg_max(rules: Rules, node: exp.Expression) -> exp.Expression | tuple[exp.Expression, str] | None:
    if rules.arg_max is None:
        return None
    agg, where = (node.this, node.expression.this) if isinstance(node, exp.Filter) else (node, None)
    value, key = agg.this, agg.expression
    keep = [exp.not_(exp.Is(this=value.copy(), expression=exp.null()))]
    if where is not None and where.sql() != keep[0].sql():
        keep.append(exp.paren(where.copy()))
    if not _is_key(key):     # hub's keys are never NULL (DuckDB's hash() of NULL is a number)
        keep.append(exp.not_(exp.Is(this=key.copy(), expression=exp.null())))
    if _is_key(key) and rules.arg_max_helper_key:
        return _fill(rules.arg_max_helper_key, rules.name, value=value, key=key, keep=exp.and_(*keep)), \
            "arg_max_helper_key"
    return _fill(rules.arg_max, rules.name, value=value, key=key, keep=exp.and_(*keep))


def _try_cast(rules: Rules, node: exp.TryCast) -> exp.Expression | tuple[exp.Expression, str] | None:
    if rules.try_cast is None:
        return None
    target = node.to.sql(dialect=rules.name)
    if "{guard}" not in rules.try_cast:
        return _fill(rules.try_cast.format(type=target), rules.name, x=node.this)
    family = _type_family(node.to)
    if node.to.is_type(*exp.DataType.TEXT_TYPES):
        return exp.cast(node.this.copy(), node.to.copy()), "try_cast_to_text"     # to text nothing fails
    guard = rules.cast_guards.get(family)
    if guard is None:       # no pattern for this type: a plain CAST, and the output says what that changes
        return exp.cast(node.this.copy(), node.to.copy()), "try_cast_unguarded"
    # Text to an integer: DuckDB rounds "1.5" where Postgres refuses it, so go through NUMERIC (which rounds).
    inner = "CAST(__x AS NUMERIC)" if family in ("BIGINT", "INT") else "__x"
    return _fill(rules.try_cast.format(guard=guard.replace("'", "''"), inner=inner, type=target), rules.name,
                 x=node.this)


def _type_family(to: exp.DataType) -> str:
    names = {exp.DataType.Type.DECIMAL: "DECIMAL", exp.DataType.Type.DOUBLE: "DOUBLE",
             exp.DataType.Type.FLOAT: "FLOAT", exp.DataType.Type.BIGINT: "BIGINT", exp.DataType.Type.INT: "INT",
             exp.DataType.Type.BOOLEAN: "BOOLEAN", exp.DataType.Type.TIMESTAMPTZ: "TIMESTAMPTZ",
             exp.DataType.Type.TIMESTAMP: "TIMESTAMP", exp.DataType.Type.DATE: "DATE"}
    return names.get(to.this, str(to.this))


def _regexp_extract(rules: Rules, node: exp.RegexpExtract) -> exp.Expression | None:
    pattern, group = node.expression, node.args.get("group")
    if rules.regexp_extract is None or not isinstance(pattern, exp.Literal) or node.args.get("parameters"):
        return None
    number = int(group.name) if isinstance(group, exp.Literal) else 0
    groups = len(re.findall(r"(?<!\\)\((?!\?)", pattern.name))
    if number < 1 or (rules.regexp_groups == "one" and (number, groups) != (1, 1)):
        return None
    text, flags = pattern.name, "c"
    if rules.name == "snowflake" and text.startswith("(?i)"):     # Snowflake takes flags as an argument only
        text, flags = text[4:], "i"
    return _fill(rules.regexp_extract, rules.name, x=node.this, pattern=exp.Literal.string(text),
                 group=exp.Literal.number(number), group_index=exp.Literal.number(number - 1),
                 flags=exp.Literal.string(flags + "e"))


def _json_extract_string(rules: Rules, node: exp.JSONExtractScalar) -> exp.Expression | None:
    path = node.expression
    if rules.json_extract_string is None or not isinstance(path, exp.JSONPath):
        return None
    parts = [(type(p).__name__, p.this) for p in path.expressions if not isinstance(p, exp.JSONPathRoot)]
    if any(kind not in ("JSONPathKey", "JSONPathSubscript") for kind, _ in parts):
        return None
    if rules.json_path_style == "pg_array":
        text = "{" + ",".join(str(p) for _, p in parts) + "}"
    else:   # Snowflake: a.b[0]
        text = "".join(f"[{p}]" if kind == "JSONPathSubscript" else (f".{p}" if i else str(p))
                       for i, (kind, p) in enumerate(parts))
    return _fill(rules.json_extract_string, rules.name, x=node.this, path=exp.Literal.string(text))


def _concat_ws(rules: Rules, node: exp.ConcatWs) -> exp.Expression | None:
    if rules.concat_ws is None:
        return None
    sep, *parts = node.expressions
    return _fill(rules.concat_ws, rules.name, sep=sep, parts=parts)


def _split_part(rules: Rules, node: exp.SplitPart) -> exp.Expression | None:
    if rules.split_part is None:
        return None
    return _fill(rules.split_part, rules.name, x=node.this, sep=node.args["delimiter"], n=node.args["part_index"])


def _to_timestamp(rules: Rules, node: exp.UnixToTime) -> exp.Expression | None:
    if rules.to_timestamp is None or node.args.get("scale") or node.args.get("zone"):
        return None
    return _fill(rules.to_timestamp, rules.name, x=node.this)


def _name_subquery(rules: Rules, node: exp.Subquery) -> exp.Expression | None:
    if not rules.name_subqueries:
        return None
    named = node.copy()
    named.set("alias", exp.TableAlias(this=exp.to_identifier(f"_subquery_{node.depth}")))
    return named


def _upper_case_name(rules: Rules, node: exp.Identifier) -> exp.Expression | None:
    if not rules.upper_case_names or not (node.quoted or node.name.upper() in _keywords(rules.name)):
        return None
    return exp.Identifier(this=node.name.upper(), quoted=True)


@lru_cache(maxsize=None)
def _keywords(dialect: str) -> frozenset[str]:
    """Every word of the dialect's keywords (ORDER from ORDER BY), upper case."""
    from sqlglot.dialects.dialect import Dialect

    words = Dialect.get_or_raise(dialect).tokenizer_class.KEYWORDS
    return frozenset(word for keyword in words for word in keyword.split())


def _unnamed_subquery(node: exp.Expression) -> bool:
    return isinstance(node, exp.Subquery) and not node.alias and isinstance(node.parent, (exp.From, exp.Join))


def _arg_max_null(rules: Rules, node: exp.Expression) -> exp.Expression | None:
    if rules.arg_max_null is None:
        return None
    agg, where = (node.this, node.expression.this) if isinstance(node, exp.Filter) else (node, None)
    if len(agg.expressions) != 2:
        return None
    value, key = agg.expressions
    keep = [exp.paren(where.copy())] if where is not None else []
    if not _is_key(key):
        keep.append(exp.not_(exp.Is(this=key.copy(), expression=exp.null())))
    return _fill(rules.arg_max_null, rules.name, value=value, key=key, keep=exp.and_(*keep) if keep else exp.true())


def _is_arg_max_null(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.lower() == "arg_max_null"


def _arg_max_null_node(node: exp.Expression) -> bool:
    if isinstance(node, exp.Filter):
        return _is_arg_max_null(node.this)
    return _is_arg_max_null(node) and not isinstance(node.parent, exp.Filter)


def _arg_max_node(node: exp.Expression) -> bool:
    if isinstance(node, exp.Filter):
        return isinstance(node.this, exp.ArgMax)
    return isinstance(node, exp.ArgMax) and not isinstance(node.parent, exp.Filter)


#: (rule name, which nodes, the rewrite: a node, None to leave it, or a node and the name of the rule it applied)
Step = tuple[str, Callable[[exp.Expression], bool], Callable[[Rules, exp.Expression], Any]]
# Order matters: arg_max first, to see that its key is one of hub's helpers (never NULL), then the helpers.
_STEPS: list[Step] = [
    ("arg_max", _arg_max_node, _arg_max),
    ("arg_max_null", _arg_max_null_node, _arg_max_null),
    ("helper", _is_helper, _helper),
    ("try_cast", lambda n: isinstance(n, exp.TryCast), _try_cast),
    ("regexp_extract", lambda n: isinstance(n, exp.RegexpExtract), _regexp_extract),
    ("json_extract_string", lambda n: isinstance(n, exp.JSONExtractScalar), _json_extract_string),
    ("concat_ws", lambda n: isinstance(n, exp.ConcatWs), _concat_ws),
    ("split_part", lambda n: isinstance(n, exp.SplitPart), _split_part),
    ("to_timestamp", lambda n: isinstance(n, exp.UnixToTime), _to_timestamp),
    ("name_subqueries", _unnamed_subquery, _name_subquery),
    ("upper_case_names", lambda n: isinstance(n, exp.Identifier), _upper_case_name),
]
_KINDS: dict[Callable[[exp.Expression], bool], tuple[type[exp.Expression], ...]] = {
    _is_helper: (exp.Dot,), _arg_max_node: (exp.Filter, exp.ArgMax),
    _arg_max_null_node: (exp.Filter, exp.Anonymous),
}


def kinds_of(matches: Callable[[exp.Expression], bool]) -> tuple[type[exp.Expression], ...]:
    """The node classes a step looks at (every expression when the step does not say)."""
    return _KINDS.get(matches, (exp.Expression,))


# --- templates -------------------------------------------------------------------------------------------------

def _fill(template: str, dialect: str, **args: exp.Expression | list[exp.Expression]) -> exp.Expression:
    """Parse ``template`` (``dialect`` SQL) and put each ``__name`` placeholder's argument in its place."""
    tree = sqlglot.parse_one(f"SELECT {template}", read=dialect).expressions[0]
    for column in list(_placeholders(tree)):
        value = args[column.name[2:]]
        if isinstance(value, list):
            parent, key = column.parent, column.arg_key
            siblings = parent.args[key]
            at = siblings.index(column)
            parent.set(key, [*siblings[:at], *(v.copy() for v in value), *siblings[at + 1:]])
        elif column is tree:
            tree = value.copy()
        else:
            column.replace(value.copy())
    return tree


def _placeholders(tree: exp.Expression) -> Iterator[exp.Column]:
    for column in tree.find_all(exp.Column):
        if column.name.startswith("__") and not column.table:
            yield column
