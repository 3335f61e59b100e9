"""The Postgres output of `hub compile` runs on a real PostgreSQL 15 and gives the rows DuckDB gives.

A throwaway cluster in a temp dir (as the ``postgres`` user when run as root), reached over its Unix socket with the
``psql`` client. The same tiny raw tables and identity rows go into DuckDB and Postgres; every built-in staging model,
every generated union and every canonical model is created from its compiled SQL, and each relation's rows, as text,
must be the same on both engines. Skips, saying why, when PostgreSQL is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.modeling import compile_model, list_models
from hub.project import Project
from tests.modeling.test_compile import EVERY_INTEGRATION

PG_BIN = Path(os.environ.get("HUB_PG_BIN", "/usr/lib/postgresql/15/bin"))

pytestmark = pytest.mark.skipif(not (PG_BIN / "initdb").exists() or shutil.which("psql") is None,
                                reason=f"PostgreSQL 15 not installed ({PG_BIN}/initdb or psql missing)")


class Postgres:
    """One throwaway PostgreSQL cluster, spoken to through psql."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def _as_owner(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        subprocess.run(self._as_owner(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                      "--no-sync"), check=True, capture_output=True)
        subprocess.run(self._as_owner(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-l",
                                      str(self.folder / "log"), "-o",
                                      f"-p {self.port} -k {self.folder} -c listen_addresses='' -c TimeZone=UTC "
                                      "-c fsync=off", "start"), check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(self._as_owner(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"),
                       capture_output=True)

    def psql(self, sql: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["psql", "-h", str(self.folder), "-p", str(self.port), "-U", "postgres", "-X", "-q",
                               "-v", "ON_ERROR_STOP=1", "-At", "-F", "\x1f"], input=sql, capture_output=True,
                              text=True)

    def run(self, sql: str) -> list[tuple[str, ...]]:
        done = self.psql(sql)
        assert done.returncode == 0, done.stderr
        return [tuple(line.split("\x1f")) for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def pg() -> Iterator[Postgres]:
    folder = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    os.chmod(folder, 0o755)
    server = Postgres(folder)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"could not start PostgreSQL 15: {exc.stderr.decode(errors='replace').strip()[:300]}")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def every(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("every_pg")
    (root / "hub.toml").write_text(EVERY_INTEGRATION)
    return Project(root)


# --- the inputs: raw tables typed as dlt lands them, rows chosen by column name --------------------------------

BOOLEANS = {"archived", "is_deleted", "deleted", "is_closed", "is_won", "is_converted", "active", "refunded"}
INTEGERS = {"created", "total_inventory", "number_of_employees"}
DOUBLES = {"annual_revenue"}     # Salesforce's currency fields arrive as numbers
JSONS = {"lines", "address", "domain_names", "organization_fields", "metadata", "status_transitions"}
ZENDESK_IDS = {"id", "requester_id", "organization_id"}      # Zendesk ids are numbers
#: Stripe's amounts (minor units) and times (Unix seconds) are integers
STRIPE_INTEGERS = {"amount", "amount_captured", "amount_refunded", "amount_remaining", "total", "due_date"}
TIME = re.compile(r"(date|_at$|_time$|modstamp)")
NUMBER = re.compile(r"(amount|amt|balance|price|tax|refunded|revenue|employees|score|spent|orders)")
JSON_ROWS = {
    "lines": ['[{"LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]', '[{"LinkedTxn": [{"TxnId": "9"}]}]'],
    "address": ['{"city": "Oslo", "country": "NO"}', '{"city": " Bergen "}'],
    "domain_names": ['["Acme.com", "acme.io"]', '[]'],
    "organization_fields": ['{"tier": "gold"}', '{}'],
    "metadata": ['{"order_id": "1001"}', '{}'],
    "status_transitions": ['{"paid_at": 1709290900, "finalized_at": null}', '{}'],
}


def raw_columns(sql: str) -> dict[str, list[str]]:
    """The raw tables a staging model reads and the columns it reads from each."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    tables = {(t.alias_or_name): f"{t.db}.{t.name}" for t in tree.find_all(exp.Table)}
    out: dict[str, list[str]] = {t: [] for t in tables.values()}
    # a column a subquery in FROM makes (`SELECT *, ... AS divisor FROM raw`) is not one of the raw table's
    made: set[str] = set()
    for sub in tree.find_all(exp.Subquery):
        inner = sub.this
        if isinstance(inner, exp.Select):
            made |= {e.alias for e in inner.expressions if isinstance(e, exp.Alias)} - {
                c.name for e in inner.expressions for c in e.find_all(exp.Column)}
    for column in tree.find_all(exp.Column):
        if not column.table and column.name in made:
            continue
        table = tables.get(column.table) if column.table else next(iter(tables.values()))
        if table and column.name not in out[table]:
            out[table].append(column.name)
    return out


def column_type(table: str, column: str) -> str:
    if column in BOOLEANS:
        return "BOOLEAN"
    if column in INTEGERS or (table.startswith("raw_zendesk") and column in ZENDESK_IDS) \
            or (table.startswith("raw_stripe") and column in STRIPE_INTEGERS):
        return "BIGINT"
    if column in DOUBLES:
        return "DOUBLE PRECISION"
    return "JSON" if column in JSONS else "TEXT"


def value(table: str, column: str, row: int) -> str:
    """Row 0 and 1 hold good values, row 2 values that do not parse (try_cast must make them NULL)."""
    kind = column_type(table, column)
    if kind == "BOOLEAN":
        return ["false", "NULL", "false"][row]
    if kind == "BIGINT":
        if column in INTEGERS or column == "due_date":
            return ["1704103200", "1709290800", "NULL"][row]
        return ["1250", "0", "NULL"][row] if column in STRIPE_INTEGERS else str(101 + row)
    if kind == "DOUBLE PRECISION":
        return ["2500000.5", "0", "NULL"][row]
    if kind == "JSON":
        return "'" + (JSON_ROWS[column] + ["null"])[row].replace("'", "''") + "'"
    if column.startswith("hs_is_closed"):
        text = ["true", "FALSE", "maybe"][row]
    elif TIME.search(column):
        text = ["2024-01-01T10:00:00Z", "2024-03-01 10:00:00.250+01:00", "not a date"][row]
    elif NUMBER.search(column):
        text = ["12.5", " 1e3 ", "n/a"][row]
    elif column == "status":
        text = ["succeeded", "paid", "open"][row]
    elif column == "private_note":
        text = ["Order: 1001 rush", "no reference", ""][row]
    elif column.startswith("associations_"):
        text = ["c1;c2", "", "c3"][row]
    elif column in ("email", "customer_email", "supplied_email"):
        text = [" Ann@Example.com ", "bob@example.com", ""][row]
    elif column == "name":
        text = ["Ann Lee Smith", "Bob", "  "][row]
    elif column in ("id", "customer_id", "contact_id", "account_id", "converted_contact_id"):
        text = ["a1", "a2", "a3"][row]
    else:
        text = [f"{column} one", f" {column} two ", ""][row]
    return "'" + text.replace("'", "''") + "'"


def load_inputs(models: dict[str, str]) -> list[str]:
    """Statements (valid in both DuckDB and Postgres) creating the raw tables every staging model reads."""
    tables: dict[str, list[str]] = {}
    for sql in models.values():
        for table, columns in raw_columns(sql).items():
            tables.setdefault(table, [])
            tables[table] += [c for c in columns if c not in tables[table]]
    out = []
    for table, columns in sorted(tables.items()):
        out.append(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
        out.append(f"CREATE TABLE {table} ({', '.join(f'{c} {column_type(table, c)}' for c in columns)})")
        for row in range(3):
            out.append(f"INSERT INTO {table} VALUES ({', '.join(value(table, c, row) for c in columns)})")
    return out


def identity_inputs() -> list[str]:
    """The identity engine's output, written by hand: two persons and two companies over three connections."""
    fields = ("email", "first_name", "last_name", "phone", "mobile_phone", "company_name", "job_title", "city",
              "country", "lifecycle_stage", "lead_source")
    company_fields = ("name", "domain", "phone", "industry", "city", "country", "employee_count", "annual_revenue")
    out = ["CREATE SCHEMA IF NOT EXISTS _hub"]
    for entity, names in (("person", fields), ("company", company_fields)):
        ranks = ", ".join(f"CAST(r AS INTEGER) AS {f}_rank" for f in names)
        out.append(f"CREATE TABLE _hub.{entity}_priority AS SELECT connection, {ranks} FROM (VALUES "
                   "('hubspot', 0), ('salesforce', 1), ('zendesk', 2)) AS t(connection, r)")
    changed = ", ".join(f"CAST(updated_at AS TIMESTAMPTZ) AS {f}_changed_at" for f in fields)
    out.append(f"""CREATE TABLE _hub.person_identity AS SELECT *, {changed} FROM (VALUES
        ('p1', 'hubspot', 'contacts', 'a1', 'ann@example.com', true, 'Ann', 'Lee', '+4722334455', true, NULL, false,
         'Acme', 'companies', 'a1', 'CEO', 'Oslo', 'NO', 'customer', NULL,
         CAST('2024-01-01 00:00:00+00' AS TIMESTAMPTZ), CAST('2024-02-01 00:00:00+00' AS TIMESTAMPTZ)),
        ('p1', 'salesforce', 'Contact', 'a1', 'ann@old.example', true, 'Anne', NULL, 'bad', false, '+4799887766',
         true, NULL, 'Account', 'a1', NULL, 'Bergen', NULL, NULL, 'Web',
         CAST('2023-01-01 00:00:00+00' AS TIMESTAMPTZ), CAST('2024-05-01 00:00:00+00' AS TIMESTAMPTZ)),
        ('p2', 'zendesk', 'users', '101', 'bob@example.com', true, 'Bob', NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         CAST(NULL AS TIMESTAMPTZ), CAST('2024-03-01 10:00:00+00' AS TIMESTAMPTZ))
        ) AS t(person_id, connection, stream, source_id, email, email_is_valid, first_name, last_name, phone,
               phone_is_valid, mobile_phone, mobile_phone_is_valid, company_name, company_stream, company_source_id,
               job_title, city, country, lifecycle_stage, lead_source, created_at, updated_at)""")
    changed = ", ".join(f"CAST(updated_at AS TIMESTAMPTZ) AS {f}_changed_at" for f in company_fields)
    out.append(f"""CREATE TABLE _hub.company_identity AS SELECT *, {changed} FROM (VALUES
        ('k1', 'hubspot', 'companies', 'a1', 'Acme', 'acme.com', true, '+4722000000', true, 'Tools', 'Oslo', 'NO',
         CAST(10 AS BIGINT), CAST(1.5 AS DOUBLE PRECISION),
         CAST('2024-01-01 00:00:00+00' AS TIMESTAMPTZ), CAST('2024-01-02 00:00:00+00' AS TIMESTAMPTZ)),
        ('k1', 'salesforce', 'Account', 'a1', 'ACME AS', 'not a domain', false, NULL, NULL, NULL, 'Bergen', NULL,
         CAST(12 AS BIGINT), NULL, CAST('2023-01-01 00:00:00+00' AS TIMESTAMPTZ),
         CAST('2024-06-01 00:00:00+00' AS TIMESTAMPTZ)),
        ('k2', 'zendesk', 'organizations', '101', 'Beta', NULL, NULL, NULL, NULL, 'Food', NULL, NULL,
         NULL, NULL, NULL, CAST('2024-02-01 00:00:00+00' AS TIMESTAMPTZ))
        ) AS t(company_id, connection, stream, source_id, name, domain, domain_is_valid, phone, phone_is_valid,
               industry, city, country, employee_count, annual_revenue, created_at, updated_at)""")
    return out


def as_text(columns: list[tuple[str, str]], relation: str, dialect: str) -> str:
    """Every column as text, formatted alike by both engines (timestamps in UTC; doubles, which the two print
    differently, as decimals)."""
    kind = "VARCHAR" if dialect == "duckdb" else "TEXT"

    def text(name: str, duck_type: str) -> str:
        value = f"CAST({name} AS DECIMAL(38, 6))" if duck_type in ("DOUBLE", "FLOAT") else name
        return f"coalesce(CAST({value} AS {kind}), '<null>')"

    return "SELECT " + ", ".join(text(n, t) for n, t in columns) + f" FROM {relation}"


def test_compiled_postgres_models_run_and_match_duckdb(pg, every, project):
    from hub.modeling.catalog import load_catalog
    from hub.modeling.compile import compile_sql

    catalog = load_catalog(every)
    infos = [m for m in list_models(every) if m.materialized != "identity"]
    staging = {m.name: compile_sql(catalog, m.name, "duckdb") for m in infos if m.name.startswith("staging.")
               and not m.name.endswith("_records")}
    setup = load_inputs(staging) + identity_inputs() + ["CREATE SCHEMA staging", "CREATE SCHEMA canonical"]
    pg.run(";\n".join(setup) + ";")
    order = ([m for m in infos if m.name in staging] + [m for m in infos if m.name.endswith("_records")]
             + _canonical_order([m for m in infos if m.name.startswith("canonical.")]))
    with project.warehouse() as wh:
        wh.execute("SET TimeZone = 'UTC'")
        for statement in setup:
            wh.execute(statement.replace("DOUBLE PRECISION", "DOUBLE"))
        checked = 0
        for info in order:
            pg_sql = compile_sql(catalog, info.name, "postgres")
            duck_sql = compile_sql(catalog, info.name, "duckdb")
            pg.run(f"CREATE VIEW {info.name} AS\n{pg_sql};")
            wh.execute(f"CREATE VIEW {info.name} AS\n{duck_sql}")
            columns = [(r[0], r[1]) for r in wh.query(f"DESCRIBE SELECT * FROM {info.name}").rows]
            duck_rows = sorted(tuple(r) for r in wh.query(as_text(columns, info.name, "duckdb")).rows)
            pg_rows = sorted(pg.run(as_text(columns, info.name, "postgres") + ";"))
            assert duck_rows, f"{info.name}: no rows to compare"
            assert pg_rows == duck_rows, f"{info.name}: Postgres and DuckDB differ"
            checked += 1
    assert checked == len(infos)
    person = pg.run("SELECT person_id, email, first_name, phone, mobile_phone, company_id FROM canonical.person "
                    "ORDER BY person_id;")
    assert person[0][:5] == ("p1", "ann@example.com", "Ann", "+4722334455", "+4799887766")


def _canonical_order(models: list) -> list:
    """Canonical models after what they read (person_by_email before invoice, order before invoice...)."""
    names = {m.name: m for m in models}
    done: list = []

    def visit(name: str) -> None:
        if name in names and names[name] not in done:
            for dep in names[name].depends_on:
                visit(dep)
            done.append(names[name])

    for name in sorted(names):
        visit(name)
    return done


def test_the_try_cast_note_is_true_on_postgres(pg, every):
    """What the `-- differs: try_cast` note says: bad text becomes NULL, an impossible date of the right shape
    fails the query (DuckDB would give NULL)."""
    guarded = compile_model(every, "staging.shopify_products", "postgres")
    assert "-- differs: try_cast is a CAST guarded by a pattern" in guarded
    pg.run("CREATE SCHEMA IF NOT EXISTS raw_note; CREATE TABLE raw_note.t (v TEXT); "
           "INSERT INTO raw_note.t VALUES ('2024-01-05'), ('soon');")
    expression = re.search(r"CASE\s+WHEN CAST\(published_at AS TEXT\).*?END", guarded, re.S).group(0)
    expression = expression.replace("published_at", "v")
    assert pg.run(f"SELECT coalesce(CAST({expression} AS TEXT), '<null>') FROM raw_note.t ORDER BY v;") == [
        ("2024-01-05 00:00:00+00",), ("<null>",)]
    pg.run("INSERT INTO raw_note.t VALUES ('2024-02-30');")
    failed = pg.psql(f"SELECT {expression} FROM raw_note.t;")
    assert failed.returncode != 0 and "out of range" in failed.stderr


def test_the_postgres_survivor_key_orders_as_the_duckdb_macro_does(pg, project):
    """Validity, rank and the second of change (bits 25 and up) are equal on both engines for the same inputs,
    clamps and NULLs included; only the 25 tie-break bits come from another hash."""
    from hub.modeling.dialects import POSTGRES
    from hub.modeling.materialize import SURVIVOR_KEY

    inputs = [(valid, rank, at) for valid in ("true", "false", "NULL") for rank in ("0", "3", "-2", "40", "NULL")
              for at in ("'2024-03-01 10:00:00.7+00'", "'2024-03-01 10:00:00.2+00'", "'2024-03-01 10:00:00.5+00'",
                         "'2024-03-01 10:00:01.5+00'", "'1969-12-31 00:00:00+00'",
                         "'2400-01-01 00:00:00+00'", "NULL")]
    rows = ", ".join(f"({i}, {v}, {r}, CAST({a} AS TIMESTAMPTZ), 's{i}')" for i, (v, r, a) in enumerate(inputs))
    values = f"(VALUES {rows}) AS t(n, is_valid, src_rank, changed_at, src_id)"
    key = POSTGRES.survivor_key
    for name, column in (("valid", "is_valid"), ("rank", "src_rank"), ("updated_at", "changed_at"),
                         ("tiebreak", "src_id")):
        key = key.replace(f"__{name}", column)
    on_pg = pg.run(f"SELECT n, ({key}) >> 25, ({key}) & 33554431 FROM {values} ORDER BY n;")
    with project.warehouse() as wh:
        wh.execute("CREATE SCHEMA IF NOT EXISTS _hub")
        wh.execute(SURVIVOR_KEY)
        on_duck = wh.query(f"SELECT n, _hub.survivor_key(is_valid, src_rank, changed_at, src_id) >> 25 FROM {values} ORDER BY n").rows
    assert [(int(n), int(high)) for n, high, _ in on_pg] == [(n, high) for n, high in on_duck]
    assert all(0 <= int(low) < 2 ** 25 for _, _, low in on_pg)
    assert len({high for _, high in on_duck}) > 20      # the inputs do spread over the key's fields
