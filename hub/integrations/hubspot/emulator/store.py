"""In-memory HubSpot CRM state: contacts, companies, deals, tickets, line items and a custom object, their
associations, with HubSpot's write rules."""

from __future__ import annotations

import bisect
import random
import threading
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from hub.sandbox.clock import AnyClock, iso_millis_z
from hub.integrations.hubspot.emulator.associations import Associations
from hub.integrations.hubspot.emulator.objects import FIRST_IDS, MORE_ALIASES, MORE_SCHEMAS, derive
from hub.integrations.hubspot.emulator.schema import (ALIASES, SCHEMAS, ObjectSchema, PropertyProblem,
                                                     normalize_properties)
from hub.sandbox.seed import MARKETING, CompanyRow, PersonRow, SeedData, custom_field_words, custom_values

#: HubSpot's own bookkeeping properties: a merge never copies them from the merged-away record
SYSTEM_PROPS = frozenset({"hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate",
                          "hs_merged_object_ids"})
LINKS = "associations"   # the associations' key in the saved state (no object type is named so)
INDUSTRY_CODES = {"Software": "COMPUTER_SOFTWARE", "Logistics": "LOGISTICS_AND_SUPPLY_CHAIN",
                  "Healthcare": "HOSPITAL_HEALTH_CARE", "Financial Services": "FINANCIAL_SERVICES",
                  "Manufacturing": "MACHINERY", "Retail": "RETAIL", "Energy": "OIL_ENERGY", "Media": "MEDIA_PRODUCTION",
                  "Consulting": "MANAGEMENT_CONSULTING", "Biotechnology": "BIOTECHNOLOGY"}


class HubObject:
    """One CRM record. ``props`` is replaced, never mutated, so readers always see a consistent version."""

    __slots__ = ("id", "sid", "props", "created_ms", "updated_ms", "archived", "archived_ms")

    def __init__(self, oid: int, props: dict[str, str | None], created_ms: int, updated_ms: int) -> None:
        self.id = oid
        self.sid = str(oid)
        self.props = props
        self.created_ms = created_ms
        self.updated_ms = updated_ms
        self.archived = False
        self.archived_ms = 0


