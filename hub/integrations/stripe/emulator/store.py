"""In-memory Stripe account: customers, invoices, invoice items, charges, payment intents and their events.

Every change goes through :meth:`StripeStore.emit`, which records an ``evt_...`` snapshot of the object and hands it to
the webhook sink, so API writes, test helpers and webhook deliveries all agree on what happened.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import orjson

from hub.integrations.stripe.emulator import objects as so
from hub.sandbox.clock import AnyClock
from hub.integrations.stripe.emulator.objects import StripeFailure, missing

EVENT_RETENTION_S = 30 * 86400
PREFIXES = {"customer": "cus", "invoice": "in", "invoiceitem": "ii", "charge": "ch", "payment_intent": "pi",
            "event": "evt"}
CUSTOMER_FIELDS = ("email", "name", "phone", "description", "address", "metadata")
Origin = tuple[str | None, str | None]  # (request id, idempotency key) of the API call behind an event


class WebhookSink(Protocol):
    """Where new events go: the webhook dispatcher (see stripe_webhooks)."""

    def subscribers(self, kind: str) -> int: ...

    def publish(self, event: dict[str, Any]) -> None: ...


class Collection:
    """All objects of one kind, kept in (created, insertion) order so lists can run newest first."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.order: list[tuple[int, int, str]] = []
        self.keys: dict[str, tuple[int, int, str]] = {}

    def add(self, obj: dict[str, Any], seq: int) -> None:
        key = (int(obj["created"]), seq, obj["id"])
        self.items[obj["id"]] = obj
        self.keys[obj["id"]] = key
        bisect.insort(self.order, key)


