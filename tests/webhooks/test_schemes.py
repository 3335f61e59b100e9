"""Every webhook scheme, found through the registry, against requests signed by the sender's own SDK where one signs.

Per scheme: a correctly signed request is accepted; a tampered body, a wrong secret and a stale timestamp are refused
with their reason codes. The signers are the vendors' libraries (stripe-python's ``generate_signature_header``,
hubspot-api-client's ``Signature.get_signature``, the Standard Webhooks reference library). No Python library from
Shopify signs webhooks, so its requests are signed as its own JS library computes them (``createSHA256HMAC``, base64
over the raw body); Shopify signs no timestamp, so a stale replay is caught by the inbox's de-duplication on
``X-Shopify-Webhook-Id`` instead, which is tested here through a real inbox file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import stripe
from hubspot.utils.signature import Signature
from standardwebhooks.webhooks import Webhook

from hub.errors import BadEventError, SignatureError, UnknownNameError
from hub.integrations import with_part
from hub.serve.inbox import Inbox, StoredEvent
from hub.serve.intake import Receiver
from hub.webhooks.scheme import Scheme
from hub.webhooks.verify import STANDARD, scheme_for, scheme_named, schemes

NOW = 1_750_000_000
URL = "https://hooks.example.com/webhooks/crm?portal=42"


@dataclass(frozen=True)
class Case:
    """How one sender signs: ``sign(body, secret, unix_time) -> headers``, its secrets, and whether it signs a time."""

    scheme: str
    secret: str
    other_secret: str
    sign: Callable[[bytes, str, int], dict[str, str]]
    body: bytes
    timed: bool = True


def _stripe(body: bytes, secret: str, at: int) -> dict[str, str]:
    return {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=at)}


def _hubspot(body: bytes, secret: str, at: int) -> dict[str, str]:
    stamp = str(at * 1000)
    signature = Signature.get_signature(secret, body.decode(), "v3", http_uri=URL, http_method="POST", timestamp=stamp)
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp}


def _shopify(body: bytes, secret: str, at: int) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"X-Shopify-Hmac-Sha256": digest, "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            "X-Shopify-Topic": "customers/update"}


def _standard(body: bytes, secret: str, at: int) -> dict[str, str]:
    signature = Webhook(secret).sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", datetime.fromtimestamp(at, UTC), body.decode())
    return {"webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "webhook-timestamp": str(at),
            "webhook-signature": signature}


def _zendesk(body: bytes, secret: str, at: int) -> dict[str, str]:
    # Zendesk ships no signing library: base64(HMAC-SHA256(secret, timestamp + body)), its verifying guide's formula
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()).decode()
    return {"X-Zendesk-Webhook-Signature": digest, "X-Zendesk-Webhook-Signature-Timestamp": stamp}


def _quickbooks(body: bytes, secret: str, at: int) -> dict[str, str]:
    # base64(HMAC-SHA256(verifier token, body)) in intuit-signature; Intuit signs no time
    return {"intuit-signature": base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()}


CASES = [
    Case("stripe", "whsec_test_a", "whsec_test_b", _stripe,
         orjson.dumps({"id": "evt_1", "object": "event", "type": "customer.updated", "created": NOW,
                       "data": {"object": {"id": "cus_1", "object": "customer"}}})),
    Case("hubspot", "hubspot-app-secret", "another-app-secret", _hubspot,
         orjson.dumps([{"eventId": 101, "subscriptionType": "contact.propertyChange", "objectId": 5,
                        "occurredAt": NOW * 1000}])),
    Case("shopify", "shpss_secret_1", "shpss_secret_2", _shopify, orjson.dumps({"id": 706405506930370084}),
         timed=False),
    Case(STANDARD, "whsec_" + base64.b64encode(b"standard-webhooks-key-32-bytes!!").decode(),
         "whsec_" + base64.b64encode(b"another-standard-webhooks-key!!!").decode(), _standard,
         orjson.dumps({"type": "user.updated", "timestamp": "2025-06-15T15:06:40Z", "data": {"id": 1}})),
    Case("zendesk", "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==", "YW5vdGhlcl9zZWNyZXQ=", _zendesk,
         orjson.dumps({"id": "2b24ef10-19d4-4740-93cf-8f98ec4776c0", "type": "zen:event-type:user.active_changed",
                       "subject": "zen:user:6596848315901", "time": "2025-06-15T15:06:40Z"})),
    Case("quickbooks", "verifier-token-1", "verifier-token-2", _quickbooks,
         orjson.dumps([{"specversion": "1.0", "id": "88cd52a2-4a6d-4ab3-a1d4-6e1e0d0b5f1e", "source": "intuit.dsn",
                        "type": "qbo.customer.updated.v1", "datacontenttype": "application/json",
                        "time": "2025-06-15T15:06:40Z", "intuitentityid": "1", "intuitaccountid": "310687"}]),
         timed=False),
]


def reason(call: Callable[[], None]) -> str:
    with pytest.raises(SignatureError) as caught:
        call()
    return caught.value.reason


def test_every_registered_scheme_is_covered_here():
    # a new integration with webhooks must bring its signer to this file
    assert sorted(schemes()) == sorted(c.scheme for c in CASES)
    assert set(with_part("webhooks")) == {c.scheme for c in CASES} - {STANDARD}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.scheme)
def test_a_request_signed_by_the_senders_sdk_is_accepted(case):
    scheme = scheme_named(case.scheme)
    headers = case.sign(case.body, case.secret, NOW)
    scheme.verify(case.body, headers, case.secret, method="POST", url=URL, now=NOW + 10)
    lowered = {k.lower(): v for k, v in headers.items()}
    assert scheme.verify(case.body, lowered, case.secret, method="POST", url=URL, now=NOW) is None  # any header case
    events = Receiver("conn", case.scheme, case.secret).handler.events("conn", case.body, lowered)
    assert events and all(e.connection == "conn" and e.event_id for e in events)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.scheme)
def test_tampered_body_wrong_secret_and_missing_signature_are_refused(case):
    scheme = scheme_named(case.scheme)
    headers = case.sign(case.body, case.secret, NOW)
    tampered = case.body[:-1] + b" " + case.body[-1:]   # one byte more: JSON-equal, not byte-equal
    assert tampered != case.body
    call = lambda body=case.body, secret=case.secret, hdrs=headers: scheme.verify(  # noqa: E731
        body, hdrs, secret, method="POST", url=URL, now=NOW)
    assert reason(lambda: call(body=tampered)) == "mismatch"
    assert reason(lambda: call(secret=case.other_secret)) == "mismatch"
    assert reason(lambda: call(hdrs={})) == "missing_header"
    # signed with another secret, checked with ours: the same refusal
    assert reason(lambda: call(hdrs=case.sign(case.body, case.other_secret, NOW))) == "mismatch"


@pytest.mark.parametrize("case", [c for c in CASES if c.timed], ids=lambda c: c.scheme)
def test_a_stale_timestamp_is_refused_even_with_a_valid_signature(case):
    scheme = scheme_named(case.scheme)
    headers = case.sign(case.body, case.secret, NOW)
    scheme.verify(case.body, headers, case.secret, method="POST", url=URL, now=NOW + 299)
    assert reason(lambda: scheme.verify(case.body, headers, case.secret, method="POST", url=URL,
                                        now=NOW + 301)) == "stale"


def test_the_sdks_agree_with_hub_on_what_is_authentic():
    # the other direction: a request hub accepts now, the vendor's own verifier accepts too
    stripe_case, hubspot_case, _, standard_case = CASES[:4]
    at = int(datetime.now(UTC).timestamp())
    header = _stripe(stripe_case.body, stripe_case.secret, at)
    scheme_named("stripe").verify(stripe_case.body, header, stripe_case.secret)
    assert stripe.WebhookSignature.verify_header(stripe_case.body, header["Stripe-Signature"], stripe_case.secret,
                                                 tolerance=300)
    headers = _hubspot(hubspot_case.body, hubspot_case.secret, at)
    scheme_named("hubspot").verify(hubspot_case.body, headers, hubspot_case.secret, method="POST", url=URL)
    assert Signature.is_valid(headers["X-HubSpot-Signature-v3"], hubspot_case.secret, hubspot_case.body.decode(),
                              URL, "POST", "v3", headers["X-HubSpot-Request-Timestamp"])
    signed = _standard(standard_case.body, standard_case.secret, at)
    scheme_named(STANDARD).verify(standard_case.body, signed, standard_case.secret)
    assert Webhook(standard_case.secret).verify(standard_case.body, signed) == orjson.loads(standard_case.body)


def test_shopify_replays_are_caught_by_the_inbox_not_a_timestamp(tmp_path: Path):
    case = next(c for c in CASES if c.scheme == "shopify")
    receiver = Receiver("shop", "shopify", case.secret)
    headers = {k.lower(): v for k, v in case.sign(case.body, case.secret, NOW).items()}
    events = receiver.accept(case.body, headers)
    assert [(e.event_id, e.type) for e in events] == [(headers["x-shopify-webhook-id"], "customers/update")]
    inbox = Inbox(tmp_path / "inbox.sqlite")
    try:
        assert inbox.put(events) == [True]
        assert inbox.put(receiver.accept(case.body, headers)) == [False]   # the same delivery, replayed later
    finally:
        inbox.close()
    with pytest.raises(BadEventError, match="X-Shopify-Webhook-Id"):
        receiver.accept(case.body, {k: v for k, v in headers.items() if k != "x-shopify-webhook-id"})


def test_each_senders_events_are_read_where_it_puts_them():
    hubspot = scheme_named("hubspot")
    batch = orjson.dumps([{"eventId": 1, "subscriptionType": "contact.creation", "objectId": 7},
                          {"eventId": 2, "subscriptionType": "company.creation", "objectId": 8}])
    events = hubspot.events("crm", batch, {})
    assert [(e.event_id, e.type) for e in events] == [("1", "contact.creation"), ("2", "company.creation")]
    assert hubspot.subject(orjson.loads(events[0].body)) == ("contacts", "7")
    assert hubspot.subject(orjson.loads(events[1].body)) is None
    with pytest.raises(BadEventError, match="array"):
        hubspot.events("crm", b'{"eventId": 1}', {})
    stripe_scheme = scheme_named("stripe")
    with pytest.raises(BadEventError, match="without an id"):
        stripe_scheme.events("billing", b'{"type": "invoice.paid"}', {})
    invoice = {"data": {"object": {"object": "invoice", "id": "in_1", "customer": {"id": "cus_9"}}}}
    assert stripe_scheme.subject(invoice) == ("customers", "cus_9")
    with pytest.raises(BadEventError, match="webhook-id"):
        scheme_named(STANDARD).events("other", b'{"type": "x"}', {})


def test_a_connection_without_a_scheme_of_its_own_gets_standard_webhooks():
    assert scheme_for("stripe") == "stripe" and scheme_for("hubspot") == "hubspot"
    assert scheme_for("salesforce") == STANDARD   # an integration without a webhooks part
    with pytest.raises(UnknownNameError, match="did you mean 'shopify'"):
        scheme_named("shopfy")


def test_the_stripe_event_row_is_one_definition_for_both_writers():
    from hub.integrations import connector_class
    from hub.integrations.stripe import events, source

    body = orjson.loads(CASES[0].body)
    stored = StoredEvent(1, "billing", "evt_1", "customer.updated", float(NOW), CASES[0].body)
    scheme = scheme_named("stripe")
    assert scheme.row(stored) == events.event_row(body)                   # the webhook path
    assert source.COLUMNS["events"][1] is events.EVENT_COLUMNS            # the connector's events stream
    assert source.schema_of("events") == scheme.row_schema() == events.SCHEMA
    assert set(events.STREAM_OF.values()) <= set(connector_class("stripe").streams)


def test_the_generic_row_and_when_an_event_happened():
    body = orjson.dumps({"type": "user.updated", "created": NOW - 5, "data": {"api_key": "sk_live_hidden"}})
    row = Scheme().row(StoredEvent(1, "other", "msg_1", "user.updated", float(NOW), body))
    assert row["id"] == "msg_1" and row["created"] == NOW - 5 and row["type"] == "user.updated"
    assert "sk_live_hidden" not in row["data"] and '"api_key":"***"' in row["data"]
    hubspot = scheme_named("hubspot")   # occurredAt, in milliseconds
    stored = StoredEvent(2, "crm", "1", "contact.creation", float(NOW), orjson.dumps({"occurredAt": NOW * 1000 - 1}))
    assert hubspot.row(stored)["created"] == NOW - 1
    assert Scheme().row(StoredEvent(3, "x", "m", None, float(NOW), b"not json"))["created"] == NOW
