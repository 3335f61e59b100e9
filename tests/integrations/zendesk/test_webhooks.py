"""Zendesk webhooks through `hub serve`'s intake (a real subprocess over loopback HTTP): signatures verified as
base64(HMAC-SHA256(secret, timestamp + body)), stale, tampered and unsigned requests refused, deletion events flag the
ticket's raw row, and the record an event is about is found from its ``subject``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from hub.errors import SignatureError
from hub.integrations.zendesk.webhooks import SCHEME
from hub.project import Project
from tests.serve.helpers import ServeProcess

SECRET = "dGhpcyBpcyBhIHplbmRlc2sgc2lnbmluZyBzZWNyZXQ="


def signed(body: bytes, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    stamp = datetime.fromtimestamp(time.time() if at is None else at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {"X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp, "Content-Type": "application/json"}


def event(event_id: str, kind: str, subject: str) -> bytes:
    return orjson.dumps({"account_id": 1, "id": event_id, "type": f"zen:event-type:{kind}", "subject": subject,
                         "time": "2025-06-01T12:00:00Z", "zendesk_event_version": "2022-11-06",
                         "detail": {"id": subject.rsplit(":", 1)[-1]}, "event": {}})


def test_the_scheme_verifies_and_names_the_subject() -> None:
    body = event("e1", "ticket.status_changed", "zen:ticket:42")
    headers = {k.lower(): v for k, v in signed(body).items()}
    SCHEME.verify(body, headers, SECRET)
    assert SCHEME.subject(orjson.loads(body)) == ("tickets", "42")
    with pytest.raises(SignatureError) as caught:
        SCHEME.verify(body + b" ", headers, SECRET)
    assert caught.value.reason == "mismatch"
    import pyarrow as pa

    rows = [("zen:event-type:user.active_changed", {"subject": "zen:user:7", "event": {"current": False}}),
            ("zen:event-type:user.active_changed", {"subject": "zen:user:8", "event": {"current": True}}),
            ("zen:event-type:organization.deleted", {"subject": "zen:organization:9"}),
            ("zen:event-type:ticket.status_changed", {"subject": "zen:ticket:1"})]
    table = pa.table({"type": [k for k, _ in rows], "data": [orjson.dumps(b).decode() for _, b in rows]})
    assert SCHEME.deleted(table) == {"users": ["7"], "organizations": ["9"]}


def test_serve_verifies_zendesk_webhooks_and_flags_deleted_tickets(make_project) -> None:
    root = make_project("""
        [connections.zendesk]
        type = "zendesk"
        subdomain = "acme"
        """, f'[connections.zendesk]\nwebhook_secret = "{SECRET}"\n')
    with Project(root).warehouse() as wh:   # tickets ingested before: the deletion event must flag one
        wh.execute("CREATE SCHEMA raw_zendesk")
        wh.execute("CREATE TABLE raw_zendesk.tickets (id BIGINT, subject VARCHAR, deleted BOOLEAN)")
        wh.execute("INSERT INTO raw_zendesk.tickets VALUES (41, 'a', false), (42, 'b', false)")
    server = ServeProcess(root)
    try:
        url = f"{server.url}/webhooks/zendesk"
        changed = event("e1", "ticket.status_changed", "zen:ticket:41")
        deleted = event("e2", "ticket.soft_deleted", "zen:ticket:42")
        for body in (changed, deleted):
            answer = httpx.post(url, content=body, headers=signed(body))
            assert answer.status_code == 200 and answer.json() == {"stored": 1, "duplicates": 0}
        again = httpx.post(url, content=deleted, headers=signed(deleted))
        assert again.json() == {"stored": 0, "duplicates": 1}
        refused = {
            "tampered": httpx.post(url, content=changed.replace(b"41", b"49"), headers=signed(changed)),
            "wrong secret": httpx.post(url, content=changed, headers=signed(changed, "other-secret")),
            "stale": httpx.post(url, content=changed, headers=signed(changed, at=time.time() - 400)),
            "unsigned": httpx.post(url, content=changed),
        }
        assert {k: (r.status_code, r.json()["reason"]) for k, r in refused.items()} == {
            "tampered": (401, "mismatch"), "wrong secret": (401, "mismatch"), "stale": (401, "stale"),
            "unsigned": (401, "missing_header")}
        server.wait_flushed(2)
        server.interrupt()
    finally:
        if server.proc.poll() is None:
            server.kill()
    project = Project(root)
    assert project.query("SELECT id, type FROM raw_zendesk.events ORDER BY id").rows == [
        ("e1", "zen:event-type:ticket.status_changed"), ("e2", "zen:event-type:ticket.soft_deleted")]
    assert project.query("SELECT id, deleted FROM raw_zendesk.tickets ORDER BY id").rows == [(41, False), (42, True)]
