"""Stripe's object shapes and request encoding: what a customer, invoice, charge, payment intent and event look like.

The builders return plain dicts in the shape the Stripe API sends (the fields most integrations read, with Stripe's
defaults), so the store can keep them as they are and the emulator can serialize them without a mapping layer.
"""

from __future__ import annotations

import random
import string
from typing import Any
from urllib.parse import parse_qsl

API_VERSION = "2024-06-20"
CURRENCY = "usd"
_ALPHABET = string.ascii_letters + string.digits


class StripeFailure(Exception):
    """A request Stripe would refuse, with the fields of its ``{error: {...}}`` body."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",  # noqa: A002 - Stripe's name
                 code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        """Stripe's error body; ``doc_url`` points at the code's page as Stripe's does."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(kind: str, oid: str, param: str = "id") -> StripeFailure:
    """Stripe's 404 for an unknown id."""
    return StripeFailure(404, f"No such {kind}: '{oid}'", code="resource_missing", param=param)


def deleted_stub(oid: str, kind: str) -> dict[str, Any]:
    """What Stripe answers for a deleted object (the DELETE itself, and retrieving a deleted customer)."""
    return {"id": oid, "object": kind, "deleted": True}


def new_id(rng: random.Random, prefix: str) -> str:
    """An id like Stripe's: a type prefix and 24 base62 characters."""
    return f"{prefix}_" + "".join(rng.choices(_ALPHABET, k=24))  # one call, not 24: seeding makes ~10^5 ids


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's bracketed form encoding to nested values: ``metadata[k]=v``, ``expand[]=x``, ``items[0][price]=p``.

    Dicts whose keys are all digits become lists, as Stripe's own decoder does.
    """
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = [key.split("[", 1)[0]] + [p.rstrip("]") for p in key.split("[")[1:]]
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # name[] appends
                if last:
                    node.setdefault("\0list", []).append(value)
                break
            if last:
                node[part] = value
            else:
                nxt = node.get(part)
                if not isinstance(nxt, dict):
                    nxt = node[part] = {}
                node = nxt
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if "\0list" in node:
        return list(node["\0list"])
    out = {k: _listify(v) for k, v in node.items()}
    if out and all(k.isdigit() for k in out):
        return [out[k] for k in sorted(out, key=int)]
    return out


def customer(cid: str, created: int, *, email: str | None, name: str | None, phone: str | None = None,
             description: str | None = None, address: dict[str, Any] | None = None,
             metadata: dict[str, str] | None = None, prefix: str = "") -> dict[str, Any]:
    """A customer object with Stripe's defaults."""
    return {"id": cid, "object": "customer", "address": address, "balance": 0, "created": created,
            "currency": None, "default_source": None, "delinquent": False, "description": description,
            "discount": None, "email": email, "invoice_prefix": prefix or cid[4:12].upper(),
            "invoice_settings": {"custom_fields": None, "default_payment_method": None, "footer": None,
                                 "rendering_options": None},
            "livemode": False, "metadata": metadata or {}, "name": name, "next_invoice_sequence": 1, "phone": phone,
            "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None}


def invoice(iid: str, created: int, cust: dict[str, Any], *, description: str | None = None,
            metadata: dict[str, str] | None = None, auto_advance: bool = False) -> dict[str, Any]:
    """A draft invoice for ``cust`` with no lines yet."""
    return {"id": iid, "object": "invoice", "account_country": "US", "account_name": "Hub Sandbox",
            "amount_due": 0, "amount_paid": 0, "amount_remaining": 0, "attempt_count": 0, "attempted": False,
            "auto_advance": auto_advance, "billing_reason": "manual", "charge": None,
            "collection_method": "charge_automatically", "created": created, "currency": CURRENCY,
            "customer": cust["id"], "customer_email": cust.get("email"), "customer_name": cust.get("name"),
            "description": description, "due_date": None, "hosted_invoice_url": None,
            "lines": {"object": "list", "data": [], "has_more": False, "total_count": 0,
                      "url": f"/v1/invoices/{iid}/lines"},
            "livemode": False, "metadata": metadata or {}, "number": None, "paid": False,
            "paid_out_of_band": False, "payment_intent": None, "period_end": created, "period_start": created,
            "status": "draft", "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None,
                                                      "paid_at": None, "voided_at": None},
            "subtotal": 0, "total": 0}


