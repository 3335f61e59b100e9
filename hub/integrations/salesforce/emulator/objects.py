"""The org's sObjects beyond Contact and Account: Lead, Opportunity, Case, Task and a custom object.

Fields, types and properties (createable, updateable, nillable, defaulted) follow the Object Reference for the
Salesforce Platform (docs/vendors.md lists the pages). Each object's derived fields (Name, IsClosed, IsWon,
Probability, CaseNumber...) are computed in :func:`derive`, as Salesforce computes them on every save.
"""

from __future__ import annotations

from typing import Any

from hub.integrations.salesforce.emulator.schema import (ACCOUNT, CONTACT, INDUSTRIES, LEAD_SOURCES, Field,
                                                        SObjectType, _system_fields)

_RO = {"createable": False, "updateable": False}
_ID = {"nillable": False, "defaulted": True, **_RO}

LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted")
#: the standard sales process's stages: (name, default probability, closed, won) (OpportunityStage)
STAGES = (("Prospecting", 10, False, False), ("Qualification", 10, False, False),
          ("Needs Analysis", 20, False, False), ("Value Proposition", 50, False, False),
          ("Id. Decision Makers", 60, False, False), ("Perception Analysis", 70, False, False),
          ("Proposal/Price Quote", 75, False, False), ("Negotiation/Review", 90, False, False),
          ("Closed Won", 100, True, True), ("Closed Lost", 0, True, False))
STAGE = {name.lower(): (probability, closed, won) for name, probability, closed, won in STAGES}
CASE_STATUSES = ("New", "Working", "Escalated", "Closed")
CASE_ORIGINS = ("Phone", "Email", "Web")
PRIORITIES = ("High", "Medium", "Low")
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
PLANS = ("Starter", "Growth", "Enterprise")

