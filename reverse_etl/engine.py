"""The sync engine: check a sync against its target, then send its plan in batches and acknowledge what landed.

Batches go out from a small thread pool (each worker with its own :class:`~hub.sources.http.ApiClient` over one shared
``httpx.Client`` and the connection's process-wide rate limiter), so waiting on the API overlaps building the next
request and writing acknowledgements. The main thread alone touches the warehouse.

Rows the target would certainly refuse are rejected before sending (:mod:`hub.reverse_etl.validate`), so they never sink
a batch. A batch the target still refuses as a whole (a 4xx, e.g. a 400 for one bad input in a create) is first read
by the pusher (:meth:`Pusher.refusal`: a 409 may name the record that exists), else split in halves until the bad
records stand alone and are rejected on their own: O(bad rows x log batch) calls. When refusals outrun the split
budget the cause is not in the records; the sync stops and the rows not yet sent stay unacknowledged, never
rejected for a neighbour.

Unknown outcomes: a write whose answer was lost (timed out after sending, dropped, 5xx, cut body) comes back as
:class:`~hub.errors.UnknownOutcomeError`; the HTTP layer never re-sends it. Idempotent operations (everything but
``create``) are sent again here, a few times at most. A create is reconciled in the same run: its match value is looked
up; found, the record is acknowledged (and updated, except in insert mode); not found, it is created again, at most
``RESEND_LIMIT`` times. A create without a match value cannot be looked up: it is rejected with code
``UNKNOWN_OUTCOME`` and held (never re-sent by later runs) until the row has a match value to reconcile by.
A failed lookup never becomes a create: a refused lookup request stops the sync, a refused lookup row is rejected.

Transient failures were already retried by the HTTP layer; one that persists stops the sync, leaving its unsent rows
unacknowledged, so the next run sends them again.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from hub.config import CONFIG_FILE
from hub.errors import (AuthError, ConfigError, HubError, PushError, SourceError, UnknownNameError,
                        UnknownOutcomeError)
from hub.failpoints import failpoint
from hub.reverse_etl import freshness, state, validate
from hub.reverse_etl.base import EXISTS, MISSING, OK, REJECTED, NoSuchObject, Outcome, Pusher, Record, TargetField
from hub.reverse_etl.config import LINK_PREFIX, SyncConfig, is_link
from hub.reverse_etl.deletions import TargetDeletions
from hub.reverse_etl.plan import Item, Plan
from hub.reverse_etl.report import SyncResult
from hub.warehouse.runlog import progress as live_progress

if TYPE_CHECKING:
    import httpx

    from hub.project import Project
    from hub.warehouse.duck import Warehouse

WORKERS = 8              # real APIs answer a batch in 0.2-1 s: enough in flight to reach the rate limit
FLUSH_EVERY = 0.5        # seconds between acknowledgement writes
SPLIT_STATUS = frozenset({400, 409, 413, 422})
SPLIT_BUDGET = 64
RESEND_LIMIT = 3         # sends of one row whose outcome stays unknown, before it is given up for this run
UNKNOWN_OUTCOME = "UNKNOWN_OUTCOME"
WRITES = frozenset({"update", "upsert", "update_by_key", "create"})
Progress = Callable[[str, int, int], None]


@dataclass
class Target:
    """A sync's live connection to its target: pushers (one per worker) and how rows go by match key."""

    sync: SyncConfig
    pushers: list[Pusher]
    fields: dict[str, TargetField]
    by_key: str
    http: httpx.Client
    own_http: bool
    can_lookup: bool = False   # records can be found by match value (to reconcile a create whose answer was lost)

    @property
    def api_calls(self) -> int:
        return sum(p.client.calls for p in self.pushers)

    def close(self) -> None:
        if self.own_http:
            self.http.close()


