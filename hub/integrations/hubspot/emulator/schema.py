"""HubSpot CRM property definitions for contacts and companies, and HubSpot-style value validation."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hub.sandbox.clock import iso_millis_z, parse_iso

EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
SCHEMA_STAMP = "2019-08-06T02:41:08.263Z"  # HubSpot-defined properties all carry old timestamps


@dataclass(frozen=True, slots=True)
class Prop:
    """One property definition (the subset of HubSpot's fields the emulator needs)."""

    name: str
    label: str
    type: str  # string | number | datetime | date | enumeration | bool
    field_type: str  # text | textarea | phonenumber | number | date | select | radio | booleancheckbox
    group: str
    read_only: bool = False
    unique: bool = False
    options: tuple[str, ...] = ()
    hubspot_defined: bool = True

    def definition(self, order: int) -> dict[str, Any]:
        """The JSON HubSpot returns from GET /crm/v3/properties/{objectType}."""
        return {
            "updatedAt": SCHEMA_STAMP, "createdAt": SCHEMA_STAMP, "name": self.name, "label": self.label,
            "type": self.type, "fieldType": self.field_type, "description": "", "groupName": self.group,
            "options": [{"label": o.replace("_", " ").title(), "value": o, "displayOrder": i, "hidden": False}
                        for i, o in enumerate(self.options)],
            "displayOrder": order, "calculated": False, "externalOptions": False,
            "hasUniqueValue": self.unique, "hidden": False, "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {"archivable": not self.hubspot_defined, "readOnlyDefinition": self.hubspot_defined,
                                     "readOnlyValue": self.read_only},
            "formField": not self.read_only,
            "dataSensitivity": "non_sensitive",
        }


LIFECYCLE_STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
                    "customer", "evangelist", "other")
LEAD_STATUS = ("NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED",
               "BAD_TIMING")
INDUSTRY = ("COMPUTER_SOFTWARE", "LOGISTICS_AND_SUPPLY_CHAIN", "HOSPITAL_HEALTH_CARE", "FINANCIAL_SERVICES",
            "MACHINERY", "RETAIL", "OIL_ENERGY", "MEDIA_PRODUCTION", "MANAGEMENT_CONSULTING", "BIOTECHNOLOGY")
ANALYTICS_SOURCE = ("ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS",
                    "OTHER_CAMPAIGNS", "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL")

_S, _N, _DT = "string", "number", "datetime"

CONTACT_PROPS = [
    Prop("email", "Email", _S, "text", "contactinformation"),
    Prop("firstname", "First Name", _S, "text", "contactinformation"),
    Prop("lastname", "Last Name", _S, "text", "contactinformation"),
    Prop("phone", "Phone Number", _S, "phonenumber", "contactinformation"),
    Prop("mobilephone", "Mobile Phone Number", _S, "phonenumber", "contactinformation"),
    Prop("company", "Company Name", _S, "text", "contactinformation"),
    Prop("jobtitle", "Job Title", _S, "text", "contactinformation"),
    Prop("website", "Website URL", _S, "text", "contactinformation"),
    Prop("address", "Street Address", _S, "text", "contactinformation"),
    Prop("city", "City", _S, "text", "contactinformation"),
    Prop("state", "State/Region", _S, "text", "contactinformation"),
    Prop("zip", "Postal Code", _S, "text", "contactinformation"),
    Prop("country", "Country/Region", _S, "text", "contactinformation"),
    Prop("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", "contactinformation", options=LIFECYCLE_STAGES),
    Prop("hs_lead_status", "Lead Status", "enumeration", "radio", "sales_properties", options=LEAD_STATUS),
    Prop("hs_analytics_source", "Original Source", "enumeration", "select", "analyticsinformation",
         read_only=True, options=ANALYTICS_SOURCE),
    Prop("associatedcompanyid", "Primary Associated Company ID", _N, "number", "contactinformation"),
    Prop("hubspot_owner_id", "Contact owner", "enumeration", "select", "sales_properties"),
    Prop("hs_email_domain", "Email Domain", _S, "text", "contactinformation", read_only=True),
    Prop("notes_last_updated", "Last Activity Date", _DT, "date", "sales_properties", read_only=True),
    Prop("num_associated_deals", "Number of Associated Deals", _N, "number", "deal_information", read_only=True),
    Prop("total_revenue", "Total Revenue", _N, "number", "deal_information"),
    Prop("hs_email_optout", "Unsubscribed from all email", "bool", "booleancheckbox", "emailinformation"),
    # the lead score HubSpot's scoring rules compute (calculated: the API cannot set it)
    Prop("hubspotscore", "HubSpot Score", _N, "number", "contactinformation", read_only=True),
    Prop("createdate", "Create Date", _DT, "date", "contactinformation", read_only=True),
    Prop("lastmodifieddate", "Last Modified Date", _DT, "date", "contactinformation", read_only=True),
    Prop("hs_object_id", "Record ID", _N, "number", "contactinformation", read_only=True),
    Prop("hub_person_id", "Hub Person ID", _S, "text", "contactinformation", unique=True, hubspot_defined=False),
]

