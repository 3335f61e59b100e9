"""Zendesk Support writes: users, organizations and tickets through the bulk endpoints, which answer with a job.

``create_many`` (users, organizations, tickets), ``update_many`` (by id, with each record's own values) and, for
users, ``create_or_update_many`` (matched by ``external_id``, then ``email``) take at most 100 records and answer
``{"job_status": {"id", "status": "queued", ...}}``: nothing is written yet. The pusher polls
``GET /api/v2/job_statuses/{id}`` until the job is ``completed`` (or ``failed``) and reads one result per record,
matched by its ``index`` in the request (else by ``external_id`` or ``id``), never by position.

Unknown outcomes: a bulk request whose answer is lost may have queued its job; so may one whose job status cannot be
read to the end. Either raises :class:`~hub.errors.UnknownOutcomeError`, and the engine reconciles a create by looking
the records up by ``external_id`` (``show_many?external_ids=`` for users and organizations, the ticket list filtered
on ``external_id`` for tickets, which Zendesk does not keep unique: two tickets with one ``external_id`` reject the
row rather than guess). A job queued by the lost request may still be waiting: every lookup first waits until no job
of the account is ``queued`` or ``working`` (``GET /api/v2/job_statuses``), so a create that is merely late is found,
not sent twice. Updates and upserts are idempotent and simply sent again.

Custom fields are written as ``user_fields.<key>`` / ``organization_fields.<key>`` (nested into the record's
``user_fields``/``organization_fields`` object) and ``custom_fields.<id>`` for tickets. A ticket's ``description`` is
its first comment: on create it becomes ``comment.body``; on update a changed description is added as a private note.
``requester_email`` creates a ticket for the user with that e-mail (Zendesk creates the user when there is none).
"""

from __future__ import annotations

import time
from typing import Any

from hub.errors import SourceError, UnknownOutcomeError
from hub.reverse_etl.base import MISSING, OK, REJECTED, Call, Current, NoSuchObject, Outcome, Pusher, Record, TargetField

BATCH = 100                  # records per create_many / update_many / show_many
POLL_FIRST, POLL_MAX = 0.2, 2.0   # seconds between job status polls: doubling from the first to the most
POLL_BUDGET = 300.0          # seconds a job may stay queued before its outcome counts as unknown
KINDS = {"users": "user", "organizations": "organization", "tickets": "ticket"}
CUSTOM = {"users": "user_fields", "organizations": "organization_fields", "tickets": "custom_fields"}

#: the standard fields hub writes: name -> (createable, updateable, unique, filterable, required, kind)
STANDARD: dict[str, dict[str, tuple[bool, bool, bool, bool, bool, str]]] = {
    "users": {"name": (True, True, False, False, True, ""), "email": (True, True, True, False, False, "email"),
              "external_id": (True, True, True, True, False, ""), "phone": (True, True, False, False, False, ""),
              "organization_id": (True, True, False, False, False, "number"),
              "role": (True, True, False, False, False, ""), "notes": (True, True, False, False, False, ""),
              "details": (True, True, False, False, False, ""), "time_zone": (True, True, False, False, False, ""),
              "tags": (True, True, False, False, False, ""), "suspended": (True, True, False, False, False, "boolean")},
    "organizations": {"name": (True, True, True, False, True, ""),
                      "external_id": (True, True, True, True, False, ""),
                      "details": (True, True, False, False, False, ""), "notes": (True, True, False, False, False, ""),
                      "group_id": (True, True, False, False, False, "number"),
                      "domain_names": (True, True, False, False, False, ""),
                      "tags": (True, True, False, False, False, "")},
    "tickets": {"subject": (True, True, False, False, False, ""), "description": (True, True, False, False, True, ""),
                "status": (True, True, False, False, False, ""), "priority": (True, True, False, False, False, ""),
                "type": (True, True, False, False, False, ""),
                "requester_id": (True, True, False, False, False, "number"),
                "requester_email": (True, True, False, False, False, "email"),
                "organization_id": (True, True, False, False, False, "number"),
                "assignee_id": (True, True, False, False, False, "number"),
                "group_id": (True, True, False, False, False, "number"),
                "external_id": (True, True, False, True, False, ""), "tags": (True, True, False, False, False, "")},
}


