"""The shared HTTP core: keep-alive, latency, the before_request hook, lifecycle, concurrency, the clock."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest

from hub.sandbox import Sandbox
from hub.sandbox.clock import Clock
from hub.sandbox.server import DropConnection, Response, json_response
from tests.sandbox.conftest import NOW, hubspot_client


def _read_response(stream) -> tuple[str, dict[str, str], bytes]:
    status = stream.readline().decode().strip()
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, stream.read(int(headers["content-length"]))


def test_many_requests_share_one_keep_alive_connection(shared):
    with socket.create_connection(("127.0.0.1", shared.hubspot.port)) as sock, sock.makefile("rb") as stream:
        for _ in range(3):
            sock.sendall(f"GET /crm/v3/objects/contacts?limit=2 HTTP/1.1\r\nHost: x\r\n"
                         f"Authorization: Bearer {shared.hubspot.token}\r\n\r\n".encode())
            status, headers, body = _read_response(stream)
            assert status == "HTTP/1.1 200 OK" and headers["content-length"] == str(len(body))
            assert "connection" not in headers
        sock.sendall(b"GET /crm/v3/objects/contacts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, _ = _read_response(stream)
        assert status.startswith("HTTP/1.1 401") and headers["connection"] == "close"
        assert stream.read() == b""  # the server closed the socket as asked


def test_keep_alive_round_trips_do_not_stall(hs):
    hs.get("/crm/v3/objects/contacts", params={"limit": 1})
    took = []
    for _ in range(25):
        started = time.perf_counter()
        hs.get("/crm/v3/objects/contacts", params={"limit": 1})
        took.append(time.perf_counter() - started)
    # a response sent in pieces without TCP_NODELAY waits ~40 ms for a delayed ACK; the median shrugs off load
    assert statistics.median(took) < 0.02


def test_chunked_request_bodies_are_read(shared):
    def chunks():
        yield b'{"filterGroups": [], '
        yield b'"limit": 3}'
    with hubspot_client(shared) as client:
        response = client.post("/crm/v3/objects/contacts/search", content=chunks())
    assert response.status_code == 200 and len(response.json()["results"]) == 3


def test_before_request_hook_can_answer_or_drop():
    with Sandbox(seed=1, people=20, now=NOW, hubspot_rate_limit=None) as sb, hubspot_client(sb) as hs:
        seen = []

        def hook(request):
            seen.append((request.method, request.template))
            if request.params.get("objectType") == "companies":
                return json_response(503, {"status": "error", "message": "injected"})
            if request.headers.get("x-drop"):
                raise DropConnection
            return None

        sb.hubspot.before_request = hook
        assert hs.get("/crm/v3/objects/companies").status_code == 503
        assert hs.get("/crm/v3/objects/contacts").status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            hs.get("/crm/v3/objects/contacts", headers={"x-drop": "1"})
        assert seen[0] == ("GET", "/crm/v3/objects/{objectType}") and len(seen) == 3
        assert sb.hubspot.requests.total == 3  # injected and dropped requests are still counted
        sb.hubspot.before_request = None
        assert hs.get("/crm/v3/objects/companies").status_code == 200


def test_stop_releases_ports_and_serve_forever_returns():
    sb = Sandbox(seed=1, people=10, now=NOW).start()  # bound before serve_forever, which then only waits
    runner = threading.Thread(target=sb.serve_forever)
    runner.start()
    url = sb.hubspot.url
    port = sb.hubspot.port
    assert httpx.get(f"{url}/crm/v3/objects/contacts").status_code == 401
    sb.stop()
    runner.join(timeout=5)
    assert not runner.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/crm/v3/objects/contacts")
    with pytest.raises(RuntimeError, match="not started"):
        _ = sb.salesforce.url


def test_concurrent_writers_stay_consistent(sb):
    before = sb.hubspot.store.count("contacts")
    with hubspot_client(sb) as client, ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda i: client.post("/crm/v3/objects/contacts", json={
            "properties": {"email": f"parallel{i % 25}@example.com"}}).status_code, range(100)))
    assert statuses.count(201) == 25 and statuses.count(409) == 75
    assert sb.hubspot.store.count("contacts") == before + 25


def test_clock_is_injectable():
    ticks = [datetime(2030, 1, 1, tzinfo=UTC)]
    with Sandbox(seed=1, people=10, now=lambda: ticks[0], hubspot_rate_limit=None) as sb, hubspot_client(sb) as hs:
        created = hs.post("/crm/v3/objects/contacts", json={"properties": {"email": "t@example.com"}}).json()
        assert created["createdAt"] == "2030-01-01T00:00:00.000Z"
        ticks[0] = datetime(2030, 1, 2, tzinfo=UTC)
        sb.hubspot.store.update("contacts", created["id"], {"firstname": "T"})
        assert sb.hubspot.store.get("contacts", created["id"])["updatedAt"] == "2030-01-02T00:00:00.000Z"
    clock = Clock(NOW, frozen=True)
    clock.advance(2.5)
    assert clock.now() == NOW.replace(second=2, microsecond=500000)


def test_response_helpers_always_carry_a_length(shared):
    empty = Response(204)
    assert empty.body == b"" and json_response(200, {"a": 1}).body == b'{"a":1}'
    with hubspot_client(shared) as client:
        response = client.delete("/crm/v3/objects/contacts/123456789")
    assert response.status_code == 204 and response.headers["content-length"] == "0"
