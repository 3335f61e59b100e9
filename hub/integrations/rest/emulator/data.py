"""The generic REST emulator's records: tickets with comments (to read) and contacts (to write).

Tickets are seeded from the sandbox's seed, numbered 1..N, their ``updated_at`` spread over the seconds before the
clock's start, so a fixed seed and start give the same pages every time. Lists are in id order; a list filtered by
``updated_since`` is computed once per (since, version) and reused by every page that follows, so paging 100,000
records costs a slice per page, not a scan. ``churn`` edits and deletes records between pages, as a busy account does
while a client reads it.

Contacts are the write side: ``email`` is required, must look like an address and is unique; ``external_id`` is
unique when set. :func:`problems` says what is wrong with one record, so the batch endpoint can refuse a whole batch
before writing any of it.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from hub.sandbox.clock import AnyClock, parse_iso

STATUSES = ("new", "open", "pending", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
UNIQUE = ("email", "external_id")
PLANS = ("free", "pro", "enterprise")
MAX_NAME = 255


def iso(seconds: float) -> str:
    """ISO-8601 UTC with a Z and whole seconds, the form the emulator writes and parses back."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(seconds)))


@dataclass
class Churn:
    """Edits and deletions applied after each list page served: ``edits`` records get a new ``updated_at`` (and
    subject), ``deletes`` records vanish. Seeded, so the same run meets the same churn."""

    edits: int = 1
    deletes: int = 1


