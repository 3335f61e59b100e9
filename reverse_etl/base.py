"""What every pusher is: how to build one batch request for a target and how to read its per-record results.

A pusher knows one vendor's write API and nothing else: diffing, batching, threads, retries, acknowledgements and
rejected rows live once in :mod:`hub.reverse_etl.engine`. Operations a pusher may offer (``OPS``):

- ``update``: by the target's own record id.
- ``upsert``: by the match field, created when absent (needs a unique/external-id match field).
- ``update_by_key``: by the match field, never created.
- ``create``: new records.
- ``remove``: delete/archive by record id (mirror syncs).
- ``lookup``: find record ids by match-field values, writing nothing.

Every request but a create must be idempotent (:attr:`Call.idempotent`): when its answer is lost the engine sends
it again; a create whose answer is lost is reconciled by a lookup instead.
Two-way syncs also re-read records by id just before updating them (:meth:`Pusher.read`, used by
:mod:`hub.reverse_etl.freshness`), so an edit made in the target after the ingest is not overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from hub.errors import NoSuchObject  # noqa: F401 - in the error tree; pushers import it from here
from hub.sources.http import ApiClient

OK, REJECTED, MISSING, EXISTS = "ok", "rejected", "missing", "exists"


@dataclass(frozen=True)
class TargetField:
    """One field of the target object, as its describe/properties endpoint tells."""

    name: str
    createable: bool = True
    updateable: bool = True
    unique: bool = False        # usable to find records by (a unique property, an external id)
    filterable: bool = True     # usable in a lookup's filter (some targets cannot filter on every field)
    required: bool = False      # a create without a value is refused
    max_length: int = 0         # longest text the target keeps (0: no limit known)
    kind: str = ""              # a type the target checks values of: "email", "number", "boolean", "date"

    def as_dict(self) -> dict[str, Any]:
        return {"createable": self.createable, "updateable": self.updateable, "unique": self.unique,
                "filterable": self.filterable, "required": self.required, "max_length": self.max_length,
                "kind": self.kind}


@dataclass(slots=True)
class Record:
    """One row on its way to the target: target field -> value, and what we know of its target record."""

    key: str
    values: dict[str, Any]
    target_id: str | None = None
    match: Any = None
    before: dict[str, Any] | None = None   # target field -> the value it held before this write, where known


@dataclass(slots=True)
class Outcome:
    """What the target said about one record: ``ok``, ``rejected`` (with its reason), ``missing`` (no such record)
    or ``exists`` (a create found the record already there, ``target_id`` names it)."""

    status: str
    target_id: str | None = None
    created: bool = False
    reason: str | None = None
    code: str | None = None


@dataclass(slots=True)
class Current:
    """A target record as it is now: its field values and the target's last-modified time (vendor text)."""

    values: dict[str, Any]
    modified: str | None = None


@dataclass(frozen=True)
class Call:
    """One HTTP request of a batch."""

    method: str
    path: str
    json: Any = None
    params: dict[str, Any] | None = None
    #: sending it twice is harmless (reads, updates by id, upserts, deletes); a create is not
    idempotent: bool = True


class Pusher:
    """Base of the per-target pushers: subclass, declare ``OPS`` and ``batch_size``, implement the three methods."""

    type: ClassVar[str] = ""
    OPS: ClassVar[frozenset[str]] = frozenset()
    batch_size: ClassVar[int] = 100
    #: ``lookup`` works only by a unique match field (a batch read by a unique property, say)
    lookup_needs_unique: ClassVar[bool] = False
    #: target object names the vendor always has, for did-you-mean when the object is unknown
    known_objects: ClassVar[tuple[str, ...]] = ()
    #: keep the target's fields in ``_hub`` between runs (False: they come from hub.toml, which may change any time,
    #: so they are read again on every push; reading them costs no call or one)
    cache_fields: ClassVar[bool] = True
    #: records of this target link to records of its other objects (a sync's ``associations``), sent in the
    #: pseudo-fields ``associations.<object>`` of a record's values (the id of the linked record; None: no link)
    links: ClassVar[bool] = False

    def __init__(self, client: ApiClient, obj: str, match_field: str, options: dict[str, Any] | None = None) -> None:
        self.client = client
        self.object = obj
        self.match_field = match_field
        self.options = options or {}

    def fields(self) -> dict[str, TargetField]:
        """The target object's fields (raises :class:`NoSuchObject` for an object the target does not have)."""
        raise NotImplementedError

    def request(self, op: str, records: list[Record]) -> Call:
        """The request that applies ``op`` to ``records`` (at most ``batch_size`` of them)."""
        raise NotImplementedError

    def results(self, op: str, records: list[Record], status: int, body: Any) -> list[Outcome]:
        """One outcome per record, in ``records`` order, from the target's response."""
        raise NotImplementedError

    def refusal(self, op: str, records: list[Record], status: int, message: str) -> list[Outcome] | None:
        """Outcomes read from a refusal of the whole batch (e.g. a 409 naming the record that exists), or None
        when the refusal says nothing about single records (the engine then isolates the culprits)."""
        return None

    def link_problem(self, to_object: str) -> str | None:
        """Why records of this object cannot be linked to ``to_object`` records (None: they can); checked before
        the first write."""
        return None if self.links else f"{self.type} records cannot be linked to other records"

    def follow_up(self, op: str, records: list[Record], outcomes: list[Outcome]) -> list[Outcome]:
        """Writes that ``op``'s request could not carry (links to other records, for an update), after it
        succeeded; returns the outcomes, a record whose follow-up failed rejected. Default: nothing to do."""
        return outcomes

    def read(self, ids: list[str], fields: list[str]) -> dict[str, Current]:
        """The records with these ids (at most ``batch_size``) as the target holds them now; absent ids are gone."""
        raise NotImplementedError

    def batch_limit(self, op: str) -> int:
        """Records per request for ``op`` (a lookup may need fewer to keep its URL short)."""
        return self.batch_size