LEAD = SObjectType("Lead", "Lead", "Leads", "00Q", [
    Field("Id", "Lead ID", "id", 18, **_ID),
    Field("IsDeleted", "Deleted", "boolean", **_ID),
    Field("LastName", "Last Name", "string", 80, nillable=False),
    Field("FirstName", "First Name", "string", 40),
    Field("Salutation", "Salutation", "picklist", 40, picklist=("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
    Field("Name", "Full Name", "string", 121, nillable=False, **_RO),
    Field("Title", "Title", "string", 128),
    Field("Company", "Company", "string", 255, nillable=False),
    Field("City", "City", "string", 40),
    Field("Country", "Country", "string", 80),
    Field("Phone", "Phone", "phone", 40),
    Field("MobilePhone", "Mobile Phone", "phone", 40),
    Field("Email", "Email", "email", 80),
    Field("Website", "Website", "url", 255),
    Field("Description", "Description", "textarea", 32000),
    Field("LeadSource", "Lead Source", "picklist", 255, picklist=LEAD_SOURCES),
    Field("Status", "Status", "picklist", 255, nillable=False, defaulted=True, picklist=LEAD_STATUSES,
          default_value=LEAD_STATUSES[0]),
    Field("Industry", "Industry", "picklist", 255, picklist=INDUSTRIES),
    Field("Rating", "Rating", "picklist", 255, picklist=("Hot", "Warm", "Cold")),
    Field("AnnualRevenue", "Annual Revenue", "currency", precision=18),
    Field("NumberOfEmployees", "Employees", "int", precision=8),
    Field("HasOptedOutOfEmail", "Email Opt Out", "boolean", nillable=False, defaulted=True),
    Field("IsConverted", "Converted", "boolean", **_ID),
    Field("ConvertedDate", "Converted Date", "date", **_RO),
    Field("ConvertedAccountId", "Converted Account ID", "reference", 18, reference_to="Account",
          relationship="ConvertedAccount", **_RO),
    Field("ConvertedContactId", "Converted Contact ID", "reference", 18, reference_to="Contact",
          relationship="ConvertedContact", **_RO),
    Field("ConvertedOpportunityId", "Converted Opportunity ID", "reference", 18, reference_to="Opportunity",
          relationship="ConvertedOpportunity", **_RO),
    *_system_fields(),
    Field("Hub_Lead_Id__c", "Hub Lead Id", "string", 64, external_id=True, unique=True, custom=True),
])

OPPORTUNITY = SObjectType("Opportunity", "Opportunity", "Opportunities", "006", [
    Field("Id", "Opportunity ID", "id", 18, **_ID),
    Field("IsDeleted", "Deleted", "boolean", **_ID),
    Field("AccountId", "Account ID", "reference", 18, reference_to="Account", relationship="Account"),
    # the primary contact: set on create (it makes the primary OpportunityContactRole), read-only after (API 46.0+)
    Field("ContactId", "Contact ID", "reference", 18, updateable=False, reference_to="Contact",
          relationship="Contact"),
    Field("Name", "Name", "string", 120, nillable=False),
    Field("Description", "Description", "textarea", 32000),
    Field("StageName", "Stage", "picklist", 255, nillable=False, picklist=tuple(s[0] for s in STAGES)),
    Field("Amount", "Amount", "currency", precision=18),
    Field("Probability", "Probability (%)", "percent", precision=3),
    Field("ExpectedRevenue", "Expected Amount", "currency", precision=18, **_RO),
    Field("CloseDate", "Close Date", "date", nillable=False),
    Field("Type", "Opportunity Type", "picklist", 255,
          picklist=("Existing Customer - Upgrade", "Existing Customer - Replacement",
                    "Existing Customer - Downgrade", "New Customer")),
    Field("NextStep", "Next Step", "string", 255),
    Field("LeadSource", "Lead Source", "picklist", 255, picklist=LEAD_SOURCES),
    Field("IsClosed", "Closed", "boolean", **_ID),
    Field("IsWon", "Won", "boolean", **_ID),
    *_system_fields(),
    Field("Hub_Deal_Id__c", "Hub Deal Id", "string", 64, external_id=True, unique=True, custom=True),
])

CASE = SObjectType("Case", "Case", "Cases", "500", [
    Field("Id", "Case ID", "id", 18, **_ID),
    Field("IsDeleted", "Deleted", "boolean", **_ID),
    Field("CaseNumber", "Case Number", "string", 30, **_ID),
    Field("ContactId", "Contact ID", "reference", 18, reference_to="Contact", relationship="Contact"),
    Field("AccountId", "Account ID", "reference", 18, reference_to="Account", relationship="Account"),
    Field("SuppliedName", "Name", "string", 80),
    Field("SuppliedEmail", "Email Address", "email", 80),
    Field("SuppliedPhone", "Phone", "string", 40),
    Field("Type", "Case Type", "picklist", 255, picklist=("Mechanical", "Electrical", "Electronic", "Structural",
                                                           "Other")),
    Field("Status", "Status", "picklist", 255, defaulted=True, picklist=CASE_STATUSES, default_value="New"),
    Field("Reason", "Case Reason", "picklist", 255, picklist=("Installation", "Equipment Complexity", "Performance",
                                                               "Breakdown", "Equipment Design", "Feedback", "Other")),
    Field("Origin", "Case Origin", "picklist", 255, picklist=CASE_ORIGINS),
    Field("Subject", "Subject", "string", 255),
    Field("Priority", "Priority", "picklist", 255, defaulted=True, picklist=PRIORITIES, default_value="Medium"),
    Field("Description", "Description", "textarea", 32000),
    Field("IsClosed", "Closed", "boolean", **_ID),
    Field("ClosedDate", "Closed Date", "datetime", **_RO),
    Field("IsEscalated", "Escalated", "boolean", nillable=False, defaulted=True),
    *_system_fields(),
    Field("Hub_Ticket_Id__c", "Hub Ticket Id", "string", 64, external_id=True, unique=True, custom=True),
])

TASK = SObjectType("Task", "Task", "Tasks", "00T", [
    Field("Id", "Activity ID", "id", 18, **_ID),
    Field("IsDeleted", "Deleted", "boolean", **_ID),
    # polymorphic lookups: WhoId a Contact or Lead, WhatId an Account, Opportunity or Case
    Field("WhoId", "Name ID", "reference", 18, reference_to="Contact,Lead"),
    Field("WhatId", "Related To ID", "reference", 18, reference_to="Account,Opportunity,Case"),
    Field("Subject", "Subject", "combobox", 255),
    Field("ActivityDate", "Due Date Only", "date"),
    Field("Status", "Status", "picklist", 255, nillable=False, defaulted=True, picklist=TASK_STATUSES,
          default_value="Not Started"),
    Field("Priority", "Priority", "picklist", 40, nillable=False, defaulted=True,
          picklist=("High", "Normal", "Low"), default_value="Normal"),
    Field("Description", "Description", "textarea", 32000),
    Field("TaskSubtype", "Task Subtype", "picklist", 40, picklist=("Task", "Email", "Call"), updateable=False),
    Field("IsClosed", "Closed", "boolean", **_ID),
    *_system_fields(),
    # an activity custom field (defined on Activity, shown on Task) the org made for logged website chats
    Field("Hub_Chat_Id__c", "Hub Chat Id", "string", 64, external_id=True, unique=True, custom=True),
])

#: a custom object the org made (``__c``; custom objects' key prefixes start at a00..a0Z)
SUBSCRIPTION = SObjectType("Subscription__c", "Subscription", "Subscriptions", "a01", [
    Field("Id", "Record ID", "id", 18, **_ID),
    Field("IsDeleted", "Deleted", "boolean", **_ID),
    Field("Name", "Subscription Name", "string", 80, nillable=False),
    Field("Account__c", "Account", "reference", 18, reference_to="Account", relationship="Account__r", custom=True),
    Field("Plan__c", "Plan", "picklist", 255, picklist=PLANS, custom=True),
    Field("Seats__c", "Seats", "double", precision=18, custom=True),
    Field("Renewal_Date__c", "Renewal Date", "date", custom=True),
    Field("Active__c", "Active", "boolean", nillable=False, defaulted=True, custom=True),
    *_system_fields(),
    Field("Hub_Subscription_Id__c", "Hub Subscription Id", "string", 64, external_id=True, unique=True,
          custom=True),
])

#: every sObject of the sandbox's org, with the first record number of its Ids
ORG = ((CONTACT, 9_000_001), (ACCOUNT, 7_000_001), (LEAD, 6_000_001), (OPPORTUNITY, 5_000_001),
       (CASE, 4_000_001), (TASK, 3_000_001), (SUBSCRIPTION, 2_000_001))
SOBJECTS = {t.name.lower(): t for t, _ in ORG}
PREFIXES = {t.key_prefix: t for t, _ in ORG}


def derive(sobject: SObjectType, record: dict[str, Any], *, now: str) -> None:
    """Fill the fields Salesforce computes on save (formula-like and status-driven ones). A field this user cannot
    see (field-level security) is not in the record, and stays out."""
    name = sobject.name
    out: dict[str, Any] = {}
    if name in ("Contact", "Lead"):
        out["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p) or None
    elif name == "Opportunity":
        probability, closed, won = STAGE.get(str(record.get("StageName") or "").lower(), (None, False, False))
        chance = record.get("Probability")
        if chance is None:   # a new record, or a stage change that named no probability
            out["Probability"] = chance = probability
        out["IsClosed"], out["IsWon"] = closed, won
        amount = record.get("Amount")
        out["ExpectedRevenue"] = round(amount * chance / 100, 2) if amount is not None and chance is not None else None
    elif name == "Case":
        closed = record.get("Status") == "Closed"
        if closed and not record.get("IsClosed"):
            out["ClosedDate"] = now
        elif not closed:
            out["ClosedDate"] = None
        out["IsClosed"] = closed
    elif name == "Task":
        out["IsClosed"] = record.get("Status") == "Completed"
    record.update((key, value) for key, value in out.items() if key in record)