@dataclass
class Failure(Exception):
    """A HubSpot error for one input (batch) or one request (single-object endpoints)."""

    status: int
    category: str
    message: str
    context: dict[str, list[str]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def batch_error(self) -> dict[str, Any]:
        """The entry HubSpot puts in a 207 response's ``errors`` list."""
        return {"status": "error", "category": self.category, "message": self.message, "context": self.context,
                "errors": self.errors, "links": {}}

    @classmethod
    def invalid(cls, problems: Sequence[PropertyProblem], context: dict[str, list[str]] | None = None) -> Failure:
        """HubSpot's VALIDATION_ERROR for bad property values."""
        inner = orjson.dumps([p.as_dict() for p in problems]).decode()
        errors = [{"message": p.message, "code": p.error, "context": {"propertyName": [p.name]}} for p in problems]
        return cls(400, "VALIDATION_ERROR", f"Property values were not valid: {inner}", context or {}, errors)


class Table:
    """All records of one object type, ordered by id, with case-insensitive unique-property indexes."""

    def __init__(self, schema: ObjectSchema, first_id: int) -> None:
        self.schema = schema
        self.objects: dict[int, HubObject] = {}
        self.order: list[int] = []
        self.next_id = first_id
        self.unique: dict[str, dict[str, int]] = {name: {} for name in schema.unique_props()}
        # every record holds every property (None when unset), in schema order: a request for all properties
        # (what a full sync asks for) can then send a record's dict as is instead of copying it
        self.all_names: tuple[str, ...] = tuple(schema.props)
        self.blank: dict[str, str | None] = dict.fromkeys(self.all_names)
        self.version = 0  # bumped on every write; keys the list-page cache

    def add(self, obj: HubObject) -> None:
        """Append a new record (ids only grow, so ``order`` stays sorted)."""
        self.objects[obj.id] = obj
        self.order.append(obj.id)
        self.next_id = max(self.next_id, obj.id + 1)
        self.reindex(obj, None)

    def reindex(self, obj: HubObject, old: dict[str, str | None] | None) -> None:
        """Point the unique-property indexes at a record's current version (old=None for a new record)."""
        self.version += 1
        for name, index in self.unique.items():
            before = _key(old.get(name)) if old else None
            after = _key(obj.props.get(name)) if not obj.archived else None
            if before and index.get(before) == obj.id and before != after:
                del index[before]
            if after:
                index[after] = obj.id

    def selection(self, requested: Iterable[str] | None) -> tuple[str, ...] | None:
        """Property names to return: None for the defaults, ``all_names`` itself when everything is asked for."""
        if requested is None:
            return None
        wanted = {p for p in requested if p in self.blank} | set(self.schema.always_props)
        return self.all_names if len(wanted) == len(self.all_names) else tuple(sorted(wanted))

    def known(self, values: dict[str, Any]) -> dict[str, str | None]:
        """Direct-helper input as stored strings; unknown names are an error (HubSpot has no such property)."""
        unknown = sorted(set(values) - set(self.blank))
        if unknown:
            raise ValueError(f"unknown {self.schema.name} properties {unknown}; see GET /crm/v3/properties/"
                             f"{self.schema.name}")
        return {k: None if v is None else str(v) for k, v in values.items()}

    def find(self, value: str, id_property: str | None) -> HubObject | None:
        """A live record by id or by a unique property value."""
        if id_property in (None, "", "hs_object_id"):
            obj = self.objects.get(int(value)) if value.strip().isdigit() else None
        else:
            oid = self.unique.get(id_property, {}).get(_key(value) or "")
            obj = self.objects.get(oid) if oid is not None else None
        return obj if obj is not None and not obj.archived else None

    def page(self, after: int, limit: int, archived: bool) -> tuple[list[HubObject], int | None]:
        """Records with id >= after in id order, and the next ``after`` if more remain."""
        order, get = self.order, self.objects.__getitem__
        out: list[HubObject] = []
        i = bisect.bisect_left(order, after)
        # take slices rather than stepping one id at a time: list pages are the hot path of every sync
        while len(out) <= limit and i < len(order):
            need = limit + 1 - len(out)
            out.extend(o for o in map(get, order[i:i + need]) if o.archived == archived)
            i += need
        if len(out) > limit:
            return out[:limit], out[limit].id
        return out, None

    def live(self) -> Iterable[HubObject]:
        """Every record that is not archived, in id order."""
        objects = self.objects
        return (objects[i] for i in self.order if not objects[i].archived)


def _key(value: str | None) -> str | None:
    return value.strip().lower() if value and value.strip() else None


class HubSpotStore:
    """HubSpot's CRM state for every object type of the portal; every method is thread-safe.

    ``create``/``update``/``archive`` are the direct mutation helpers tests use: they skip property
    validation (so tests can plant dirty data) but keep HubSpot's bookkeeping (ids, timestamps, indexes).
    """

    def __init__(self, clock: AnyClock, seed: SeedData | None = None, *, custom_properties: int = 0,
                 hidden_properties: Collection[str] = ()) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        #: the portal's own text properties on every object (long names, as real portals have), seeded sparsely
        self.custom = custom_property_names(custom_properties)
        self.tables = {"contacts": Table(SCHEMAS["contacts"].customized(self.custom, hidden_properties), 1001),
                       "companies": Table(SCHEMAS["companies"].customized(self.custom, hidden_properties),
                                          7_000_001)}
        self.tables.update((name, Table(schema.customized((), hidden_properties), FIRST_IDS[name]))
                           for name, schema in MORE_SCHEMAS.items())
        self.associations = Associations()
        if seed is not None:
            self._load(seed)
            from hub.integrations.hubspot.emulator.seeding import load_more

            load_more(self, seed)

    def table(self, object_type: str) -> Table:
        """The table for an object type name (contacts, companies, or their HubSpot aliases)."""
        name = ALIASES.get(object_type.lower()) or MORE_ALIASES.get(object_type.lower(), object_type.lower())
        table = self.tables.get(name)
        if table is None:
            raise Failure(400, "VALIDATION_ERROR", f"Unable to infer object type from: {object_type}")
        return table

    # --- direct mutation helpers (tests) -------------------------------------------------------

    def create(self, object_type: str, properties: dict[str, Any]) -> dict[str, Any]:
        """Insert a record without validation; returns it as the API would."""
        with self.lock:
            table = self.table(object_type)
            return self.public(table, self.insert(table, table.known(properties)))

    def update(self, object_type: str, object_id: str | int, properties: dict[str, Any]) -> dict[str, Any]:
        """Change properties without validation, bumping the modification date like HubSpot."""
        with self.lock:
            table = self.table(object_type)
            obj = table.find(str(object_id), None)
            if obj is None:
                raise KeyError(f"no live {object_type} with id {object_id}")
            self.apply(table, obj, table.known(properties))
            return self.public(table, obj)

    def archive(self, object_type: str, object_id: str | int) -> bool:
        """Archive (soft-delete) a record; False if it was not live."""
        with self.lock:
            table = self.table(object_type)
            obj = table.find(str(object_id), None)
            if obj is None:
                return False
            self._archive(table, obj)
            return True

    delete = archive

    def get(self, object_type: str, object_id: str | int) -> dict[str, Any] | None:
        """A live record with every property, or None."""
        with self.lock:
            table = self.table(object_type)
            obj = table.find(str(object_id), None)
            return None if obj is None else self.public(table, obj, table.all_names)

    def find(self, object_type: str, id_property: str, value: str) -> dict[str, Any] | None:
        """A live record by a unique property such as email (case-insensitive)."""
        with self.lock:
            table = self.table(object_type)
            obj = table.find(value, id_property)
            return None if obj is None else self.public(table, obj, table.all_names)

    def count(self, object_type: str, archived: bool = False) -> int:
        """How many records of a type are live (or archived)."""
        with self.lock:
            return sum(1 for o in self.table(object_type).objects.values() if o.archived == archived)

    def ids(self, object_type: str) -> list[str]:
        """Ids of live records in id order."""
        with self.lock:
            return [o.sid for o in self.table(object_type).live()]

    # --- primitives shared with the HTTP layer (call with self.lock held) ---------------------

    def insert(self, table: Table, values: dict[str, str | None], *, now: int | None = None,
               created: int | None = None) -> HubObject:
        """Create a record with HubSpot's system properties filled in."""
        now = self.clock.millis() if now is None else now
        created = now if created is None else created
        oid = table.next_id
        props = dict(table.blank)
        props.update(values)
        props["hs_object_id"] = str(oid)
        props[table.schema.created_prop] = iso_millis_z(created)
        props[table.schema.modified_prop] = iso_millis_z(now)
        _derive(table.schema, props, now)
        table.add(HubObject(oid, props, created, now))
        return table.objects[oid]

    def apply(self, table: Table, obj: HubObject, values: dict[str, str | None]) -> bool:
        """Merge property values into a record and bump its modification date; returns whether a value changed.

        Setting a property is a property update in HubSpot even when the value is the one it already holds (the
        property history gains an entry with the write's timestamp, and ``lastmodifieddate`` is "the most recent
        timestamp of any property update"), so the date moves on every write that sets a property."""
        old = obj.props
        if not values:
            return False
        changed = any(old.get(k) != v for k, v in values.items())
        props = dict(old)
        props.update(values)
        now = self.clock.millis()
        props[table.schema.modified_prop] = iso_millis_z(now)
        _derive(table.schema, props, now)
        obj.props, obj.updated_ms = props, now
        table.reindex(obj, old)
        return changed

    def merge(self, table: Table, winner: HubObject, loser: HubObject) -> HubObject:
        """Merge ``loser`` into ``winner``: blanks of the winner filled from the loser, the loser archived."""
        fill = {k: v for k, v in loser.props.items() if v not in (None, "") and winner.props.get(k) in (None, "")
                and k not in SYSTEM_PROPS}
        self._archive(table, loser)
        merged = {**fill}
        if "hs_merged_object_ids" in table.blank:
            ids = [i for i in (winner.props.get("hs_merged_object_ids") or "").split(";") if i]
            merged["hs_merged_object_ids"] = ";".join([*ids, loser.sid])
        self.apply(table, winner, merged)
        if not merged:
            obj_props = dict(winner.props)   # nothing changed, but a merge is still a modification in HubSpot
            obj_props[table.schema.modified_prop] = iso_millis_z(self.clock.millis())
            old, winner.props = winner.props, obj_props
            table.reindex(winner, old)
        return winner

    def archived_object(self, table: Table, value: str) -> HubObject | None:
        """An archived record by id (GET ...?archived=true)."""
        obj = table.objects.get(int(value)) if value.strip().isdigit() else None
        return obj if obj is not None and obj.archived else None

    def _archive(self, table: Table, obj: HubObject) -> None:
        old = obj.props
        obj.archived, obj.archived_ms = True, self.clock.millis()
        table.reindex(obj, old)

    def conflict(self, table: Table, values: dict[str, str | None], own_id: int | None) -> Failure | None:
        """HubSpot's 409 when a unique property value already belongs to another record."""
        for name, index in table.unique.items():
            key = _key(values.get(name))
            other = index.get(key) if key else None
            if other is not None and other != own_id:
                singular = table.schema.singular.title()
                return Failure(409, "CONFLICT", f"{singular} already exists. Existing ID: {other}",
                               {"existingId": [str(other)]})
        return None

    def validate(self, table: Table, raw: Any, context: dict[str, list[str]] | None = None) -> dict[str, str | None]:
        """Normalized property values, or raise the VALIDATION_ERROR Failure."""
        values, problems = normalize_properties(table.schema, raw)
        if problems:
            raise Failure.invalid(problems, context)
        return values

    def public(self, table: Table, obj: HubObject, names: Sequence[str] | None = None) -> dict[str, Any]:
        """A record in the API's SimplePublicObject shape; ``names`` None means the default properties."""
        props = obj.props
        if names is table.all_names:
            selected = props  # safe to share: records are copy-on-write
        else:
            selected = {n: props[n] for n in (table.schema.default_props if names is None else names)}
        out: dict[str, Any] = {"id": obj.sid, "properties": selected,
                               "createdAt": props[table.schema.created_prop],
                               "updatedAt": props[table.schema.modified_prop],
                               "archived": obj.archived}
        if obj.archived:
            out["archivedAt"] = iso_millis_z(obj.archived_ms)
        return out

    # --- persistence (hub.sandbox.state) ----------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Every record of every object type plus id counters, as JSON-ready data for :meth:`from_state`."""
        with self.lock:
            state: dict[str, Any] = {
                name: {"next_id": table.next_id, "properties": list(table.all_names),
                       "objects": [[o.id, o.created_ms, o.updated_ms, o.archived_ms if o.archived else None,
                                    [o.props[n] for n in table.all_names]]
                                   for o in map(table.objects.__getitem__, table.order)]}
                for name, table in self.tables.items()}
            state[LINKS] = self.associations.to_state()
            return state

    @classmethod
    def from_state(cls, clock: AnyClock, state: dict[str, Any], **options: Any) -> HubSpotStore:
        """A store holding what :meth:`to_state` saved, indexes rebuilt; ValueError if it does not fit this schema
        (``options``: the constructor's custom and hidden properties, as when it was saved)."""
        store = cls(clock, **options)
        if set(state) - {LINKS} - set(store.tables):
            raise ValueError(f"HubSpot object types {sorted(state)} differ from this version's {sorted(store.tables)}")
        store.associations.load(state.get(LINKS) or [])
        for name, table in store.tables.items():
            saved = state.get(name)
            if saved is None:   # saved by a version whose portal had fewer object types: this one starts empty
                continue
            if saved["properties"] != list(table.all_names):
                raise ValueError(f"HubSpot {name} properties differ from this version's schema")
            for oid, created, updated, archived_ms, values in saved["objects"]:
                if not isinstance(oid, int) or (table.order and oid <= table.order[-1]):
                    raise ValueError(f"HubSpot {name} ids must be increasing integers, got {oid!r}")
                obj = HubObject(oid, dict(zip(table.all_names, values, strict=True)), created, updated)
                if archived_ms is not None:
                    obj.archived, obj.archived_ms = True, archived_ms
                table.add(obj)
            if not isinstance(saved["next_id"], int) or saved["next_id"] < table.next_id:
                raise ValueError(f"HubSpot {name} next_id {saved['next_id']!r} would reuse an existing id")
            table.next_id = saved["next_id"]
        return store

    # --- seeding --------------------------------------------------------------------------------

    def _load(self, seed: SeedData) -> None:
        rng = random.Random(seed.seed * 7919 + 1)
        companies, contacts = self.tables["companies"], self.tables["contacts"]
        company_ids: dict[int, tuple[str, str]] = {}
        for n, row in enumerate(seed.companies[MARKETING]):
            companies.next_id += rng.randint(0, 40)  # real HubSpot ids have gaps
            values = {**_company_props(row), **custom_values(self.custom, n)}
            obj = self.insert(companies, _present(companies, values), now=row.updated_ms, created=row.created_ms)
            company_ids[row.key] = (obj.sid, row.name)
        for n, row in enumerate(seed.contacts[MARKETING]):
            contacts.next_id += rng.randint(0, 2)
            values = {**_contact_props(row, company_ids.get(row.company)), **custom_values(self.custom, n)}
            obj = self.insert(contacts, _present(contacts, values), now=row.updated_ms, created=row.created_ms)
            if row.deleted:
                obj.archived, obj.archived_ms = True, row.updated_ms
                contacts.reindex(obj, obj.props)


def _present(table: Table, values: dict[str, str | None]) -> dict[str, str | None]:
    """Seed values of the properties this portal has (a portal without a property has no values for it)."""
    return {k: v for k, v in values.items() if k in table.blank}


def _derive(schema: ObjectSchema, props: dict[str, str | None], now: int) -> None:
    if schema.name == "contacts" and "hs_email_domain" in props:
        email = props.get("email")
        domain = email.rpartition("@")[2].strip() if email and "@" in email else None
        props["hs_email_domain"] = domain or None
    else:
        derived = dict(props)
        derive(schema, derived, iso_millis_z(now))
        props.update((k, v) for k, v in derived.items() if k in props)   # a hidden property stays out


def _contact_props(row: PersonRow, company: tuple[str, str] | None) -> dict[str, str | None]:
    return {"email": row.email, "firstname": row.first_name, "lastname": row.last_name, "phone": row.phone,
            "mobilephone": row.mobile, "jobtitle": row.title, "city": row.city, "country": row.country,
            "lifecyclestage": row.source, "associatedcompanyid": company[0] if company else None,
            "company": company[1] if company else None}


def _company_props(row: CompanyRow) -> dict[str, str | None]:
    return {"name": row.name, "domain": row.domain, "website": row.website, "phone": row.phone,
            "industry": INDUSTRY_CODES.get(row.industry or ""), "city": row.city, "country": row.country,
            "numberofemployees": None if row.employees is None else str(row.employees),
            "annualrevenue": None if row.revenue is None else str(int(row.revenue))}


def custom_property_names(count: int) -> list[str]:
    """``count`` distinct custom property names, as long as real ones: HubSpot derives ``lower_case`` internal names
    from labels (about 55 characters here)."""
    return [f"{'_'.join(words)}_{i:03d}" for i, words in enumerate(custom_field_words(count, 5))]
