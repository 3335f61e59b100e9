"""From changed rows to operations: what to send each target record, what is already there, what cannot be sent.

For each candidate row (see :mod:`hub.reverse_etl.diff`) the plan decides, in this order:

1. **Conflicts** (two-way): a field the target *and* a peer system both changed since the hub last synced it, to
   different values. The sync's policy picks the edit that wins (the most recent, as the model's per-field
   survivorship already decided it; or a connection priority list); the winning value is what every side gets, and
   the conflict is recorded. Under ``conflicts = "hold"`` neither side is written: each keeps its value until one of
   them changes the field again (that newer edit then wins), and the conflict is listed as held.
2. **Target record**: its own record (from ``<model>_source``), else the one we wrote before, else one with the same
   match value in the last ingest; without one the row goes by its match key (upsert / update-by-key / lookup) or, with
   no match value, is created.
3. **What to send**: only the fields whose value differs from what the target is known to hold (its trusted ingested
   values, else what it last acknowledged). Nothing to send means the row is already in sync: acknowledged without a
   call. This is what stops echoes: a value that came from the target, or that the hub pushed and ingested back, is
   already there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from hub.errors import PushError
from hub.reverse_etl.base import Record
from hub.reverse_etl.config import HOLD, LATEST, SyncConfig
from hub.reverse_etl.diff import Candidates

EXAMPLES = 3


@dataclass
class Item:
    """One row to send (or acknowledge): its record and the state to store once the target acknowledged it."""

    record: Record
    op: str
    row_hash: str
    pushed: dict[str, str | None]          # model column -> value the target holds afterwards (as text)
    before: dict[str, Any] | None = None   # target field -> value known before (None: unknown or new)
    rerouted: bool = False                 # already re-routed once after the target said "missing"
    retry: bool = False                    # rejected last time: sent in batches of its own
    full: dict[str, Any] = field(default_factory=dict)   # every mapped field, for when the record must be found anew
    seen: dict[str, str | None] | None = None   # target field -> value in the last trusted ingest (two-way syncs)


@dataclass
class Plan:
    """Everything one sync will do this run, decided before any call."""

    sync: SyncConfig
    items: list[Item] = field(default_factory=list)         # need a call
    in_sync: list[Item] = field(default_factory=list)       # target already holds the values: no call
    skipped: list[Item] = field(default_factory=list)       # mode update and no such record: nothing to do
    duplicates: list[tuple[Item, str]] = field(default_factory=list)  # same match value as another row
    removals: list[tuple[str, str | None]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    two_way: bool = False                                   # a peer sync pushes the same model the other way

    @property
    def candidates(self) -> int:
        return len(self.items) + len(self.in_sync) + len(self.skipped) + len(self.duplicates)


def build(cands: Candidates, sync: SyncConfig, by_key: str, resolutions: dict[tuple[str, str], Any]) -> Plan:
    """Decide the operation of every candidate row. ``by_key`` is how rows without a known record are sent
    (``upsert``, ``update_by_key``, ``create`` or ``lookup``); ``resolutions`` are conflicts an earlier push of a
    peer sync already decided for (key, column)."""
    plan = Plan(sync, removals=cands.removals, total=cands.total, two_way=bool(cands.peers))
    held = getattr(resolutions, "held", {})
    if sync.mode == "mirror" and cands.total == 0 and any(tid for _, tid in cands.removals):
        raise PushError(f"sync '{sync.name}': model {sync.model} is empty; refusing to remove all "
                        f"{len(cands.removals):,} records it pushed", hint="check that `hub build` succeeded")
    cols, fields = sync.columns, [f for _, f in sync.mapping]
    links = {column for column, _, _ in sync.links}
    two_way = bool(cands.peers or resolutions)
    for row in cands.rows:
        key = row["key"]
        eff = [row[f"v{i}"] for i in range(len(cols))]      # effective values: the model's, unless a conflict
        kept: list[int] = []                                  # held for review: the target keeps its value
        if two_way:
            for i, column in enumerate(cols):
                decided = resolutions.get((key, column))
                if decided is not None:
                    eff[i] = decided
                    continue
                conflict = _conflict(row, i, column, sync, cands, held.get((key, column)))
                if conflict:
                    plan.conflicts.append(conflict)
                    if conflict["status"] == "held":
                        eff[i] = row[f"t{i}"]
                        kept.append(i)
                    else:
                        eff[i] = conflict["value"]
        known = _known(row, cols, links)
        pushed = {c: text(v) for c, v in zip(cols, eff)}
        for i in kept:   # still what it was: the next run must see the target's value as an edit again
            pushed[cols[i]] = (row["pushed"] or {}).get(cols[i])
        tid = row["target_id"]
        changed = [i for i in range(len(cols)) if known is None or cols[i] not in known
                   or not _same(i, text(eff[i]), known[cols[i]])]
        before = {fields[i]: known.get(cols[i]) for i in changed} if known is not None else None
        full = {fields[i]: jsonable(eff[i]) for i in range(len(cols))}
        values = {fields[i]: full[fields[i]] for i in changed} if tid else dict(full)
        item = Item(Record(key, values, tid, jsonable(eff[0]), before), "", row["h"], pushed, before,
                    retry=row["retry"], full=full)
        if two_way and row["trusted"]:
            item.seen = {fields[i]: text(row[f"t{i}"]) for i in range(len(cols))}
        if sync.mode == "insert" and tid:
            item.op = "exists"                         # insert never updates: the record is there
            item.pushed = known if known is not None else None  # type: ignore[assignment]
            plan.in_sync.append(item)
        elif tid and not changed:
            item.op = "in_sync"
            plan.in_sync.append(item)
        elif tid:
            item.op = "update"
            plan.items.append(item)
        elif row.get("dup_of"):
            item.op = by_key
            plan.duplicates.append((item, row["dup_of"]))
        elif eff[0] is None or eff[0] == "":
            item.op = "skip" if sync.mode == "update" else "create"
            (plan.skipped if sync.mode == "update" else plan.items).append(item)
        else:
            item.op = by_key
            plan.items.append(item)
    return plan


def _known(row: dict[str, Any], cols: list[str],
           links: set[str] | frozenset[str] = frozenset()) -> dict[str, str | None] | None:
    """What the target holds for this row: its trusted ingested values, else what it last acknowledged. A link
    (``associations``) is no field an ingest reads back: what the hub last linked, always."""
    if row["trusted"]:
        pushed = (row["pushed"] or {}) if row["has_state"] else {}
        return {c: pushed.get(c) if c in links else text(row[f"t{i}"]) for i, c in enumerate(cols)}
    if row["has_state"] and row["pushed"] is not None:
        return row["pushed"]
    return None


def _conflict(row: dict[str, Any], i: int, column: str, sync: SyncConfig, cands: Candidates,
              held: frozenset[str | None] | None = None) -> dict[str, Any] | None:
    """A field changed in two systems since the hub last synced it, to different values: who wins (or, under
    ``hold``, that nobody does yet). ``held`` are the values of this field's conflict already held for review."""
    sides = [(sync.to, sync.connection_type, row["trusted"], row["has_state"], row["pushed"], row[f"t{i}"],
              row["t_updated"])]
    for p, peer in enumerate(cands.peers, start=1):
        if f"p{p}_t{i}" in row:
            sides.append((peer.sync.to, peer.sync.connection_type, row[f"p{p}_trusted"], row[f"p{p}_has_state"],
                          row[f"p{p}_pushed"], row[f"p{p}_t{i}"], row[f"p{p}_t_updated"]))
    edits = [(conn, kind, value, updated) for conn, kind, trusted, has_state, pushed, value, updated in sides
             if trusted and has_state and pushed is not None and column in pushed
             and not _same(i, text(value), pushed[column])]
    if len({_fold(i, text(e[2])) for e in edits}) < 2:
        return None
    order = sync.priority(column)
    status = "resolved"
    if sync.conflicts == HOLD:
        # an edit made after the conflict was held settles it; until then nobody wins
        newer = [e for e in edits if held is not None and _fold(i, text(e[2])) not in {_fold(i, v) for v in held}]
        winner = min(newer, key=lambda e: _rank((), e[0], e[1], e[3])) if newer else ("held", "", None, None)
        status = "resolved" if newer else "held"
    else:
        # latest: the model's survivorship compared each field's change times already; follow it when it took one
        # of the edits (record-level timestamps here cannot tell which field changed last)
        model = _fold(i, text(row[f"v{i}"]))
        agreed = [e for e in edits if _fold(i, text(e[2])) == model] if not order else []
        winner = agreed[0] if agreed else min(edits, key=lambda e: _rank(order, e[0], e[1], e[3]))
    candidates = sorted(({"connection": c, "value": text(v), "edited_at": u} for c, _, v, u in edits),
                        key=lambda e: e["connection"])
    fingerprint = "|".join([sync.model, row["key"], column, *(f"{e['connection']}={e['value']}" for e in candidates)])
    policy = HOLD if sync.conflicts == HOLD else ("priority:" + ",".join(order)) if order else LATEST
    return {"conflict_id": hashlib.md5(fingerprint.encode()).hexdigest(), "model": sync.model, "key": row["key"],
            "model_column": column, "policy": policy, "winner": winner[0], "value": winner[2],
            "resolved_value": text(winner[2]), "candidates": candidates, "status": status,
            "syncs": ",".join(sorted({sync.name, *(p.sync.name for p in cands.peers)})), "run_id": None}


def _rank(order: tuple[str, ...], connection: str, kind: str, updated: datetime | None) -> tuple[Any, ...]:
    """Sort key of an edit: its place in the priority list (by connection or connector type), then the latest."""
    place = next((n for n, name in enumerate(order) if name in (connection, kind)), len(order))
    return (place, -(updated.timestamp()) if updated else float("inf"), connection)


def _same(i: int, a: str | None, b: str | None) -> bool:
    return _fold(i, a) == _fold(i, b)


def _fold(i: int, value: str | None) -> str | None:
    # the match field (an email, usually) is compared the way the targets compare it: case-insensitively
    return value.strip().lower() if i == 0 and value is not None else value


def text(value: Any) -> str | None:
    """A value as comparable text: what both the model and each vendor's data reduce to."""
    if value is None or type(value) is str:
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return text(float(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    out = str(value)
    return out if out != "" else None


def jsonable(value: Any) -> Any:
    """A model value as the JSON a vendor API takes."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value