class RestStore:
    """Tickets, comments and contacts of one emulated account, guarded by one lock."""

    def __init__(self, clock: AnyClock, seed: int = 7, *, tickets: int = 250, comments: int = 3,
                 contacts: int = 20) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.version = 0
        self._rng = random.Random(f"rest-churn-{seed}")
        rng = random.Random(f"rest-{seed}")
        start = clock.seconds()
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        comment_id = 0
        for i in range(1, tickets + 1):
            stamp = iso(start - (tickets - i) - 60)
            self.tickets[i] = {"id": i, "subject": f"Ticket {i}: {rng.choice(('login', 'billing', 'export'))} issue",
                               "status": rng.choice(STATUSES), "priority": rng.choice(PRIORITIES),
                               "requester": f"user{rng.randrange(10_000)}@example.com",
                               "created_at": stamp, "updated_at": stamp}
            # every ticket has at least one comment when comments > 0, so child streams always have rows
            rows = []
            for _ in range(rng.randint(1, comments) if comments else 0):
                comment_id += 1
                rows.append({"id": comment_id, "ticket_id": i, "body": f"comment {comment_id}",
                             "created_at": stamp})
            self.comments[i] = rows
        self._ids: list[int] = list(self.tickets)
        self._views: dict[str | None, tuple[int, list[int], list[dict[str, Any]]]] = {}
        self.deleted: dict[int, str] = {}
        self.contacts: dict[int, dict[str, Any]] = {}
        self._next_contact = 1
        for i in range(contacts):
            self.create_contact({"email": f"seed{i}@example.com", "name": f"Seed {i}", "plan": PLANS[i % 3]})

    def to_state(self) -> dict[str, Any]:
        """Tickets, comments, deletions and contacts as JSON-ready values."""
        with self.lock:
            return {"tickets": list(self.tickets.values()),
                    "comments": [c for i in self._ids for c in self.comments[i]],
                    "deleted": {str(k): v for k, v in self.deleted.items()},
                    "contacts": list(self.contacts.values())}

    def load(self, state: dict[str, Any]) -> None:
        """Replace the seeded records with saved ones (from :meth:`to_state`)."""
        with self.lock:
            self.tickets = {int(t["id"]): dict(t) for t in state.get("tickets", [])}
            self._ids = sorted(self.tickets)
            self.comments = {i: [] for i in self._ids}
            for comment in state.get("comments", []):
                self.comments.setdefault(int(comment["ticket_id"]), []).append(dict(comment))
            self.deleted = {int(k): v for k, v in state.get("deleted", {}).items()}
            self.contacts = {int(c["id"]): dict(c) for c in state.get("contacts", [])}
            self._next_contact = max(self.contacts, default=0) + 1
            self.version += 1

    # --- tickets -----------------------------------------------------------------------------------------------

    def view(self, since: str | None) -> tuple[list[int], list[dict[str, Any]]]:
        """Ticket ids and records in id order, only those updated at or after ``since`` (ISO-8601) when given."""
        with self.lock:
            cached = self._views.get(since)
            if cached is not None and cached[0] == self.version:
                return cached[1], cached[2]
            if since is None:
                ids = list(self._ids)
            else:
                floor = iso(parse_iso(since).timestamp())
                ids = [i for i in self._ids if self.tickets[i]["updated_at"] >= floor]
            records = [self.tickets[i] for i in ids]
            if len(self._views) > 32:
                self._views.clear()
            self._views[since] = (self.version, ids, records)
            return ids, records

    @staticmethod
    def after(ids: list[int], last: int) -> int:
        """Position of the first id greater than ``last`` (keyset paging)."""
        return bisect.bisect_right(ids, last)

    def edit_ticket(self, ticket_id: int, **changes: Any) -> dict[str, Any]:
        """Change a ticket now: its ``updated_at`` moves to the clock's now."""
        with self.lock:
            record = dict(self.tickets[ticket_id], **changes, updated_at=iso(self.clock.seconds()))
            self.tickets[ticket_id] = record
            self.version += 1
            return record

    def delete_ticket(self, ticket_id: int) -> None:
        """Remove a ticket and its comments (it is listed in ``deleted`` with the time)."""
        with self.lock:
            if self.tickets.pop(ticket_id, None) is None:
                return
            self.comments.pop(ticket_id, None)
            self._ids.remove(ticket_id)
            self.deleted[ticket_id] = iso(self.clock.seconds())
            self.version += 1

    def churn(self, churn: Churn) -> None:
        """Edit and delete a few tickets at random, as users of the account do while a client pages."""
        with self.lock:
            for _ in range(churn.edits):
                if self._ids:
                    ticket = self._rng.choice(self._ids)
                    self.edit_ticket(ticket, subject=f"{self.tickets[ticket]['subject']} (edited)")
            for _ in range(churn.deletes):
                if self._ids:
                    self.delete_ticket(self._rng.choice(self._ids))

    # --- contacts ----------------------------------------------------------------------------------------------

    def problems(self, record: Any, *, partial: bool = False) -> list[dict[str, str]]:
        """What makes ``record`` invalid (empty when it is valid); ``partial`` for an update (email may be absent)."""
        if not isinstance(record, dict):
            return [{"field": "", "code": "invalid", "message": "a record must be a JSON object"}]
        out = []
        email = record.get("email")
        if email is None and not partial:
            out.append({"field": "email", "code": "required", "message": "email is required"})
        elif email is not None and (not isinstance(email, str) or email.count("@") != 1 or " " in email
                                    or "." not in email.partition("@")[2]):
            out.append({"field": "email", "code": "invalid", "message": f"'{email}' is not an email address"})
        name = record.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
            out.append({"field": "name", "code": "too_long", "message": f"name is longer than {MAX_NAME}"})
        plan = record.get("plan")
        if plan is not None and plan not in PLANS:
            out.append({"field": "plan", "code": "invalid", "message": f"plan must be one of {', '.join(PLANS)}"})
        return out

    def find(self, field: str, value: Any) -> dict[str, Any] | None:
        """The contact whose ``field`` equals ``value`` (emails compare case-insensitively)."""
        wanted = _norm(field, value)
        with self.lock:
            for contact in self.contacts.values():
                if _norm(field, contact.get(field)) == wanted:
                    return contact
        return None

    def clash(self, record: dict[str, Any], own_id: int | None = None) -> dict[str, Any] | None:
        """Another contact that already holds one of ``record``'s unique values."""
        for field in UNIQUE:
            if record.get(field) not in (None, ""):
                found = self.find(field, record[field])
                if found is not None and found["id"] != own_id:
                    return found
        return None

    def create_contact(self, record: dict[str, Any]) -> dict[str, Any]:
        """Store a new contact (the caller checked :meth:`problems` and :meth:`clash`)."""
        with self.lock:
            now = iso(self.clock.seconds())
            contact = {"id": self._next_contact, "email": None, "name": None, "plan": None, "external_id": None,
                       **{k: v for k, v in record.items() if k != "id"}, "created_at": now, "updated_at": now}
            self.contacts[contact["id"]] = contact
            self._next_contact += 1
            return dict(contact)

    def update_contact(self, contact_id: int, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Apply ``changes`` to one contact; None when there is no such contact."""
        with self.lock:
            contact = self.contacts.get(contact_id)
            if contact is None:
                return None
            contact.update({k: v for k, v in changes.items() if k not in ("id", "created_at")},
                           updated_at=iso(self.clock.seconds()))
            return dict(contact)

    def delete_contact(self, contact_id: int) -> bool:
        """Remove one contact; False when there was none."""
        with self.lock:
            return self.contacts.pop(contact_id, None) is not None


def _norm(field: str, value: Any) -> Any:
    if value is None:
        return None
    return str(value).strip().lower() if field == "email" else str(value)
