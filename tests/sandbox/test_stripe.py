"""The Stripe emulator over real loopback HTTP, with the official ``stripe`` SDK as an independent client.

Webhook deliveries go to a real local receiver; the SDK's ``Webhook.construct_event`` must accept them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import stripe

from hub.sandbox import Sandbox
from hub.sandbox.clock import Clock
from tests.sandbox.conftest import NOW


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    with Sandbox(seed=7, people=400, now=NOW, hubspot_rate_limit=None, hubspot_search_rate_limit=None,
                 stripe_rate_limit=None) as sb:
        yield sb


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=3, people=120, now=NOW, stripe_rate_limit=None) as box:
        yield box


def use_sdk(monkeypatch: pytest.MonkeyPatch, sb: Sandbox) -> None:
    monkeypatch.setattr(stripe, "api_key", sb.stripe.token)
    monkeypatch.setattr(stripe, "api_base", sb.stripe.url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)


def api(sb: Sandbox, token: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=sb.stripe.url, headers={"Authorization": f"Bearer {token or sb.stripe.token}"})


class Receiver:
    """A local webhook endpoint: answers each POST with the next scripted status and queues what it got."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.received: queue.Queue[tuple[dict[str, str], bytes, int]] = queue.Queue()
        script = list(statuses or [])
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    status = script.pop(0) if script else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                outer.received.put(({k.lower(): v for k, v in self.headers.items()}, body, status))

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/stripe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def next(self) -> tuple[dict[str, str], bytes, int]:
        return self.received.get(timeout=30)


# --- lists and paging -------------------------------------------------------------------------------------


def test_sdk_lists_newest_first_and_auto_pages_everything(shared, monkeypatch):
    use_sdk(monkeypatch, shared)
    page = stripe.Customer.list(limit=5)
    assert page.object == "list" and page.url == "/v1/customers" and page.has_more and len(page.data) == 5
    created = [c.created for c in page.data]
    assert created == sorted(created, reverse=True)
    everyone = [c.id for c in stripe.Customer.list(limit=100).auto_paging_iter()]
    assert len(everyone) == len(set(everyone)) == shared.stripe.store.count("customer")
    invoices = list(stripe.Invoice.list(limit=37).auto_paging_iter())
    assert len(invoices) == shared.stripe.store.count("invoice")
    assert {i.status for i in invoices} >= {"paid", "open", "draft"}