class StripeStore:
    """One Stripe test-mode account; every public method is thread-safe (one re-entrant lock).

    ``truth`` maps seeded customer ids to the seed's ground-truth person key (None for Stripe-only customers).
    """

    def __init__(self, clock: AnyClock, seed: int = 7) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.rng = random.Random(f"stripe-store-{seed}")
        self.collections = {kind: Collection() for kind in PREFIXES}
        self.truth: dict[str, int | None] = {}
        self.sink: WebhookSink | None = None
        self._seq = 0
        #: the account's default API version: new events are rendered in it (the dashboard's "upgrade" changes it)
        self.api_version = so.API_VERSION
        #: deleted customers: retrieving one still answers, with a ``deleted: true`` stub
        self.deleted_customers: set[str] = set()

    # --- reading ---------------------------------------------------------------------------------

    def now(self) -> int:
        """The emulated time in Unix seconds, Stripe's timestamp unit."""
        return int(self.clock.seconds())

    def get(self, kind: str, oid: str, param: str = "id") -> dict[str, Any]:
        """One object (events only within the 30 days Stripe keeps them); 404 resource_missing otherwise."""
        with self.lock:
            obj = self.collections[kind].items.get(oid)
            if obj is None or (kind == "event" and obj["created"] < self.now() - EVENT_RETENTION_S):
                raise missing(kind, oid, param)
            return obj

    def count(self, kind: str) -> int:
        """How many objects of a kind exist (events: all ever recorded)."""
        with self.lock:
            return len(self.collections[kind].items)

    def page(self, kind: str, *, limit: int, starting_after: str | None = None, ending_before: str | None = None,
             created: Mapping[str, int] | None = None,
             match: Callable[[dict[str, Any]], bool] | None = None) -> tuple[list[dict[str, Any]], bool]:
        """One list page, newest first, and whether more objects follow it (Stripe's ``has_more``)."""
        created = dict(created or {})
        if kind == "event":
            floor = self.now() - EVENT_RETENTION_S
            created["gte"] = max(created.get("gte", floor), floor)
        low = max(created.get("gte", -2**62), created.get("gt", -2**62 - 1) + 1)
        high = min(created.get("lte", 2**62), created.get("lt", 2**62 + 1) - 1)
        with self.lock:
            coll = self.collections[kind]
            order = coll.order
            if ending_before:
                # the page just newer than the cursor, walked oldest-first then flipped back
                anchor = self._anchor(coll, ending_before, "ending_before")
                i = bisect.bisect_right(order, anchor)
                picked = self._walk(coll, range(i, len(order)), low, high, match, limit, ascending=True)
                return list(reversed(picked[:limit])), len(picked) > limit
            start = len(order) - 1
            if starting_after:
                start = bisect.bisect_left(order, self._anchor(coll, starting_after, "starting_after")) - 1
            start = min(start, bisect.bisect_right(order, (high, 2**62, "")) - 1)
            picked = self._walk(coll, range(start, -1, -1), low, high, match, limit, ascending=False)
            return picked[:limit], len(picked) > limit

    @staticmethod
    def _anchor(coll: Collection, oid: str, param: str) -> tuple[int, int, str]:
        key = coll.keys.get(oid)
        if key is None:
            raise missing("object", oid, param)
        return key

    @staticmethod
    def _walk(coll: Collection, positions: range, low: int, high: int,
              match: Callable[[dict[str, Any]], bool] | None, limit: int, *, ascending: bool) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i in positions:
            created, _, oid = coll.order[i]
            if created < low:
                if ascending:
                    continue
                break
            if created > high:
                if ascending:
                    break
                continue
            obj = coll.items[oid]
            if match is None or match(obj):
                out.append(obj)
                if len(out) > limit:
                    break
        return out

    # --- bookkeeping shared by the API, the seed and tests ---------------------------------------

    def new_id(self, kind: str) -> str:
        """A fresh id with the kind's prefix."""
        with self.lock:
            return so.new_id(self.rng, PREFIXES[kind])

    def insert(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Add an object as is (no event); the seed and state loading use this."""
        with self.lock:
            self._seq += 1
            self.collections[kind].add(obj, self._seq)
            return obj

    def emit(self, kind: str, obj: dict[str, Any], *, previous: dict[str, Any] | None = None,
             origin: Origin = (None, None), at: int | None = None) -> dict[str, Any]:
        """Record an event about ``obj`` (a snapshot) and hand it to the webhook sink."""
        with self.lock:
            sink = self.sink
            pending = sink.subscribers(kind) if sink is not None else 0
            snapshot = orjson.loads(orjson.dumps(so.public(obj)))
            evt = so.event(self.new_id("event"), self.now() if at is None else at, kind, snapshot,
                           previous=previous, request_id=origin[0], idempotency_key=origin[1],
                           pending_webhooks=pending, api_version=self.api_version)
            self.insert("event", evt)
        if sink is not None and pending:
            sink.publish(evt)
        return evt

    def delivered(self, event_id: str) -> None:
        """One endpoint received an event: Stripe counts that down in ``pending_webhooks``."""
        with self.lock:
            evt = self.collections["event"].items.get(event_id)
            if evt is not None and evt["pending_webhooks"] > 0:
                evt["pending_webhooks"] -= 1

    # --- customers -------------------------------------------------------------------------------

    def create_customer(self, params: Mapping[str, Any], origin: Origin = (None, None)) -> dict[str, Any]:
        """POST /v1/customers."""
        _known(params, CUSTOMER_FIELDS)
        with self.lock:
            fields = {k: _blank_to_none(params.get(k)) for k in CUSTOMER_FIELDS if k != "metadata"}
            obj = so.customer(self.new_id("customer"), self.now(), email=fields["email"], name=fields["name"],
                              phone=fields["phone"], description=fields["description"], address=fields["address"],
                              metadata=_metadata({}, params.get("metadata")))
            self.insert("customer", obj)
            self.emit("customer.created", obj, origin=origin)
            return obj

    def delete_customer(self, cid: str, origin: Origin = (None, None)) -> dict[str, Any]:
        """DELETE /v1/customers/{id}: gone from lists and writes; ``customer.deleted`` carries the object as it was."""
        with self.lock:
            obj = self.get("customer", cid)
            coll = self.collections["customer"]
            coll.order.remove(coll.keys.pop(cid))
            del coll.items[cid]
            self.deleted_customers.add(cid)
            self.emit("customer.deleted", obj, origin=origin)
            return so.deleted_stub(cid, "customer")

    def update_customer(self, cid: str, params: Mapping[str, Any], origin: Origin = (None, None)) -> dict[str, Any]:
        """POST /v1/customers/{id}: only the given fields change; ``""`` unsets; metadata merges."""
        _known(params, CUSTOMER_FIELDS)
        with self.lock:
            obj = self.get("customer", cid)
            changes = {k: _blank_to_none(v) for k, v in params.items() if k != "metadata"}
            if "metadata" in params:
                changes["metadata"] = _metadata(obj["metadata"], params["metadata"])
            previous = {k: obj[k] for k, v in changes.items() if obj[k] != v}
            if previous:
                obj.update(changes)
                self.emit("customer.updated", obj, previous=previous, origin=origin)
            return obj

    # --- invoices and payments -------------------------------------------------------------------

    def create_invoice(self, params: Mapping[str, Any], origin: Origin = (None, None)) -> dict[str, Any]:
        """POST /v1/invoices: a draft; ``pending_invoice_items_behavior=include`` pulls in pending items."""
        _known(params, ("customer", "description", "metadata", "auto_advance", "pending_invoice_items_behavior",
                        "collection_method", "currency"))
        with self.lock:
            cust = self._customer_param(params)
            inv = so.invoice(self.new_id("invoice"), self.now(), cust, description=_blank_to_none(
                params.get("description")), metadata=_metadata({}, params.get("metadata")),
                auto_advance=_bool(params.get("auto_advance", "false")))
            self.insert("invoice", inv)
            if params.get("pending_invoice_items_behavior") == "include":
                for item in self.collections["invoiceitem"].items.values():
                    if item["customer"] == cust["id"] and item["invoice"] is None:
                        item["invoice"] = inv["id"]
                self._relines(inv)
            self.emit("invoice.created", inv, origin=origin)
            return inv

    def create_invoice_item(self, params: Mapping[str, Any], origin: Origin = (None, None)) -> dict[str, Any]:
        """POST /v1/invoiceitems: pending, or on a draft invoice when ``invoice`` is given."""
        _known(params, ("customer", "amount", "unit_amount", "quantity", "currency", "description", "invoice",
                        "metadata"))
        with self.lock:
            cust = self._customer_param(params)
            amount = _int(params.get("amount"), "amount") if "amount" in params else \
                _int(params.get("unit_amount"), "unit_amount") * _int(params.get("quantity", "1"), "quantity")
            inv = None
            if params.get("invoice"):
                inv = self.get("invoice", params["invoice"], "invoice")
                if inv["status"] != "draft":
                    raise StripeFailure(400, f"You can only add invoice items to draft invoices; {inv['id']} is "
                                             f"{inv['status']}.", code="invoice_not_editable", param="invoice")
            now = self.now()
            item = {"id": self.new_id("invoiceitem"), "object": "invoiceitem", "amount": amount, "currency":
                    so.CURRENCY, "customer": cust["id"], "date": now, "created": now,
                    "description": params.get("description"), "invoice": inv["id"] if inv else None,
                    "livemode": False, "metadata": _metadata({}, params.get("metadata")),
                    "period": {"start": now, "end": now}, "quantity": 1}
            self.insert("invoiceitem", item)
            self.emit("invoiceitem.created", item, origin=origin)
            if inv is not None:
                previous = {"amount_due": inv["amount_due"], "total": inv["total"]}
                self._relines(inv)
                self.emit("invoice.updated", inv, previous=previous, origin=origin)
            return item

    def finalize_invoice(self, iid: str, origin: Origin = (None, None)) -> dict[str, Any]:
        """POST /v1/invoices/{id}/finalize: draft -> open, with a number."""
        with self.lock:
            inv = self.get("invoice", iid)
            if inv["status"] != "draft":
                raise StripeFailure(400, "This invoice is already finalized, you can't re-finalize a non-draft "
                                         "invoice.", code="invoice_not_editable")
            cust = self.collections["customer"].items[inv["customer"]]
            inv["number"] = f"{cust['invoice_prefix']}-{cust['next_invoice_sequence']:04d}"
            cust["next_invoice_sequence"] += 1
            inv["status"] = "open"
            inv["status_transitions"]["finalized_at"] = self.now()
            inv["hosted_invoice_url"] = f"https://invoice.stripe.com/i/{inv['id']}"
            self.emit("invoice.finalized", inv, origin=origin)
            return inv

    def pay_invoice(self, iid: str, params: Mapping[str, Any] | None = None,
                    origin: Origin = (None, None)) -> dict[str, Any]:
        """POST /v1/invoices/{id}/pay: finalizes a draft, then charges the total (or records payment out of band)."""
        params = params or {}
        _known(params, ("paid_out_of_band", "payment_method", "source", "off_session"))
        with self.lock:
            inv = self.get("invoice", iid)
            if inv["status"] == "draft":
                self.finalize_invoice(iid, origin)
            if inv["status"] != "open":
                raise StripeFailure(400, f"Invoice is already {inv['status']}.", code="invoice_not_open")
            cust = self.collections["customer"].items[inv["customer"]]
            if inv["total"] > 0 and not _bool(params.get("paid_out_of_band", "false")):
                pi, ch = self._payment(inv["total"], cust, inv["description"], inv["id"], {}, origin)
                inv.update(charge=ch["id"], payment_intent=pi["id"], attempted=True, attempt_count=1)
            else:
                inv["paid_out_of_band"] = inv["total"] > 0
            inv.update(status="paid", paid=True, amount_paid=inv["total"], amount_remaining=0)
            inv["status_transitions"]["paid_at"] = self.now()
            self.emit("invoice.paid", inv, origin=origin)
            self.emit("invoice.payment_succeeded", inv, origin=origin)
            return inv

    def create_payment_intent(self, params: Mapping[str, Any], origin: Origin = (None, None)) -> dict[str, Any]:
        """POST /v1/payment_intents: with ``confirm=true`` and a payment method it succeeds at once, with a charge."""
        _known(params, ("amount", "currency", "customer", "description", "metadata", "confirm", "payment_method",
                        "payment_method_types", "receipt_email"))
        amount = _int(params.get("amount"), "amount")
        if not params.get("currency"):
            raise StripeFailure(400, "Missing required param: currency.", code="parameter_missing", param="currency")
        with self.lock:
            cust = self._customer_param(params) if params.get("customer") else None
            metadata = _metadata({}, params.get("metadata"))
            if _bool(params.get("confirm", "false")) and params.get("payment_method"):
                pi, _ = self._payment(amount, cust, params.get("description"), None, metadata, origin,
                                      params["payment_method"])
                return pi
            status = "requires_confirmation" if params.get("payment_method") else "requires_payment_method"
            pi = so.payment_intent(self.new_id("payment_intent"), self.now(), amount,
                                   customer_id=cust["id"] if cust else None, description=params.get("description"),
                                   metadata=metadata, status=status, payment_method=params.get("payment_method"))
            self.insert("payment_intent", pi)
            self.emit("payment_intent.created", pi, origin=origin)
            return pi

    def _payment(self, amount: int, cust: dict[str, Any] | None, description: str | None, invoice_id: str | None,
                 metadata: dict[str, str], origin: Origin,
                 payment_method: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        now = self.now()
        pi = so.payment_intent(self.new_id("payment_intent"), now, amount, customer_id=cust["id"] if cust else None,
                               description=description, invoice_id=invoice_id, metadata=metadata,
                               payment_method=payment_method or "pm_" + self.new_id("charge")[3:27])
        ch = so.charge(self.new_id("charge"), now, pi, cust, self.rng)
        pi["latest_charge"] = ch["id"]
        self.insert("payment_intent", pi)
        self.insert("charge", ch)
        self.emit("payment_intent.created", pi, origin=origin)
        self.emit("charge.succeeded", ch, origin=origin)
        self.emit("payment_intent.succeeded", pi, origin=origin)
        return pi, ch

    def _customer_param(self, params: Mapping[str, Any]) -> dict[str, Any]:
        cid = params.get("customer")
        if not cid:
            raise StripeFailure(400, "Missing required param: customer.", code="parameter_missing", param="customer")
        try:
            return self.get("customer", str(cid), "customer")
        except StripeFailure as exc:
            exc.status = 400  # a bad reference in a body is a 400, not a 404
            raise

    def _relines(self, inv: dict[str, Any]) -> None:
        items = [i for i in self.collections["invoiceitem"].items.values() if i["invoice"] == inv["id"]]
        so.set_lines(inv, [so.line_item("il_" + i["id"][3:], i["amount"], i["description"], i["period"]["start"],
                                        i["period"]["end"]) for i in items])

    # --- persistence -----------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Every object in insertion order, plus the seed's ground truth (JSON-ready)."""
        with self.lock:
            return {kind: [coll.items[k[2]] for k in sorted(coll.order, key=lambda key: key[1])]
                    for kind, coll in self.collections.items()} | {"truth": self.truth,
                                                                   "deleted_customers": sorted(self.deleted_customers)}

    @classmethod
    def from_state(cls, clock: AnyClock, state: dict[str, Any], seed: int = 7) -> StripeStore:
        """A store holding exactly what :meth:`to_state` saved."""
        store = cls(clock, seed)
        for kind in PREFIXES:
            for obj in state[kind]:
                store.insert(kind, obj)
        store.truth = dict(state.get("truth", {}))
        store.deleted_customers = set(state.get("deleted_customers", ()))
        # fresh ids must not repeat the saved ones: move the generator on past what the saved run drew
        store.rng.seed(f"stripe-store-{seed}-{sum(len(v) for k, v in state.items() if k in PREFIXES)}")
        return store


def _known(params: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for name in params:
        if name not in allowed and name != "expand":
            raise StripeFailure(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


def _bool(value: Any) -> bool:
    return str(value).lower() == "true"


def _int(value: Any, param: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise StripeFailure(400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param) from None


def _metadata(current: dict[str, str], given: Any) -> dict[str, str]:
    """Stripe's metadata update: keys merge, a key set to "" is removed, metadata="" clears everything."""
    if given is None:
        return dict(current)
    if given == "":
        return {}
    if not isinstance(given, dict):
        raise StripeFailure(400, "Invalid object", code="parameter_invalid_empty", param="metadata")
    out = dict(current)
    for key, value in given.items():
        if value == "":
            out.pop(key, None)
        else:
            out[key] = str(value)
    return out