COMPANY_PROPS = [
    Prop("name", "Company name", _S, "text", "companyinformation"),
    Prop("domain", "Company Domain Name", _S, "text", "companyinformation"),
    Prop("website", "Website URL", _S, "text", "companyinformation"),
    Prop("phone", "Phone Number", _S, "phonenumber", "companyinformation"),
    Prop("industry", "Industry", "enumeration", "select", "companyinformation", options=INDUSTRY),
    Prop("type", "Type", "enumeration", "select", "companyinformation",
         options=("PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER")),
    Prop("description", "Description", _S, "textarea", "companyinformation"),
    Prop("address", "Street Address", _S, "text", "companyinformation"),
    Prop("city", "City", _S, "text", "companyinformation"),
    Prop("state", "State/Region", _S, "text", "companyinformation"),
    Prop("zip", "Postal Code", _S, "text", "companyinformation"),
    Prop("country", "Country/Region", _S, "text", "companyinformation"),
    Prop("numberofemployees", "Number of Employees", _N, "number", "companyinformation"),
    Prop("annualrevenue", "Annual Revenue", _N, "number", "companyinformation"),
    Prop("founded_year", "Year Founded", _S, "text", "companyinformation"),
    Prop("linkedin_company_page", "LinkedIn Company Page", _S, "text", "social_media_information"),
    Prop("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", "companyinformation", options=LIFECYCLE_STAGES),
    Prop("hubspot_owner_id", "Company owner", "enumeration", "select", "companyinformation"),
    Prop("num_associated_contacts", "Number of Associated Contacts", _N, "number", "companyinformation",
         read_only=True),
    Prop("createdate", "Create Date", _DT, "date", "companyinformation", read_only=True),
    Prop("hs_lastmodifieddate", "Last Modified Date", _DT, "date", "companyinformation", read_only=True),
    Prop("hs_object_id", "Record ID", _N, "number", "companyinformation", read_only=True),
    Prop("hub_company_id", "Hub Company ID", _S, "text", "companyinformation", unique=True, hubspot_defined=False),
]


@dataclass(frozen=True)
class ObjectSchema:
    """Per-object-type facts: properties, default properties, the modification property."""

    name: str  # "contacts"
    singular: str  # "CONTACT"
    props: dict[str, Prop]
    default_props: tuple[str, ...]
    modified_prop: str
    always_props: tuple[str, ...]
    #: the create-date property (custom objects name it hs_createdate)
    created_prop: str = "createdate"
    #: HubSpot's object type id (0-1 contacts, 2-NNN a custom object)
    type_id: str = ""

    def definitions(self) -> list[dict[str, Any]]:
        """All property definitions as the properties API returns them."""
        return [p.definition(i) for i, p in enumerate(self.props.values())]

    def customized(self, custom: Sequence[str] = (), hidden: Collection[str] = ()) -> ObjectSchema:
        """This schema as one portal has it: ``custom`` text properties added, ``hidden`` ones absent (portals
        differ: a property deleted or never created is neither listed nor returned)."""
        if not custom and not hidden:
            return self
        kept = {n: p for n, p in self.props.items() if n not in hidden or n in self.always_props}
        kept.update((n, Prop(n, n.replace("_", " ").capitalize(), _S, "text", "custom_properties",
                             hubspot_defined=False)) for n in custom)
        return replace(self, props=kept, default_props=tuple(n for n in self.default_props if n in kept))

    def unique_props(self) -> list[str]:
        """Properties usable as ``idProperty`` besides hs_object_id."""
        return [n for n, p in self.props.items() if p.unique or (self.name == "contacts" and n == "email")]