def line_item(lid: str, amount: int, description: str | None, start: int, end: int) -> dict[str, Any]:
    """One invoice line."""
    return {"id": lid, "object": "line_item", "amount": amount, "currency": CURRENCY, "description": description,
            "livemode": False, "metadata": {}, "period": {"end": end, "start": start}, "quantity": 1,
            "type": "invoiceitem"}


def set_lines(inv: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    """Replace an invoice's lines and recompute its totals."""
    total = sum(line["amount"] for line in lines)
    inv["lines"] = {**inv["lines"], "data": lines, "total_count": len(lines)}
    inv.update(subtotal=total, total=total, amount_due=total, amount_remaining=total - inv["amount_paid"])


#: Stripe embeds "the first handful" of an invoice's lines (ten) with ``has_more``; the rest come from ``lines.url``
EMBEDDED_LINES = 10


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as the API shows it: an invoice embeds its first lines only (the store keeps them all)."""
    lines = obj.get("lines") if obj.get("object") == "invoice" else None
    if not isinstance(lines, dict) or len(lines.get("data") or ()) <= EMBEDDED_LINES:
        return obj
    return {**obj, "lines": {**lines, "data": lines["data"][:EMBEDDED_LINES], "has_more": True}}


def payment_intent(pid: str, created: int, amount: int, *, customer_id: str | None, description: str | None,
                   invoice_id: str | None = None, metadata: dict[str, str] | None = None,
                   status: str = "succeeded", payment_method: str | None = None) -> dict[str, Any]:
    """A card payment intent."""
    succeeded = status == "succeeded"
    return {"id": pid, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
            "amount_received": amount if succeeded else 0, "canceled_at": None, "capture_method": "automatic",
            "client_secret": f"{pid}_secret_{pid[3:13]}", "confirmation_method": "automatic", "created": created,
            "currency": CURRENCY, "customer": customer_id, "description": description, "invoice": invoice_id,
            "last_payment_error": None, "latest_charge": None, "livemode": False, "metadata": metadata or {},
            "payment_method": payment_method, "payment_method_types": ["card"], "receipt_email": None,
            "status": status}


def charge(chid: str, created: int, pi: dict[str, Any], cust: dict[str, Any] | None, rng: random.Random,
           ) -> dict[str, Any]:
    """The succeeded card charge of a payment intent."""
    brand = rng.choice(["visa", "mastercard", "amex"])
    return {"id": chid, "object": "charge", "amount": pi["amount"], "amount_captured": pi["amount"],
            "amount_refunded": 0, "balance_transaction": "txn_" + chid[3:27],
            "billing_details": {"address": (cust or {}).get("address"), "email": (cust or {}).get("email"),
                                "name": (cust or {}).get("name"), "phone": (cust or {}).get("phone")},
            "calculated_statement_descriptor": "HUB SANDBOX", "captured": True, "created": created,
            "currency": pi["currency"], "customer": pi["customer"], "description": pi["description"],
            "disputed": False, "failure_code": None, "failure_message": None, "invoice": pi["invoice"],
            "livemode": False, "metadata": dict(pi["metadata"]),
            "outcome": {"network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                        "seller_message": "Payment complete.", "type": "authorized"},
            "paid": True, "payment_intent": pi["id"], "payment_method": pi["payment_method"],
            "payment_method_details": {"card": {"brand": brand, "exp_month": rng.randint(1, 12),
                                                "exp_year": 2030, "last4": f"{rng.randint(0, 9999):04d}",
                                                "funding": "credit"}, "type": "card"},
            "receipt_email": (cust or {}).get("email"), "refunded": False, "status": "succeeded"}


def event(eid: str, created: int, kind: str, obj: dict[str, Any], *, previous: dict[str, Any] | None,
          request_id: str | None, idempotency_key: str | None, pending_webhooks: int,
          api_version: str = API_VERSION) -> dict[str, Any]:
    """An event about ``obj`` (a snapshot: later changes to the object do not show in it), stamped with the account's
    API version of the moment (Stripe renders events in it, whatever version a later reader pins)."""
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {"id": eid, "object": "event", "api_version": api_version, "created": created, "data": data,
            "livemode": False, "pending_webhooks": pending_webhooks,
            "request": {"id": request_id, "idempotency_key": idempotency_key}, "type": kind}
