"""Salesforce's API versions: the format users pin (``"59.0"``) and the vendor's retirement schedule.

From Salesforce's API End-of-Life Policy:
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/api_rest_eol.htm
"""

from __future__ import annotations

import re
from typing import Any

from hub.errors import ConfigError

TESTED = "59.0"   # REST /services/data/v59.0 (Winter '24)
VERSION = re.compile(r"^v?(\d{2,3})\.0$")
#: (first, last, what happens, still usable)
RETIREMENTS: tuple[tuple[int, int, str, bool], ...] = (
    (7, 30, "retired (REST answers 410 Gone)", False),
    (31, 40, "deprecated and unsupported from Summer '27, retired from Summer '28", True),
)


def _schedule(version: str) -> tuple[str, bool] | None:
    match = VERSION.match(version)
    number = int(match.group(1)) if match else 0
    for first, last, what, usable in RETIREMENTS:
        if first <= number <= last:
            return f"Salesforce API v{version.lstrip('v')} is {what}", usable
    return None


def lifecycle(version: str) -> str | None:
    """What the schedule says about ``version`` (None: supported); ``hub status`` shows it."""
    found = _schedule(version)
    return found[0] if found else None


def check(connection: str, value: Any, *, line: int | None = None) -> None:
    """Refuse a pinned version that is not a Salesforce version, or that Salesforce has retired."""
    where = f"[connections.{connection}] api_version"
    at = {"file": "hub.toml", "line": line, "key": "api_version"}
    if not isinstance(value, str) or not VERSION.match(value):
        raise ConfigError(f"{where} is {value!r}, not a Salesforce API version",
                          hint=f'write it as a string like "{TESTED}"', **at)
    found = _schedule(value)
    if found and not found[1]:
        raise ConfigError(f"{where}: {found[0]}", hint=f'pin a supported version, e.g. "{TESTED}"', **at)
