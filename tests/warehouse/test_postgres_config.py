"""``[warehouse] type = "postgres"``: the whole section is checked at load, with file:line, and never echoes a password.

No PostgreSQL is needed here: a bad configuration is refused before anything connects.
"""

from __future__ import annotations

import pytest

from hub.errors import ConfigError, UnknownNameError
from hub.project import Project
from hub.warehouse.postgres import check_read, placeholders
from hub.errors import QueryRefusedError
from tests.conftest import run_hub

PASSWORD = "pg-s3cret-Password-41"


def refused(make_project, hub_toml: str, secrets: str | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Project(make_project(hub_toml, secrets))
    assert PASSWORD not in str(info.value)
    return info.value


def test_unknown_type_suggests_postgres_with_its_line(make_project):
    err = refused(make_project, '[project]\nname = "x"\n\n[warehouse]\ntype = "postgress"\n')
    assert isinstance(err, UnknownNameError)
    assert str(err) == "hub.toml:5: unknown warehouse type 'postgress' in [warehouse] (did you mean 'postgres'?)"


def test_password_inside_the_dsn_is_refused_without_repeating_it(make_project):
    err = refused(make_project, f'[warehouse]\ntype = "postgres"\ndsn = "postgresql://hub:{PASSWORD}@db:5432/x"\n')
    assert str(err).startswith("hub.toml:3: [warehouse] dsn holds a password")
    assert "secrets.toml" in str(err) and "HUB__WAREHOUSE__PASSWORD" in str(err)
    err = refused(make_project, f'[warehouse]\ntype = "postgres"\n'
                                f'dsn = "postgresql://hub@db:5432/x?password={PASSWORD}"\n')
    assert "dsn holds a password" in str(err)


def test_password_in_hub_toml_is_refused(make_project):
    err = refused(make_project, f'[warehouse]\ntype = "postgres"\ndsn = "postgresql://hub@db/x"\n'
                                f'password = "{PASSWORD}"\n')
    assert str(err).startswith("hub.toml:4: password is a secret and must not be in hub.toml")


@pytest.mark.parametrize(("body", "message"), [
    ('type = "postgres"\n', 'hub.toml:1: [warehouse] type = "postgres" needs a dsn'),
    ('type = "postgres"\ndsn = "mysql://hub@db/x"\n', "hub.toml:3: [warehouse] dsn must start with postgresql://"),
    ('type = "postgres"\ndsn = "postgresql://db:5432/x"\n', "hub.toml:3: [warehouse] dsn names no user"),
    ('type = "postgres"\ndsn = "postgresql://hub@db:5432"\n', "hub.toml:3: [warehouse] dsn names no database"),
    ('type = "postgres"\ndsn = "postgresql://hub@db:port/x"\n', "hub.toml:3: [warehouse] dsn is not a postgresql"),
    ('type = "postgres"\ndsn = "postgresql://hub@db/x"\npath = "w.duckdb"\n',
     "hub.toml:4: [warehouse] path is for a duckdb warehouse"),
    ('dsn = "postgresql://hub@db/x"\n', 'hub.toml:2: [warehouse] dsn is for type = "postgres"'),
    ('type = "postgres"\ndsn = "postgresql://hub@db/x"\nhost = "db"\n',
     "hub.toml:4: unknown key 'host' in [warehouse]"),
])
def test_each_mistake_is_one_line_naming_file_and_line(make_project, body, message):
    err = refused(make_project, "[warehouse]\n" + body)
    assert str(err).startswith(message), str(err)


def test_password_from_secrets_or_environment_is_a_masked_secret(make_project):
    root = make_project('[warehouse]\ntype = "postgres"\ndsn = "postgresql://hub@db.internal:5432/analytics"\n',
                        f'[warehouse]\npassword = "{PASSWORD}"\n')
    wh = Project(root).config.warehouse
    assert (wh.type, wh.dsn, wh.password.reveal()) == ("postgres", "postgresql://hub@db.internal:5432/analytics",
                                                       PASSWORD)
    assert PASSWORD not in repr(wh) and PASSWORD not in wh.label
    env = Project(root, environ={"HUB__WAREHOUSE__PASSWORD": "from-the-env-99"}).config.warehouse
    assert env.password.reveal() == "from-the-env-99"


def test_default_stays_a_duckdb_file(make_project):
    root = make_project('[project]\nname = "x"\n')
    wh = Project(root).config.warehouse
    assert (wh.type, wh.path) == ("duckdb", root.resolve() / "warehouse.duckdb")


def test_cli_prints_one_line_and_exits_2(make_project):
    root = make_project(f'[warehouse]\ntype = "postgres"\ndsn = "postgresql://hub:{PASSWORD}@db/x"\n')
    done = run_hub("status", cwd=root)
    assert done.returncode == 2
    assert PASSWORD not in done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "hub.toml:3: [warehouse] dsn holds a password" in done.stderr


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
    ("SELECT 'what?' || x, \"odd?name\" FROM t WHERE y = ?", "SELECT 'what?' || x, \"odd?name\" FROM t WHERE y = %s"),
    ("SELECT 'it''s 50%?' WHERE z LIKE '%a' AND w = ?", "SELECT 'it''s 50%%?' WHERE z LIKE '%%a' AND w = %s"),
    ("SELECT 5 % 2 -- why?\n, ?", "SELECT 5 %% 2 -- why?\n, %s"),
])
def test_placeholders_become_psycopg_ones_outside_quotes(sql, expected):
    assert placeholders(sql) == expected


@pytest.mark.parametrize("sql", ["INSERT INTO t VALUES (1)", "  -- hi\nDROP TABLE t", "SET x = 1", "", "COPY t TO '/x'"])
def test_a_users_sql_must_start_as_a_read(sql):
    with pytest.raises(QueryRefusedError):
        check_read(sql)
