"""Shopify's shape of injected faults (chaos): ``{"errors": "..."}`` bodies, as its Admin API answers non-GraphQL
failures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from hub.sandbox.chaos import FaultStyle
from hub.sandbox.server import Response

if TYPE_CHECKING:
    from hub.sandbox.server import HTTPEmulator


def shopify_errors(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An answer in Shopify's ``{"errors": "<message>"}`` shape."""
    return Response(status, orjson.dumps({"errors": message}), headers=headers or {})


class ShopifyFaults(FaultStyle):
    """Shopify's error bodies for 5xx, 429 and an invalid token."""

    @staticmethod
    def server_error(status: int) -> Response:
        return shopify_errors(status, "Internal Server Error" if status == 500 else "Service Unavailable")

    @staticmethod
    def rate_limited(emulator: HTTPEmulator) -> Response:
        return shopify_errors(429, "Exceeded 2 calls per second for api client. Reduce request rates to resume "
                                   "uninterrupted service.", {"Retry-After": "2.0"})

    @staticmethod
    def expired() -> Response:
        return shopify_errors(401, "[API] Invalid API key or access token (unrecognized login or wrong password)")
