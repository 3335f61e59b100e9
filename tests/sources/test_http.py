"""The shared HTTP layer: retries, backoff, Retry-After, rate-limit pacing, error mapping (httpx.MockTransport)."""

from __future__ import annotations

import httpx
import pytest

from hub.errors import AuthError, BadResponseError, RateLimitError, SourceError, UnreachableError
from hub.secrets import Secret
from hub.sources.http import ApiClient, BearerAuth, RetryPolicy
from hub.integrations.hubspot.source import HubSpotVendor
from hub.sources.ratelimit import RateLimiter
from hub.integrations.salesforce.source import SalesforceVendor


class FakeClock:
    """Monotonic time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client(handler, *, vendor=None, attempts=4, clock=None) -> ApiClient:
    clock = clock or FakeClock()
    return ApiClient("crm", "https://api.example.com", auth=BearerAuth(Secret("tok-abcdef123456")),
                     http=httpx.Client(transport=httpx.MockTransport(handler)), vendor=vendor,
                     retry=RetryPolicy(max_attempts=attempts, base_delay=0.01),
                     limiter=RateLimiter(clock=clock, sleep=clock.sleep), sleep=clock.sleep)


def test_sends_bearer_token_and_parses_json():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"ok": True})

    assert client(handler).get("/x") == {"ok": True}
    assert seen == ["Bearer tok-abcdef123456"]


def test_retries_5xx_then_succeeds():
    statuses = iter([503, 502, 200])

    def handler(request):
        return httpx.Response(next(statuses), json={"n": 1})

    api = client(handler)
    assert api.get("/x") == {"n": 1}
    assert api.calls == 3


def test_gives_up_after_bounded_retries_with_clear_error():
    api = client(lambda r: httpx.Response(500, json={"message": "boom"}), attempts=3)
    with pytest.raises(SourceError) as info:
        api.get("/objects")
    err = info.value
    assert err.retriable and err.status == 500 and api.calls == 3
    assert "connection 'crm'" in str(err) and "/objects" in str(err) and "3 tries" in str(err)


def test_retry_after_pauses_the_connection():
    clock = FakeClock()
    statuses = iter([429, 200])

    def handler(request):
        status = next(statuses)
        return httpx.Response(status, headers={"Retry-After": "7"} if status == 429 else {}, json={})

    client(handler, clock=clock).get("/x")
    assert sum(clock.sleeps) == pytest.approx(7.0)


def test_persistent_429_is_a_rate_limit_error():
    api = client(lambda r: httpx.Response(429, json={"errorType": "RATE_LIMIT"}), attempts=2)
    with pytest.raises(RateLimitError, match="rate-limited"):
        api.get("/x")


def test_connection_errors_are_retried_then_reported_as_unreachable():
    calls = []

    def handler(request):
        calls.append(1)
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(UnreachableError) as info:
        client(handler, attempts=3).get("/x")
    assert len(calls) == 3 and "cannot reach" in str(info.value) and "https://api.example.com" in str(info.value)


def test_non_json_body_is_a_clear_error():
    html = "<html><body>Login</body></html>"
    api = client(lambda r: httpx.Response(200, text=html, headers={"content-type": "text/html"}))
    with pytest.raises(BadResponseError) as info:
        api.get("/crm/v3/objects/contacts")
    message = str(info.value)
    assert "text/html" in message and "not JSON" in message and "/crm/v3/objects/contacts" in message


def test_401_names_connection_and_never_the_token():
    body = {"status": "error", "message": "Authentication credentials not found. tok-abcdef123456",
            "category": "INVALID_AUTHENTICATION"}
    api = client(lambda r: httpx.Response(401, json=body), vendor=HubSpotVendor())
    with pytest.raises(AuthError) as info:
        api.get("/x")
    assert "connection 'crm'" in str(info.value) and "INVALID_AUTHENTICATION" in str(info.value)
    assert "tok-abcdef123456" not in str(info.value) and api.calls == 1


def test_salesforce_error_arrays_are_read():
    body = [{"message": "unexpected token: FORM", "errorCode": "MALFORMED_QUERY"}]
    api = client(lambda r: httpx.Response(400, json=body), vendor=SalesforceVendor())
    with pytest.raises(SourceError, match="MALFORMED_QUERY: unexpected token") as info:
        api.get("/query")
    assert not info.value.retriable and api.calls == 1


def test_hubspot_headers_teach_the_limiter():
    headers = {"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
    api = client(lambda r: httpx.Response(200, headers=headers, json={}), vendor=HubSpotVendor())
    api.get("/x")
    assert api.limiter.max_requests == 190 and api.limiter.interval == 10.0


def test_sliding_window_paces_requests():
    clock = FakeClock()
    limiter = RateLimiter(3, 10.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire()
    assert clock.now == 0.0
    limiter.acquire()          # the 4th must wait for the 1st to leave the window
    assert clock.now == pytest.approx(10.0)
    limiter.pause(2.5)
    limiter.acquire()
    assert clock.now == pytest.approx(12.5)
