"""How chaos faults look on the generic REST emulator: its ``{"error": {...}}`` bodies, and a 429 with the rate-limit
headers of the emulator's style, so clients meet under chaos what they meet from the API itself."""

from __future__ import annotations

import math
from typing import Any

from hub.sandbox.server import Response, json_response


def fault_style() -> Any:
    """Chaos faults in this API's own shape (``{"error": {...}}``, a 429 with the configured rate-limit headers), as a
    :class:`hub.sandbox.chaos.FaultStyle`; None where the sandbox has no fault styles (faults are then plain JSON)."""
    try:
        from hub.sandbox.chaos import FaultStyle  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None

    class RestFaults(FaultStyle):  # type: ignore[misc,valid-type,unused-ignore]
        public_paths = frozenset({"/oauth/token"})

        @staticmethod
        def server_error(status: int) -> Response:
            return json_response(status, {"error": {"code": "internal", "message": "internal error"}})

        @staticmethod
        def rate_limited(emulator: Any) -> Response:
            headers = {"Retry-After": "1"}
            style = getattr(emulator, "rate_limit_style", "retry_after")
            if style == "x_ratelimit":
                reset = math.ceil(emulator.clock.seconds()) + 1
                headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
            elif style == "ietf":
                headers = {"RateLimit-Remaining": "0", "RateLimit-Reset": "1"}
            body = {"error": {"code": "rate_limited", "message": "too many requests"}}
            return json_response(429, body, headers=headers)

        @staticmethod
        def expired() -> Response:
            return json_response(401, {"error": {"code": "unauthorized", "message": "the access token expired"}},
                                 headers={"WWW-Authenticate": 'Bearer realm="sandbox", error="invalid_token"'})

    return RestFaults