def connect(project: Project, wh: Warehouse, sync: SyncConfig, workers: int = WORKERS) -> Target:
    """Build the sync's pushers and check the mapping against the target's fields (cached in ``_hub``, so a rerun
    needs no call; fetched again whenever a mapped field is missing from the cache)."""
    import httpx

    from hub.registry import connector_class, pusher_class
    from hub.sources.http import DEFAULT_TIMEOUT
    from hub.sources.transport import LazyTLSTransport

    conn = project.config.connections[sync.to]
    options = project.client_options(conn)
    http = options.pop("http", None)
    own = http is None
    if own:
        # the process's one SSL context (made at the first https request), not one built per push: a trigger pushes
        # for every chunk of form posts, and httpx builds a context from the CA bundle for each client it makes
        http = httpx.Client(timeout=DEFAULT_TIMEOUT, headers={"User-Agent": "hub/0.1", "Accept": "application/json"},
                            transport=LazyTLSTransport(limits=httpx.Limits(max_connections=workers + 2,
                                                                           max_keepalive_connections=workers + 2)))
    cls, connector = pusher_class(conn.type), connector_class(conn.type)
    pushers = [cls(connector.api_client(conn, http=http, **options), sync.object, sync.match_field, conn.options)
               for _ in range(workers)]
    target = Target(sync, pushers, {}, "", http, own)
    try:
        target.fields = _fields(project, wh, sync, pushers[0])
        match = target.fields[sync.match_field]
        target.by_key = _by_key(project, sync, pushers[0], match)
        target.can_lookup = _can_lookup(pushers[0], match)
    except BaseException:
        target.close()
        raise
    return target


def _fields(project: Project, wh: Warehouse, sync: SyncConfig, pusher: Pusher) -> dict[str, TargetField]:
    line = project.config.line_of
    cached = state.cached_fields(wh, sync.to, sync.object) if pusher.cache_fields else None
    # fetched again when a mapped field is missing, or the cache predates what the checks below need
    for column, other, name in sync.links:   # links are no fields: the pusher says whether it can send them
        problem = pusher.link_problem(name[len(LINK_PREFIX):])
        if problem:
            raise ConfigError(f"[syncs.{sync.name}] associations.{column}: {problem}", file=CONFIG_FILE,
                              line=line("syncs", sync.name, "associations"),
                              hint=f"remove it, or link to another object than sync '{other}' writes")
    mapping = [(c, f) for c, f in sync.mapping if not is_link(f)]
    if cached is None or any(f not in cached or "filterable" not in cached[f] for _, f in mapping):
        try:
            fetched = pusher.fields()
        except NoSuchObject as missing:
            raise UnknownNameError(f"{sync.connection_type} object", sync.object, missing.known, file=CONFIG_FILE,
                                   line=line("syncs", sync.name, "object"), where=f" in [syncs.{sync.name}]") from None
        cached = {name: f.as_dict() for name, f in fetched.items()}
        if pusher.cache_fields:
            state.cache_fields(wh, sync.to, sync.object, cached)
    fields = {name: TargetField(name, **meta) for name, meta in cached.items()}
    for column, name in mapping:
        key = "match" if column == sync.match_column else "fields"
        where = f" of {sync.to}.{sync.object} in [syncs.{sync.name}] {key}"
        if name not in fields:
            raise UnknownNameError(f"{sync.connection_type} field", name, fields, file=CONFIG_FILE,
                                   line=line("syncs", sync.name, key), where=where)
        meta = fields[name]
        if (sync.mode != "insert" and not meta.updateable) or (sync.mode != "update" and not meta.createable):
            raise ConfigError(f"[syncs.{sync.name}] {sync.to}.{sync.object} field '{name}' is read-only",
                              file=CONFIG_FILE, line=line("syncs", sync.name, key),
                              hint="map it to a field the target lets you write")
    return fields


def _can_lookup(pusher: Pusher, match: TargetField) -> bool:
    return "lookup" in pusher.OPS and match.filterable and (match.unique or not pusher.lookup_needs_unique)


