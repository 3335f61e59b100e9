"""HubSpot CRM associations v4: which records are linked, by which association types, and its endpoints.

An association is directional in HubSpot's API but made and removed in pairs: linking a deal to a contact (type 3)
also links the contact to the deal (type 4). Type ids are HubSpot's defined ones (the v4 associations guide's table);
the custom object's types to companies are the portal's own (USER_DEFINED). A record that is archived keeps its links,
but reads leave archived records out, as the API does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import hub.integrations.hubspot.emulator.store as store_module   # the module: store imports this one
from hub.sandbox.clock import iso_millis_z

if TYPE_CHECKING:
    from hub.integrations.hubspot.emulator.store import HubSpotStore, Table

HUBSPOT, USER = "HUBSPOT_DEFINED", "USER_DEFINED"
#: (from, to) -> (the unlabeled type id, the "Primary" one if the pair has it); the reverse pair is listed too
TYPES: dict[tuple[str, str], tuple[int, int | None]] = {
    ("contacts", "companies"): (279, 1), ("companies", "contacts"): (280, 2),
    ("deals", "contacts"): (3, None), ("contacts", "deals"): (4, None),
    ("deals", "companies"): (341, 5), ("companies", "deals"): (342, 6),
    ("tickets", "contacts"): (16, None), ("contacts", "tickets"): (15, None),
    ("tickets", "companies"): (339, 26), ("companies", "tickets"): (340, 25),
    ("tickets", "deals"): (28, None), ("deals", "tickets"): (27, None),
    ("deals", "line_items"): (19, None), ("line_items", "deals"): (20, None),
    ("subscriptions", "companies"): (1001, None), ("companies", "subscriptions"): (1002, None),
}
CUSTOM_PAIRS = frozenset({("subscriptions", "companies"), ("companies", "subscriptions")})
MAX_BATCH_READ = 1_000   # inputs of one batch/read (HubSpot's limit since February 2025)
MAX_PAGE = 500           # associations of one record per page
MAX_BATCH_CREATE = 100   # inputs of one v4 batch/create: HubSpot documents no smaller limit; hub sends at most 100


def category(pair: tuple[str, str]) -> str:
    return USER if pair in CUSTOM_PAIRS else HUBSPOT


class Associations:
    """The portal's links: ``(from type, from id) -> to type -> to id -> type ids``. Call with the store's lock."""

    def __init__(self) -> None:
        self.links: dict[tuple[str, int], dict[str, dict[int, set[int]]]] = {}

    def link(self, from_type: str, from_id: int, to_type: str, to_id: int, *, primary: bool = False) -> int:
        """Link two records both ways with the unlabeled type (and "Primary" too if asked); the forward type id."""
        pair, back = (from_type, to_type), (to_type, from_type)
        if pair not in TYPES:
            raise store_module.Failure(400, "VALIDATION_ERROR", f"No association type exists between {from_type} and {to_type}")
        (plain, main), (back_plain, back_main) = TYPES[pair], TYPES[back]
        forward = {plain} | ({main} if primary and main is not None else set())
        reverse = {back_plain} | ({back_main} if primary and back_main is not None else set())
        self.links.setdefault((from_type, from_id), {}).setdefault(to_type, {}).setdefault(to_id, set()).update(
            forward)
        self.links.setdefault((to_type, to_id), {}).setdefault(from_type, {}).setdefault(from_id, set()).update(
            reverse)
        return plain

    def unlink(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        """Remove every association between two records, both ways."""
        self.links.get((from_type, from_id), {}).get(to_type, {}).pop(to_id, None)
        self.links.get((to_type, to_id), {}).get(from_type, {}).pop(from_id, None)

    def of(self, from_type: str, from_id: int, to_type: str) -> dict[int, set[int]]:
        return self.links.get((from_type, from_id), {}).get(to_type, {})

    def to_state(self) -> list[list[Any]]:
        return [[f, fid, t, tid, sorted(types)] for (f, fid), targets in self.links.items()
                for t, ids in targets.items() for tid, types in ids.items()]

    def load(self, rows: list[list[Any]]) -> None:
        for f, fid, t, tid, types in rows:
            self.links.setdefault((f, int(fid)), {}).setdefault(t, {}).setdefault(int(tid), set()).update(types)


def resolve_links(store: HubSpotStore, table: Table, associations: Any) -> list[tuple[str, int, bool]]:
    """The ``associations`` of a v3 create (``[{to: {id}, types: [{associationCategory, associationTypeId}]}]``) as
    (object type, id, primary): the type id says which object type ``to`` is. A bad one fails the whole create."""
    if not isinstance(associations, list):
        raise store_module.Failure(400, "VALIDATION_ERROR", "associations must be a list")
    out = []
    for entry in associations:
        target_id = str(((entry or {}).get("to") or {}).get("id", ""))
        for spec in (entry or {}).get("types") or []:
            type_id = (spec or {}).get("associationTypeId")
            found = [(pair[1], type_id == types[1]) for pair, types in TYPES.items()
                     if pair[0] == table.schema.name and type_id in types]
            if not found:
                raise store_module.Failure(400, "VALIDATION_ERROR", f"{type_id} is not a valid association type "
                                                                    f"id for {table.schema.name}")
            target, primary = found[0]
            obj = store.tables[target].find(target_id, None)
            if obj is None:
                raise store_module.Failure(400, "VALIDATION_ERROR", f"One or more associations are invalid: "
                                                                    f"{target} {target_id} does not exist")
            out.append((target, obj.id, primary))
    return out


def _type_entries(pair: tuple[str, str], type_ids: set[int]) -> list[dict[str, Any]]:
    primary = TYPES[pair][1]
    return [{"category": category(pair), "typeId": t, "label": "Primary" if t == primary else None}
            for t in sorted(type_ids)]


def live_targets(store: HubSpotStore, from_type: str, from_id: int, to_type: str) -> list[dict[str, Any]]:
    """The ``to`` entries of one record toward one object type, archived records left out, in id order."""
    table = store.tables[to_type]
    out = []
    for to_id, type_ids in sorted(store.associations.of(from_type, from_id, to_type).items()):
        obj = table.objects.get(to_id)
        if obj is not None and not obj.archived and type_ids:
            out.append({"toObjectId": to_id, "associationTypes": _type_entries((from_type, to_type), type_ids)})
    return out


class AssociationRoutes:
    """The v4 association endpoints, on one emulator's router; ``table`` resolves an object type like the v3 ones."""

    def __init__(self, store: HubSpotStore, table: Callable[[str], Table], now: Callable[[], int]) -> None:
        self.store, self.table, self.now = store, table, now

    def register(self, add: Callable[..., None], json: Callable[[int, Any], Any]) -> None:
        self.json = json
        base = "/crm/v4/objects/{objectType}/{objectId}/associations"
        add("GET", base + "/{toObjectType}", self.list)
        add("PUT", base + "/default/{toObjectType}/{toObjectId}", self.create_default)
        add("DELETE", base + "/{toObjectType}/{toObjectId}", self.archive)
        add("POST", "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read", self.batch_read)
        add("POST", "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create", self.batch_create)
        add("POST", "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive", self.batch_archive)

    def _live(self, table: Table, raw: str) -> int:
        obj = table.find(str(raw), None)
        if obj is None:
            raise store_module.Failure(404, "OBJECT_NOT_FOUND", f"Object {table.schema.name} with id {raw} was not found")
        return obj.id

    def list(self, request: Any) -> Any:
        """GET .../associations/{toObjectType}?limit=&after=: one page of a record's links to one object type."""
        source, target = self.table(request.params["objectType"]), self.table(request.params["toObjectType"])
        limit = min(int(request.arg("limit") or MAX_PAGE), MAX_PAGE)
        after = int(request.arg("after") or 0)
        with self.store.lock:
            oid = self._live(source, request.params["objectId"])
            rows = [r for r in live_targets(self.store, source.schema.name, oid, target.schema.name)
                    if r["toObjectId"] > after]
        body: dict[str, Any] = {"results": rows[:limit]}
        if len(rows) > limit:
            body["paging"] = {"next": {"after": str(rows[limit - 1]["toObjectId"]), "link": None}}
        return self.json(200, body)

    def create_default(self, request: Any) -> Any:
        """PUT .../associations/default/{toObjectType}/{toObjectId}: the unlabeled link, both ways."""
        source, target = self.table(request.params["objectType"]), self.table(request.params["toObjectType"])
        started = iso_millis_z(self.now())
        with self.store.lock:
            from_id = self._live(source, request.params["objectId"])
            to_id = self._live(target, request.params["toObjectId"])
            a, b = source.schema.name, target.schema.name
            forward = self.store.associations.link(a, from_id, b, to_id)
        back = TYPES[(b, a)][0]
        results = [{"from": {"id": str(from_id)}, "to": {"id": str(to_id)},
                    "associationSpec": {"associationCategory": category((a, b)), "associationTypeId": forward}},
                   {"from": {"id": str(to_id)}, "to": {"id": str(from_id)},
                    "associationSpec": {"associationCategory": category((b, a)), "associationTypeId": back}}]
        return self.json(200, {"status": "COMPLETE", "results": results, "startedAt": started,
                               "completedAt": iso_millis_z(self.now())})

    def archive(self, request: Any) -> Any:
        """DELETE .../associations/{toObjectType}/{toObjectId}: every link between the two records; 204."""
        source, target = self.table(request.params["objectType"]), self.table(request.params["toObjectType"])
        with self.store.lock:
            self.store.associations.unlink(source.schema.name, self._live(source, request.params["objectId"]),
                                           target.schema.name, int(request.params["toObjectId"]))
        from hub.sandbox.server import Response

        return Response(204)

    def batch_create(self, request: Any) -> Any:
        return batch_create(self, request)

    def batch_archive(self, request: Any) -> Any:
        """POST /crm/v4/associations/{from}/{to}/batch/archive: ``inputs[{from: {id}, to: [{id}]}]``, every link
        between each pair removed, both ways; 204 (pairs not linked, or records gone, are no error)."""
        source, target = self.table(request.params["fromObjectType"]), self.table(request.params["toObjectType"])
        inputs = _inputs(request, MAX_BATCH_CREATE)
        for item in inputs:
            if not isinstance(item, dict) or not isinstance(item.get("to"), list) or not item.get("from"):
                raise store_module.Failure(400, "VALIDATION_ERROR", "Invalid input JSON: each input needs from and a "
                                                                    "list of to")
        with self.store.lock:
            for item in inputs:
                raw = str((item["from"] or {}).get("id", ""))
                if not raw.isdigit():
                    continue
                for to in item["to"]:
                    to_id = str((to or {}).get("id", ""))
                    if to_id.isdigit():
                        self.store.associations.unlink(source.schema.name, int(raw), target.schema.name, int(to_id))
        from hub.sandbox.server import Response

        return Response(204)

    def batch_read(self, request: Any) -> Any:
        """POST /crm/v4/associations/{from}/{to}/batch/read: each input's links; ids without any (or unknown) are
        207 errors, as HubSpot reports them."""
        source, target = self.table(request.params["fromObjectType"]), self.table(request.params["toObjectType"])
        try:
            body = request.json()
        except ValueError as exc:
            raise store_module.Failure(400, "VALIDATION_ERROR", f"Invalid input JSON on line 1, column 1: {exc}") from None
        inputs = (body or {}).get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise store_module.Failure(400, "VALIDATION_ERROR", "Invalid input JSON: inputs is required")
        if len(inputs) > MAX_BATCH_READ:
            raise store_module.Failure(400, "VALIDATION_ERROR", f"Batch input limit of {MAX_BATCH_READ} exceeded: "
                                                    f"{len(inputs)} inputs")
        started = iso_millis_z(self.now())
        results, missing = [], []
        with self.store.lock:
            for item in inputs:
                raw = str((item or {}).get("id", ""))
                obj = source.find(raw, None)
                rows = live_targets(self.store, source.schema.name, obj.id, target.schema.name) if obj else []
                if rows:
                    results.append({"from": {"id": obj.sid}, "to": rows})   # type: ignore[union-attr]
                else:
                    missing.append(raw)
        out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                               "completedAt": iso_millis_z(self.now())}
        if missing:
            out["numErrors"] = len(missing)
            out["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND", "subCategory": "crm.associations."
                              "NO_ASSOCIATIONS_FOUND", "message": f"No {target.schema.singular.lower()} is "
                              f"associated with {source.schema.singular.lower()} {raw}.",
                              "context": {"fromObjectId": [raw]}, "links": {}} for raw in missing]
        return self.json(207 if missing else 200, out)