def test_created_range_and_filters(shared):
    with api(shared) as client:
        charges = client.get("/v1/charges", params={"limit": 100}).json()["data"]
        middle = sorted(c["created"] for c in charges)[len(charges) // 2]
        newer = client.get("/v1/charges", params={"limit": 100, "created[gte]": middle}).json()["data"]
        assert newer and all(c["created"] >= middle for c in newer)
        older = client.get("/v1/charges", params={"limit": 100, "created[lt]": middle}).json()["data"]
        assert all(c["created"] < middle for c in older)
        customer = charges[0]["customer"]
        mine = client.get("/v1/invoices", params={"customer": customer, "limit": 100}).json()["data"]
        assert mine and {i["customer"] for i in mine} == {customer}
        paid = client.get("/v1/invoices", params={"status": "paid", "limit": 100}).json()["data"]
        assert {i["status"] for i in paid} == {"paid"}


def test_starting_after_and_ending_before_walk_the_same_order(shared):
    with api(shared) as client:
        first = client.get("/v1/customers", params={"limit": 10}).json()
        second = client.get("/v1/customers", params={"limit": 10, "starting_after": first["data"][-1]["id"]}).json()
        assert not {c["id"] for c in first["data"]} & {c["id"] for c in second["data"]}
        back = client.get("/v1/customers", params={"limit": 10, "ending_before": second["data"][0]["id"]}).json()
        assert [c["id"] for c in back["data"]] == [c["id"] for c in first["data"]]
        missing = client.get("/v1/customers", params={"starting_after": "cus_unknown"})
        assert missing.status_code == 404 and missing.json()["error"]["param"] == "starting_after"


def test_list_parameter_errors_use_stripes_shape(shared):
    with api(shared) as client:
        too_many = client.get("/v1/customers", params={"limit": 101}).json()["error"]
        assert too_many["type"] == "invalid_request_error" and too_many["param"] == "limit"
        unknown = client.get("/v1/customers", params={"colour": "red"}).json()["error"]
        assert unknown["code"] == "parameter_unknown" and unknown["param"] == "colour"
        gone = client.get("/v1/charges/ch_nope")
        assert gone.status_code == 404
        assert gone.json()["error"] == {"type": "invalid_request_error", "code": "resource_missing",
                                        "message": "No such charge: 'ch_nope'", "param": "id",
                                        "doc_url": "https://stripe.com/docs/error-codes/resource-missing"}
        assert gone.headers["request-id"].startswith("req_")


def test_bad_or_missing_key_is_401(shared, monkeypatch):
    with api(shared, token="sk_test_wrong") as client:
        response = client.get("/v1/customers")
    assert response.status_code == 401 and "Invalid API Key" in response.json()["error"]["message"]
    assert httpx.get(f"{shared.stripe.url}/v1/customers").status_code == 401
    use_sdk(monkeypatch, shared)
    with pytest.raises(stripe.AuthenticationError):
        stripe.Customer.list(api_key="sk_test_wrong")


# --- writes, events, idempotency -----------------------------------------------------------------------


def test_sdk_create_modify_and_the_events_they_leave(sb, monkeypatch):
    use_sdk(monkeypatch, sb)
    created = stripe.Customer.create(email="Ada@Example.com", name="Ada Lovelace", metadata={"plan": "team"},
                                     address={"city": "London", "country": "GB"})
    assert created.id.startswith("cus_") and created.address.city == "London"
    modified = stripe.Customer.modify(created.id, name="Ada King", metadata={"plan": "", "seats": "3"})
    assert modified.name == "Ada King" and modified.metadata.to_dict() == {"seats": "3"}
    assert stripe.Customer.retrieve(created.id).email == "Ada@Example.com"
    events = stripe.Event.list(type="customer.*", limit=2).data
    assert [e.type for e in events] == ["customer.updated", "customer.created"]
    assert events[0].data.object.id == created.id
    assert events[0].data.previous_attributes.name == "Ada Lovelace"
    assert events[1].data.object.name == "Ada Lovelace"  # a snapshot, not the live object
    assert events[0].request.id.startswith("req_")
    assert stripe.Customer.list(email="Ada@Example.com").data[0].id == created.id


def test_paying_an_invoice_creates_a_payment_intent_and_a_charge(sb, monkeypatch):
    use_sdk(monkeypatch, sb)
    customer = stripe.Customer.create(email="payer@example.com")
    invoice = stripe.Invoice.create(customer=customer.id, description="Team plan")
    stripe.InvoiceItem.create(customer=customer.id, invoice=invoice.id, amount=4900, currency="usd")
    paid = stripe.Invoice.pay(invoice.id)
    assert paid.status == "paid" and paid.amount_paid == 4900 and paid.number
    charge = stripe.Charge.retrieve(paid.charge)
    assert charge.status == "succeeded" and charge.amount == 4900 and charge.customer == customer.id
    intent = stripe.PaymentIntent.retrieve(paid.payment_intent)
    assert intent.status == "succeeded" and intent.latest_charge == charge.id
    kinds = [e.type for e in stripe.Event.list(limit=6).data]
    assert kinds[:2] == ["invoice.payment_succeeded", "invoice.paid"] and "charge.succeeded" in kinds
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Invoice.pay(invoice.id)
    direct = stripe.PaymentIntent.create(amount=700, currency="usd", customer=customer.id, confirm=True,
                                         payment_method="pm_card_visa")
    assert direct.status == "succeeded" and stripe.Charge.list(customer=customer.id).data[0].amount == 700


def test_idempotency_key_replays_and_refuses_other_parameters(sb):
    with api(sb) as client:
        headers = {"Idempotency-Key": "order-42"}
        first = client.post("/v1/customers", data={"email": "once@example.com"}, headers=headers)
        again = client.post("/v1/customers", data={"email": "once@example.com"}, headers=headers)
        assert first.json()["id"] == again.json()["id"] and again.headers["idempotent-replayed"] == "true"
        assert len(client.get("/v1/customers", params={"email": "once@example.com"}).json()["data"]) == 1
        other = client.post("/v1/customers", data={"email": "twice@example.com"}, headers=headers)
        assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"
        event = client.get("/v1/events", params={"type": "customer.created", "limit": 1}).json()["data"][0]
        assert event["request"]["idempotency_key"] == "order-42"


def test_sdk_raises_idempotency_error(sb, monkeypatch):
    use_sdk(monkeypatch, sb)
    stripe.Customer.create(email="a@example.com", idempotency_key="k-1")
    with pytest.raises(stripe.IdempotencyError):
        stripe.Customer.create(email="b@example.com", idempotency_key="k-1")


def test_rate_limit_answers_429_until_the_window_passes():
    clock = Clock(NOW, frozen=True)
    with Sandbox(seed=3, people=30, now=clock, stripe_rate_limit=(3, 1.0)) as sb, api(sb) as client:
        statuses = [client.get("/v1/customers").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert client.get("/v1/customers").json()["error"]["code"] == "rate_limit"
        clock.advance(1.5)
        assert client.get("/v1/customers").status_code == 200


def test_events_are_kept_30_days():
    clock = Clock(NOW, frozen=True)
    with Sandbox(seed=3, people=30, now=clock, stripe_rate_limit=None) as sb, api(sb) as client:
        event = sb.stripe.store.create_customer({"email": "old@example.com"})
        latest = client.get("/v1/events", params={"limit": 1}).json()["data"][0]
        assert latest["data"]["object"]["id"] == event["id"]
        clock.advance(timedelta(days=31).total_seconds())
        assert client.get(f"/v1/events/{latest['id']}").status_code == 404
        assert client.get("/v1/events", params={"limit": 100}).json()["data"] == []
        assert client.get(f"/v1/customers/{event['id']}").status_code == 200


# --- webhooks ------------------------------------------------------------------------------------------


def test_signed_delivery_is_accepted_by_construct_event_after_a_retry(sb, monkeypatch):
    with Receiver(statuses=[500]) as receiver:
        endpoint = sb.stripe.webhooks.add(receiver.url, "whsec_test_secret")
        customer = sb.stripe.store.create_customer({"email": "hook@example.com"})
        _, _, status = receiver.next()
        assert status == 500
        headers, body, status = receiver.next()
        assert status == 200
        event = stripe.Webhook.construct_event(body, headers["stripe-signature"], endpoint.secret)
        assert event.type == "customer.created" and event.data.object.id == customer["id"]
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body, headers["stripe-signature"], "whsec_other")
        assert sb.stripe.webhooks.wait_idle(30)
        [delivery] = sb.stripe.webhooks.deliveries
        assert delivery.ok and delivery.statuses == [500, 200]
        use_sdk(monkeypatch, sb)
        assert stripe.Event.retrieve(event.id).pending_webhooks == 0


def test_constructor_endpoints_get_every_event_of_a_payment(monkeypatch):
    with Receiver() as receiver, Sandbox(seed=3, people=30, now=NOW, stripe_rate_limit=None,
                                         stripe_webhooks=[(receiver.url, "whsec_abc")]) as sb:
        use_sdk(monkeypatch, sb)
        customer = stripe.Customer.create(email="p@example.com")
        invoice = stripe.Invoice.create(customer=customer.id)
        stripe.InvoiceItem.create(customer=customer.id, invoice=invoice.id, amount=100, currency="usd")
        stripe.Invoice.pay(invoice.id)
        assert sb.stripe.webhooks.wait_idle(30)
        kinds = []
        while not receiver.received.empty():
            headers, body, _ = receiver.received.get_nowait()
            kinds.append(stripe.Webhook.construct_event(body, headers["stripe-signature"], "whsec_abc").type)
        assert {"customer.created", "invoice.created", "invoice.paid", "charge.succeeded",
                "payment_intent.succeeded"} <= set(kinds)


# --- seed and persistence ------------------------------------------------------------------------------


def test_seeded_customers_share_emails_with_crm_people(shared):
    store = shared.stripe.store
    people_by_email: dict[str, set[int]] = {}
    for row in [*shared.data.contacts["marketing"], *shared.data.contacts["sales"]]:
        people_by_email.setdefault((row.email or "").strip().lower(), set()).add(row.person)
    people = {p for persons in people_by_email.values() for p in persons}
    customers = store.collections["customer"].items
    linked = {cid: customers[cid]["email"] for cid, person in store.truth.items() if person is not None}
    assert len(linked) > 0.2 * len(people)
    assert any(e != e.lower() for e in linked.values())  # some typed in another case at checkout
    assert all(store.truth[cid] in people_by_email.get(e.lower(), ()) for cid, e in linked.items())
    assert any(person is None for person in store.truth.values())


def test_stripe_data_survives_a_restart(tmp_path):
    state = tmp_path / "state.json"
    with Sandbox(seed=3, people=30, now=Clock(NOW, frozen=True), state_file=state) as sb, api(sb) as client:
        cid = client.post("/v1/customers", data={"email": "kept@example.com"}).json()["id"]
        count = sb.stripe.store.count("customer")
    with Sandbox(seed=3, people=30, now=Clock(NOW, frozen=True), state_file=state) as sb, api(sb) as client:
        assert client.get(f"/v1/customers/{cid}").json()["email"] == "kept@example.com"
        assert sb.stripe.store.count("customer") == count
        assert client.post("/v1/customers", data={"email": "new@example.com"}).json()["id"] != cid
