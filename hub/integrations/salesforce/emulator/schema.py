"""Salesforce sObject metadata: fields, describe payloads, record Ids (Contact and Account here; the org's other
objects in :mod:`objects`)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

STRINGY = frozenset({"id", "string", "email", "phone", "picklist", "url", "textarea", "reference", "combobox"})
NUMERIC = frozenset({"int", "double", "currency", "percent"})
SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
              "double": "xsd:double", "currency": "xsd:double", "date": "xsd:date", "datetime": "xsd:dateTime"}
ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
USER_ID_PREFIX = "005"


@dataclass(frozen=True)
class Field:
    """One sObject field (the describe attributes the emulator behaves by)."""

    name: str
    label: str
    type: str
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    external_id: bool = False
    unique: bool = False
    reference_to: str | None = None
    relationship: str | None = None
    picklist: tuple[str, ...] = ()
    precision: int = 0
    custom: bool = False
    defaulted: bool = False
    #: the value a record gets when the create leaves the field out (a picklist's default, say)
    default_value: Any = None

    @property
    def references(self) -> tuple[str, ...]:
        """The sObjects a lookup may point at (several for a polymorphic one such as Task.WhoId)."""
        return tuple(self.reference_to.split(",")) if self.reference_to else ()

    @property
    def filterable(self) -> bool:
        """Usable in a WHERE clause: long text areas are not (INVALID_FIELD "can not be filtered")."""
        return self.type != "textarea" or self.length <= 255

    @property
    def required(self) -> bool:
        """Must be given on create (not nillable, not defaulted, createable)."""
        return not self.nillable and self.createable and not self.defaulted

    def describe(self) -> dict[str, Any]:
        """The field entry of GET /sobjects/{Object}/describe."""
        return {
            "aggregatable": self.type not in ("textarea",), "autoNumber": False,
            "byteLength": self.length * 3, "calculated": False, "caseSensitive": False,
            "createable": self.createable, "custom": self.custom,
            "defaultValue": self.default_value if self.default_value is not None
            else False if self.type == "boolean" else None, "defaultedOnCreate": self.defaulted,
            "digits": self.precision if self.type == "int" else 0, "externalId": self.external_id,
            "filterable": self.filterable, "groupable": self.type not in NUMERIC,
            "idLookup": self.type == "id" or self.external_id or self.type == "email", "label": self.label,
            "length": self.length, "name": self.name, "nameField": self.name == "Name",
            "nillable": self.nillable,
            "picklistValues": [{"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
                               for v in self.picklist],
            "precision": self.precision if self.type in ("double", "currency") else 0,
            "referenceTo": list(self.references),
            "relationshipName": self.relationship, "restrictedPicklist": False, "scale": 0,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"), "sortable": self.type != "textarea",
            "type": self.type, "unique": self.unique, "updateable": self.updateable,
        }


@dataclass
class SObjectType:
    """One sObject's metadata plus lookups by lower-cased field and relationship name."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: list[Field]
    by_lower: dict[str, Field] = field(init=False)
    relationships: dict[str, Field] = field(init=False)

    def __post_init__(self) -> None:
        self.by_lower = {f.name.lower(): f for f in self.fields}
        self.relationships = {f.relationship.lower(): f for f in self.fields if f.relationship}

    def urls(self, version: str) -> dict[str, str]:
        """The ``urls`` block of describe payloads."""
        base = f"/services/data/{version}/sobjects/{self.name}"
        return {"compactLayouts": f"{base}/describe/compactLayouts", "rowTemplate": f"{base}/{{ID}}",
                "defaultValues": f"{base}/defaultValues?recordTypeId&fields", "describe": f"{base}/describe",
                "sobject": base}

    def summary(self, version: str) -> dict[str, Any]:
        """The entry for this object in describeGlobal."""
        return {"activateable": False, "createable": True, "custom": self.name.endswith("__c"), "customSetting": False,
                "deletable": True, "deprecatedAndHidden": False, "feedEnabled": True, "hasSubtypes": False,
                "isSubtype": False, "keyPrefix": self.key_prefix, "label": self.label,
                "labelPlural": self.label_plural, "layoutable": True, "mergeable": True, "mruEnabled": True,
                "name": self.name, "queryable": True, "replicateable": True, "retrieveable": True,
                "searchable": True, "triggerable": True, "undeletable": True, "updateable": True,
                "urls": self.urls(version)}

    def describe(self, version: str) -> dict[str, Any]:
        """The full GET /sobjects/{Object}/describe payload."""
        return {**self.summary(version), "childRelationships": [], "compactLayoutable": True,
                "fields": [f.describe() for f in self.fields], "recordTypeInfos": [], "supportedScopes": [],
                "namedLayoutInfos": [], "networkScopeFieldName": None, "listviewable": None,
                "lookupLayoutable": None, "searchLayoutable": True, "sobjectDescribeOption": "FULL"}

    def customized(self, custom: Sequence[str] = (), hidden: Collection[str] = ()) -> SObjectType:
        """This sObject as one integration user sees it: ``custom`` text fields (``X__c``) added, ``hidden`` ones
        left out, as field-level security leaves a field the user may not read out of describe and SOQL."""
        if not custom and not hidden:
            return self
        hidden_lower = {h.lower() for h in hidden} - set(ALWAYS_VISIBLE)
        kept = [f for f in self.fields if f.name.lower() not in hidden_lower]
        kept += [Field(n, n.removesuffix("__c").replace("_", " "), "string", 255, custom=True) for n in custom
                 if n.lower() not in hidden_lower]
        return SObjectType(self.name, self.label, self.label_plural, self.key_prefix, kept)

    def external_id_field(self, name: str) -> Field | None:
        """A field usable for upserts (externalId, or Id itself)."""
        f = self.by_lower.get(name.lower())
        return f if f is not None and (f.external_id or f.type == "id") else None


