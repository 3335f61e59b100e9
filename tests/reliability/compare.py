"""Comparing end states by content: a project's warehouse tables and the sandbox CRMs' records.

Shared by the reliability tests that run the same loop twice (calm vs faulty, clean vs crashed) against two sandboxes
of one seed and require the same outcome. Ids the targets mint differ between sandboxes, so targets are compared by
the values of their records, never by id.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from hub.demo import DEMO_TOML
from hub.project import Project
from hub.sandbox import Sandbox

SCHEMAS = ("raw_hubspot", "raw_salesforce", "canonical")
SF_API = "/services/data/v59.0"
CONTACT_FIELDS = ("email", "firstname", "lastname", "phone")
PERSON_SYNCS = ("[syncs.person_to_hubspot]", "[syncs.person_to_salesforce]")


def demo_project(root: Path, sb: Sandbox, client_options: str = "") -> Project:
    """The demo project (its syncs included) pointed at ``sb``; ``client_options`` is added to both connections."""
    root.mkdir()
    # the example's people only (its person streams and two person syncs): the loops here measure them; its deal,
    # lead and score syncs read models of the example's own folder (tests/examples/test_crm_two_way.py)
    toml = "".join(part for part in re.split(r"(?m)^(?=\[syncs\.)", DEMO_TOML)
                   if not part.startswith("[syncs.") or part.startswith(PERSON_SYNCS))
    # person_to_salesforce's exclude reads a model of the example's own folder too
    toml = re.sub(r"(?m)^# A person Salesforce has as an open lead.*\n|^exclude = .*\n", "", toml)
    assert toml.count("[syncs.") == len(PERSON_SYNCS), "the demo project changed: update this helper"
    for streams, people in (('["contacts", "companies", "deals"]', '["contacts", "companies"]'),
                            ('["Contact", "Account", "Lead", "Opportunity"]', '["Contact", "Account"]')):
        assert toml.count(f"streams = {streams}") == 1, "the demo project changed: update this helper"
        toml = toml.replace(f"streams = {streams}", f"streams = {people}")
    for port, url in (("8001", sb.hubspot.url), ("8002", sb.salesforce.url)):
        old = f'base_url = "http://127.0.0.1:{port}"'
        assert toml.count(old) == 1, "the demo project changed: update this helper"
        toml = toml.replace(old, f'base_url = "{url}"\n{client_options}')
    (root / "hub.toml").write_text(toml)
    (root / "secrets.toml").write_text(f'[connections.hubspot]\ntoken = "{sb.hubspot.token}"\n\n'
                                       f'[connections.salesforce]\ntoken = "{sb.salesforce.token}"\n')
    return Project(root)


def warehouse_tables(project: Project, schemas: tuple[str, ...] = SCHEMAS) -> dict[str, list[tuple[Any, ...]]]:
    """Every table and view of ``schemas``, rows sorted, without dlt's per-load bookkeeping columns."""
    out = {}
    listing = project.query("SELECT table_schema, table_name FROM information_schema.tables "
                            f"WHERE table_schema IN {schemas} AND table_name NOT LIKE '_dlt%' ORDER BY 1, 2").rows
    for schema, table in listing:
        columns = [c for c in project.query(f'SELECT * FROM "{schema}"."{table}" LIMIT 0').columns
                   if not c.startswith("_dlt")]
        select = ", ".join(f'"{c}"' for c in columns)
        rows = project.query(f'SELECT {select} FROM "{schema}"."{table}"').rows
        out[f"{schema}.{table}"] = sorted(rows, key=repr)
    return out


def hubspot_contacts(sb: Sandbox) -> list[dict[str, Any]]:
    """Every HubSpot contact (id and the pushed properties), read through the API."""
    out, params = [], {"limit": 100, "properties": ",".join(CONTACT_FIELDS)}
    with httpx.Client(headers={"Authorization": f"Bearer {sb.hubspot.token}"}) as http:
        while True:
            body = http.get(f"{sb.hubspot.url}/crm/v3/objects/contacts", params=params).json()
            out += [{"id": r["id"], **{k: r["properties"].get(k) for k in CONTACT_FIELDS}} for r in body["results"]]
            if "paging" not in body:
                return out
            params["after"] = body["paging"]["next"]["after"]


def salesforce_contacts(sb: Sandbox) -> list[dict[str, Any]]:
    """Every Salesforce Contact (Id and the pushed fields), read through the API."""
    with httpx.Client(headers={"Authorization": f"Bearer {sb.salesforce.token}"}) as http:
        body = http.get(f"{sb.salesforce.url}{SF_API}/query",
                        params={"q": "SELECT Id, Email, FirstName, LastName, Phone FROM Contact"}).json()
        rows = body["records"]
        while not body["done"]:
            body = http.get(f"{sb.salesforce.url}{body['nextRecordsUrl']}").json()
            rows += body["records"]
    return [{"id": r["Id"], "email": r["Email"], "firstname": r["FirstName"], "lastname": r["LastName"],
             "phone": r["Phone"]} for r in rows]


def target_records(sb: Sandbox) -> dict[str, list[tuple[Any, ...]]]:
    """Both CRMs' contacts by content (ids differ: pushes create records)."""
    return {name: sorted((tuple(r[k] for k in CONTACT_FIELDS) for r in read(sb)), key=repr)
            for name, read in (("hubspot", hubspot_contacts), ("salesforce", salesforce_contacts))}
