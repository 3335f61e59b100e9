"""Stripe's shape of injected faults (chaos): its ``{error: {...}}`` bodies."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import orjson

from hub.sandbox.chaos import FaultStyle
from hub.sandbox.server import Response

if TYPE_CHECKING:
    from hub.sandbox.server import HTTPEmulator


class StripeFaults(FaultStyle):
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
