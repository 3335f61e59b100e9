"""Shared HTTP core of the emulators: request/response objects, keep-alive serving, TLS, the fault hook.

The stdlib ThreadingHTTPServer does the socket work; the request handler parses HTTP/1.1 itself
because ``http.client.parse_headers`` (the email parser) costs more than the emulated endpoint.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson

from hub.sandbox.routing import RequestLog, Route, Router

if TYPE_CHECKING:
    from hub.sandbox.chaos import Chaos, FaultStyle

log = logging.getLogger("hub.sandbox")

_MAX_LINE = 65536
#: the longest request line the emulated front ends accept; a longer one (a URL carrying hundreds of property names)
#: is refused with 414 before it reaches the API (16,384 bytes, as the vendors' documented limits; docs/vendors.md)
MAX_REQUEST_LINE = 16_384
_MAX_HEADERS = 100


class Request:
    """One parsed HTTP request as handlers see it."""

    __slots__ = ("method", "path", "query_string", "headers", "body", "params", "template", "_query", "client")

    def __init__(self, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers = headers  # keys lower-cased
        self.body = body
        self.params: dict[str, str] = {}
        self.template = path
        self._query: dict[str, list[str]] | None = None
        self.client = ""   # the TCP peer's address (hub serve's forms rate-limit by it)

    @property
    def query(self) -> dict[str, list[str]]:
        """Query parameters, each with every value it was given."""
        if self._query is None:
            self._query = parse_qs(self.query_string, keep_blank_values=True) if self.query_string else {}
        return self._query

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of one query parameter."""
        values = self.query.get(name)
        return values[-1] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        """A request header by case-insensitive name."""
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        """The body decoded as JSON; raises ValueError on a malformed body."""
        if not self.body:
            raise ValueError("empty request body")
        return orjson.loads(self.body)

    def form(self) -> dict[str, str]:
        """The body decoded as application/x-www-form-urlencoded (last value wins)."""
        pairs = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[-1] for key, values in pairs.items()}


