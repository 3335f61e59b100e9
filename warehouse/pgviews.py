"""PostgreSQL refuses to drop a table a view reads (DuckDB does not check): replacing such a table keeps its views.

``hub build`` replaces a table whole (the identity map on a full rebuild, a model built again) while the views over
it (``canonical.person_source`` over ``_hub.person_identity``) stay as they are. :func:`keeping_views` takes down
every view that depends on the table, directly or through another view, and creates each again from its own
definition once the new table stands, in the caller's transaction: a view the new table can no longer serve fails
the build there, and the transaction leaves the old table and its views as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hub.warehouse.sql import qualified

#: the views reading a relation, at any depth, with the depth of their longest path to it
_DEPENDENT_VIEWS = """
WITH RECURSIVE deps(oid, depth) AS (
    SELECT r.ev_class, 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass(?) AND r.ev_class <> d.refobjid
    UNION
    SELECT r.ev_class, deps.depth + 1 FROM deps JOIN pg_depend d ON d.refobjid = deps.oid
    JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class <> d.refobjid AND deps.depth < 50)
SELECT n.nspname, c.relname, pg_get_viewdef(c.oid), max(deps.depth) AS depth
FROM deps JOIN pg_class c ON c.oid = deps.oid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'v'
GROUP BY n.nspname, c.relname, c.oid
ORDER BY depth, n.nspname, c.relname
"""


@contextmanager
def keeping_views(wh: Any, table: str) -> Iterator[None]:
    """Inside the block ``table`` (a qualified, quoted name) may be dropped and created again; the views over it
    are dropped before and recreated after, nearest first."""
    views = wh.query(_DEPENDENT_VIEWS, [table]).rows
    for schema, name, _sql, _depth in reversed(views):
        wh.execute(f"DROP VIEW IF EXISTS {qualified(schema, name)}")
    yield
    for schema, name, sql, _depth in views:
        wh.execute(f"CREATE VIEW {qualified(schema, name)} AS {sql}")
