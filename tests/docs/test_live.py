"""`hub serve` shows the docs pages at `/` beside the webhooks, over real loopback HTTP; beyond loopback a token."""

from __future__ import annotations

from pathlib import Path

import httpx

from hub.docs.live import COOKIE, LivePages
from hub.project import Project
from hub.serve import Service
from hub.serve.inbox import Inbox
from hub.serve.server import WebhookServer
from tests.docs.conftest import Built


def test_serve_answers_the_pages_at_root(built: Built) -> None:
    with Service(Project(built.root), port=0, schedules=False) as service:
        assert service.docs_token is None   # loopback: no token asked
        with httpx.Client(base_url=service.url, timeout=30) as http:
            index = http.get("/")
            assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
            assert "What flows where" in index.text and 'id="flowmap"' in index.text
            assert "default-src 'none'" in index.headers["content-security-policy"]
            assert http.get("/sync-person_to_hubspot.html").status_code == 200
            css = http.get("/assets/hub.css")
            assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
            assert http.get("/no-such-page.html").status_code == 404
            assert http.get("/../hub.toml").status_code == 404
            assert http.get("/healthz").json()["status"] == "ok"       # the webhook side is unchanged
            assert http.post("/webhooks/nope", content=b"{}").status_code == 404


def test_beyond_loopback_every_page_needs_the_token(built: Built, tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite")
    pages = LivePages(Project(built.root), token="s3cret-token")
    server = WebhookServer(inbox, {}, port=0, pages=pages)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.get("/").status_code == 401
            assert http.get("/?token=wrong").status_code == 401
            assert http.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert http.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
            first = http.get("/runs.html?token=s3cret-token")
            assert first.status_code == 303 and first.headers["location"] == "/runs.html"
            assert "HttpOnly" in first.headers["set-cookie"]
            assert http.cookies.get(COOKIE) == "s3cret-token"
            assert http.get("/runs.html").status_code == 200      # the cookie now
    finally:
        server.stop()
        inbox.close()
