"""Vendor data changes between runs: new fields, changed types, missing ids, huge and deeply nested values.

Each test ingests from its own sandbox, changes the vendor's schema or data at runtime through the emulators' stores,
ingests again with the real CLI, and checks the raw tables, ``_hub.schema_changes``, ``_hub.quarantine``, the ingest
output and `hub status --json`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from hub.project import Project
from hub.integrations.hubspot.emulator.schema import Prop
from hub.integrations.salesforce.emulator.objects import SOBJECTS
from hub.integrations.salesforce.emulator.schema import Field
from hub.sources.base import records_to_arrow
from tests.conftest import run_hub

BIG = 5 * 1024 * 1024


@contextmanager
def hubspot_property(sb: Any, object_type: str, prop: Prop) -> Iterator[None]:
    """Add a property to one sandbox's object type, as a HubSpot admin creating a custom property would."""
    store = sb.hubspot.store
    with store.lock:
        table = store.table(object_type)
        # a copy of the (process-wide) schema, so that other sandboxes of this process are unaffected
        table.schema = dataclasses.replace(table.schema, props={**table.schema.props, prop.name: prop})
        table.all_names = (*table.all_names, prop.name)
        table.blank = dict.fromkeys(table.all_names)
        for obj in table.objects.values():
            obj.props = {**obj.props, prop.name: None}  # records hold every property (copy-on-write)
        table.version += 1
        sb.hubspot._property_cache.clear()
    yield


@contextmanager
def salesforce_field(sb: Any, sobject: str, fld: Field) -> Iterator[None]:
    """Add a custom field to an sObject; SOQL resolves fields process-wide, so it is removed again afterwards."""
    meta, store = SOBJECTS[sobject.lower()], sb.salesforce.store
    with store.lock:
        meta.fields.append(fld)
        meta.by_lower[fld.name.lower()] = fld
        table = store.tables[meta.name]
        for rid, rec in list(table.records.items()):
            table.records[rid] = {**rec, fld.name: None}
        sb.salesforce._describe_cache.clear()
    try:
        yield
    finally:
        with store.lock:
            meta.fields.remove(fld)
            del meta.by_lower[fld.name.lower()]
            sb.salesforce._describe_cache.clear()


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "bottom"}
    for level in range(depth - 1):
        value = {"level": level, "child": value}
    return value


def depth_of(value: Any) -> int:
    levels = 0
    while isinstance(value, dict):
        levels, value = levels + 1, value.get("child")
    return levels


def project_for(make_project: Callable[..., Path], sb: Any, connection: str, streams: str) -> Path:
    vendor = getattr(sb, connection)
    extra = f'auth_url = "{vendor.url}"\n' if connection == "salesforce" else ""
    return make_project(f"""
        [connections.{connection}]
        type = "{connection}"
        base_url = "{vendor.url}"
        streams = {streams}
        {extra}
        """, f"""
        [connections.{connection}]
        token = "{vendor.token}"
        """)


def query(root: Path, sql: str) -> list[dict[str, Any]]:
    return Project.find(root).query(sql).records()


def test_hubspot_new_property_missing_id_huge_and_nested_values(fresh_sandbox: Any,
                                                                make_project: Callable[..., Path],
                                                                engine: Any) -> None:
    sb = fresh_sandbox
    root = project_for(make_project, sb, "hubspot", '["contacts"]')
    first = run_hub("ingest", cwd=root)
    assert first.returncode == 0, first.stderr
    assert "schema:" not in first.stdout  # a table's first load is not a change

    store = sb.hubspot.store
    ids = store.ids("contacts")[:4]
    with hubspot_property(sb, "contacts", Prop("favorite_color", "Favorite color", "string", "text", "custom",
                                               hubspot_defined=False)):
        store.update("contacts", ids[0], {"favorite_color": "teal"})
        store.update("contacts", ids[1], {"jobtitle": "x" * BIG})
        store.update("contacts", ids[2], {"favorite_color": "placeholder"})
        obj = store.table("contacts").objects[int(ids[2])]
        obj.props = {**obj.props, "favorite_color": nested(200)}  # the vendor suddenly sends an object
        store.update("contacts", ids[3], {"firstname": "Nobody"})
        lost = store.table("contacts").objects[int(ids[3])]
        lost.sid = ""  # the vendor sends the record without its id
        store.table("contacts").version += 1

        second = run_hub("ingest", cwd=root)
    assert second.returncode == 0, second.stderr
    assert "schema: raw_hubspot.contacts + new column favorite_color (VARCHAR)" in second.stdout
    assert "quarantined 1 record(s) of hubspot.contacts: missing id (see _hub.quarantine)" in second.stdout

    rows = {r["id"]: r for r in query(root, "SELECT id, favorite_color, length(jobtitle) AS jobtitle_length "
                                            "FROM raw_hubspot.contacts")}
    assert rows[ids[0]]["favorite_color"] == "teal"
    assert rows[ids[1]]["jobtitle_length"] == BIG
    assert depth_of(orjson.loads(rows[ids[2]]["favorite_color"])) == 200
    assert query(root, "SELECT count(*) AS n FROM raw_hubspot.contacts WHERE id IS NULL OR id = ''")[0]["n"] == 0

    changes = query(root, "SELECT connection, stream, table_name, column_name, change, new_type "
                          "FROM _hub.schema_changes")
    assert changes == [{"connection": "hubspot", "stream": "contacts", "table_name": "raw_hubspot.contacts",
                        "column_name": "favorite_color", "change": "added", "new_type": "VARCHAR"}]
    quarantined = query(root, "SELECT stream, reason, record FROM _hub.quarantine")
    assert [(q["stream"], q["reason"]) for q in quarantined] == [("contacts", "missing id")]
    assert orjson.loads(quarantined[0]["record"])["firstname"] == "Nobody"

    status = orjson.loads(run_hub("status", "--json", cwd=root).stdout)
    assert [(c["table"], c["column"], c["change"]) for c in status["schema_changes"]] == [
        ("raw_hubspot.contacts", "favorite_color", "added")]
    contacts = next(s for s in status["streams"] if s["stream"] == "contacts")
    assert (contacts["quarantined"], contacts["mode"]) == (1, "incremental")
    text = run_hub("status", cwd=root).stdout
    assert "schema change: raw_hubspot.contacts + new column favorite_color (VARCHAR)" in text

    lost.sid = str(lost.id)  # the vendor fixed the record; it is read again (within the cursor's lag) and lands
    store.table("contacts").version += 1
    third = run_hub("ingest", cwd=root)  # no schema change since: nothing to report
    assert third.returncode == 0, third.stderr
    assert "schema:" not in third.stdout and "quarantined" not in third.stdout
    assert orjson.loads(run_hub("status", "--json", cwd=root).stdout)["schema_changes"] == []


