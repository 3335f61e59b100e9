"""Salesforce's shape of injected faults (chaos): its error arrays."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import orjson

from hub.sandbox.chaos import FaultStyle
from hub.sandbox.server import Response

if TYPE_CHECKING:
    from hub.sandbox.server import HTTPEmulator


class SalesforceFaults(FaultStyle):
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