def _system_fields() -> list[Field]:
    ro = {"createable": False, "updateable": False, "nillable": False, "defaulted": True}
    return [
        Field("OwnerId", "Owner ID", "reference", 18, nillable=False, defaulted=True, reference_to="User",
              relationship="Owner"),
        Field("CreatedDate", "Created Date", "datetime", **ro),
        Field("CreatedById", "Created By ID", "reference", 18, reference_to="User", relationship="CreatedBy", **ro),
        Field("LastModifiedDate", "Last Modified Date", "datetime", **ro),
        Field("LastModifiedById", "Last Modified By ID", "reference", 18, reference_to="User",
              relationship="LastModifiedBy", **ro),
        Field("SystemModstamp", "System Modstamp", "datetime", **ro),
    ]


_RO = {"createable": False, "updateable": False}
#: fields field-level security cannot take away (lower-cased): every user reads a record's identity and its stamps
ALWAYS_VISIBLE = ("id", "isdeleted", "name", "systemmodstamp", "createddate", "lastmodifieddate", "ownerid",
                  "createdbyid", "lastmodifiedbyid")
TIERS = ("Enterprise", "Mid-Market", "SMB")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Trade Show", "Word of mouth", "Other")
INDUSTRIES = ("Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction",
              "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Finance",
              "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery",
              "Manufacturing", "Media", "Not For Profit", "Retail", "Shipping", "Technology", "Telecommunications",
              "Transportation", "Utilities", "Other")

