"""Fault injection for the emulators: seeded shares of 5xx, 429, drops, hangs, slow answers, garbage bodies, and
answers lost after the vendor acted (late, cut).

A :class:`Chaos` set on an emulator (``sb.hubspot.chaos = Chaos(server_error=0.1)``, ``None`` to turn it off) sees every
request before the vendor does. One draw of a ``random.Random`` seeded from ``seed`` and the emulator's name picks at
most one fault per request (``truncate`` draws again, after the vendor answered), so the same seed and the same request
order meet the same faults. Faults look like the vendor's own: HubSpot's
``RATE_LIMIT`` body and X-HubSpot-RateLimit-* headers, Salesforce's error arrays. ``injected`` counts what was done, per
kind, so tests can check that the faults really happened.
"""

from __future__ import annotations

import difflib
import fnmatch
import random
import threading
import time
import uuid
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import orjson

from hub.errors import ChaosSpecError
from hub.sandbox.server import DropConnection, Request, Response

if TYPE_CHECKING:
    from hub.sandbox.server import HTTPEmulator

#: Spec names (``hub sandbox --chaos "5xx=0.1,..."``) of the per-request shares, in the order a draw walks them.
SHARES = {"5xx": "server_error", "429": "rate_limit", "drop": "drop", "timeout": "timeout", "slow": "slow",
          "garbage": "garbage", "late": "late", "cut": "cut", "truncate": "truncate"}
#: Kinds drawn before the vendor acts but applied to its answer: the write is saved, the client never learns it.
AFTER = frozenset({"late", "cut"})
#: Spec names of the other settings, with their meaning for error messages.
SETTINGS = {"expire": "how many requests get a 401 expired-token answer", "hang": "seconds a timeout holds the request",
            "delay": "seconds a slow answer waits", "seed": "the seed of the fault draws",
            "only": "which requests may meet a fault, e.g. 'POST */composite/sobjects'",
            "limit": "how many faults at most (0: no limit)"}

_PROXY_PAGES = {
    200: b"<html><head><title>Maintenance</title></head><body><h1>We'll be back soon</h1></body></html>",
    502: b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
         b"<hr><center>nginx</center></body></html>",
}


