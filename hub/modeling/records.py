"""Per entity: how a batch of records is normalized and which values match records to each other.

Matching is on *keys*: a record joins every other record sharing one of its keys, transitively. Primary keys always
match (a person's valid email, a company's valid domain); fallback keys match only through a record that has no primary
key (phone plus name for a person without an email, the name for a company without a domain), so two people with
different emails are never joined just for sharing an office phone. Keys carry a prefix per kind so they cannot collide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from hub.modeling import normalize
from hub.modeling.entities import COMPANY, PERSON, Entity
from hub.modeling.phones import normalize_phones
from hub.modeling.settings import EntitySettings

_NULL = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class Resolver:
    """What identity resolution does differently per entity."""

    entity: Entity
    id_column: str
    primary: tuple[str, ...]
    fallback: tuple[str, ...]
    normalize: Callable[[pa.Table, EntitySettings], pa.Table]
    # Columns the identity table adds to the union's, with their types (normalizers' flags and the keys).
    added: tuple[tuple[str, str], ...]
    # Each key as SQL over the identity map's columns. The map does not store keys: they repeat its normalized
    # columns, and a million long strings more cost the map's write a second. Equal to what ``normalize`` computes.
    key_sql: tuple[tuple[str, str], ...] = ()
    # The record columns ``normalize`` reads (and rewrites): only these travel out of the warehouse into Arrow, the
    # other columns of a record stay in DuckDB and are joined back when the identity map is written.
    reads: tuple[str, ...] = ()
    # Records that point at another entity's records (entity, stream column, id column): a change there is a change
    # here too, since canonical models show what the linked record says (a contact's account name).
    link: tuple[str, str, str] | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.primary, *self.fallback)

    def key_expression(self, key: str, alias: str) -> str:
        """``key`` computed from the map's columns of the row ``alias``."""
        return dict(self.key_sql)[key].format(t=alias)


def normalize_people(batch: pa.Table, settings: EntitySettings) -> pa.Table:
    """Emails lower-cased and checked, phones to E.164, names trimmed, and the match keys."""
    email, email_ok = normalize.normalize_emails(_column(batch, "email"))
    phone, phone_ok = normalize_phones(_column(batch, "phone"), settings.phone_region)
    mobile, mobile_ok = normalize_phones(_column(batch, "mobile_phone"), settings.phone_region)
    first, last = normalize.normalize_names(_column(batch, "first_name")), normalize.normalize_names(
        _column(batch, "last_name"))
    name = normalize.name_keys(first, last)
    return _with(batch, {
        "email": email, "email_is_valid": email_ok, "phone": phone, "phone_is_valid": phone_ok,
        "mobile_phone": mobile, "mobile_phone_is_valid": mobile_ok, "first_name": first, "last_name": last,
        "name_key": name, "email_key": _key("e:", email, email_ok),
        "phone_key": _key("p:", pc.binary_join_element_wise(phone, name, "|"), phone_ok),
        "mobile_key": _key("p:", pc.binary_join_element_wise(mobile, name, "|"), mobile_ok),
    })


def normalize_companies(batch: pa.Table, settings: EntitySettings) -> pa.Table:
    """Names trimmed, websites to bare domains, phones to E.164, and the match keys."""
    name = normalize.normalize_names(_column(batch, "name"))
    domain, domain_ok = normalize.normalize_domains(_column(batch, "domain"))
    phone, phone_ok = normalize_phones(_column(batch, "phone"), settings.phone_region)
    name_key = normalize.company_keys(name)
    return _with(batch, {
        "name": name, "domain": domain, "domain_is_valid": domain_ok, "phone": phone, "phone_is_valid": phone_ok,
        "company_key": name_key, "domain_key": _key("d:", domain, domain_ok),
        "name_key": _key("n:", name_key, pc.is_valid(name_key)),
    })


PERSON_RESOLVER = Resolver(
    entity=PERSON, id_column="person_id", primary=("email_key",), fallback=("phone_key", "mobile_key"),
    normalize=normalize_people, reads=("email", "phone", "mobile_phone", "first_name", "last_name"),
    added=(("email_is_valid", "BOOLEAN"), ("phone_is_valid", "BOOLEAN"), ("mobile_phone_is_valid", "BOOLEAN"),
           ("name_key", "VARCHAR")),
    key_sql=(("email_key", "CASE WHEN {t}.email_is_valid THEN 'e:' || {t}.email END"),
             ("phone_key", "CASE WHEN {t}.phone_is_valid THEN 'p:' || {t}.phone || '|' || {t}.name_key END"),
             ("mobile_key", "CASE WHEN {t}.mobile_phone_is_valid THEN 'p:' || {t}.mobile_phone || '|' || {t}.name_key "
                            "END")),
    link=("company", "company_stream", "company_source_id"))
COMPANY_RESOLVER = Resolver(
    entity=COMPANY, id_column="company_id", primary=("domain_key",), fallback=("name_key",),
    normalize=normalize_companies, reads=("name", "domain", "phone"),
    added=(("domain_is_valid", "BOOLEAN"), ("phone_is_valid", "BOOLEAN"), ("company_key", "VARCHAR")),
    key_sql=(("domain_key", "CASE WHEN {t}.domain_is_valid THEN 'd:' || {t}.domain END"),
             ("name_key", "CASE WHEN {t}.company_key IS NOT NULL THEN 'n:' || {t}.company_key END")))
RESOLVERS = {r.entity.name: r for r in (PERSON_RESOLVER, COMPANY_RESOLVER)}


def _column(batch: pa.Table, name: str) -> pa.Array:
    """A column as one string array; a column no source provides is all NULL."""
    if name not in batch.column_names:
        return pa.nulls(batch.num_rows, pa.string())
    column = batch.column(name)
    return (column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column).cast(pa.string())


def _key(prefix: str, values: pa.Array, ok: pa.Array) -> pa.Array:
    keyed = pc.binary_join_element_wise(prefix, values, "")
    return pc.if_else(pc.fill_null(ok, False), keyed, _NULL)


def _with(batch: pa.Table, columns: dict[str, pa.Array]) -> pa.Table:
    for name, values in columns.items():
        if name in batch.column_names:
            batch = batch.set_column(batch.column_names.index(name), name, values)
        else:
            batch = batch.append_column(name, values)
    return batch