def _by_key(project: Project, sync: SyncConfig, pusher: Pusher, match: TargetField) -> str:
    """How a row without a known target record is sent, given the mode and what the target can do: natively by
    match key when it is unique, else by looking the records up first (insert always looks up, so it never
    touches a record that exists)."""
    if sync.mode in ("upsert", "mirror") and match.unique and "upsert" in pusher.OPS:
        return "upsert"
    if sync.mode == "update" and match.unique and "update_by_key" in pusher.OPS:
        return "update_by_key"
    if "lookup" in pusher.OPS and not match.filterable:
        # the target would refuse every lookup (the field "can not be filtered"): say so now
        raise ConfigError(f"[syncs.{sync.name}] {sync.connection_type} cannot find {sync.object} records by "
                          f"'{sync.match_field}': the target does not allow filtering on that field",
                          file=CONFIG_FILE, line=project.config.line_of("syncs", sync.name, "match"),
                          hint="match on a filterable field (an email, or an external id field)")
    if _can_lookup(pusher, match):
        return "lookup"
    raise ConfigError(f"[syncs.{sync.name}] {sync.connection_type} cannot find {sync.object} records by "
                      f"'{sync.match_field}': it is not a property with unique values", file=CONFIG_FILE,
                      hint="match on a unique property (email, or a custom property with unique values)")