@dataclass
class Chaos:
    """Fault settings of one emulator: shares (0..1) of requests that meet each fault, plus their parameters.

    ``timeout`` holds the request ``hang`` seconds and then closes the connection unanswered (set the client's
    timeout below ``hang``); ``slow`` answers normally after ``delay`` seconds; ``garbage`` answers an HTML page
    (status 200 or 502) without reaching the vendor; ``truncate`` cuts a real answer's body in half (the vendor has
    acted on the request); ``expire`` refuses the next N authenticated requests with a 401 expired-token body.
    ``late`` lets the vendor act (the write is saved) and answers only after ``hang`` seconds, when a client with a
    shorter timeout has given up; ``cut`` lets the vendor act and cuts its answer's body in half. ``only`` (a glob
    over ``"METHOD /path"``) limits the draws to matching requests; ``limit`` caps the faults drawn (0: no cap).
    """

    server_error: float = 0.0
    rate_limit: float = 0.0
    drop: float = 0.0
    timeout: float = 0.0
    slow: float = 0.0
    garbage: float = 0.0
    late: float = 0.0
    cut: float = 0.0
    truncate: float = 0.0
    expire: int = 0
    hang: float = 2.0
    delay: float = 0.1
    seed: int = 0
    only: str = ""
    limit: int = 0
    injected: dict[str, int] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        total = 0.0
        for kind, name in SHARES.items():
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ChaosSpecError(f"chaos {kind}={share}: a share must be between 0 and 1")
            total += share
        if total > 1.0 + 1e-9:
            raise ChaosSpecError(f"chaos shares add up to {total:g}; together they must not exceed 1")
        if self.expire < 0 or self.hang < 0 or self.delay < 0 or self.limit < 0:
            raise ChaosSpecError("chaos expire, hang, delay and limit must not be negative")
        self.injected = {kind: 0 for kind in (*SHARES, "expire")}
        self._random: random.Random | None = None  # seeded on first use with the emulator's name too
        self._lock = threading.Lock()
        self._expire_left = self.expire
        self._pending: dict[int, str] = {}  # id(request) -> a fault to apply to the vendor's answer

    @classmethod
    def parse(cls, spec: str, *, seed: int = 0) -> Chaos:
        """Read ``"5xx=0.1,429=0.05,drop=0.02,timeout=0.01,slow=0.05,garbage=0.01"`` (and expire, hang, delay, seed)."""
        values: dict[str, Any] = {"seed": seed}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            kind, sep, raw = (s.strip() for s in item.partition("="))
            if not sep or not raw:
                raise ChaosSpecError(f"chaos item '{item}' should be kind=value, e.g. 5xx=0.1")
            if kind not in SHARES and kind not in SETTINGS:
                known = [*SHARES, *SETTINGS]
                close = difflib.get_close_matches(kind, known, n=1, cutoff=0.5)
                hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(known)}"
                raise ChaosSpecError(f"unknown chaos kind '{kind}' ({hint})")
            if kind == "only":
                values["only"] = raw
                continue
            whole = kind in ("expire", "seed", "limit")
            try:
                value = int(raw) if whole else float(raw)
            except ValueError:
                what = "a whole number" if whole else ("a share between 0 and 1" if kind in SHARES else "seconds")
                raise ChaosSpecError(f"chaos {kind}={raw}: expected {what}") from None
            values[SHARES.get(kind, kind)] = value
        return cls(**values)

    def fresh(self) -> Chaos:
        """The same settings with their own draws and counts (one per emulator)."""
        return replace(self)

    def describe(self) -> str:
        """The non-default settings in spec form, e.g. ``5xx=0.1,drop=0.02``."""
        names = {name: kind for kind, name in SHARES.items()}
        defaults = {f.name: f.default for f in fields(self)}
        return ",".join(f"{names.get(k, k)}={_spec(getattr(self, k))}" for k in defaults
                        if k != "injected" and getattr(self, k) != defaults[k])

    # --- applied by HTTPEmulator.handle -------------------------------------------------------------

    def before(self, emulator: HTTPEmulator, request: Request) -> Response | None:
        """The fault for this request, if it draws one: a Response to send instead, or DropConnection."""
        vendor = _VENDORS.get(emulator.server_name, _Generic)
        with self._lock:
            rng = self._seed_for(emulator)
            if self._expire_left > 0 and request.path not in vendor.public_paths:
                self._expire_left -= 1
                self.injected["expire"] += 1
                return vendor.expired()
            kind = self._draw(rng) if self._eligible(request) else None
            status = 0
            if kind is not None:
                self.injected[kind] += 1
                if kind in ("5xx", "garbage"):
                    status = rng.choice(vendor.server_statuses if kind == "5xx" else tuple(_PROXY_PAGES))
        if kind is None:
            return None
        if kind == "5xx":
            return vendor.server_error(status)
        if kind == "429":
            return vendor.rate_limited(emulator)
        if kind == "drop":
            raise DropConnection()
        if kind == "timeout":
            time.sleep(self.hang)  # the client is meant to give up first
            raise DropConnection()
        if kind == "slow":
            time.sleep(self.delay)
            return None
        if kind == "garbage":
            return Response(status, _PROXY_PAGES[status], content_type="text/html")
        if kind in AFTER:
            with self._lock:
                self._pending[id(request)] = kind
        return None  # truncate, late and cut act on the vendor's answer, in after()

    def _eligible(self, request: Request) -> bool:
        if self.only and not fnmatch.fnmatchcase(f"{request.method} {request.path}", self.only):
            return False
        return not self.limit or sum(self.injected[k] for k in SHARES) < self.limit

    def after(self, emulator: HTTPEmulator, request: Request, response: Response) -> Response:
        """Apply a fault drawn for the vendor's answer: ``late``, ``cut``, or a ``truncate`` drawn now."""
        with self._lock:
            pending = self._pending.pop(id(request), None)
        if pending == "late":
            time.sleep(self.hang)  # the write is saved; the client is meant to have given up by now
            return response
        if pending == "cut":
            return Response(response.status, response.body[: len(response.body) // 2],
                            content_type=response.content_type, headers=response.headers)
        if not self.truncate or len(response.body) < 2 or not self._eligible(request):
            return response
        with self._lock:
            if self._seed_for(emulator).random() >= self.truncate:
                return response
            self.injected["truncate"] += 1
        return Response(response.status, response.body[: len(response.body) // 2],
                        content_type=response.content_type, headers=response.headers)

    def _seed_for(self, emulator: HTTPEmulator) -> random.Random:
        # two emulators given the same settings must not fail in lockstep
        if self._random is None:
            self._random = random.Random(f"{self.seed}:{emulator.server_name}")
        return self._random

    def _draw(self, rng: random.Random) -> str | None:
        roll = rng.random()
        for kind, name in SHARES.items():
            if name == "truncate":
                break
            share = getattr(self, name)
            if roll < share:
                return kind
            roll -= share
        return None


def _spec(value: Any) -> str:
    return value if isinstance(value, str) else f"{value:g}"


class _Generic:
    """Fault bodies for an emulator without a vendor flavour."""

    public_paths: frozenset[str] = frozenset()
    server_statuses = (500, 502, 503, 504)

    @staticmethod
    def server_error(status: int) -> Response:
        return Response(status, orjson.dumps({"message": "internal error"}))

    @staticmethod
    def rate_limited(emulator: HTTPEmulator) -> Response:
        return Response(429, orjson.dumps({"message": "too many requests"}))

    @staticmethod
    def expired() -> Response:
        return Response(401, orjson.dumps({"message": "token expired"}))


class _HubSpot(_Generic):
    """HubSpot's error shape; its 429 carries the rate-limit headers but, like HubSpot, no Retry-After."""

    public_paths = frozenset({"/oauth/v1/token", "/oauth/v3/token"})

    @staticmethod
    def server_error(status: int) -> Response:
        from hub.sandbox.hubspot import hubspot_error

        return hubspot_error(status, "internal error", "INTERNAL_ERROR")

    @staticmethod
    def rate_limited(emulator: HTTPEmulator) -> Response:
        from hub.sandbox.hubspot import hubspot_error

        headers = {"X-HubSpot-RateLimit-Remaining": "0"}
        window = getattr(emulator, "limiter", None)
        if window is not None:  # a sandbox without a limit advertises none, so clients do not throttle themselves
            headers.update({"X-HubSpot-RateLimit-Max": str(window.limit),
                            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(window.window * 1000))})
        return hubspot_error(429, "You have reached your ten_secondly_rolling limit.", "", headers=headers,
                             errorType="RATE_LIMIT", policyName="TEN_SECONDLY_ROLLING")

    @staticmethod
    def expired() -> Response:
        from hub.sandbox.hubspot import hubspot_error

        return hubspot_error(401, "The OAuth token used to make this call expired 1 second(s) ago.",
                             "EXPIRED_AUTHENTICATION")


class _Salesforce(_Generic):
    """Salesforce's error arrays: 503 Server Unavailable / 500 UNKNOWN_EXCEPTION, and a (rare) REST 429."""

    public_paths = frozenset({"/services/oauth2/token", "/services/data"})
    server_statuses = (503, 503, 500)

    @staticmethod
    def _array(status: int, code: str, message: str) -> Response:
        return Response(status, orjson.dumps([{"message": message, "errorCode": code}]),
                        content_type="application/json;charset=UTF-8")

    @classmethod
    def server_error(cls, status: int) -> Response:
        if status == 503:
            return cls._array(503, "SERVER_UNAVAILABLE", "Server Unavailable")
        return cls._array(status, "UNKNOWN_EXCEPTION", f"An unexpected error occurred. Please include this ErrorId "
                                                       f"if you contact support: {uuid.uuid4().int % 10**10}")

    @classmethod
    def rate_limited(cls, emulator: HTTPEmulator) -> Response:
        return cls._array(429, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")

    @classmethod
    def expired(cls) -> Response:
        return cls._array(401, "INVALID_SESSION_ID", "Session expired or invalid")


class _Stripe(_Generic):
    """Stripe's ``{error: {type, code, message}}`` bodies."""

    @staticmethod
    def _error(status: int, kind: str, message: str, code: str | None = None) -> Response:
        error = {"type": kind, "message": message, **({"code": code} if code else {})}
        return Response(status, orjson.dumps({"error": error}), headers={"Request-Id": f"req_{uuid.uuid4().hex[:14]}"})

    @classmethod
    def server_error(cls, status: int) -> Response:
        return cls._error(status, "api_error", "An unknown error occurred")

    @classmethod
    def rate_limited(cls, emulator: HTTPEmulator) -> Response:
        return cls._error(429, "invalid_request_error", "Request rate limit exceeded. Learn more about rate limits "
                                                        "here https://stripe.com/docs/rate-limits.", "rate_limit")

    @classmethod
    def expired(cls) -> Response:
        return cls._error(401, "invalid_request_error", "Expired API Key provided: sk_test_****", "api_key_expired")


_VENDORS: dict[str, type[_Generic]] = {"hubspot": _HubSpot, "salesforce": _Salesforce, "stripe": _Stripe}