def _inputs(request: Any, limit: int) -> list[Any]:
    try:
        body = request.json()
    except ValueError as exc:
        raise store_module.Failure(400, "VALIDATION_ERROR", f"Invalid input JSON on line 1, column 1: {exc}") from None
    inputs = (body or {}).get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise store_module.Failure(400, "VALIDATION_ERROR", "Invalid input JSON: inputs is required")
    if len(inputs) > limit:
        raise store_module.Failure(400, "VALIDATION_ERROR", f"Batch input limit of {limit} exceeded: {len(inputs)} inputs")
    return inputs


def batch_create(routes: AssociationRoutes, request: Any) -> Any:
    """POST /crm/v4/associations/{from}/{to}/batch/create: ``inputs[{from: {id}, to: {id}, types: [{
    associationCategory, associationTypeId}]}]``. A type id that is not one of the pair's, or a category that is not
    the type's, refuses the whole batch (400); an input naming a record that does not exist is a 207 error of its own.
    201 with ``results[{fromObjectTypeId, fromObjectId, toObjectTypeId, toObjectId, labels}]``; linking records that
    are linked already is no error (the link is simply there)."""
    source, target = routes.table(request.params["fromObjectType"]), routes.table(request.params["toObjectType"])
    pair = (source.schema.name, target.schema.name)
    inputs = _inputs(request, MAX_BATCH_CREATE)
    if pair not in TYPES:
        raise store_module.Failure(400, "VALIDATION_ERROR", f"No association type exists between {pair[0]} and {pair[1]}")
    allowed = {t for t in TYPES[pair] if t is not None}
    for item in inputs:
        types = (item or {}).get("types") if isinstance(item, dict) else None
        if not isinstance(types, list) or not types:
            raise store_module.Failure(400, "VALIDATION_ERROR", "Invalid input JSON: each input needs types")
        for spec in types:
            type_id, cat = (spec or {}).get("associationTypeId"), (spec or {}).get("associationCategory")
            if type_id not in allowed or cat != category(pair):
                raise store_module.Failure(400, "VALIDATION_ERROR", f"{cat} {type_id} is not a valid association type "
                                                                    f"from {pair[0]} to {pair[1]}")
    started = iso_millis_z(routes.now())
    results, errors = [], []
    with routes.store.lock:
        for item in inputs:
            raw_from = str(((item.get("from") or {}).get("id", "")))
            raw_to = str(((item.get("to") or {}).get("id", "")))
            a, b = source.find(raw_from, None), target.find(raw_to, None)
            if a is None or b is None:
                kind, raw = (source, raw_from) if a is None else (target, raw_to)
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                               "message": f"No {kind.schema.singular.lower()} with ID {raw} exists",
                               "context": {"fromObjectId" if a is None else "toObjectId": [raw]}, "links": {}})
                continue
            primary = any((s or {}).get("associationTypeId") == TYPES[pair][1] for s in item["types"])
            routes.store.associations.link(pair[0], a.id, pair[1], b.id, primary=primary)
            results.append({"fromObjectTypeId": source.schema.type_id, "fromObjectId": str(a.id),
                            "toObjectTypeId": target.schema.type_id, "toObjectId": str(b.id), "labels": []})
    out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                           "completedAt": iso_millis_z(routes.now())}
    if errors:
        out["numErrors"], out["errors"] = len(errors), errors
    return routes.json(207 if errors else 201, out)
