"""Raw tables as `hub ingest` lands them, written straight into a warehouse for model tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from hub.warehouse.arrow import create_temp_table
from hub.warehouse.duck import Warehouse
from hub.warehouse.sql import qualified, quote

HUBSPOT_CONTACT = ("email", "firstname", "lastname", "phone", "mobilephone", "company", "jobtitle", "city", "country",
                   "lifecyclestage", "associatedcompanyid", "hubspotscore", "createdate", "lastmodifieddate",
                   "hs_object_id")
HUBSPOT_COMPANY = ("name", "domain", "phone", "city", "country", "industry", "numberofemployees", "annualrevenue",
                   "createdate", "hs_lastmodifieddate", "hs_object_id")
SALESFORCE_CONTACT = ("id", "first_name", "last_name", "name", "email", "phone", "mobile_phone", "title", "account_id",
                      "mailing_city", "mailing_country", "lead_source", "created_date", "last_modified_date",
                      "system_modstamp", "is_deleted", "hub_person_id_c")
SALESFORCE_ACCOUNT = ("id", "name", "website", "phone", "industry", "billing_city", "billing_country",
                      "number_of_employees", "annual_revenue", "created_date", "last_modified_date", "system_modstamp",
                      "is_deleted")
TYPES = {"archived": pa.bool_(), "is_deleted": pa.bool_(), "number_of_employees": pa.int64(),
         "annual_revenue": pa.float64()}
TABLES = {"contacts": ("id", "archived", "created_at", "updated_at", *HUBSPOT_CONTACT),
          "companies": ("id", "archived", "created_at", "updated_at", *HUBSPOT_COMPANY),
          "contact": SALESFORCE_CONTACT, "account": SALESFORCE_ACCOUNT}


def hs_time(day: int, hour: int = 12) -> str:
    """A HubSpot timestamp some days into 2025."""
    return f"2025-03-{day:02d}T{hour:02d}:00:00.000Z"


def sf_time(day: int, hour: int = 12) -> str:
    """A Salesforce datetime some days into 2025."""
    return f"2025-03-{day:02d}T{hour:02d}:00:00.000+0000"


def hubspot_contact(id: str, *, day: int = 1, **props: Any) -> dict[str, Any]:
    """A raw HubSpot contact row (properties by their HubSpot names)."""
    row = {"id": id, "archived": False, "created_at": hs_time(1), "updated_at": hs_time(day),
           "lastmodifieddate": hs_time(day), "createdate": hs_time(1), "hs_object_id": id}
    row.update(props)
    return row


def salesforce_contact(id: str, *, day: int = 1, **fields: Any) -> dict[str, Any]:
    """A raw Salesforce Contact row (dlt's snake_case field names)."""
    row = {"id": id, "is_deleted": False, "created_date": sf_time(1), "last_modified_date": sf_time(day),
           "system_modstamp": sf_time(day)}
    row.update(fields)
    return row


def hubspot_company(id: str, *, day: int = 1, **props: Any) -> dict[str, Any]:
    row = {"id": id, "archived": False, "created_at": hs_time(1), "updated_at": hs_time(day),
           "hs_lastmodifieddate": hs_time(day), "createdate": hs_time(1), "hs_object_id": id}
    row.update(props)
    return row


def salesforce_account(id: str, *, day: int = 1, **fields: Any) -> dict[str, Any]:
    row = {"id": id, "is_deleted": False, "created_date": sf_time(1), "last_modified_date": sf_time(day),
           "system_modstamp": sf_time(day)}
    row.update(fields)
    return row


def write(wh: Warehouse, connection: str, table: str, rows: Iterable[dict[str, Any]]) -> None:
    """Replace ``raw_<connection>.<table>`` with ``rows`` (columns as ingest lands them; missing values NULL)."""
    rows = list(rows)
    columns = TABLES[table]
    data = pa.table({c: pa.array([r.get(c) for r in rows], TYPES.get(c, pa.string())) for c in columns})
    create_temp_table(wh, "raw_rows", data)
    wh.execute(f"CREATE SCHEMA IF NOT EXISTS {quote('raw_' + connection)}")
    wh.execute(f"CREATE OR REPLACE TABLE {qualified('raw_' + connection, table)} AS SELECT * FROM raw_rows")
    wh.execute("DROP TABLE temp.raw_rows")
