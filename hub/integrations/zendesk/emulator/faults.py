"""Zendesk's shape of injected faults (chaos): its ``{"error", "description"}`` bodies, Retry-After on a 429."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from hub.sandbox.chaos import FaultStyle
from hub.sandbox.server import Response

if TYPE_CHECKING:
    from hub.sandbox.server import HTTPEmulator


def zendesk_error(status: int, error: str, description: str = "", *,
                  headers: dict[str, str] | None = None) -> Response:
    """A response in Zendesk's error shape."""
    body = {"error": error, **({"description": description} if description else {})}
    return Response(status, orjson.dumps(body), headers=headers or {})


class ZendeskFaults(FaultStyle):
    """Zendesk's error bodies; its 429 says how long to wait in Retry-After."""

    @staticmethod
    def server_error(status: int) -> Response:
        return zendesk_error(status, "InternalError", "Something went wrong")

    @staticmethod
    def rate_limited(emulator: HTTPEmulator) -> Response:
        return zendesk_error(429, "APIRateLimitExceeded", "Number of allowed API requests per minute exceeded",
                             headers={"Retry-After": "1"})

    @staticmethod
    def expired() -> Response:
        return zendesk_error(401, "invalid_token", "The access token provided is expired, revoked, malformed or "
                                                   "invalid for other reasons.")
