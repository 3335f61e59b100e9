"""Webhook signature verification, per scheme (each in its integration folder): valid, tampered body, wrong secret,
stale timestamp; and the entry point that finds schemes through the registry."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
import stripe

from hub.errors import UnknownNameError
from hub.integrations.hubspot.webhooks import SCHEME as HUBSPOT
from hub.integrations.shopify.webhooks import SCHEME as SHOPIFY
from hub.integrations.stripe.webhooks import SCHEME as STRIPE
from hub.webhooks.standard import SCHEME as STANDARD
from hub.webhooks.verify import SignatureError, verify

verify_stripe, verify_hubspot = STRIPE.verify, HUBSPOT.verify
verify_shopify, verify_standard = SHOPIFY.verify, STANDARD.verify

NOW = 1_750_000_000
BODY = b'{"id":"evt_1","type":"customer.created"}'


def reason(call) -> str:
    with pytest.raises(SignatureError) as caught:
        call()
    return caught.value.reason


# --- Stripe --------------------------------------------------------------------------------------------


def stripe_header(body: bytes, secret: str, t: int = NOW) -> str:
    return stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=t)


def test_stripe_accepts_the_sdks_signature_and_any_v1():
    verify_stripe(BODY, {"Stripe-Signature": stripe_header(BODY, "whsec_a")}, "whsec_a", now=NOW + 10)
    rotated = f"t={NOW},v0=ignored,v1={'0' * 64},{stripe_header(BODY, 'whsec_a').split(',')[1]}"
    verify_stripe(BODY, {"stripe-signature": rotated}, "whsec_a", now=NOW)


def test_stripe_rejections():
    header = {"Stripe-Signature": stripe_header(BODY, "whsec_a")}
    assert reason(lambda: verify_stripe(BODY + b" ", header, "whsec_a", now=NOW)) == "mismatch"
    assert reason(lambda: verify_stripe(BODY, header, "whsec_b", now=NOW)) == "mismatch"
    assert reason(lambda: verify_stripe(BODY, header, "whsec_a", now=NOW + 301)) == "stale"
    assert reason(lambda: verify_stripe(BODY, {}, "whsec_a", now=NOW)) == "missing_header"
    only_v0 = {"Stripe-Signature": f"t={NOW},v0=abc"}
    assert reason(lambda: verify_stripe(BODY, only_v0, "whsec_a", now=NOW)) == "malformed_header"


# --- HubSpot v3 ----------------------------------------------------------------------------------------

URL = "https://hooks.example.com/hubspot?portal=42"


def hubspot_headers(body: bytes, secret: str, ms: int = NOW * 1000, url: str = URL) -> dict[str, str]:
    source = f"POST{url}".encode() + body + str(ms).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": str(ms)}


def test_hubspot_valid_including_an_escaped_uri():
    verify_hubspot(BODY, hubspot_headers(BODY, "s3cret"), "s3cret", method="POST", url=URL, now=NOW + 60)
    headers = hubspot_headers(BODY, "s3cret", url="https://hooks.example.com/h?next=a:b")
    verify_hubspot(BODY, headers, "s3cret", method="post", url="https://hooks.example.com/h?next=a%3Ab", now=NOW)


def test_hubspot_rejections():
    headers = hubspot_headers(BODY, "s3cret")
    call = lambda body=BODY, secret="s3cret", now=NOW, url=URL: verify_hubspot(  # noqa: E731
        body, headers, secret, method="POST", url=url, now=now)
    assert reason(lambda: call(body=BODY + b"x")) == "mismatch"
    assert reason(lambda: call(secret="other")) == "mismatch"
    assert reason(lambda: call(url=URL + "&x=1")) == "mismatch"
    assert reason(lambda: call(now=NOW + 301)) == "stale"


# --- Shopify -------------------------------------------------------------------------------------------


def shopify_headers(body: bytes, secret: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {"X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode()}


def test_shopify_valid_and_rejections():
    verify_shopify(BODY, shopify_headers(BODY, "shpss_1"), "shpss_1")
    assert reason(lambda: verify_shopify(BODY + b"x", shopify_headers(BODY, "shpss_1"), "shpss_1")) == "mismatch"
    assert reason(lambda: verify_shopify(BODY, shopify_headers(BODY, "shpss_1"), "shpss_2")) == "mismatch"
    assert reason(lambda: verify_shopify(BODY, {}, "shpss_1")) == "missing_header"
    # Shopify signs no timestamp: a stale replay is indistinguishable here (dedupe on X-Shopify-Webhook-Id instead)


# --- Standard Webhooks ---------------------------------------------------------------------------------

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def standard_headers(body: bytes, secret: str = SECRET, t: int = NOW, msg_id: str = "msg_1") -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    sig = base64.b64encode(hmac.new(key, f"{msg_id}.{t}.".encode() + body, hashlib.sha256).digest()).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": str(t), "webhook-signature": f"v1,{sig}"}


def test_standard_webhooks_spec_example():
    # the example from the Standard Webhooks specification
    headers = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
               "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
    verify_standard(b'{"test": 2432232314}', headers, SECRET, now=1614265330)


def test_standard_webhooks_valid_and_rejections():
    headers = standard_headers(BODY)
    verify_standard(BODY, headers, SECRET, now=NOW)
    verify_standard(BODY, headers, SECRET.removeprefix("whsec_"), now=NOW)  # the prefix is optional
    several = {**headers, "webhook-signature": "v2,xyz v1,AAAA " + headers["webhook-signature"]}
    verify_standard(BODY, several, SECRET, now=NOW)
    other = "whsec_" + base64.b64encode(b"another key of some length").decode()
    assert reason(lambda: verify_standard(BODY + b"x", headers, SECRET, now=NOW)) == "mismatch"
    assert reason(lambda: verify_standard(BODY, headers, other, now=NOW)) == "mismatch"
    assert reason(lambda: verify_standard(BODY, headers, SECRET, now=NOW + 301)) == "stale"
    assert reason(lambda: verify_standard(BODY, headers, SECRET, now=NOW - 301)) == "stale"  # from the future
    assert reason(lambda: verify_standard(BODY, headers, "whsec_not*base64", now=NOW)) == "bad_secret"


# --- dispatcher ----------------------------------------------------------------------------------------


def test_dispatcher_picks_the_scheme_by_connection_type():
    verify("stripe", BODY, {"Stripe-Signature": stripe_header(BODY, "whsec_a")}, "whsec_a", now=NOW)
    verify("hubspot", BODY, hubspot_headers(BODY, "s"), "s", method="POST", url=URL, now=NOW)
    verify("shopify", BODY, shopify_headers(BODY, "s"), "s")
    verify("standard_webhooks", BODY, standard_headers(BODY), SECRET, now=NOW)
    with pytest.raises(SignatureError) as caught:
        verify("stripe", BODY, {"Stripe-Signature": stripe_header(BODY, "whsec_a")}, "whsec_b", now=NOW)
    assert "Stripe webhook rejected" in str(caught.value) and "whsec_" in str(caught.value)
    with pytest.raises(UnknownNameError, match="did you mean 'stripe'"):
        verify("strpe", BODY, {}, "x")
