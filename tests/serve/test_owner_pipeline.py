"""`hub serve`'s owner takes the posts that arrived while a chunk of trigger runs was running as the next chunk at
once, in the same turn (no wait for another wake-up and linger): a form with a notify trigger to a local endpoint
which, answering the first post's notify, has a second post arrive. The real inbox, flusher, warehouse and HTTP."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson

from hub.forms.intake import EVENT_TYPE
from hub.project import Project
from hub.serve.inbox import Inbox, InboxEvent
from hub.serve.owner import TRIGGERED, Owner
from hub.serve.triggers import Runner, load


def post(email: str, n: int) -> InboxEvent:
    """A form submission as POST /forms/contact stores it."""
    body = {"id": f"post-{n}", "form": "contact", "connection": "website",
            "submitted_at": datetime.now(UTC).isoformat(), "fields": {"email": email}}
    return InboxEvent("form:contact", f"post-{n}", EVENT_TYPE, orjson.dumps(body))


def test_a_post_arriving_during_a_chunk_is_the_next_chunk_in_the_same_turn(make_project, tmp_path):
    inbox = Inbox(tmp_path / "inbox.sqlite")
    notified: list[str] = []

    class Endpoint(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            body = orjson.loads(self.rfile.read(int(self.headers["content-length"])))
            notified.append(body["event"]["id"])
            if len(notified) == 1:   # a visitor posts while the first chunk is still running
                inbox.put([post("second@pipe.example", 2)])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        root = make_project(f"""
            [warehouse]
            path = "warehouse.duckdb"

            [forms.contact]
            connection = "website"
            fields = {{ email = {{ type = "email", required = true }} }}

            [triggers.ping]
            on = "form:contact"
            do = ["notify:http://127.0.0.1:{server.server_address[1]}/hook"]
        """)
        project = Project(root)
        with httpx.Client(timeout=30.0) as http:
            owner = Owner(project, inbox, triggers=load(project), runner=Runner(project, http))
            inbox.put([post("first@pipe.example", 1)])
            owner._flush()
            owner._fire_triggers()   # one turn's triggers: the first chunk, then what arrived meanwhile
        assert notified == ["post-1", "post-2"]
        assert inbox.mark(TRIGGERED) == inbox.last_seq() == 2
        emails = project.query("SELECT email FROM raw_website.contact ORDER BY id").rows
        assert emails == [("first@pipe.example",), ("second@pipe.example",)]
        runs = project.query("SELECT count(*) FROM _hub.runs WHERE command = 'trigger:ping' AND status = 'success'")
        assert runs.scalar() == 2
    finally:
        server.shutdown()
        inbox.close()
