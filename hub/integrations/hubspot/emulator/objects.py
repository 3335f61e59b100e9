"""The portal's CRM objects beyond contacts and companies: deals, tickets, line items and a custom object.

Property names, types and the default properties each object returns follow HubSpot's CRM object guides and the
properties API (docs/vendors.md lists the pages). Derived properties (a deal's ``hs_is_closed``/
``hs_is_closed_won`` from its stage, a line item's ``amount``) are computed in :func:`derive`, as HubSpot calculates
them.
"""

from __future__ import annotations

from typing import Any

from hub.integrations.hubspot.emulator.schema import ObjectSchema, Prop

_S, _N, _DT = "string", "number", "datetime"

#: the default sales pipeline's stages: (internal id, closed, won)
DEAL_STAGES = (("appointmentscheduled", False, False), ("qualifiedtobuy", False, False),
               ("presentationscheduled", False, False), ("decisionmakerboughtin", False, False),
               ("contractsent", False, False), ("closedwon", True, True), ("closedlost", True, False))
DEAL_STAGE = {stage: (closed, won) for stage, closed, won in DEAL_STAGES}
#: the default support pipeline's stages (ids "1".."4": New, Waiting on contact, Waiting on us, Closed)
TICKET_STAGES = ("1", "2", "3", "4")
TICKET_CLOSED = "4"
TICKET_PRIORITIES = ("LOW", "MEDIUM", "HIGH", "URGENT")
CURRENCIES = ("USD", "EUR", "GBP", "CAD")

DEAL_PROPS = [
    Prop("dealname", "Deal Name", _S, "text", "dealinformation"),
    Prop("amount", "Amount", _N, "number", "dealinformation"),
    Prop("deal_currency_code", "Currency", "enumeration", "select", "dealinformation", options=CURRENCIES),
    Prop("dealstage", "Deal Stage", "enumeration", "radio", "dealinformation",
         options=tuple(s for s, _, _ in DEAL_STAGES)),
    Prop("pipeline", "Pipeline", "enumeration", "select", "dealinformation", options=("default",)),
    Prop("closedate", "Close Date", _DT, "date", "dealinformation"),
    Prop("dealtype", "Deal Type", "enumeration", "radio", "dealinformation",
         options=("newbusiness", "existingbusiness")),
    Prop("description", "Deal Description", _S, "textarea", "dealinformation"),
    Prop("hs_priority", "Priority", "enumeration", "select", "dealinformation", options=("low", "medium", "high")),
    Prop("hubspot_owner_id", "Deal owner", "enumeration", "select", "dealinformation"),
    Prop("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", "dealinformation", read_only=True),
    Prop("hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox", "dealinformation", read_only=True),
    Prop("num_associated_contacts", "Number of Contacts", _N, "number", "dealinformation", read_only=True),
    Prop("createdate", "Create Date", _DT, "date", "dealinformation", read_only=True),
    Prop("hs_lastmodifieddate", "Last Modified Date", _DT, "date", "dealinformation", read_only=True),
    Prop("hs_object_id", "Record ID", _N, "number", "dealinformation", read_only=True),
    Prop("hub_deal_id", "Hub Deal ID", _S, "text", "dealinformation", unique=True, hubspot_defined=False),
]

TICKET_PROPS = [
    Prop("subject", "Ticket name", _S, "text", "ticketinformation"),
    Prop("content", "Ticket description", _S, "textarea", "ticketinformation"),
    Prop("hs_pipeline", "Pipeline", "enumeration", "select", "ticketinformation", options=("0",)),
    Prop("hs_pipeline_stage", "Ticket status", "enumeration", "select", "ticketinformation", options=TICKET_STAGES),
    Prop("hs_ticket_priority", "Priority", "enumeration", "select", "ticketinformation", options=TICKET_PRIORITIES),
    Prop("hs_ticket_category", "Category", "enumeration", "checkbox", "ticketinformation",
         options=("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY")),
    Prop("source_type", "Source", "enumeration", "select", "ticketinformation",
         options=("CHAT", "EMAIL", "FORM", "PHONE")),
    Prop("hubspot_owner_id", "Ticket owner", "enumeration", "select", "ticketinformation"),
    Prop("closed_date", "Close date", _DT, "date", "ticketinformation", read_only=True),
    Prop("createdate", "Create date", _DT, "date", "ticketinformation", read_only=True),
    Prop("hs_lastmodifieddate", "Last modified date", _DT, "date", "ticketinformation", read_only=True),
    Prop("hs_object_id", "Record ID", _N, "number", "ticketinformation", read_only=True),
    Prop("hub_ticket_id", "Hub Ticket ID", _S, "text", "ticketinformation", unique=True, hubspot_defined=False),
]

LINE_ITEM_PROPS = [
    Prop("name", "Name", _S, "text", "lineiteminformation"),
    Prop("quantity", "Quantity", _N, "number", "lineiteminformation"),
    Prop("price", "Unit price", _N, "number", "lineiteminformation"),
    Prop("amount", "Net price", _N, "number", "lineiteminformation", read_only=True),
    Prop("hs_sku", "SKU", _S, "text", "lineiteminformation"),
    Prop("hs_product_id", "Product ID", _N, "number", "lineiteminformation"),
    Prop("description", "Description", _S, "textarea", "lineiteminformation"),
    Prop("createdate", "Create Date", _DT, "date", "lineiteminformation", read_only=True),
    Prop("hs_lastmodifieddate", "Last Modified Date", _DT, "date", "lineiteminformation", read_only=True),
    Prop("hs_object_id", "Record ID", _N, "number", "lineiteminformation", read_only=True),
]

