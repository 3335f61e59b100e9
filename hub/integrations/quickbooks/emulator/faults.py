"""QuickBooks' shape of errors, for the emulator and for injected faults (chaos)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from hub.sandbox.chaos import FaultStyle
from hub.sandbox.server import Response

if TYPE_CHECKING:
    from hub.sandbox.server import HTTPEmulator

THROTTLE = {"Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
            "Detail": "The request limit was reached.", "code": "3001"}


def fault_response(status: int, fault: dict[str, Any], time: str) -> Response:
    """``{"Fault": {...}, "time": ...}``, QuickBooks' error envelope."""
    return Response(status, orjson.dumps({"Fault": fault, "time": time}), content_type="application/json;charset=UTF-8")


def throttled(time: str) -> Response:
    """The 429 of the per-realm limits (500 a minute, 10 at once); QuickBooks sends no Retry-After."""
    return fault_response(429, {"Error": [THROTTLE], "type": "SERVICE"}, time)


class QuickBooksFaults(FaultStyle):
    """Injected faults as QuickBooks answers them."""

    public_paths = frozenset({"/oauth2/v1/tokens/bearer", "/.well-known/openid_configuration"})

    @staticmethod
    def server_error(status: int) -> Response:
        return fault_response(status, {"Error": [{"Message": "An application error has occurred while processing "
                                                  "your request", "Detail": "System Failure Error", "code": "10000"}],
                                        "type": "SystemFault"}, "")

    @staticmethod
    def rate_limited(emulator: HTTPEmulator) -> Response:
        return throttled("")

    @staticmethod
    def expired() -> Response:
        return Response(401, orjson.dumps({"fault": {"error": [{
            "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401", "detail": "Token expired",
            "code": "3200"}], "type": "AUTHENTICATION"}}), content_type="application/json;charset=UTF-8")