SCHEMAS = {
    "contacts": ObjectSchema("contacts", "CONTACT", {p.name: p for p in CONTACT_PROPS},
                             ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
                             "lastmodifieddate", ("createdate", "hs_object_id", "lastmodifieddate"), type_id="0-1"),
    "companies": ObjectSchema("companies", "COMPANY", {p.name: p for p in COMPANY_PROPS},
                              ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
                              "hs_lastmodifieddate", ("createdate", "hs_lastmodifieddate", "hs_object_id"),
                              type_id="0-2"),
}
# the object type ids HubSpot also accepts in URLs
ALIASES = {"contact": "contacts", "0-1": "contacts", "company": "companies", "0-2": "companies"}


@dataclass(frozen=True, slots=True)
class PropertyProblem:
    """One invalid property value, in the pieces HubSpot's error bodies are made of."""

    name: str
    error: str  # PROPERTY_DOESNT_EXIST, INVALID_EMAIL, READ_ONLY_VALUE, INVALID_OPTION, INVALID_INTEGER, ...
    message: str

    def as_dict(self) -> dict[str, Any]:
        """HubSpot's inner validation result object."""
        return {"isValid": False, "message": self.message, "error": self.error, "name": self.name,
                "localizedErrorMessage": self.message}


def normalize_properties(schema: ObjectSchema, raw: Any) -> tuple[dict[str, str | None], list[PropertyProblem]]:
    """Coerce incoming property values to HubSpot's stored strings and collect validation problems."""
    if not isinstance(raw, dict):
        return {}, [PropertyProblem("properties", "INVALID_PROPERTIES", "properties must be an object")]
    values: dict[str, str | None] = {}
    problems: list[PropertyProblem] = []
    for name, value in raw.items():
        prop = schema.props.get(name)
        if prop is None:
            problems.append(PropertyProblem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
            continue
        if prop.read_only:
            problems.append(PropertyProblem(name, "READ_ONLY_VALUE",
                                            f'"{name}" is a read only property; its value cannot be set.'))
            continue
        if value is None or value == "":
            values[name] = None  # HubSpot clears a property set to an empty string
            continue
        text = _stringify(value)
        problem = _check(prop, text)
        if problem:
            problems.append(problem)
            continue
        if name == "email":
            text = text.strip().lower()  # HubSpot stores emails lower-cased
        elif prop.type == _DT:
            text = _to_iso(text) or text
        values[name] = text
    return values, problems


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check(prop: Prop, text: str) -> PropertyProblem | None:
    if prop.name == "email" and not EMAIL_RE.match(text.strip()):
        return PropertyProblem(prop.name, "INVALID_EMAIL", f"Email address {text} is invalid")
    if prop.type == _N:
        try:
            float(text)
        except ValueError:
            return PropertyProblem(prop.name, "INVALID_INTEGER" if prop.name != "annualrevenue" else "INVALID_DECIMAL",
                                   f"{text} was not a valid number.")
    if prop.type == "enumeration" and prop.options and text not in prop.options:
        allowed = ", ".join(prop.options)
        return PropertyProblem(prop.name, "INVALID_OPTION",
                               f'{text} was not one of the allowed options: [{allowed}]')
    if prop.type == "bool" and text not in ("true", "false"):
        return PropertyProblem(prop.name, "INVALID_BOOLEAN", f"{text} is not a valid boolean value")
    if prop.type in (_DT, "date") and _to_iso(text) is None:
        return PropertyProblem(prop.name, "INVALID_DATE", f"{text} is not a valid date or timestamp")
    return None


def _to_iso(text: str) -> str | None:
    if text.isdigit():
        return iso_millis_z(int(text))
    try:
        return iso_millis_z(int(parse_iso(text).timestamp() * 1000))
    except ValueError:
        return None