def test_salesforce_new_field_type_change_and_missing_id(fresh_sandbox: Any,
                                                         make_project: Callable[..., Path], engine: Any) -> None:
    sb = fresh_sandbox
    root = project_for(make_project, sb, "salesforce", '["Contact", "Account"]')
    first = run_hub("ingest", cwd=root)
    assert first.returncode == 0, first.stderr

    store = sb.salesforce.store
    accounts = [r["Id"] for r in store.records("Account") if not r["IsDeleted"]][:2]
    contacts = [r["Id"] for r in store.records("Contact") if not r["IsDeleted"]][:2]
    with salesforce_field(sb, "Contact", Field("Favorite_Color__c", "Favorite Color", "string", 40, custom=True)):
        store.update("Contact", contacts[0], {"Favorite_Color__c": "teal"})
        store.update("Contact", contacts[1], {"LastName": "Keyless"})
        table = store.tables["Contact"]
        table.records[contacts[1]] = {**table.records[contacts[1]], "Id": None}
        store.update("Account", accounts[0], {"AnnualRevenue": "about 5 million"})  # text in a currency field
        store.update("Account", accounts[1], {"AnnualRevenue": 1234.5})

        second = run_hub("ingest", cwd=root)
    assert second.returncode == 0, second.stderr
    assert "schema: raw_salesforce.contact + new column favorite_color__c (VARCHAR)" in second.stdout
    assert ("schema: raw_salesforce.account ~ column annual_revenue changed type DOUBLE -> VARCHAR "
            "(values that are not DOUBLE kept as text in annual_revenue__v_text)") in second.stdout
    assert "quarantined 1 record(s) of salesforce.Contact: missing Id (see _hub.quarantine)" in second.stdout

    revenue = {r["id"]: r for r in query(root, "SELECT id, annual_revenue, annual_revenue__v_text "
                                               "FROM raw_salesforce.account")}
    assert revenue[accounts[0]]["annual_revenue"] is None
    assert revenue[accounts[0]]["annual_revenue__v_text"] == "about 5 million"
    assert revenue[accounts[1]]["annual_revenue"] == 1234.5
    colors = {r["id"]: r["favorite_color__c"] for r in query(root, "SELECT id, favorite_color__c "
                                                                   "FROM raw_salesforce.contact")}
    assert colors[contacts[0]] == "teal"

    changes = query(root, "SELECT stream, column_name, change, old_type, new_type FROM _hub.schema_changes "
                          "ORDER BY stream, column_name")
    assert changes == [
        {"stream": "Account", "column_name": "annual_revenue", "change": "type_changed", "old_type": "DOUBLE",
         "new_type": "VARCHAR"},
        {"stream": "Contact", "column_name": "favorite_color__c", "change": "added", "old_type": None,
         "new_type": "VARCHAR"}]
    quarantined = query(root, "SELECT stream, reason, record FROM _hub.quarantine")
    assert [(q["stream"], q["reason"]) for q in quarantined] == [("Contact", "missing Id")]
    assert orjson.loads(quarantined[0]["record"])["LastName"] == "Keyless"

    status = orjson.loads(run_hub("status", "--json", cwd=root).stdout)
    assert sorted((c["stream"], c["column"], c["change"]) for c in status["schema_changes"]) == [
        ("Account", "annual_revenue", "type_changed"), ("Contact", "favorite_color__c", "added")]


def test_values_that_do_not_fit_their_declared_type_are_kept_as_text() -> None:
    record_type = pa.struct([("id", pa.string()), ("n", pa.int64()), ("ok", pa.bool_()), ("s", pa.string())])
    records = [{"id": "1", "n": "12", "ok": "true", "s": {"a": [1, 2]}},
               {"id": "2", "n": "twelve", "ok": "maybe", "s": 5}]
    out = records_to_arrow(records, record_type)
    assert out.type == pa.struct([("id", pa.string()), ("n", pa.string()), ("ok", pa.string()), ("s", pa.string())])
    assert out.to_pylist() == [{"id": "1", "n": "12", "ok": "true", "s": '{"a":[1,2]}'},
                               {"id": "2", "n": "twelve", "ok": "maybe", "s": "5"}]
    fitting = records_to_arrow([{"id": "3", "n": "7", "ok": "false", "s": True}], record_type)
    assert fitting.to_pylist() == [{"id": "3", "n": 7, "ok": False, "s": "true"}]
