"""HubSpot's shape of injected faults (chaos): its error body, and rate-limit headers on a 429."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.sandbox.chaos import FaultStyle
from hub.sandbox.server import Response

if TYPE_CHECKING:
    from hub.sandbox.server import HTTPEmulator


class HubSpotFaults(FaultStyle):
    """HubSpot's error shape; its 429 carries the rate-limit headers but, like HubSpot, no Retry-After."""

    public_paths = frozenset({"/oauth/v1/token", "/oauth/v3/token"})

    @staticmethod
    def server_error(status: int) -> Response:
        from hub.integrations.hubspot.emulator.server import hubspot_error

        return hubspot_error(status, "internal error", "INTERNAL_ERROR")

    @staticmethod
    def rate_limited(emulator: HTTPEmulator) -> Response:
        from hub.integrations.hubspot.emulator.server import hubspot_error

        headers = {"X-HubSpot-RateLimit-Remaining": "0"}
        window = getattr(emulator, "limiter", None)
        if window is not None:  # a sandbox without a limit advertises none, so clients do not throttle themselves
            headers.update({"X-HubSpot-RateLimit-Max": str(window.limit),
                            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(window.window * 1000))})
        return hubspot_error(429, "You have reached your ten_secondly_rolling limit.", "", headers=headers,
                             errorType="RATE_LIMIT", policyName="TEN_SECONDLY_ROLLING")

    @staticmethod
    def expired() -> Response:
        from hub.integrations.hubspot.emulator.server import hubspot_error

        return hubspot_error(401, "The OAuth token used to make this call expired 1 second(s) ago.",
                             "EXPIRED_AUTHENTICATION")
