"""PostgreSQL will not drop a table a view reads; hub replaces such tables whole (the identity map on a full rebuild,
so `hub build --full-refresh` failed on postgres): the views over it, at any depth, are kept, in the same
transaction; a view the new table cannot serve (a column it reads is gone) stays dropped until its own next build, as a
DuckDB view over a vanished column fails until rebuilt (warehouse/pgrun.py)."""

from __future__ import annotations

from hub.project import Project
from hub.warehouse.arrow import table_as


def test_replacing_a_table_keeps_the_views_over_it(make_project, pg_server, pg_database):
    root = make_project(f'[warehouse]\ntype = "postgres"\ndsn = "{pg_server.dsn(pg_database)}"\n',
                        f'[warehouse]\npassword = "{pg_server.password}"\n')
    project = Project(root)
    with project.warehouse() as wh:
        wh.execute("CREATE SCHEMA s")
        wh.execute("CREATE TABLE s.t AS SELECT 1 AS a, 'x' AS b")
        wh.execute("CREATE VIEW s.v AS SELECT a, b FROM s.t")
        wh.execute("CREATE VIEW s.w AS SELECT a * 10 AS a10 FROM s.v")       # a view over the view
        wh.execute("CREATE VIEW s.other AS SELECT 1 AS one")                   # not over s.t: untouched
        with wh.transaction():
            table_as(wh, '"s"."t"', "SELECT 2 AS a, 'y' AS b, true AS c")
        assert wh.query("SELECT a, b FROM s.v").rows == [(2, "y")]
        assert wh.query("SELECT a10 FROM s.w").rows == [(20,)]

        # the new table lacks a column a view reads: the table is replaced, the views that no longer fit are dropped
        with wh.transaction():
            table_as(wh, '"s"."t"', "SELECT 3 AS a")
        assert wh.query("SELECT a FROM s.t").rows == [(3,)]
        assert wh.query("SELECT table_name FROM information_schema.views WHERE table_schema = 's'").rows == [("other",)]
