"""Local receivers for alerts: a Slack-style webhook over loopback HTTP and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    """What a receiver got, in arrival order."""

    items: list[Any] = field(default_factory=list)
    url: str = ""
    port: int = 0

    def texts(self) -> list[str]:
        return [i if isinstance(i, str) else i.get("text", "") for i in self.items]


@pytest.fixture
def webhook() -> Iterator[Received]:
    """A webhook receiver: stores each POSTed JSON body before it answers, so a returned POST is already recorded."""
    got = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.items.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    got.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000"
    yield got
    server.shutdown()
    server.server_close()


SMTP_USER, SMTP_PASSWORD = "hub-alerts", "smtp-pass-5up3r-s3cret"


@pytest.fixture
def smtp() -> Iterator[Received]:
    """An SMTP server that requires login; each message's text is stored before the server answers 250."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    got = Received()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            got.items.append(envelope.content.decode("utf-8", "replace"))
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (SMTP_USER.encode(),
                                                                                  SMTP_PASSWORD.encode())
        return AuthResult(success=ok)

    with socket.socket() as probe:   # aiosmtpd's Controller needs a concrete port to check that it is up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    got.port = port
    yield got
    controller.stop()


def alerts_toml(webhook: Received, smtp: Received, threshold: int = 0) -> str:
    """An [alerts] table sending to both receivers (the password goes in secrets.toml or the environment)."""
    return f"""
        [alerts]
        webhook_url = "{webhook.url}"
        smtp_host = "127.0.0.1"
        smtp_port = {smtp.port}
        smtp_username = "{SMTP_USER}"
        email_from = "hub@example.test"
        email_to = ["data@example.test"]
        rejected_rows_threshold = {threshold}
        """
