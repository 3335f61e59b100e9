"""The sandbox Zendesk's data: tickets, users, organizations, their custom fields, and background jobs.

Every change stamps the record with the clock's time (``updated_at``; tickets also ``generated_timestamp``) and a
sequence number, so the incremental exports can order records by (time, id) and an edit made while a client pages
moves the record behind the client's cursor, where the client meets it a second time (as Zendesk's exports do).

Bulk writes (``create_many``, ``update_many``, ``create_or_update_many``) do not write: they queue a job
(:class:`Job`) that applies when the clock reaches its ``ready_at`` and the server next runs :meth:`ZendeskStore.run_jobs`
(on every request). A client learns the outcome only by polling the job status.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hub.sandbox.clock import AnyClock

KINDS = ("ticket", "user", "organization")
TICKET_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("urgent", "high", "normal", "low")
USER_ROLES = ("end-user", "agent", "admin")


class ZendeskFailure(Exception):
    """A request Zendesk refuses: ``status`` with ``{"error": ..., "description": ...}``."""

    def __init__(self, status: int, error: str, description: str = "", details: Any = None) -> None:
        super().__init__(description or error)
        self.status, self.error, self.description, self.details = status, error, description, details

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error}
        if self.description:
            out["description"] = self.description
        if self.details is not None:
            out["details"] = self.details
        return out


class RecordInvalid(Exception):
    """One record a job or a single write refuses (``details`` as Zendesk words them)."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


@dataclass
class Job:
    """A queued bulk write: its items and, once run, one result per item."""

    id: str
    job_type: str
    kind: str
    action: str            # create, update, create_or_update
    items: list[dict[str, Any]]
    ready_at: float
    status: str = "queued"
    results: list[dict[str, Any]] = field(default_factory=list)

    def public(self, base_url: str) -> dict[str, Any]:
        done = self.status in ("completed", "failed")
        return {"id": self.id, "job_type": self.job_type, "url": f"{base_url}/api/v2/job_statuses/{self.id}.json",
                "total": len(self.items), "progress": len(self.items) if done else 0, "status": self.status,
                "message": "Completed at " + _iso(self.ready_at) if done else None,
                "results": self.results if done else None}


