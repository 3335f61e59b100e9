"""Seeding the sandbox's org: the seed's sales accounts and contacts, and leads, opportunities, cases, tasks and a
custom object's records drawn from the seed's rows (deterministic: every 5th row, at most 100 of each)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.integrations.salesforce.emulator.objects import (CASE_ORIGINS, CASE_STATUSES, LEAD_STATUSES, PRIORITIES,
                                                         STAGES)
from hub.integrations.salesforce.emulator.schema import LEAD_SOURCES, TIERS
from hub.sandbox.clock import iso_millis_offset
from hub.sandbox.seed import MARKETING, SALES, CompanyRow, PersonRow, SeedData, custom_values

if TYPE_CHECKING:
    from hub.integrations.salesforce.emulator.store import SalesforceStore

SEEDED_EVERY, SEEDED_MAX = 5, 100
INDUSTRY = {"Software": "Technology", "Logistics": "Transportation", "Financial Services": "Finance"}


def load(store: SalesforceStore, seed: SeedData) -> None:
    """Fill a new org from the seed: its accounts and contacts, and leads, opportunities, cases, tasks and
    subscriptions drawn from them."""
    accounts, contacts = store.tables["Account"], store.tables["Contact"]
    account_ids: dict[int, str] = {}
    for n, row in enumerate(seed.companies[SALES]):
        values = {**_account_fields(row), **custom_values(store.custom, n)}
        record = store.insert(accounts, values, created=iso_millis_offset(row.created_ms // 1000 * 1000),
                             modified=iso_millis_offset(row.updated_ms // 1000 * 1000))
        account_ids[row.key] = record["Id"]
    for n, row in enumerate(seed.contacts[SALES]):
        fields = {**_contact_fields(row, account_ids.get(row.company) if row.company is not None else None),
                  **custom_values(store.custom, n)}
        record = store.insert(contacts, fields, created=iso_millis_offset(row.created_ms // 1000 * 1000),
                             modified=iso_millis_offset(row.updated_ms // 1000 * 1000))
        if row.deleted:
            record["IsDeleted"] = True
            contacts.reindex({**record, "IsDeleted": False}, record)
            contacts.deleted_log.append((record["Id"], row.updated_ms // 1000 * 1000))
        elif n % SEEDED_EVERY == 0 and len(store.tables["Case"].order) < SEEDED_MAX:
            _seed_case(store, n, row, record)
    first_contact: dict[str, str] = {}
    for record in contacts.records.values():
        if record["AccountId"] and not record["IsDeleted"]:
            first_contact.setdefault(record["AccountId"], record["Id"])
    for n, row in enumerate(seed.companies[SALES][::SEEDED_EVERY][:SEEDED_MAX]):
        account_id = account_ids[row.key]
        _seed_opportunity(store, n, row, account_id, first_contact.get(account_id))
    companies = {row.key: row.name for row in seed.companies[MARKETING]}
    for n, row in enumerate(seed.contacts[MARKETING][::SEEDED_EVERY][:SEEDED_MAX]):
        _seed_lead(store, n, row, companies.get(row.company) if row.company is not None else None)


def _seed_opportunity(store: SalesforceStore, n: int, row: CompanyRow, account_id: str,
                      contact_id: str | None) -> None:
    stage = STAGES[n % len(STAGES)][0]
    close = iso_millis_offset(row.updated_ms // 1000 * 1000)[:10]
    values = {"Name": f"{row.name} - {('New Business', 'Renewal', 'Upsell')[n % 3]}", "StageName": stage,
              "Amount": float(5_000 + (n * 7_919) % 95_000), "CloseDate": close, "AccountId": account_id,
              "ContactId": contact_id, "LeadSource": LEAD_SOURCES[n % len(LEAD_SOURCES)]}
    store.insert(store.tables["Opportunity"], values, **_stamps(row.created_ms, row.updated_ms))
    plan = ("Starter", "Growth", "Enterprise")[n % 3]
    store.insert(store.tables["Subscription__c"], {"Name": f"{row.name} {plan}", "Account__c": account_id,
                                                  "Plan__c": plan, "Seats__c": float(5 + n % 50),
                                                  "Renewal_Date__c": close, "Active__c": n % 4 != 3},
                **_stamps(row.created_ms, row.updated_ms))


def _seed_case(store: SalesforceStore, n: int, row: PersonRow, contact: dict[str, Any]) -> None:
    values = {"ContactId": contact["Id"], "AccountId": contact.get("AccountId"),
              "Subject": f"{('Cannot log in', 'Invoice question', 'Feature request', 'Data export')[n % 4]}",
              "Status": CASE_STATUSES[n % len(CASE_STATUSES)], "Priority": PRIORITIES[n % len(PRIORITIES)],
              "Origin": CASE_ORIGINS[n % len(CASE_ORIGINS)], "SuppliedEmail": row.email}
    case = store.insert(store.tables["Case"], values, **_stamps(row.created_ms, row.updated_ms))
    store.insert(store.tables["Task"], {"WhoId": contact["Id"], "WhatId": case["Id"], "Subject": "Call back",
                                      "Status": ("Not Started", "Completed")[n % 2], "TaskSubtype": "Call"},
                **_stamps(row.created_ms, row.updated_ms))


def _seed_lead(store: SalesforceStore, n: int, row: PersonRow, company: str | None) -> None:
    last = row.last_name if row.last_name and row.last_name.strip() else "[not provided]"
    values = {"FirstName": row.first_name, "LastName": last, "Email": row.email, "Phone": row.phone,
              "Title": row.title, "City": row.city, "Country": row.country,
              "LeadSource": LEAD_SOURCES[n % len(LEAD_SOURCES)], "Company": company or "[not provided]",
              "Status": LEAD_STATUSES[n % 2]}
    store.insert(store.tables["Lead"], values, **_stamps(row.created_ms, row.updated_ms))


def _stamps(created_ms: int, updated_ms: int) -> dict[str, str]:
    return {"created": iso_millis_offset(created_ms // 1000 * 1000),
            "modified": iso_millis_offset(updated_ms // 1000 * 1000)}


def _contact_fields(row: PersonRow, account_id: str | None) -> dict[str, Any]:
    # Salesforce requires LastName, so blank names from the source system arrive as placeholders
    last = row.last_name if row.last_name and row.last_name.strip() else "[not provided]"
    return {"FirstName": row.first_name, "LastName": last, "Email": row.email, "Phone": row.phone,
            "MobilePhone": row.mobile, "Title": row.title, "MailingCity": row.city, "MailingCountry": row.country,
            "LeadSource": row.source, "AccountId": account_id}


def _account_fields(row: CompanyRow) -> dict[str, Any]:
    return {"Name": row.name, "Website": row.website, "Phone": row.phone,
            "Industry": INDUSTRY.get(row.industry or "", row.industry), "BillingCity": row.city,
            "BillingCountry": row.country, "NumberOfEmployees": row.employees, "AnnualRevenue": row.revenue,
            "Tier__c": TIERS[row.key % len(TIERS)]}