class Execution:
    """Sends one sync's plan and turns the target's answers into acknowledgements, rejections and counts."""

    def __init__(self, target: Target, plan: Plan, acks: state.Acks, result: SyncResult,
                 progress: Progress | None = None) -> None:
        self.target, self.plan, self.acks, self.result = target, plan, acks, result
        self.sync = plan.sync
        self.progress = progress
        self.queues: dict[tuple[str, bool], list[Item]] = {}
        self.pool: queue.Queue[Pusher] = queue.Queue()
        for pusher in target.pushers:
            self.pool.put(pusher)
        self.error: HubError | None = None
        self.sent = 0
        # on_target_delete: records the target deleted are held back rather than re-created (reverse_etl.deletions)
        self.deletions = TargetDeletions.load(acks.wh, self.sync)
        self.total = len(plan.items) + (len(plan.removals) if self.sync.mode == "mirror" else 0)
        # split calls allowed for isolating refused records: about 2*log2(batch) per bad row, so a few bad rows get
        # found while a refused mapping does not cost two calls per row
        self.splits = SPLIT_BUDGET + self.total // 10
        self.unsure: dict[str, int] = {}     # row key -> sends whose outcome was unknown
        self.reconciled: set[str] = set()    # rows whose lost create was found by lookup
        self.conflicted: set[str] = set()    # rows whose create was refused as already existing
        self.checker = validate.Checker(target.fields)
        mapped = dict(self.sync.mapping)
        self.refs = [(mapped[column], column, other) for column, other in self.sync.refs]
        self.links = [(name, column, other) for column, other, name in self.sync.links]

    def run(self) -> None:
        """Send everything; acknowledgements are written as answers arrive, and once more at the end."""
        plan = self.plan
        live_progress("push", self.sync.name, 0, self.total)
        in_sync = len(plan.in_sync)
        freshness.hold_back(self.target, plan)   # two-way: a target edit made since the ingest is not overwritten
        self.result.unchanged += len(plan.in_sync) - in_sync   # updates the target turned out to hold already
        for item in plan.in_sync:
            self.acks.synced(item.record.key, item.record.target_id, item.row_hash, item.pushed)
        for item in plan.skipped:
            self.acks.synced(item.record.key, None, item.row_hash, None)
            self.result.skipped += 1
        for item, dup_of in plan.duplicates:
            self._reject(item, f"{self.sync.match_column} '{item.record.match}' is also the match value of row "
                               f"{dup_of}: sending both would make them one record", "DUPLICATE_MATCH")
        held = self._held()
        for item in plan.items:
            if self.deletions.holds(item.record.key):
                self.result.skipped += 1   # deleted in the target: left deleted (on_target_delete = "skip")
                continue
            if item.record.key in held and item.op == "create":
                self._reject(item, f"held: an earlier create of this row got no answer and it has no "
                                   f"{self.sync.match_column} to look it up by; it may exist in {self.sync.to}",
                             UNKNOWN_OUTCOME)
            else:
                self._enqueue(item)
        if self.sync.mode == "mirror":
            self._removals()
        if plan.conflicts:
            state.record_conflicts(self.acks.wh, plan.conflicts)
            self.result.conflicts = len(plan.conflicts)
        self._send()
        self.acks.flush()
        if self.sync.mode == "mirror":
            self.deletions.gone = [key for key, _ in plan.removals]   # left the model: nothing left to hold back
        self.deletions.flush()
        failpoint("push.sync_done")  # this sync is acknowledged; the next one has not started

    def _removals(self) -> None:
        for key, tid in self.plan.removals:
            if tid is None:
                self.acks.gone(key)
            else:
                self._enqueue(Item(Record(key, {}, tid), "remove", "", {}))

    def _held(self) -> set[str]:
        """Rows whose create got no answer and cannot be looked up: never re-sent blindly (one query, if any)."""
        if not any(i.retry and i.op == "create" for i in self.plan.items):
            return set()
        rows = self.acks.wh.query("SELECT key FROM _hub.rejected_rows WHERE sync = ? AND code = ?",
                                  [self.sync.name, UNKNOWN_OUTCOME]).rows
        return {key for key, in rows}

    def _enqueue(self, item: Item) -> None:
        # rows refused last time go in batches of their own: one still bad must not split a batch of good ones
        self.queues.setdefault((item.op, item.retry), []).append(item)

    def _sendable(self, op: str, items: list[Item]) -> list[Item]:
        """``items`` without the rows the target would certainly refuse (rejected here: sent, they would sink their
        whole batch). Checked as batches are formed, so the work overlaps waiting on the API."""
        if op not in WRITES:
            return items
        creating = op in ("create", "upsert")
        good = []
        for item in items:
            bad = self._unresolved(item.record.values) or self.checker.problem(item.record.values, creating=creating)
            if bad is None:
                good.append(item)
            else:
                self._reject(item, *bad)
        return good

    def _unresolved(self, values: dict[str, Any]) -> tuple[str, str] | None:
        """A ``refs`` column naming no record of the target yet: the row waits (rejected, retried next run)."""
        for target_field, column, other in self.refs:
            if target_field in values and values[target_field] is None:
                return (f"{column}: the row it names has no record in {self.sync.to} yet (sync '{other}' has not "
                        f"pushed it); sent once it has", "UNRESOLVED_REFERENCE")
        for target_field, column, other in self.links:
            if values.get(target_field) == "":   # names a row (NULL would be no link) whose record is not there yet
                return (f"{column}: the row it links to has no record in {self.sync.to} yet (sync '{other}' has not "
                        f"pushed it); sent, and linked, once it has", "UNRESOLVED_REFERENCE")
        return None

    def _send(self) -> None:
        inflight: dict[Future[list[Outcome]], tuple[str, list[Item]]] = {}
        last_flush = time.monotonic()
        room = len(self.target.pushers) * 2   # enough queued to keep every worker busy, few to cancel on failure
        with ThreadPoolExecutor(max_workers=len(self.target.pushers), thread_name_prefix="hub-push") as pool:
            while True:
                if self.error is None:
                    for op, items in self._ready(room - len(inflight), partial=not inflight):
                        inflight[pool.submit(self._call, op, items)] = (op, items)
                else:
                    for future in inflight:
                        future.cancel()  # not started yet: the rows stay unacknowledged for the next run
                if not inflight:
                    break
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for future in done:
                    op, items = inflight.pop(future)
                    self._answer(pool, inflight, op, items, future)
                if time.monotonic() - last_flush > FLUSH_EVERY:
                    self.acks.flush()
                    last_flush = time.monotonic()

    def _ready(self, room: int, partial: bool) -> list[tuple[str, list[Item]]]:
        """Up to ``room`` full batches to send now; partial ones too once nothing else is in flight."""
        out: list[tuple[str, list[Item]]] = []
        for (op, _), items in self.queues.items():
            size = self.target.pushers[0].batch_limit(op)
            while items and (len(items) >= size or partial) and len(out) < room:
                batch = self._sendable(op, items[:size])
                del items[:size]
                if batch:
                    out.append((op, batch))
        return out

    def _call(self, op: str, items: list[Item]) -> list[Outcome]:
        pusher = self.pool.get()
        try:
            records = [i.record for i in items]
            call = pusher.request(op, records)
            kwargs: dict[str, Any] = {"params": call.params} if call.params else {}
            kwargs["idempotent"] = call.idempotent
            if call.json is not None:
                kwargs.update(content=orjson.dumps(call.json), headers={"Content-Type": "application/json"})
            response = pusher.client.request(call.method, call.path, **kwargs)
            body = pusher.client.json(response) if response.content else None
            outcomes = pusher.results(op, records, response.status_code, body)
            return pusher.follow_up(op, records, outcomes) if self.links else outcomes
        finally:
            self.pool.put(pusher)

    def _answer(self, pool: ThreadPoolExecutor, inflight: dict[Future[list[Outcome]], tuple[str, list[Item]]],
                op: str, items: list[Item], future: Future[list[Outcome]]) -> None:
        if future.cancelled():
            return
        try:
            outcomes = future.result()
        except UnknownOutcomeError as exc:
            self._unknown(op, items, exc)
            return
        except SourceError as exc:
            if op == "lookup" or isinstance(exc, AuthError) or exc.retriable or exc.status not in SPLIT_STATUS:
                # a refused lookup says nothing about the records: creating them would duplicate every one
                self.error = self.error or exc
                return
            read = self.target.pushers[0].refusal(op, [i.record for i in items], exc.status or 0, exc.message)
            if read is not None:
                outcomes = read
            elif op == "create" and exc.status == 409 and self.target.can_lookup:
                # some record exists already and the answer does not say which: look them all up, once
                for item in items:
                    if item.record.key in self.conflicted or item.record.match in (None, ""):
                        self._reject(item, exc.message, "CONFLICT")
                    else:
                        self.conflicted.add(item.record.key)
                        self._reconcile([item])
                return
            elif len(items) > 1 and self.splits > 0:  # refused as a whole: halve until the culprits stand alone
                self.splits -= 2
                half = len(items) // 2
                for part in (items[:half], items[half:]):
                    inflight[pool.submit(self._call, op, part)] = (op, part)
                return
            elif len(items) > 1:
                # so many refusals that the cause is not in the records (a mapping the target refuses): stop
                # rather than reject rows that may be good
                self.error = self.error or PushError(
                    f"sync '{self.sync.name}': {self.sync.to} refused so many batches as a whole that the cause is "
                    f"not one record ({exc.message}); the rows not sent stay pending",
                    hint="check the sync's mapping against the target's fields")
                return
            else:
                outcomes = [Outcome(REJECTED, reason=exc.message, code=str(exc.status))]
        except HubError as exc:
            self.error = self.error or exc
            return
        failpoint(f"push.sent.{op}")  # the target holds the batch; _hub does not know yet
        for item, outcome in zip(items, outcomes):
            self._outcome(op, item, outcome)
        self.sent += len(items)
        if self.progress:
            self.progress(self.sync.name, min(self.sent, self.total), self.total)
        live_progress("push", self.sync.name, min(self.sent, self.total), self.total)   # for readers: the run log

    def _unknown(self, op: str, items: list[Item], exc: UnknownOutcomeError) -> None:
        """The target may or may not hold these writes: send idempotent ones again, reconcile creates."""
        creates = []
        for item in items:
            key = item.record.key
            tries = self.unsure[key] = self.unsure.get(key, 0) + 1
            if op != "create":
                if tries < RESEND_LIMIT:
                    self._enqueue(item)  # idempotent: sending it again cannot write twice
                else:
                    self.error = self.error or exc  # stays unacknowledged: the next run sends it again
            elif item.record.match in (None, "") or not self.target.can_lookup:
                self._reject(item, f"{exc.message}; it has no {self.sync.match_column} to look it up by, so it is "
                                   f"held, not sent again: it may exist in {self.sync.to}", UNKNOWN_OUTCOME)
            elif tries > RESEND_LIMIT:
                self._reject(item, f"{exc.message}; still unknown after {RESEND_LIMIT} tries", UNKNOWN_OUTCOME)
            else:
                creates.append(item)
        self._reconcile(creates, lost=True)

    def _reconcile(self, items: list[Item], *, lost: bool = False) -> None:
        """Find these rows' records by match value before creating any of them again (same run). ``lost``: our own
        create may have made them (a record found then counts as created)."""
        for item in items:
            if lost:
                self.reconciled.add(item.record.key)
            item.op = "lookup"
            self._enqueue(item)

    def _outcome(self, op: str, item: Item, outcome: Outcome) -> None:
        record, mode = item.record, self.sync.mode
        if op == "lookup":
            if outcome.status == REJECTED:  # the target could not look it up: never a reason to create it
                self._reject(item, outcome.reason or "lookup refused", outcome.code)
            elif outcome.status == OK and mode == "insert":
                self.acks.synced(record.key, outcome.target_id, item.row_hash, None)
                if record.key in self.reconciled:
                    self.result.creates += 1
                else:
                    self.result.unchanged += 1
            elif outcome.status == OK:
                record.target_id, item.op = outcome.target_id, "update"
                self._enqueue(item)
            elif mode == "update":
                self.acks.synced(record.key, None, item.row_hash, None)
                self.result.skipped += 1
            else:
                item.op = "create"
                self._enqueue(item)
        elif outcome.status == OK and op == "remove":
            self.acks.gone(record.key)
            self.result.removals += 1
        elif outcome.status == OK:
            self.acks.synced(record.key, outcome.target_id or record.target_id, item.row_hash, item.pushed)
            if outcome.created or op == "create" or record.key in self.reconciled:
                self.result.creates += 1
            else:
                self.result.updates += 1
        elif outcome.status == EXISTS and mode != "insert" and outcome.target_id and not item.rerouted:
            # the create found the record there already (the target's refusal named it): it is ours to update
            record.target_id, item.op, item.rerouted = outcome.target_id, "update", True
            self._enqueue(item)
        elif outcome.status == EXISTS:
            self.acks.synced(record.key, outcome.target_id, item.row_hash, None)
            self.result.unchanged += 1
        elif outcome.status == MISSING and op == "update" and self.deletions.missing(record.key, record.target_id):
            self.result.skipped += 1       # deleted in the target since we wrote it: not re-created under skip
        elif outcome.status == MISSING and op == "update" and not item.rerouted:
            self._reroute(item)
        elif outcome.status == MISSING:
            self.acks.synced(record.key, None, item.row_hash, None)
            self.result.skipped += 1
        else:
            self._reject(item, outcome.reason or "refused", outcome.code)

    def _reroute(self, item: Item) -> None:
        """The record we meant to update is gone from the target: find or create it by match key instead."""
        record = item.record
        item.rerouted, record.target_id = True, None
        record.values = item.full
        if record.match in (None, ""):
            if self.sync.mode == "update":
                self.acks.synced(record.key, None, item.row_hash, None)
                self.result.skipped += 1
                return
            item.op = "create"
        else:
            item.op = self.target.by_key
        self._enqueue(item)

    def _reject(self, item: Item, reason: str, code: str | None) -> None:
        self.acks.rejected(item.record.key, item.record.target_id, item.op, reason, code, item.record.values)
        self.result.rejected += 1
