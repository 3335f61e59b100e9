"""`hub serve` serves an integration it has never heard of: a toy integration's webhook scheme, registered at test time
through the ``hub.integrations`` entry point group, end to end over real HTTP.

The toy ("echo") signs its own way (``X-Echo-Signature: sha256=<hex HMAC of "<timestamp>.<body>">``), batches events
as ``{"events": [...]}``, has an events table of its own shape and one deletion event type. `hub serve` runs as a
subprocess with the toy on its path: it verifies, dedupes, lands the events in ``raw_echo.events`` with the toy's
columns, flags the deleted record in ``raw_echo.people`` and fires a trigger. Nothing in hub names the toy, so this
passes only if serve really loops over the registry.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from hub.project import Project
from tests.serve.helpers import ServeProcess
from tests.serve.test_triggers import Receiver

SECRET = "echo-signing-secret"

PACKAGE = {
    "hub_echo/__init__.py": """
        from hub.integrations.spec import Integration

        integration = Integration(name="echo", title="Echo", package=__name__, connector="source:Echo",
                                  webhooks="webhooks:SCHEME", summary="a toy sender of signed webhooks")
        """,
    "hub_echo/source.py": """
        from hub.sources.base import Connector, Stream


        class Echo(Connector):
            type = "echo"
            default_base_url = "http://127.0.0.1:9"
            streams = Connector.declare(Stream("people", "people", cursor_field="at"))
            default_streams = ("people",)

            def read(self, stream, since, state):
                return iter(())
        """,
    "hub_echo/webhooks.py": """
        import orjson
        import pyarrow as pa

        from hub.errors import BadEventError, SignatureError
        from hub.serve.inbox import InboxEvent
        from hub.webhooks import signing
        from hub.webhooks.scheme import Scheme, parse_json

        SCHEMA = pa.schema([pa.field("id", pa.string(), nullable=False), ("kind", pa.string()),
                            ("person", pa.string()), ("sent_at", pa.int64())])


        class EchoWebhooks(Scheme):
            title = "Echo"

            def verify(self, body, headers, secret, *, method="POST", url="", now=None):
                stamp = signing.integer(signing.header(headers, "x-echo-timestamp", self.title), self.title, "ts")
                given = signing.header(headers, "x-echo-signature", self.title).removeprefix("sha256=")
                if not signing.any_matches(signing.hmac_hex(secret, f"{stamp}.".encode() + body), [given]):
                    raise SignatureError(self.title, "mismatch", "X-Echo-Signature does not match")
                signing.check_age(self.title, stamp, now, 60)

            def events(self, connection, body, headers):
                data = parse_json(body)
                if not isinstance(data, dict) or not isinstance(data.get("events"), list):
                    raise BadEventError("Echo sends {events: [...]}")
                return [InboxEvent(connection, e["uid"], e["kind"], orjson.dumps(e)) for e in data["events"]]

            def subject(self, event):
                return ("people", event["person"]) if event.get("person") else None

            def row_schema(self):
                return SCHEMA

            def row(self, event):
                body = orjson.loads(event.body)
                return {"id": event.event_id, "kind": body["kind"], "person": body.get("person"), "sent_at": body["at"]}

            def deleted(self, rows):
                gone = [p for k, p in zip(rows.column("kind").to_pylist(), rows.column("person").to_pylist())
                        if k == "person.removed" and p]
                return {"people": gone} if gone else {}


        SCHEME = EchoWebhooks()
        """,
    "hub_echo-1.0.dist-info/METADATA": """
        Metadata-Version: 2.1
        Name: hub-echo
        Version: 1.0
        """,
    "hub_echo-1.0.dist-info/entry_points.txt": """
        [hub.integrations]
        echo = hub_echo:integration
        """,
}


@pytest.fixture
def echo_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The toy integration in a folder of its own, declared by its entry point, on this process's path too (the test
    reads the project's warehouse); yields the env that puts it on the server's path."""
    from hub.integrations import all_integrations

    site = tmp_path / "site"
    for name, text in PACKAGE.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(textwrap.dedent(text).lstrip())
    monkeypatch.syspath_prepend(str(site))
    all_integrations.cache_clear()
    try:
        yield {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    finally:
        all_integrations.cache_clear()   # the next test's registry is hub's own again
        for module in [m for m in sys.modules if m == "hub_echo" or m.startswith("hub_echo.")]:
            del sys.modules[module]


def signed(body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Echo-Timestamp": str(stamp), "X-Echo-Signature": f"sha256={digest}"}


def test_serve_verifies_lands_and_triggers_a_toy_integrations_webhooks(make_project, echo_on_path):
    receiver = Receiver()
    root = make_project(f"""
        [connections.echo]
        type = "echo"

        [triggers.removed]
        on = "echo:person.removed"
        do = ["notify:{receiver.url}"]
        retries = 0
        """, f'[connections.echo]\nwebhook_secret = "{SECRET}"\n')
    with Project(root).warehouse() as wh:   # a record ingested before: the deletion event must flag it
        wh.execute("CREATE SCHEMA raw_echo")
        wh.execute("CREATE TABLE raw_echo.people (id VARCHAR, name VARCHAR, deleted BOOLEAN)")
        wh.execute("INSERT INTO raw_echo.people VALUES ('p1', 'Ada', false), ('p2', 'Grace', false)")
    server = ServeProcess(root, env=echo_on_path)
    try:
        url = f"{server.url}/webhooks/echo"
        body = orjson.dumps({"events": [{"uid": "e1", "kind": "person.updated", "person": "p1", "at": 1_700_000_000},
                                        {"uid": "e2", "kind": "person.removed", "person": "p2", "at": 1_700_000_001}]})
        first = httpx.post(url, content=body, headers=signed(body))
        assert first.status_code == 200 and first.json() == {"stored": 2, "duplicates": 0}
        again = httpx.post(url, content=body, headers=signed(body))
        assert again.status_code == 200 and again.json() == {"stored": 0, "duplicates": 2}
        refused = {
            "tampered": httpx.post(url, content=body.replace(b"p1", b"p9"), headers=signed(body)),
            "wrong secret": httpx.post(url, content=body, headers=signed(body, "not-the-secret")),
            "stale": httpx.post(url, content=body, headers=signed(body, at=int(time.time()) - 61)),
            "unsigned": httpx.post(url, content=body),
        }
        assert {k: (r.status_code, r.json()["reason"]) for k, r in refused.items()} == {
            "tampered": (401, "mismatch"), "wrong secret": (401, "mismatch"), "stale": (401, "stale"),
            "unsigned": (401, "missing_header")}
        unreadable = b'{"not": "events"}'
        assert httpx.post(url, content=unreadable, headers=signed(unreadable)).status_code == 400
        notified = receiver.received.get(timeout=60)
        assert notified["event"] == {"id": "e2", "type": "person.removed"} and notified["connection"] == "echo"
        server.wait_flushed(2)
        server.interrupt()
    finally:
        if server.proc.poll() is None:
            server.kill()
        receiver.close()
    project = Project(root)
    assert project.query("SELECT id, kind, person, sent_at FROM raw_echo.events ORDER BY id").rows == [
        ("e1", "person.updated", "p1", 1_700_000_000), ("e2", "person.removed", "p2", 1_700_000_001)]
    assert project.query("SELECT id, deleted FROM raw_echo.people ORDER BY id").rows == [("p1", False), ("p2", True)]