class ZendeskStore:
    """The records of one sandbox Zendesk account; guard with ``lock``."""

    def __init__(self, clock: AnyClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.records: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in KINDS}
        #: custom field keys per kind (``organization_fields``/``user_fields``) and ticket field ids
        self.custom_fields: dict[str, list[str]] = {"user": [], "organization": ["tier"], "ticket": []}
        self.jobs: dict[str, Job] = {}
        self.job_delay = 0.0
        self._next_id = {"ticket": 1, "user": 360_000_000_001, "organization": 360_100_000_001}
        self._seq = 0

    # --- time and ids -----------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.seconds()

    def _stamp(self, record: dict[str, Any], kind: str, at: float | None = None) -> None:
        at = self.now() if at is None else at
        self._seq += 1
        record["updated_at"] = _iso(at)
        record["_ts"], record["_seq"] = int(at), self._seq
        if kind == "ticket":
            record["generated_timestamp"] = int(at)

    def order_key(self, record: dict[str, Any]) -> tuple[int, int]:
        """Where a record sorts in an export: its change time, then its id."""
        return record["_ts"], record["id"]

    def _new_id(self, kind: str) -> int:
        value = self._next_id[kind]
        self._next_id[kind] += 1
        return value

    # --- lookups ----------------------------------------------------------------------------------

    def get(self, kind: str, record_id: int) -> dict[str, Any]:
        record = self.records[kind].get(record_id)
        if record is None or _gone(kind, record):
            raise ZendeskFailure(404, "RecordNotFound", "Not found")
        return record

    def by_external_id(self, kind: str, external_id: str) -> list[dict[str, Any]]:
        wanted = str(external_id).lower()
        return [r for r in self.records[kind].values()
                if r.get("external_id") is not None and str(r["external_id"]).lower() == wanted and not _gone(kind, r)]

    def by_email(self, email: str) -> dict[str, Any] | None:
        wanted = email.strip().lower()
        return next((r for r in self.records["user"].values()
                     if (r.get("email") or "").lower() == wanted and r.get("active", True)), None)

    def live(self, kind: str) -> list[dict[str, Any]]:
        return sorted((r for r in self.records[kind].values() if not _gone(kind, r)), key=lambda r: r["id"])

    # --- writes -----------------------------------------------------------------------------------

    def create(self, kind: str, values: dict[str, Any], at: float | None = None) -> dict[str, Any]:
        """A new record from API values; raises :class:`RecordInvalid` as Zendesk would refuse it."""
        values = dict(values)
        values.pop("id", None)
        if kind == "user":
            record = self._new_user(values)
        elif kind == "organization":
            record = self._new_organization(values)
        else:
            record = self._new_ticket(values)
        self._check_external_id(kind, record.get("external_id"), None)
        record["id"] = self._new_id(kind)
        at = self.now() if at is None else at
        record["created_at"] = _iso(at)
        self._stamp(record, kind, at)
        self.records[kind][record["id"]] = record
        return record

    def update(self, kind: str, record_id: int, values: dict[str, Any]) -> dict[str, Any]:
        record = self.records[kind].get(int(record_id))
        if record is None or _gone(kind, record):
            raise RecordInvalid("RecordNotFound")
        changes = {k: v for k, v in values.items() if k not in ("id", "created_at", "updated_at", "url")}
        if "external_id" in changes:
            self._check_external_id(kind, changes["external_id"], record["id"])
        custom = f"{kind}_fields"
        if kind in ("user", "organization") and isinstance(changes.get(custom), dict):
            merged = dict(record.get(custom) or {})
            merged.update({k: v for k, v in changes.pop(custom).items() if k in self.custom_fields[kind]})
            record[custom] = merged
        if kind == "ticket":
            requester = changes.pop("requester", None)
            if isinstance(requester, dict) and requester.get("email"):
                user = self.by_email(str(requester["email"])) or self.create(
                    "user", {"name": requester.get("name") or str(requester["email"]).split("@")[0],
                             "email": requester["email"]})
                changes["requester_id"] = user["id"]
            comment = changes.pop("comment", None)
            if isinstance(comment, dict) and comment.get("body"):
                record.setdefault("_comments", []).append(str(comment["body"]))
            status = changes.get("status")
            if status is not None and status not in TICKET_STATUSES:
                raise RecordInvalid(f"Status: {status} is not a valid status")
            if record.get("status") == "closed":
                raise RecordInvalid("Status: closed prevents ticket update")
        if kind == "organization" and "name" in changes:
            self._check_org_name(str(changes["name"]), record["id"])
        if kind == "user" and "email" in changes and changes["email"]:
            other = self.by_email(str(changes["email"]))
            if other is not None and other["id"] != record["id"]:
                raise RecordInvalid(f"Email: {changes['email']} is already being used by another user")
        record.update(changes)
        self._stamp(record, kind)
        return record

    def delete(self, kind: str, record_id: int) -> dict[str, Any]:
        """Soft delete, as Zendesk does: a ticket's status becomes ``deleted``, a user turns inactive, an
        organization gets ``deleted_at``; each shows in the incremental export once more, with that mark."""
        record = self.get(kind, int(record_id))
        if kind == "ticket":
            record["status"] = "deleted"
        elif kind == "user":
            record["active"] = False
        else:
            record["deleted_at"] = _iso(self.now())
        self._stamp(record, kind)
        return record

    def create_or_update(self, kind: str, values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Zendesk's upsert: users match by external_id, then email; organizations by id, then external_id."""
        found = None
        if values.get("id") is not None and kind == "organization":
            found = self.records[kind].get(int(values["id"]))
        if found is None and values.get("external_id") not in (None, ""):
            matches = self.by_external_id(kind, values["external_id"])
            found = matches[0] if matches else None
        if found is None and kind == "user" and values.get("email"):
            found = self.by_email(str(values["email"]))
        if found is not None:
            return self.update(kind, found["id"], values), False
        return self.create(kind, values), True

    def _new_user(self, values: dict[str, Any]) -> dict[str, Any]:
        name = str(values.get("name") or "").strip()
        if not name:
            raise RecordInvalid("Name: is too short (minimum is 1 character)")
        email = str(values["email"]).strip() or None if values.get("email") else None   # Zendesk trims addresses
        if email:
            if "@" not in str(email):
                raise RecordInvalid(f"Email: {email} is not properly formatted")
            if self.by_email(str(email)) is not None:
                raise RecordInvalid(f"Email: {email} is already being used by another user")
        role = values.get("role") or "end-user"
        if role not in USER_ROLES:
            raise RecordInvalid(f"Role: {role} is not valid")
        org = values.get("organization_id")
        if org is not None and (int(org) not in self.records["organization"]):
            raise RecordInvalid("Organization: is invalid")
        return {"name": name, "email": email, "phone": values.get("phone"), "role": role, "active": True,
                "external_id": _text(values.get("external_id")), "organization_id": org,
                "notes": values.get("notes"), "details": values.get("details"), "tags": list(values.get("tags") or []),
                "time_zone": values.get("time_zone") or "UTC", "locale": "en-US", "verified": False,
                "suspended": bool(values.get("suspended", False)),
                "user_fields": {k: (values.get("user_fields") or {}).get(k) for k in self.custom_fields["user"]}}

    def _new_organization(self, values: dict[str, Any]) -> dict[str, Any]:
        name = str(values.get("name") or "").strip()
        if not name:
            raise RecordInvalid("Name: cannot be blank")
        self._check_org_name(name, None)
        given = values.get("organization_fields") or {}
        return {"name": name, "external_id": _text(values.get("external_id")),
                "domain_names": list(values.get("domain_names") or []), "details": values.get("details"),
                "notes": values.get("notes"), "group_id": values.get("group_id"), "shared_tickets": False,
                "shared_comments": False, "tags": list(values.get("tags") or []), "deleted_at": None,
                "organization_fields": {k: given.get(k) for k in self.custom_fields["organization"]}}

    def _new_ticket(self, values: dict[str, Any]) -> dict[str, Any]:
        comment = values.get("comment") or {}
        body = comment.get("body") if isinstance(comment, dict) else None
        if not body and not values.get("description"):
            raise RecordInvalid("Description: cannot be blank")
        requester_id = values.get("requester_id")
        requester = values.get("requester")
        if requester_id is None and isinstance(requester, dict) and requester.get("email"):
            user = self.by_email(str(requester["email"])) or self.create(
                "user", {"name": requester.get("name") or str(requester["email"]).split("@")[0],
                         "email": requester["email"]})
            requester_id = user["id"]
        if requester_id is None:
            raise RecordInvalid("Requester: cannot be blank")
        user = self.records["user"].get(int(requester_id))
        if user is None:
            raise RecordInvalid("Requester: is invalid")
        status = values.get("status") or "new"
        if status not in TICKET_STATUSES:
            raise RecordInvalid(f"Status: {status} is not a valid status")
        priority = values.get("priority")
        if priority is not None and priority not in PRIORITIES:
            raise RecordInvalid(f"Priority: {priority} is not a valid priority")
        org = values.get("organization_id", user.get("organization_id"))
        return {"subject": values.get("subject"), "description": body or values.get("description"),
                "status": status, "priority": priority, "type": values.get("type"),
                "requester_id": int(requester_id), "submitter_id": int(requester_id),
                "assignee_id": values.get("assignee_id"), "organization_id": org,
                "external_id": _text(values.get("external_id")), "tags": list(values.get("tags") or []),
                "custom_fields": list(values.get("custom_fields") or []), "via": {"channel": "api"}}

    def _check_external_id(self, kind: str, external_id: Any, own: int | None) -> None:
        # tickets may share an external_id (Zendesk does not make it unique); users and organizations may not
        if kind == "ticket" or external_id in (None, ""):
            return
        if any(r["id"] != own for r in self.by_external_id(kind, external_id)):
            raise RecordInvalid(f"External: {external_id} has already been taken")

    def _check_org_name(self, name: str, own: int | None) -> None:
        lowered = name.lower()
        if any(r["name"].lower() == lowered and r["id"] != own for r in self.live("organization")):
            raise RecordInvalid("Name: has already been taken")

    # --- jobs -------------------------------------------------------------------------------------

    def queue(self, kind: str, action: str, items: list[dict[str, Any]]) -> Job:
        plural = {"ticket": "tickets", "user": "users", "organization": "organizations"}[kind]
        job_type = {"create": f"Bulk Create {plural.title()}", "update": f"Bulk Update {plural.title()}",
                    "create_or_update": f"Bulk Create Or Update {plural.title()}"}[action]
        job = Job(uuid.uuid4().hex, job_type.replace("Bulk ", ""), kind, action, items, self.now() + self.job_delay)
        self.jobs[job.id] = job
        return job

    def run_jobs(self) -> None:
        """Apply every queued job whose time has come (in the order they were queued)."""
        now = self.now()
        for job in list(self.jobs.values()):
            if job.status == "queued" and job.ready_at <= now:
                job.results = [self._run_item(job, index, item) for index, item in enumerate(job.items)]
                job.status = "completed"

    def _run_item(self, job: Job, index: int, item: dict[str, Any]) -> dict[str, Any]:
        try:
            if job.action == "create":
                record = self.create(job.kind, item)
                return {"index": index, "id": record["id"], "status": "Created", "success": True,
                        **({"external_id": record["external_id"]} if record.get("external_id") else {})}
            if job.action == "create_or_update":
                record, created = self.create_or_update(job.kind, item)
                return {"index": index, "id": record["id"], "status": "Created" if created else "Updated",
                        "success": True,
                        **({"external_id": record["external_id"]} if record.get("external_id") else {})}
            if item.get("id") is None:
                return {"index": index, "status": "Failed", "error": "IdMissing", "details": "id is required"}
            record = self.update(job.kind, int(item["id"]), item)
            return {"index": index, "id": record["id"], "action": "update", "status": "Updated", "success": True}
        except RecordInvalid as exc:
            error = "RecordNotFound" if exc.details == "RecordNotFound" else \
                f"{job.kind.title()}{'Create' if job.action != 'update' else 'Update'}Error"
            out = {"index": index, "status": "Failed", "error": error, "details": exc.details, "success": False}
            if item.get("id") is not None:
                out["id"] = item["id"]
            if item.get("external_id") is not None:
                out["external_id"] = item["external_id"]
            return out

    # --- state ------------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {"records": {k: list(v.values()) for k, v in self.records.items()}, "next_id": self._next_id,
                "seq": self._seq, "custom_fields": self.custom_fields}

    @classmethod
    def from_state(cls, clock: AnyClock, state: dict[str, Any]) -> ZendeskStore:
        store = cls(clock)
        store.records = {k: {r["id"]: r for r in state["records"].get(k, [])} for k in KINDS}
        store._next_id, store._seq = dict(state["next_id"]), state["seq"]
        store.custom_fields = state["custom_fields"]
        return store


def public(kind: str, record: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A record as the API shows it (internal keys dropped, ``url`` added)."""
    plural = {"ticket": "tickets", "user": "users", "organization": "organizations"}[kind]
    out = {k: v for k, v in record.items() if not k.startswith("_")}
    out["url"] = f"{base_url}/api/v2/{plural}/{record['id']}.json"
    return out


def _gone(kind: str, record: dict[str, Any]) -> bool:
    if kind == "ticket":
        return record.get("status") == "deleted"
    if kind == "user":
        return not record.get("active", True)
    return record.get("deleted_at") is not None


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