CONTACT = SObjectType("Contact", "Contact", "Contacts", "003", [
    Field("Id", "Contact ID", "id", 18, nillable=False, defaulted=True, **_RO),
    Field("IsDeleted", "Deleted", "boolean", nillable=False, defaulted=True, **_RO),
    Field("AccountId", "Account ID", "reference", 18, reference_to="Account", relationship="Account"),
    Field("LastName", "Last Name", "string", 80, nillable=False),
    Field("FirstName", "First Name", "string", 40),
    Field("Salutation", "Salutation", "picklist", 40, picklist=("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
    Field("Name", "Full Name", "string", 121, nillable=False, **_RO),
    Field("MailingStreet", "Mailing Street", "textarea", 255),
    Field("MailingCity", "Mailing City", "string", 40),
    Field("MailingState", "Mailing State/Province", "string", 80),
    Field("MailingPostalCode", "Mailing Zip/Postal Code", "string", 20),
    Field("MailingCountry", "Mailing Country", "string", 80),
    Field("Phone", "Business Phone", "phone", 40),
    Field("MobilePhone", "Mobile Phone", "phone", 40),
    Field("Email", "Email", "email", 80),
    Field("Title", "Title", "string", 128),
    Field("Department", "Department", "string", 80),
    Field("LeadSource", "Lead Source", "picklist", 255, picklist=LEAD_SOURCES),
    Field("Birthdate", "Birthdate", "date"),
    Field("Description", "Contact Description", "textarea", 32000),
    Field("HasOptedOutOfEmail", "Email Opt Out", "boolean", nillable=False, defaulted=True),
    Field("DoNotCall", "Do Not Call", "boolean", nillable=False, defaulted=True),
    *_system_fields(),
    Field("LastActivityDate", "Last Activity", "date", **_RO),
    Field("Hub_Person_Id__c", "Hub Person Id", "string", 64, external_id=True, unique=True, custom=True),
    # an external id without a uniqueness constraint: upserts on it can match several records (HTTP 300)
    Field("Legacy_Id__c", "Legacy Id", "string", 64, external_id=True, custom=True),
    # a custom number field the org added for the marketing score HubSpot computes (crm-two-way example)
    Field("Lead_Score__c", "Lead Score", "double", precision=18, custom=True),
])

ACCOUNT = SObjectType("Account", "Account", "Accounts", "001", [
    Field("Id", "Account ID", "id", 18, nillable=False, defaulted=True, **_RO),
    Field("IsDeleted", "Deleted", "boolean", nillable=False, defaulted=True, **_RO),
    Field("Name", "Account Name", "string", 255, nillable=False),
    Field("Type", "Account Type", "picklist", 255, picklist=("Prospect", "Customer - Direct", "Customer - Channel",
                                                             "Channel Partner / Reseller", "Technology Partner",
                                                             "Other")),
    Field("ParentId", "Parent Account ID", "reference", 18, reference_to="Account", relationship="Parent"),
    Field("BillingStreet", "Billing Street", "textarea", 255),
    Field("BillingCity", "Billing City", "string", 40),
    Field("BillingState", "Billing State/Province", "string", 80),
    Field("BillingPostalCode", "Billing Zip/Postal Code", "string", 20),
    Field("BillingCountry", "Billing Country", "string", 80),
    Field("Phone", "Account Phone", "phone", 40),
    Field("Website", "Website", "url", 255),
    Field("Industry", "Industry", "picklist", 255, picklist=INDUSTRIES),
    Field("AnnualRevenue", "Annual Revenue", "currency", precision=18),
    Field("NumberOfEmployees", "Employees", "int", precision=8),
    Field("Description", "Account Description", "textarea", 32000),
    *_system_fields(),
    Field("Hub_Company_Id__c", "Hub Company Id", "string", 64, external_id=True, unique=True, custom=True),
    # a custom picklist the org added (the account tier support agents see)
    Field("Tier__c", "Tier", "picklist", 255, picklist=TIERS, custom=True),
])



def id_suffix(base15: str) -> str:
    """The 3-character case-safety suffix that turns a 15-char Id into its 18-char form."""
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(base15[chunk * 5:chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX[bits])
    return "".join(out)


def make_id(prefix: str, number: int) -> str:
    """A deterministic 18-char Salesforce Id, e.g. 0035g00000AbCdEFGH."""
    digits = []
    while number:
        number, rem = divmod(number, 62)
        digits.append(_BASE62[rem])
    base = prefix + "5g0" + "".join(reversed(digits)).rjust(9, "0")
    return base + id_suffix(base)


def to_18(value: str) -> str | None:
    """Normalize a 15- or 18-char Id to 18 chars; None if it is not Id-shaped."""
    if not ID_RE.match(value):
        return None
    return value if len(value) == 18 else value + id_suffix(value)