class ZendeskPusher(Pusher):
    """Users, organizations and tickets through Zendesk's bulk jobs."""

    type = "zendesk"
    OPS = frozenset({"update", "create", "lookup", "upsert"})
    batch_size = BATCH
    lookup_needs_unique = False
    known_objects = tuple(KINDS)

    def __init__(self, client: Any, obj: str, match_field: str, options: dict[str, Any] | None = None) -> None:
        super().__init__(client, obj, match_field, options)
        # only users have a bulk upsert (create_or_update_many); organizations' create_or_update takes one record
        self.OPS = frozenset({"update", "create", "lookup", *(("upsert",) if obj == "users" else ())})
        self.poll_budget = POLL_BUDGET
        self.sleep = time.sleep

    # --- the target's fields ----------------------------------------------------------------------

    def fields(self) -> dict[str, TargetField]:
        if self.object not in KINDS:
            raise NoSuchObject(self.known_objects)
        out = {name: TargetField(name, *flags[:5], kind=flags[5]) for name, flags in STANDARD[self.object].items()}
        kind = KINDS[self.object]
        body = self.client.get(f"/api/v2/{kind}_fields.json")
        for field in (body or {}).get(f"{kind}_fields") or []:
            if field.get("active") is False:
                continue
            name = f"{CUSTOM[self.object]}.{field['id'] if self.object == 'tickets' else field['key']}"
            out[name] = TargetField(name, filterable=False,
                                    kind={"integer": "number", "decimal": "number", "checkbox": "boolean",
                                          "date": "date"}.get(str(field.get("type")), ""))
        return out

    def batch_limit(self, op: str) -> int:
        # tickets are found by external_id one at a time (the ticket list filters on one value)
        return 1 if op == "lookup" and self.object == "tickets" else BATCH

    # --- requests ---------------------------------------------------------------------------------

    def request(self, op: str, records: list[Record]) -> Call:
        plural = self.object
        if op == "lookup":
            self.settle()   # a create whose answer was lost may have queued a job that has not run yet
            values = [str(r.match) for r in records]
            if plural == "tickets":
                return Call("GET", "/api/v2/tickets.json", params={"external_id": values[0]})
            return Call("GET", f"/api/v2/{plural}/show_many.json", params={"external_ids": ",".join(values)})
        items = [self._item(op, r) for r in records]
        if op == "update":
            return Call("PUT", f"/api/v2/{plural}/update_many.json", {plural: items})
        if op == "upsert":
            return Call("POST", f"/api/v2/{plural}/create_or_update_many.json", {plural: items})
        return Call("POST", f"/api/v2/{plural}/create_many.json", {plural: items}, idempotent=False)

    def _item(self, op: str, record: Record) -> dict[str, Any]:
        creating = op in ("create", "upsert")
        item: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        for name, value in record.values.items():
            if value is None and creating:
                continue   # a new record has nothing to clear
            prefix, _, key = name.partition(".")
            if key and prefix == CUSTOM[self.object]:
                custom[key] = value
            elif self.object == "tickets" and name == "description":
                item["comment"] = {"body": value} if creating else {"body": value, "public": False}
            elif self.object == "tickets" and name == "requester_email":
                if value:
                    item["requester"] = {"email": value, "name": str(value).split("@")[0]}
            else:
                item[name] = value
        if custom:
            item[CUSTOM[self.object]] = [{"id": int(k), "value": v} for k, v in custom.items()] \
                if self.object == "tickets" else custom
        if op == "update":
            item["id"] = int(record.target_id) if str(record.target_id).isdigit() else record.target_id
        elif op == "upsert" and record.match not in (None, ""):
            item[self.match_field] = record.match
        return item

    # --- answers ----------------------------------------------------------------------------------

    def results(self, op: str, records: list[Record], status: int, body: Any) -> list[Outcome]:
        if op == "lookup":
            return self._found(records, body)
        job = (body or {}).get("job_status") if isinstance(body, dict) else None
        if not isinstance(job, dict) or not job.get("id"):
            raise UnknownOutcomeError(f"Zendesk answered {self.object} {op} without a job status; it may have "
                                      "applied", connection=self.client.connection, method=op, path=self.object,
                                      cause="no job_status in the answer")
        finished = self._wait(op, job)
        outcomes: list[Outcome | None] = [None] * len(records)
        by_external = {str(r.match).lower(): i for i, r in enumerate(records) if r.match not in (None, "")}
        by_id = {str(r.target_id): i for i, r in enumerate(records) if r.target_id}
        for result in finished.get("results") or []:
            if not isinstance(result, dict):
                continue
            index = result.get("index")
            if not (isinstance(index, int) and 0 <= index < len(records)):
                # real answers may carry the match value instead of an index (external_id, or a user's email)
                index = by_external.get(str(result.get(self.match_field) or result.get("external_id") or "").lower())
                if index is None:
                    index = by_id.get(str(result.get("id")))
            if index is None or outcomes[index] is not None:
                continue
            outcomes[index] = _outcome(op, result)
        return [o or Outcome(REJECTED, reason="Zendesk's job gave no result for this record", code="NO_RESULT")
                for o in outcomes]

    def _found(self, records: list[Record], body: Any) -> list[Outcome]:
        found: dict[str, list[str]] = {}
        for record in (body or {}).get(self.object) or []:
            key = str(record.get("external_id") or "").lower()
            if key:
                found.setdefault(key, []).append(str(record["id"]))
        out = []
        for record in records:
            ids = found.get(str(record.match).lower(), [])
            if len(ids) > 1:
                out.append(Outcome(REJECTED, reason=f"{len(ids)} {self.object} have external_id {record.match!r} "
                                                    f"({', '.join(ids)}): hub cannot tell which one is this row's",
                                   code="AMBIGUOUS_MATCH"))
            else:
                out.append(Outcome(OK, ids[0]) if ids else Outcome(MISSING))
        return out

    def _wait(self, op: str, job: dict[str, Any]) -> dict[str, Any]:
        """The job once it is ``completed``; an unreadable or failed job is an unknown outcome."""
        delay, waited = POLL_FIRST, 0.0
        while job.get("status") not in ("completed", "failed"):
            if waited >= self.poll_budget:
                raise self._unknown(op, job, f"its job {job['id']} was still {job.get('status')} after "
                                             f"{int(waited)} s")
            self.sleep(delay)
            waited += delay
            delay = min(POLL_MAX, delay * 2)
            try:
                job = (self.client.get(f"/api/v2/job_statuses/{job['id']}.json") or {}).get("job_status") or {}
            except UnknownOutcomeError:
                raise
            except SourceError as exc:
                raise self._unknown(op, job, f"its job status could not be read ({exc.message})") from None
        if job.get("status") == "failed":
            raise self._unknown(op, job, f"its job {job['id']} failed ({job.get('message') or 'no message'})")
        return job

    def _unknown(self, op: str, job: dict[str, Any], cause: str) -> UnknownOutcomeError:
        return UnknownOutcomeError(f"Zendesk may or may not have applied {self.object} {op}: {cause}",
                                   connection=self.client.connection, method=op, path=f"/api/v2/{self.object}",
                                   cause=cause, hint="hub reconciles it by looking the records up by external_id")

    def settle(self) -> None:
        """Wait until no job of the account is queued or working (bounded by the poll budget)."""
        delay, waited = POLL_FIRST, 0.0
        while True:
            jobs = (self.client.get("/api/v2/job_statuses.json") or {}).get("job_statuses") or []
            if not any(j.get("status") in ("queued", "working") for j in jobs if isinstance(j, dict)):
                return
            if waited >= self.poll_budget:
                raise SourceError(f"Zendesk still has queued jobs after {int(waited)} s; the records they write "
                                  "cannot be looked up yet", connection=self.client.connection, retriable=True,
                                  hint="run the sync again once the account's jobs have finished")
            self.sleep(delay)
            waited += delay
            delay = min(POLL_MAX, delay * 2)

    # --- two-way reads ----------------------------------------------------------------------------

    def read(self, ids: list[str], fields: list[str]) -> dict[str, Current]:
        body = self.client.get(f"/api/v2/{self.object}/show_many.json", params={"ids": ",".join(ids)})
        out = {}
        for record in (body or {}).get(self.object) or []:
            if _deleted(self.object, record):
                continue
            values = {}
            for name in fields:
                prefix, _, key = name.partition(".")
                if key and prefix == CUSTOM[self.object]:
                    nested = record.get(prefix)
                    values[name] = next((f.get("value") for f in nested if str(f.get("id")) == key), None) \
                        if isinstance(nested, list) else (nested or {}).get(key)
                else:
                    values[name] = record.get(name)
            out[str(record["id"])] = Current(values, record.get("updated_at"))
        return out


def _outcome(op: str, result: dict[str, Any]) -> Outcome:
    status = str(result.get("status") or "")
    if result.get("success") is not False and status in ("Created", "Updated", "Completed") or \
            (result.get("success") is True and result.get("id") is not None):
        return Outcome(OK, str(result.get("id")), created=status == "Created")
    error = str(result.get("error") or "Failed")
    details = str(result.get("details") or error)
    if error == "RecordNotFound" and op == "update":
        return Outcome(MISSING, reason=details, code=error)
    return Outcome(REJECTED, reason=f"{error}: {details}", code=error)


def _deleted(plural: str, record: dict[str, Any]) -> bool:
    return (plural == "tickets" and record.get("status") == "deleted") or \
        (plural == "users" and record.get("active") is False) or \
        (plural == "organizations" and record.get("deleted_at") is not None)
