"""Stripe's retry advice: ``Stripe-Should-Retry`` decides, and a 409 (lock conflict) is retried, exactly as the
official client stripe-python does; both clients run against one scripted loopback server and make the same calls."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import orjson
import pytest
import stripe

from hub.config import ConnectionConfig
from hub.errors import SourceError
from hub.secrets import Secret
from hub.sources.http import RetryPolicy
from hub.integrations.stripe.source import Stripe

LOCK = (409, {"Stripe-Should-Retry": "true"},
        {"error": {"type": "invalid_request_error", "code": "lock_timeout",
                   "message": "This object cannot be accessed right now because another API request or Stripe "
                              "process is currently accessing it."}})
CONFLICT = (409, {}, {"error": {"type": "invalid_request_error", "code": "lock_timeout", "message": "Conflict"}})
NO_RETRY = (500, {"Stripe-Should-Retry": "false"}, {"error": {"type": "api_error", "message": "Already handled"}})
RETRY_429 = (429, {"Stripe-Should-Retry": "true"}, {"error": {"type": "invalid_request_error", "code": "rate_limit",
                                                               "message": "Too many requests"}})
OK = (200, {}, {"object": "list", "url": "/v1/customers", "has_more": False,
                "data": [{"id": "cus_1", "object": "customer", "created": 1_700_000_000, "email": "a@example.com"}]})


class Scripted:
    """Answers GET /v1/customers with the next scripted response (the last one repeats); counts the calls."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, str], dict[str, object]]] = []
        self.calls = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                status, headers, body = outer.script[min(outer.calls, len(outer.script) - 1)]
                outer.calls += 1
                data = orjson.dumps(body)
                self.send_response(status)
                for name, value in {**headers, "Content-Type": "application/json",
                                    "Content-Length": str(len(data)), "Request-Id": f"req_{outer.calls}"}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def run(self, script: list[tuple[int, dict[str, str], dict[str, object]]]) -> None:
        self.script, self.calls = script, 0


@pytest.fixture(scope="module")
def scripted() -> Iterator[Scripted]:
    server = Scripted()
    yield server
    server.server.shutdown()
    server.server.server_close()


def hub_list(server: Scripted) -> list[str]:
    config = ConnectionConfig(name="billing", type="stripe", base_url=server.url, secrets={"token": Secret("sk_x")})
    connector = Stripe.connect(config, retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02))
    try:
        return [c["id"] for c in connector._page("/v1/customers", {"limit": 100})["data"]]
    finally:
        connector.client.close()


def official_list(server: Scripted) -> list[str]:
    client = stripe.StripeClient("sk_x", base_addresses={"api": server.url}, max_network_retries=3)
    return [c.id for c in client.customers.list({"limit": 100}).data]


@pytest.mark.parametrize(("script", "calls"), [
    ([LOCK, OK], 2),            # Stripe asks for a retry of a lock timeout
    ([CONFLICT, CONFLICT, OK], 3),   # a 409 is retried even without the header
    ([RETRY_429, OK], 2),
])
def test_retried_when_stripe_says_so_or_on_a_conflict(scripted, script, calls):
    scripted.run(script)
    assert hub_list(scripted) == ["cus_1"] and scripted.calls == calls
    scripted.run(script)
    assert official_list(scripted) == ["cus_1"] and scripted.calls == calls


def test_not_retried_when_stripe_says_no(scripted):
    scripted.run([NO_RETRY, OK])
    with pytest.raises(SourceError) as info:
        hub_list(scripted)
    assert scripted.calls == 1 and "Already handled" in str(info.value)
    scripted.run([NO_RETRY, OK])
    with pytest.raises(stripe.APIError):
        official_list(scripted)
    assert scripted.calls == 1
