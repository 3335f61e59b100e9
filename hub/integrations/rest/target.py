"""Push targets of ``type = "rest"`` connections: ``[connections.X.targets.<object>]`` on the reverse-ETL engine.

::

    [connections.helpdesk.targets.contacts]
    create = "POST /contacts/batch"                 # "METHOD /path"; a path with {placeholders} is one record a call
    update = "PATCH /contacts/{id}"                 # {id}: the target record's id; {field}: the row's field
    upsert = "PUT /contacts/by/email/{email}"       # by the sync's match field
    lookup = "GET /contacts"                        # ?<lookup_param or match field>=v1&..., records at lookup_records
    body = { email = "{email}", name = "{name}", profile = { plan = "{plan}" } }   # optional template
    batch_size = 50                                 # > 1: {records_path: [bodies]} to paths without placeholders
    records_path = "records"
    id_path = "results.*.id"                        # a batch answer's ids ("*" walks the list); "id" for one record
    errors_path = "errors"                          # per-record errors: {index | id, code, message, existing_id}

What the engine (:mod:`hub.reverse_etl.engine`) relies on, and how this module gives it:

- **Unknown outcomes.** A create is never marked idempotent, so a timeout, a dropped connection or a 5xx after
  sending raises ``UnknownOutcomeError`` instead of a retry; the engine then finds the record through ``lookup`` by
  the row's match value (found: acknowledged; missing: created again, bounded). Without a ``lookup`` endpoint a lost
  create cannot be reconciled: the engine holds the row as ``UNKNOWN_OUTCOME`` and reports it, never re-creating it.
  Every write also carries an ``Idempotency-Key`` (same request, same key, for this process), so an API that honours
  the header (IETF httpapi draft; Stripe) replays rather than repeats a write the engine sends again.
- **Failed lookups.** A lookup refused as a whole (4xx/5xx) stops the sync in the engine; a lookup that finds two
  records for one value is rejected (``AMBIGUOUS_MATCH``), so neither becomes a create nor updates the wrong record.
- **Whole-batch refusals.** A batch refused with 400/409/413/422 is halved by the engine until the bad records stand
  alone (:meth:`RestPusher.refusal` says nothing about single records, so it returns None).

There is no describe endpoint in a generic API: the target's fields are the template's ``{placeholders}`` (plus the
match field), or, without a template, the fields of the records the ``lookup`` endpoint lists.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import orjson

from hub.errors import PushError, SourceError
from hub.reverse_etl.base import (EXISTS, MISSING, OK, REJECTED, Call, Current, NoSuchObject, Outcome, Pusher, Record,
                                  TargetField)
from hub.sources.http import ApiClient
from hub.sources.rest.stream import RestTarget, dig

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WHOLE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
#: most lookups go in the URL; this many match values keep it far below the 16 KB front ends refuse
LOOKUP_BATCH = 50
#: one per process: a request the engine sends again in this run keeps its key; the next run's keys are new
_NONCE = os.urandom(8).hex()
#: what does an operation the target declares no endpoint for
FALLBACK = {"update": ("upsert",), "create": ("upsert",), "update_by_key": ("upsert",)}
NOT_FOUND = frozenset({"not_found", "missing", "404", "object_not_found"})
DUPLICATE = frozenset({"duplicate", "conflict", "exists", "already_exists", "409"})


class _KeyedClient:
    """The pusher's :class:`ApiClient`, adding the ``Idempotency-Key`` its pusher chose for the next request.

    The engine builds a batch's request with ``pusher.request`` and sends it through ``pusher.client`` on the same
    thread, with that pusher borrowed from its pool, so the key set between the two calls is that request's.
    """

    def __init__(self, client: ApiClient) -> None:
        self._client = client
        self.next_key: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def request(self, method: str, path: str, **kw: Any) -> Any:
        """Send through the wrapped client, with the chosen key on a write."""
        key, self.next_key = self.next_key, None
        if key is not None and method.upper() != "GET":
            kw["headers"] = {**(kw.get("headers") or {}), "Idempotency-Key": key}
        return self._client.request(method, path, **kw)


class RestPusher(Pusher):
    """Writes to one declared target of a ``type = "rest"`` connection."""

    type = "rest"
    # the target's fields come from its declaration in hub.toml: never cached, so an edited target takes effect
    cache_fields = False

    def __init__(self, client: ApiClient, obj: str, match_field: str, options: dict[str, Any] | None = None) -> None:
        super().__init__(client, obj, match_field, options)
        spec = (options or {}).get("rest_spec")
        targets: Mapping[str, RestTarget] = getattr(spec, "targets", None) or {}
        self.known = tuple(targets)
        self.target = targets.get(obj)
        self.endpoints: dict[str, tuple[str, str]] = {}
        if self.target is not None:
            for op in ("create", "update", "upsert", "lookup"):
                declared = getattr(self.target, op)
                if declared:
                    method, _, path = declared.strip().partition(" ")
                    self.endpoints[op] = (method.upper(), path.strip())
            self.batch_size = self.target.batch_size
        self.OPS = frozenset(self.endpoints)  # type: ignore[misc]  # per connection, not per class
        self.client: _KeyedClient = _KeyedClient(client)  # type: ignore[assignment]

    # --- what the target has ---------------------------------------------------------------------------------------

    def fields(self) -> dict[str, TargetField]:
        if self.target is None:
            raise NoSuchObject(self.known)
        names = set(_placeholders(self.target.body)) if self.target.body is not None else self._sampled()
        names.add(self.match_field)
        unique, filterable = "upsert" in self.endpoints, "lookup" in self.endpoints
        return {name: TargetField(name, unique=unique and name == self.match_field,
                                  filterable=filterable and name == self.match_field) for name in sorted(names)}

    def _sampled(self) -> set[str]:
        """Field names of the records the lookup endpoint lists (a generic API has no describe)."""
        if "lookup" not in self.endpoints or _PLACEHOLDER.search(self.endpoints["lookup"][1]):
            return set()
        try:
            body = self.client.get(self.endpoints["lookup"][1])
        except SourceError:
            return set()
        rows = dig(body, self.target.lookup_records if self.target else "")
        return {k for row in rows if isinstance(row, Mapping) for k in row} if isinstance(rows, list) else set()

    def _endpoint(self, op: str) -> tuple[str, str, str]:
        """``(method, path, op)`` of the endpoint that does ``op``: an update or create the target does not declare
        goes by its upsert (by the match value)."""
        for candidate in (op, *FALLBACK.get(op, ())):
            if candidate in self.endpoints:
                return (*self.endpoints[candidate], candidate)
        raise PushError(f"[connections.*.targets.{self.object}] declares no endpoint to {op} records",
                        hint=f'add {op} = "METHOD /path" to the target')

    def batch_limit(self, op: str) -> int:
        method, path, op = self._endpoint(op) if op in self.endpoints or op in FALLBACK else ("", "", op)
        if _PLACEHOLDER.search(path):
            return 1
        if op == "lookup":
            return max(1, min(self.batch_size, LOOKUP_BATCH)) if method == "GET" else self.batch_size
        return self.batch_size if self.batch_size > 1 else 1

    # --- requests --------------------------------------------------------------------------------------------------

    def request(self, op: str, records: list[Record]) -> Call:
        method, template, op = self._endpoint(op)
        target = self.target
        assert target is not None
        single = len(records) == 1 and self.batch_limit(op) == 1
        if op == "lookup":
            param = target.lookup_param or self.match_field
            path = self._path(template, records[0]) if single else template
            if method == "GET":
                return Call("GET", path, params=None if _PLACEHOLDER.search(template) else
                            {param: [str(r.match) for r in records]})
            return Call(method, path, {param: [r.match for r in records]}, idempotent=True)
        if single:
            call = Call(method, self._path(template, records[0]), self._body(op, records[0], in_batch=False),
                        idempotent=op != "create")
        else:
            items = [self._body(op, r, in_batch=True) for r in records]
            call = Call(method, template, {target.records_path or "records": items}, idempotent=op != "create")
        self.client.next_key = self._key(op, call, records)
        return call

    def _path(self, template: str, record: Record) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "id":
                value = record.target_id
            elif name == self.match_field:
                value = record.match
            else:
                value = record.values.get(name)
            return quote(str(value if value is not None else ""), safe="")

        return _PLACEHOLDER.sub(fill, template)

    def _body(self, op: str, record: Record, *, in_batch: bool) -> dict[str, Any]:
        values = dict(record.values)
        if op in ("upsert", "update_by_key") and record.match not in (None, ""):
            values.setdefault(self.match_field, record.match)
        template = self.target.body if self.target else None
        if template is not None:
            # an update sends only the fields that changed: the template's others are left out, not cleared
            body = _render(template, values, keep=op == "create")
        else:
            body = values
        if in_batch and op == "update":
            body = {_last(self.target.id_path if self.target else "id"): _id(record.target_id), **body}
        return body

    def _key(self, op: str, call: Call, records: list[Record]) -> str:
        digest = hashlib.sha256(f"{_NONCE}|{self.object}|{op}|{call.method} {call.path}|".encode())
        digest.update("|".join(r.key for r in records).encode())
        digest.update(orjson.dumps(call.json, option=orjson.OPT_SORT_KEYS))
        return f"hub-{digest.hexdigest()[:40]}"

    # --- answers ---------------------------------------------------------------------------------------------------

    def results(self, op: str, records: list[Record], status: int, body: Any) -> list[Outcome]:
        if op == "lookup":
            return self._found(records, body)
        created = op == "create" or status == 201
        if len(records) == 1 and self.batch_limit(op) == 1:
            return [self._one(op, records[0], body, created)]
        target = self.target
        assert target is not None
        outcomes: list[Outcome | None] = [None] * len(records)
        errors = dig(body, target.errors_path) if target.errors_path else None
        for error in errors if isinstance(errors, list) else []:
            i = self._error_index(error, records)
            if i is not None and outcomes[i] is None:
                outcomes[i] = _error_outcome(op, error)
        results = _listed(body, target.id_path)
        open_slots = [i for i, o in enumerate(outcomes) if o is None]
        if results is not None and len(results) == len(open_slots):
            # answers in input order, failed records left out: the usual contract of batch endpoints
            for i, (result, item) in zip(open_slots, results):
                outcomes[i] = _ok(item, result, op == "create" or _created(result, created))
        elif results is not None:
            by_key = {self._result_key(op, r, item): (r, item) for r, item in results}
            for i in open_slots:
                found = by_key.get(self._record_key(op, records[i]))
                if found is not None:
                    outcomes[i] = _ok(found[1], found[0], op == "create" or _created(found[0], created))
        return [o or Outcome(REJECTED, reason="the answer has no result for this record", code="NO_RESULT")
                for o in outcomes]

    def _one(self, op: str, record: Record, body: Any, created: bool) -> Outcome:
        listed = _listed(body, self.target.id_path if self.target else "id")
        if listed:
            result, value = listed[0]
        else:
            result, value = body, dig(body, _last(self.target.id_path if self.target else "id"))
        value = value if value is not None else record.target_id
        return Outcome(OK, None if value is None else str(value), created=_created(result, created))

    def _found(self, records: list[Record], body: Any) -> list[Outcome]:
        rows = dig(body, self.target.lookup_records if self.target else "")
        if isinstance(rows, Mapping):
            rows = [rows]   # a lookup by path answers the record itself
        ids: dict[str, list[str]] = {}
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, Mapping):
                value = dig(row, _last(self.target.id_path if self.target else "id"))
                ids.setdefault(_norm(row.get(self.match_field)), []).append(str(value))
        out = []
        for record in records:
            hits = ids.get(_norm(record.match), [])
            if len(records) == 1 and not hits and len(ids) == 1 and _PLACEHOLDER.search(self.endpoints["lookup"][1]):
                hits = next(iter(ids.values()))   # found by its path: the record need not echo the match field
            if len(hits) > 1:
                out.append(Outcome(REJECTED, reason=f"{len(hits)} records have {self.match_field} "
                                                    f"'{record.match}'; not choosing one", code="AMBIGUOUS_MATCH"))
            else:
                out.append(Outcome(OK, hits[0]) if hits else Outcome(MISSING))
        return out

    def refusal(self, op: str, records: list[Record], status: int, message: str) -> list[Outcome] | None:
        # a lookup by path that answers 404 found nothing; it is not a refusal of the lookup
        if op == "lookup" and status == 404 and _PLACEHOLDER.search(self.endpoints["lookup"][1]):
            return [Outcome(MISSING) for _ in records]
        if op == "update" and status == 404 and len(records) == 1 and self.batch_limit(op) == 1:
            return [Outcome(MISSING, reason=message, code="not_found")]
        return None

    def read(self, ids: list[str], fields: list[str]) -> dict[str, Current]:
        method, template = self.endpoints.get("update", ("", ""))
        out: dict[str, Current] = {}
        if "{id}" not in template:
            return out
        for record_id in ids:
            try:
                body = self.client.get(template.replace("{id}", quote(record_id, safe="")))
            except SourceError as exc:
                if exc.status == 404:
                    continue
                raise
            if isinstance(body, Mapping):
                out[record_id] = Current({f: body.get(f) for f in fields}, body.get("updated_at"))
        return out

    def _error_index(self, error: Any, records: list[Record]) -> int | None:
        if not isinstance(error, Mapping):
            return None
        index = error.get("index")
        if isinstance(index, int) and 0 <= index < len(records):
            return index
        for i, record in enumerate(records):
            if error.get("id") is not None and str(error["id"]) == str(record.target_id):
                return i
            if error.get(self.match_field) is not None and _norm(error[self.match_field]) == _norm(record.match):
                return i
        return None

    def _record_key(self, op: str, record: Record) -> str:
        return _norm(record.target_id) if op == "update" else _norm(record.values.get(self.match_field, record.match))

    def _result_key(self, op: str, result: Any, item: Any) -> str:
        if op == "update":
            return _norm(item)
        return _norm(result.get(self.match_field)) if isinstance(result, Mapping) else ""


def _placeholders(template: Any) -> list[str]:
    if isinstance(template, str):
        return _PLACEHOLDER.findall(template)
    if isinstance(template, Mapping):
        return [n for value in template.values() for n in _placeholders(value)]
    if isinstance(template, list):
        return [n for value in template for n in _placeholders(value)]
    return []


def _render(template: Any, values: Mapping[str, Any], *, keep: bool) -> Any:
    """The template with ``"{field}"`` replaced by the row's value (typed when the string is only the placeholder);
    members whose fields the row does not carry are left out unless ``keep``."""
    if isinstance(template, Mapping):
        out = {}
        for key, value in template.items():
            names = _placeholders(value)
            if names and not keep and not any(n in values for n in names):
                continue
            rendered = _render(value, values, keep=keep)
            if isinstance(rendered, Mapping) and not rendered and isinstance(value, Mapping) and names:
                continue
            out[key] = rendered
        return out
    if isinstance(template, list):
        return [_render(v, values, keep=keep) for v in template]
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        if whole:
            return values.get(whole.group(1))
        return _PLACEHOLDER.sub(lambda m: "" if values.get(m.group(1)) is None else str(values[m.group(1)]), template)
    return template


def _listed(body: Any, id_path: str) -> list[tuple[Any, Any]] | None:
    """``(result, id)`` for each item of the answer's list, when ``id_path`` walks one (``results.*.id``)."""
    head, star, tail = id_path.partition("*")
    if not star:
        return None
    items = dig(body, head.rstrip("."))
    if not isinstance(items, list):
        return None
    return [(item, dig(item, tail.lstrip("."))) for item in items]


def _ok(value: Any, result: Any, created: bool) -> Outcome:
    return Outcome(OK, None if value is None else str(value), created=created)


def _created(result: Any, default: bool) -> bool:
    if isinstance(result, Mapping) and isinstance(result.get("created"), bool):
        return bool(result["created"])
    return default


def _error_outcome(op: str, error: Any) -> Outcome:
    if not isinstance(error, Mapping):
        return Outcome(REJECTED, reason=str(error), code="ERROR")
    code = str(error.get("code") or error.get("status") or "ERROR")
    message = str(error.get("message") or code)
    if code.lower() in NOT_FOUND and op in ("update", "update_by_key"):
        return Outcome(MISSING, reason=message, code=code)
    existing = error.get("existing_id")
    if code.lower() in DUPLICATE and op == "create" and existing is not None:
        return Outcome(EXISTS, str(existing), reason=message, code=code)
    return Outcome(REJECTED, reason=message, code=code)


def _last(path: str) -> str:
    return path.rpartition("*")[2].lstrip(".").rpartition(".")[2] or "id"


def _id(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _norm(value: Any) -> str:
    return str(value).strip().lower() if value is not None else ""
