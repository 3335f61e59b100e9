"""In-memory Salesforce org state for every sObject of the org (objects.ORG), with Salesforce's field validation."""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterable
from typing import Any

from hub.sandbox.clock import AnyClock, parse_iso, iso_millis_offset
from hub.integrations.salesforce.emulator.objects import ORG, PREFIXES, derive
from hub.integrations.salesforce.emulator.schema import NUMERIC, USER_ID_PREFIX, Field, SObjectType, make_id, to_18
from hub.sandbox.seed import SeedData, custom_field_words

EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RECYCLE_BIN_DAYS = 15   # how long deleted records stay in the Recycle Bin (and queryAll, and the delete log)
DAY_MS = 86_400_000
RecordError = dict[str, Any]  # {"statusCode", "message", "fields"} as sObject Collections report it


def record_error(code: str, message: str, fields: list[str] | None = None) -> RecordError:
    """One per-record error in the sObject Collections shape."""
    return {"statusCode": code, "message": message, "fields": fields or []}


class SObjectTable:
    """Records of one sObject type (deleted ones included, flagged IsDeleted) plus external-id indexes."""

    def __init__(self, sobject: SObjectType, first_number: int) -> None:
        self.sobject = sobject
        self.records: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.next_number = first_number
        self.external: dict[str, dict[str, list[str]]] = {f.name: {} for f in sobject.fields if f.external_id}
        self.deleted_log: list[tuple[str, int]] = []
        self.purged_ms = 0   # when the Recycle Bin was last emptied: the delete log covers nothing before it

    def reindex(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        """Move a record's external-id index entries from its old version to its new one."""
        for name, index in self.external.items():
            before = _key(old.get(name)) if old and not old["IsDeleted"] else None
            after = _key(new.get(name)) if new and not new["IsDeleted"] else None
            if before == after:
                continue
            if before and (ids := index.get(before)):
                ids.remove(old["Id"])  # type: ignore[index]
                if not ids:
                    del index[before]
            if after:
                index.setdefault(after, []).append(new["Id"])  # type: ignore[index]

    def by_external(self, field_name: str, value: str) -> list[str]:
        """Live record Ids whose external id field equals ``value`` (case-insensitive, like Salesforce's default)."""
        return list(self.external.get(field_name, {}).get(_key(value) or "", []))

    def live(self, record_id: str) -> dict[str, Any] | None:
        """A non-deleted record by 15- or 18-char Id."""
        rid = to_18(record_id)
        record = self.records.get(rid) if rid else None
        return record if record is not None and not record["IsDeleted"] else None


def _key(value: Any) -> str | None:
    return str(value).strip().lower() if value not in (None, "") else None


class SalesforceStore:
    """The org's records of every sObject; every public method is thread-safe.

    ``create``/``update``/``delete`` are direct mutation helpers for tests: no validation, but the
    Salesforce bookkeeping (Ids, Name, LastModifiedDate, SystemModstamp, recycle bin) still happens.
    """

    def __init__(self, clock: AnyClock, seed: SeedData | None = None, *, custom_fields: int = 0,
                 hidden_fields: Collection[str] = ()) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.user_id = make_id(USER_ID_PREFIX, 4_200_001)
        #: the org's custom text fields on every object (``X__c``), seeded sparsely
        self.custom = custom_field_names(custom_fields)
        # what the integration user sees: ``hidden_fields`` are behind field-level security (absent from describe,
        # INVALID_FIELD in SOQL, and not stored here: nothing this user does can read or write them)
        # the org's custom text fields are on Contact and Account (the objects the seed fills with them)
        seen = [(t.customized(self.custom if t.name in ("Contact", "Account") else (), hidden_fields), first)
                for t, first in ORG]
        self.sobjects = {t.name.lower(): t for t, _ in seen}
        self.tables = {t.name: SObjectTable(t, first) for t, first in seen}
        if seed is not None:
            from hub.integrations.salesforce.emulator.seeding import load

            load(self, seed)

    def table(self, sobject: str) -> SObjectTable | None:
        """The table for an sObject name (case-insensitive), or None."""
        known = self.sobjects.get(sobject.lower())
        return self.tables[known.name] if known else None

    def _table(self, sobject: str) -> SObjectTable:
        table = self.table(sobject)
        if table is None:
            raise KeyError(f"unknown sObject {sobject!r}; the sandbox has {', '.join(self.tables)}")
        return table

    # --- RecordSource for the SOQL evaluator (call with self.lock held) -------------------------

    def records(self, sobject: str) -> Iterable[dict[str, Any]]:
        """All records of a type in creation order, those in the Recycle Bin included (what queryAll sees)."""
        table = self._table(sobject)
        self._expire(table)
        records = table.records
        return [records[i] for i in table.order]

    def lookup(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """A live record by Id, for parent-relationship fields."""
        table = self.table(sobject)
        return table.live(record_id) if table else None

    # --- direct mutation helpers (tests) -------------------------------------------------------

    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        """Insert a record without validation; returns its Id."""
        with self.lock:
            return self.insert(self._table(sobject), dict(fields))["Id"]

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        """Change fields without validation, bumping LastModifiedDate and SystemModstamp."""
        with self.lock:
            table = self._table(sobject)
            if table.live(record_id) is None:
                raise KeyError(f"no live {sobject} with Id {record_id}")
            self.apply(table, record_id, dict(fields))

    def delete(self, sobject: str, record_id: str) -> bool:
        """Move a record to the recycle bin; False if it was not live."""
        with self.lock:
            return self.remove(self._table(sobject), record_id)

    def hard_delete(self, sobject: str, record_id: str) -> bool:
        """Delete a record past the Recycle Bin (Bulk API hardDelete): gone from queryAll, kept in the delete log."""
        with self.lock:
            table = self._table(sobject)
            rid = to_18(record_id)
            record = table.records.get(rid) if rid else None
            if record is None:
                return False
            if not record["IsDeleted"]:
                self.remove(table, rid)  # type: ignore[arg-type]
            self._erase(table, rid)  # type: ignore[arg-type]
            return True

    def empty_recycle_bin(self, sobject: str) -> int:
        """An admin empties the Recycle Bin: its records are erased and the delete log starts over from now."""
        with self.lock:
            table = self._table(sobject)
            binned = [rid for rid in table.order if table.records[rid]["IsDeleted"]]
            for rid in binned:
                self._erase(table, rid)
            table.purged_ms = self.clock.millis()
            table.deleted_log = []
            return len(binned)

    def earliest_deleted_ms(self, table: SObjectTable) -> int:
        """The oldest moment the delete log still covers: 15 days back, or when the Recycle Bin was emptied."""
        return max(self.clock.millis() - RECYCLE_BIN_DAYS * DAY_MS, table.purged_ms)

    def _expire(self, table: SObjectTable) -> None:
        """Erase records that have sat in the Recycle Bin for more than 15 days, as Salesforce does."""
        cutoff = self.clock.millis() - RECYCLE_BIN_DAYS * DAY_MS
        expired = [rid for rid, ms in table.deleted_log if ms < cutoff]
        if not expired:
            return
        table.deleted_log = [(rid, ms) for rid, ms in table.deleted_log if ms >= cutoff]
        for rid in expired:
            record = table.records.get(rid)
            if record is not None and record["IsDeleted"]:
                self._erase(table, rid)

    @staticmethod
    def _erase(table: SObjectTable, rid: str) -> None:
        del table.records[rid]
        table.order.remove(rid)

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """A copy of a record (deleted ones too), or None."""
        with self.lock:
            rid = to_18(record_id)
            record = self._table(sobject).records.get(rid) if rid else None
            return dict(record) if record else None

    def count(self, sobject: str, include_deleted: bool = False) -> int:
        """Number of records of a type."""
        with self.lock:
            table = self._table(sobject)
            self._expire(table)
            return sum(1 for r in table.records.values() if include_deleted or not r["IsDeleted"])

    # --- primitives shared with the HTTP layer (call with self.lock held) ---------------------

    def now(self) -> str:
        """The clock's now in Salesforce's second-precision datetime format."""
        return iso_millis_offset(self.clock.millis() // 1000 * 1000)

    def insert(self, table: SObjectTable, values: dict[str, Any], *, created: str | None = None,
               modified: str | None = None) -> dict[str, Any]:
        """Create a record with system fields filled in."""
        now = self.now()
        record: dict[str, Any] = {f.name: (f.default_value if f.default_value is not None else
                                           False if f.type == "boolean" else None) for f in table.sobject.fields}
        # a non-nillable field with a default keeps it when the create sends null
        kept = {f.name for f in table.sobject.fields if not f.nillable and f.default_value is not None}
        record.update({k: v for k, v in values.items() if k in record and (v is not None or k not in kept)})
        rid = make_id(table.sobject.key_prefix, table.next_number)
        table.next_number += 1
        record.update(Id=rid, IsDeleted=False, OwnerId=record["OwnerId"] or self.user_id, CreatedById=self.user_id,
                      LastModifiedById=self.user_id, CreatedDate=created or now,
                      LastModifiedDate=modified or created or now, SystemModstamp=modified or created or now)
        if "CaseNumber" in record:   # an auto number: the org's next, never reused
            record["CaseNumber"] = f"{table.next_number - 4_000_000:08d}"
        derive(table.sobject, record, now=now)
        table.records[rid] = record
        table.order.append(rid)
        table.reindex(None, record)
        return record

    def apply(self, table: SObjectTable, record_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """Write fields to a live record (copy-on-write, so open query cursors keep their snapshot)."""
        rid = to_18(record_id) or record_id
        old = table.records[rid]
        record = dict(old)
        record.update({k: v for k, v in values.items() if k in record})
        if "StageName" in values and "Probability" not in values:
            record["Probability"] = None   # a new stage brings its default probability
        now = self.now()
        record.update(LastModifiedDate=now, SystemModstamp=now, LastModifiedById=self.user_id)
        derive(table.sobject, record, now=now)
        table.records[rid] = record
        table.reindex(old, record)
        return record

    def remove(self, table: SObjectTable, record_id: str) -> bool:
        """Soft-delete: the record stays for queryAll and /deleted, flagged IsDeleted."""
        old = table.live(record_id)
        if old is None:
            return False
        record = dict(old)
        now = self.now()
        record.update(IsDeleted=True, LastModifiedDate=now, SystemModstamp=now)
        table.records[record["Id"]] = record
        table.reindex(old, record)
        table.deleted_log.append((record["Id"], self.clock.millis() // 1000 * 1000))
        return True

    def check(self, table: SObjectTable, fields: dict[str, Any], *, creating: bool,
              own_id: str | None = None) -> tuple[dict[str, Any], list[RecordError]]:
        """Validate and normalize incoming field values like Salesforce does; returns (values, errors)."""
        sobject = table.sobject
        values: dict[str, Any] = {}
        errors: list[RecordError] = []
        read_only: list[str] = []
        for name, value in fields.items():
            if name == "attributes":
                continue
            fld = sobject.by_lower.get(name.lower())
            if fld is None:
                errors.append(record_error("INVALID_FIELD", f"No such column '{name}' on sobject of type "
                                                            f"{sobject.name}"))
                continue
            if not (fld.createable if creating else fld.updateable):
                read_only.append(fld.name)
                continue
            try:
                values[fld.name] = self._coerce(fld, value)
            except _Invalid as bad:
                errors.append(bad.error)
        if read_only:
            errors.append(record_error(
                "INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {', '.join(read_only)}. Please "
                "check the security settings of this field and verify that it is read/write for your profile or "
                "permission set.", read_only))
        required = [f.name for f in sobject.fields if f.required and (creating or f.name in values)
                    and values.get(f.name) in (None, "")]
        if required:
            errors.append(record_error("REQUIRED_FIELD_MISSING", f"Required fields are missing: "
                                                                 f"[{', '.join(required)}]", required))
        for name, index in table.external.items():
            fld = sobject.by_lower[name.lower()]
            if fld.unique and (key := _key(values.get(name))) and index.get(key, [own_id]) != [own_id]:
                errors.append(record_error("DUPLICATE_VALUE", f"duplicate value found: {name} duplicates value "
                                                              f"on record with id: {index[key][0]}", []))
        return values, errors

    def _coerce(self, fld: Field, value: Any) -> Any:
        if value is None or (value == "" and fld.type != "boolean"):
            return None
        kind = fld.type
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            raise _Invalid(fld, value)
        if kind in NUMERIC:
            if isinstance(value, bool):
                raise _Invalid(fld, value)
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise _Invalid(fld, value) from None
            if kind == "int":
                if not number.is_integer():
                    raise _Invalid(fld, value)
                return int(number)
            return number
        if kind == "date":
            if isinstance(value, str) and DATE_RE.match(value):
                return value
            raise _Invalid(fld, value)
        if kind == "datetime":
            try:
                return iso_millis_offset(int(parse_iso(str(value)).timestamp() * 1000))
            except ValueError:
                raise _Invalid(fld, value) from None
        text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        if kind == "reference":
            return self._reference(fld, text)
        if kind == "email":
            text = text.strip()
            if not EMAIL_RE.match(text):
                raise _Invalid(fld, value, record_error("INVALID_EMAIL_ADDRESS",
                                                        f"{fld.label}: invalid email address: {value}", [fld.name]))
        if fld.length and len(text) > fld.length:
            raise _Invalid(fld, value, record_error(
                "STRING_TOO_LONG", f"{fld.label}: data value too large: {text[:40]} (max length={fld.length})",
                [fld.name]))
        return text

    def _reference(self, fld: Field, text: str) -> str:
        rid = to_18(text)
        if rid is None:
            raise _Invalid(fld, text, record_error("MALFORMED_ID", f"{fld.label}: id value of incorrect type: {text}",
                                                   [fld.name]))
        if fld.reference_to == "User":
            if rid.startswith(USER_ID_PREFIX):
                return rid
        elif (kind := _type_name(rid)) in {r.lower() for r in fld.references}:
            if self.lookup(kind or "", rid) is not None:
                return rid
            table = self.table(kind or "")
            if table is not None and rid in table.records:   # in the recycle bin: "You can't reference an object
                # that has been deleted" (StatusCode ENTITY_IS_DELETED)
                raise _Invalid(fld, text, record_error("ENTITY_IS_DELETED", "entity is deleted", [fld.name]))
            raise _Invalid(fld, text, record_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                                                   [fld.name]))
        raise _Invalid(fld, text, record_error("FIELD_INTEGRITY_EXCEPTION",
                                               f"{fld.label}: id value of incorrect type: {text}", [fld.name]))

    # --- persistence (hub.sandbox.state) ----------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Every record (recycle bin included), deletion times and Id counters, as JSON-ready data."""
        with self.lock:
            out: dict[str, Any] = {}
            for name, table in self.tables.items():
                names = [f.name for f in table.sobject.fields]
                out[name] = {"next_number": table.next_number, "fields": names,
                             "records": [[table.records[rid][n] for n in names] for rid in table.order],
                             "deleted": [[rid, ms] for rid, ms in table.deleted_log],
                             "purged_ms": table.purged_ms}
            return out

    @classmethod
    def from_state(cls, clock: AnyClock, state: dict[str, Any], **options: Any) -> SalesforceStore:
        """A store holding what :meth:`to_state` saved, indexes rebuilt; ValueError if it does not fit this schema
        (``options``: the constructor's custom and hidden fields, as when it was saved)."""
        store = cls(clock, **options)
        if set(state) - set(store.tables):
            raise ValueError(f"Salesforce sObjects {sorted(state)} differ from this version's {sorted(store.tables)}")
        for name, table in store.tables.items():
            saved = state.get(name)
            if saved is None:   # saved by a version whose org had fewer objects: this one starts empty
                continue
            names = [f.name for f in table.sobject.fields]
            if saved["fields"] != names:
                raise ValueError(f"Salesforce {name} fields differ from this version's schema")
            for values in saved["records"]:
                record = dict(zip(names, values, strict=True))
                rid = record["Id"]
                if not isinstance(rid, str) or _type_name(rid) != name.lower() or to_18(rid) != rid \
                        or rid in table.records:
                    raise ValueError(f"Salesforce {name} record has a bad or duplicate Id {rid!r}")
                table.records[rid] = record
                table.order.append(rid)
                table.reindex(None, record)
            table.deleted_log = [(str(rid), int(ms)) for rid, ms in saved["deleted"]]
            table.purged_ms = int(saved.get("purged_ms", 0))
            number = saved["next_number"]
            if not isinstance(number, int) or make_id(table.sobject.key_prefix, number) in table.records:
                raise ValueError(f"Salesforce {name} next_number {number!r} would reuse an existing Id")
            table.next_number = number
        return store

class _Invalid(Exception):
    def __init__(self, fld: Field, value: Any, error: RecordError | None = None) -> None:
        super().__init__(fld.name)
        self.error = error or record_error("INVALID_TYPE_ON_FIELD_IN_RECORD",
                                           f"{fld.label}: value not of required type: {value}", [fld.name])


def _type_name(record_id: str) -> str | None:
    """The lower-cased sObject name an Id's key prefix belongs to."""
    known = PREFIXES.get(record_id[:3])
    return known.name.lower() if known else None


def custom_field_names(count: int) -> list[str]:
    """``count`` distinct custom field names, as long as real ones: ``Title_Case__c``, at most 40 characters
    (Salesforce's limit for an API name)."""
    names = []
    for i, words in enumerate(custom_field_words(count, 4)):
        stem = "_".join(w.capitalize() for w in words)[:31].rstrip("_")
        names.append(f"{stem}_{i:03d}__c")
    return names