#: the portal's custom object (Settings > Objects > Custom Objects): its schema's id and fully qualified name
PORTAL_ID = 4242424
SUBSCRIPTION_TYPE = "2-3508482"
SUBSCRIPTION_PROPS = [
    Prop("subscription_name", "Subscription name", _S, "text", "subscription_information", hubspot_defined=False),
    Prop("plan", "Plan", "enumeration", "select", "subscription_information",
         options=("starter", "growth", "enterprise"), hubspot_defined=False),
    Prop("seats", "Seats", _N, "number", "subscription_information", hubspot_defined=False),
    Prop("renewal_date", "Renewal date", "date", "date", "subscription_information", hubspot_defined=False),
    Prop("hs_createdate", "Object create date/time", _DT, "date", "subscription_information", read_only=True),
    Prop("hs_lastmodifieddate", "Object last modified date/time", _DT, "date", "subscription_information",
         read_only=True),
    Prop("hs_object_id", "Record ID", _N, "number", "subscription_information", read_only=True),
]

_STAMPS = ("createdate", "hs_lastmodifieddate", "hs_object_id")
MORE_SCHEMAS = {
    "deals": ObjectSchema("deals", "DEAL", {p.name: p for p in DEAL_PROPS},
                          ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
                           "hs_object_id", "pipeline"), "hs_lastmodifieddate", _STAMPS, type_id="0-3"),
    "tickets": ObjectSchema("tickets", "TICKET", {p.name: p for p in TICKET_PROPS},
                            ("content", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_pipeline",
                             "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_priority", "subject"),
                            "hs_lastmodifieddate", _STAMPS, type_id="0-5"),
    "line_items": ObjectSchema("line_items", "LINE_ITEM", {p.name: p for p in LINE_ITEM_PROPS},
                               ("amount", "createdate", "hs_lastmodifieddate", "hs_object_id", "name", "price",
                                "quantity"), "hs_lastmodifieddate", _STAMPS, type_id="0-8"),
    "subscriptions": ObjectSchema("subscriptions", "SUBSCRIPTION", {p.name: p for p in SUBSCRIPTION_PROPS},
                                  ("hs_createdate", "hs_lastmodifieddate", "hs_object_id", "subscription_name"),
                                  "hs_lastmodifieddate", ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
                                  created_prop="hs_createdate", type_id=SUBSCRIPTION_TYPE),
}
#: the names and type ids HubSpot takes in URLs for these objects (a custom object: its id or fully qualified name)
MORE_ALIASES = {"deal": "deals", "0-3": "deals", "ticket": "tickets", "0-5": "tickets", "line_item": "line_items",
                "0-8": "line_items", SUBSCRIPTION_TYPE: "subscriptions",
                f"p{PORTAL_ID}_subscriptions": "subscriptions"}
#: first record ids (HubSpot's ids grow per portal; distinct ranges keep tests' ids apart)
FIRST_IDS = {"deals": 9_100_001, "tickets": 3_300_001, "line_items": 5_500_001, "subscriptions": 8_800_001}


def custom_schema(schema: ObjectSchema) -> dict[str, Any]:
    """The custom object's entry in GET /crm/v3/schemas."""
    stamp = "2024-01-15T10:00:00.000Z"
    return {"id": SUBSCRIPTION_TYPE.split("-")[1], "objectTypeId": schema.type_id,
            "fullyQualifiedName": f"p{PORTAL_ID}_{schema.name}", "name": schema.name,
            "labels": {"singular": "Subscription", "plural": "Subscriptions"},
            "primaryDisplayProperty": "subscription_name", "secondaryDisplayProperties": ["plan"],
            "requiredProperties": ["subscription_name"], "searchableProperties": ["subscription_name"],
            "properties": [p.definition(i) for i, p in enumerate(schema.props.values())],
            "associations": [{"fromObjectTypeId": schema.type_id, "toObjectTypeId": "0-2",
                              "name": "subscriptions_to_company", "id": "1001", "createdAt": stamp,
                              "updatedAt": stamp}],
            "metaType": "PORTAL_SPECIFIC", "archived": False, "createdAt": stamp, "updatedAt": stamp}


def derive(schema: ObjectSchema, props: dict[str, str | None], now_iso: str) -> None:
    """Properties HubSpot calculates from others."""
    if schema.name == "deals":
        closed, won = DEAL_STAGE.get(props.get("dealstage") or "", (False, False))
        props["hs_is_closed"], props["hs_is_closed_won"] = str(closed).lower(), str(won).lower()
    elif schema.name == "tickets":
        closed = props.get("hs_pipeline_stage") == TICKET_CLOSED
        props["closed_date"] = (props.get("closed_date") or now_iso) if closed else None
    elif schema.name == "line_items":
        try:
            amount = float(props.get("price") or 0) * float(props.get("quantity") or 1)
        except ValueError:
            amount = None
        props["amount"] = None if props.get("price") is None or amount is None else f"{amount:.2f}"
