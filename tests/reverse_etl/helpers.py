"""Reading the sandbox's state and request counters in reverse-ETL tests."""

from __future__ import annotations

from typing import Any

HS_WRITES = "POST /crm/v3/objects/{objectType}/batch/*"
HS_READS = "POST /crm/v3/objects/{objectType}/batch/read"
SF_WRITES = ("PATCH */composite/sobjects*", "POST */composite/sobjects", "DELETE */composite/sobjects")


def hs_writes(sb: Any) -> int:
    """Write requests the HubSpot emulator served since its counter was reset."""
    return sb.hubspot.requests.count(HS_WRITES) - sb.hubspot.requests.count(HS_READS)


def sf_writes(sb: Any) -> int:
    return sum(sb.salesforce.requests.count(p) for p in SF_WRITES)


def reset(sb: Any) -> None:
    sb.hubspot.requests.reset()
    sb.salesforce.requests.reset()


def hs_contact(sb: Any, email: str) -> dict[str, Any] | None:
    """The live HubSpot contact with this email (case-insensitive), every property."""
    return sb.hubspot.store.find("contacts", "email", email)


def sf_contacts(sb: Any, email: str) -> list[dict[str, Any]]:
    """Live Salesforce contacts whose Email equals ``email`` case-insensitively."""
    store = sb.salesforce.store
    with store.lock:
        return [dict(r) for r in store.records("Contact")
                if not r["IsDeleted"] and (r.get("Email") or "").strip().lower() == email.lower()]


def mini_build(project: Any, domain: str = "@hubtest.example") -> None:
    """A stand-in for ``hub build``: canonical.person(_source) from the raw tables, one person per lower-cased email,
    each field from the most recently updated record (the canonical model's rule), only emails at ``domain``."""
    with project.warehouse() as wh:
        wh.execute("CREATE SCHEMA IF NOT EXISTS canonical")
        wh.execute(f"""
            CREATE OR REPLACE TABLE canonical.person_source AS
            WITH records AS (
                SELECT 'hubspot' AS connection, 'contacts' AS stream, id AS source_id, lower(trim(email)) AS email,
                       firstname AS first_name, lastname AS last_name, phone,
                       try_cast(lastmodifieddate AS TIMESTAMPTZ) AS source_updated_at
                FROM raw_hubspot.contacts WHERE NOT coalesce(archived, false)
                UNION ALL
                SELECT 'salesforce', 'Contact', id, lower(trim(email)), first_name, last_name, phone,
                       try_cast(system_modstamp AS TIMESTAMPTZ)
                FROM raw_salesforce.contact WHERE NOT coalesce(is_deleted, false))
            SELECT md5(email) AS person_id, * FROM records WHERE email LIKE '%{domain}'""")
        wh.execute("""
            CREATE OR REPLACE TABLE canonical.person AS
            SELECT person_id, any_value(email) AS email,
                   arg_max(first_name, source_updated_at) FILTER (WHERE first_name IS NOT NULL) AS first_name,
                   arg_max(last_name, source_updated_at) FILTER (WHERE last_name IS NOT NULL) AS last_name,
                   arg_max(phone, source_updated_at) FILTER (WHERE phone IS NOT NULL) AS phone,
                   NULL::VARCHAR AS company_name, count(*) AS source_count,
                   min(source_updated_at) AS first_seen_at, max(source_updated_at) AS updated_at
            FROM canonical.person_source GROUP BY person_id""")


def cycle(project: Any, build: Any = mini_build) -> Any:
    """One `hub run`: ingest, build, push; returns the push report."""
    from hub.reverse_etl import push

    assert project.ingest().ok
    build(project)
    return push(project)