class Response:
    """A response ready to be written: status, raw body and extra headers."""

    __slots__ = ("status", "body", "headers", "content_type")

    def __init__(self, status: int, body: bytes = b"", *, content_type: str = "application/json",
                 headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers if headers is not None else {}


def json_response(status: int, payload: Any, *, content_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> Response:
    """Serialize ``payload`` with orjson into a Response."""
    return Response(status, orjson.dumps(payload), content_type=content_type, headers=headers)


class EmulatorError(Exception):
    """Raised by handlers to answer with an error response in the vendor's own shape."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class DropConnection(Exception):
    """Raised by a ``before_request`` hook to close the socket without answering (fault injection)."""


class HTTPEmulator:
    """Base of a vendor emulator: owns the router, the listening server and its thread.

    Subclasses register routes and implement :meth:`dispatch` (auth, limits, vendor headers).
    ``before_request`` is a hook that sees every request first and may return a Response to send instead, or raise
    DropConnection; ``chaos`` (a :class:`hub.sandbox.chaos.Chaos`) injects seeded faults right after it, shaped by
    ``fault_style``. It implements :class:`hub.sandbox.context.Emulator`, so a plugin's ``build`` may return it.
    """

    server_name = "emulator"
    #: how injected faults look (the vendor's error bodies and headers); None: plain JSON
    fault_style: type[FaultStyle] | None = None

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.router = Router()
        self.requests = RequestLog()
        self.before_request: Callable[[Request], Response | None] | None = None
        self.chaos: Chaos | None = None  # seeded fault injection (hub.sandbox.chaos); set or clear at any time
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. http://127.0.0.1:50123."""
        if self._server is None:
            raise RuntimeError(f"{self.server_name} emulator is not started; call Sandbox.start() first")
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def start(self) -> None:
        """Bind the port and serve from a daemon thread."""
        if self._server is not None:
            return
        server = _Server((self.host, self.port), _Handler)
        server.emulator = self
        server.ssl_context = self.tls
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sandbox-{self.server_name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close idle keep-alive connections and release the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def to_state(self) -> Any:
        """The emulator's data for the sandbox's state file (JSON-ready); None: nothing to save."""
        return None

    def credentials(self) -> dict[str, str]:
        """The secret keys of a connection to this emulator (``{"token": ...}``), for ``hub sandbox`` to print."""
        return {}

    def handle(self, request: Request) -> Response:
        """Route one request through the hook and the vendor's dispatch."""
        route, params, other_method = self.router.match(request.method, request.path)
        if route is not None:
            request.params = params
            request.template = route.template
        self.requests.record(request.method, request.template)
        hook = self.before_request
        if hook is not None:
            injected = hook(request)
            if injected is not None:
                return injected
        chaos = self.chaos
        if chaos is not None:
            injected = chaos.before(self, request)
            if injected is not None:
                return injected
        response = self._answer(request, route, other_method)
        return chaos.after(self, request, response) if chaos is not None else response

    def _answer(self, request: Request, route: Route | None, other_method: bool) -> Response:
        try:
            if route is None:
                return self.no_route(request, other_method)
            return self.dispatch(request, route)
        except EmulatorError as exc:
            return exc.response
        except Exception:  # a bug in the emulator must not kill the connection thread
            log.exception("sandbox %s failed on %s %s", self.server_name, request.method, request.path)
            return self.internal_error(request)

    def dispatch(self, request: Request, route: Route) -> Response:
        """Vendor hook: authenticate, apply limits, call ``route.handler``, decorate the response."""
        return route.handler(request)

    def no_route(self, request: Request, other_method: bool) -> Response:
        """Vendor hook: the answer for an unknown path (or a known path with the wrong method)."""
        return json_response(405 if other_method else 404, {"message": "not found"})

    def internal_error(self, request: Request) -> Response:
        """Vendor hook: the answer when a handler raised unexpectedly."""
        return json_response(500, {"message": "internal error"})

    def uri_too_long(self) -> Response:
        """Vendor hook: the front end's 414 for a request line over :data:`MAX_REQUEST_LINE` (never reaches the API)."""
        return Response(414, b"URI Too Long", content_type="text/plain")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    emulator: HTTPEmulator
    ssl_context: ssl.SSLContext | None

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # skip HTTPServer.server_bind: its getfqdn() can stall on a DNS lookup
        socket.socket.setsockopt(self.socket, socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down idle keep-alive sockets so their handler threads end with the server."""
        with self._open_lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients hanging up mid-request and failed TLS handshakes are normal here
        log.debug("sandbox connection error from %s", client_address, exc_info=True)


_REASONS = {s.value: s.phrase for s in HTTPStatus}
_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        # Nagle + delayed ACK stall a keep-alive response written in pieces by ~40 ms; _send also writes once
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        context = self.server.ssl_context
        if context is not None:
            self.request = context.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def handle_one_request(self) -> None:
        rfile = self.rfile
        line = rfile.readline(_MAX_LINE + 1)
        if not line:
            self.close_connection = True
            return
        if len(line.rstrip(b"\r\n")) > MAX_REQUEST_LINE:
            self._drain(line)  # read the rest, so closing does not reset the connection before the client reads
            return self._refuse(414, self.server.emulator.uri_too_long())
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return self._refuse(400)
        method, target, version = parts
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS + 1):
            raw = rfile.readline(_MAX_LINE + 1)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        else:
            return self._refuse(431)
        connection = headers.get("connection", "").lower()
        close = connection == "close" if version == "HTTP/1.1" else connection != "keep-alive"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        else:
            length = headers.get("content-length")
            body = rfile.read(int(length)) if length and length.isdigit() and length != "0" else b""
        path, _, query = target.partition("?")
        if path.startswith(("http://", "https://")):  # absolute-form target
            path = "/" + path.split("/", 3)[-1] if path.count("/") >= 3 else "/"
        request = Request(method, path, query, headers, body)
        if isinstance(self.client_address, tuple) and self.client_address:
            request.client = str(self.client_address[0])
        try:
            response = self.server.emulator.handle(request)
        except DropConnection:
            self.close_connection = True
            return
        self._send(response, close)
        # handle() starts with close_connection=True; keep-alive must be re-armed after every response
        self.close_connection = close

    def _drain(self, line: bytes) -> None:
        """Consume the rest of a refused request (its line, headers and a small body)."""
        rfile = self.rfile
        while not line.endswith(b"\n"):
            line = rfile.readline(_MAX_LINE + 1)
            if not line:
                return
        length = 0
        for _ in range(_MAX_HEADERS + 1):
            raw = rfile.readline(_MAX_LINE + 1)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length" and value.strip().isdigit():
                length = int(value.strip())
        if 0 < length <= 1 << 20:
            rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline(_MAX_LINE).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(_MAX_LINE)

    def _send(self, response: Response, close: bool) -> None:
        status = response.status
        body = response.body if status not in (204, 304) else b""
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}", f"Date: {_http_date()}",
                 f"Content-Length: {len(body)}"]
        if body:
            lines.append(f"Content-Type: {response.content_type}")
        for name, value in response.headers.items():
            lines.append(f"{name}: {value}")
        if close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)

    def _refuse(self, status: int, response: Response | None = None) -> None:
        self.close_connection = True
        self._send(response or Response(status), close=True)
