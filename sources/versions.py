"""The API version each connection speaks: pinned in hub.toml (``api_version``), defaulting to the tested one.

:data:`TESTED` is the one table of versions hub's tests run against (the sandbox emulators and the SDK conformance
tests); ``tests/sources/test_versions.py`` fails when it and the emulators disagree, so moving a default is a change the
suite sees, not one users find. Salesforce versions retire on a published schedule (:data:`SALESFORCE_RETIREMENTS`);
a pinned version in a retiring range gives a notice, a retired one a config error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hub.errors import ConfigError

#: vendor (connector type) -> the API version hub is tested against
TESTED: dict[str, str] = {
    "hubspot": "v3",            # CRM objects, properties, search and batch under /crm/v3
    "salesforce": "59.0",       # REST /services/data/v59.0 (Winter '24)
    "stripe": "2024-06-20",     # Stripe-Version sent on every request
}
#: versions a connection may pin besides the tested one (object shapes hub relies on are the same)
ACCEPTED: dict[str, frozenset[str]] = {
    "hubspot": frozenset({"v3"}),
    "stripe": frozenset({"2024-06-20"}),
}
_SALESFORCE = re.compile(r"^v?(\d{2,3})\.0$")
#: (first, last, what happens), from Salesforce's API End-of-Life Policy:
#: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/api_rest_eol.htm
SALESFORCE_RETIREMENTS: tuple[tuple[int, int, str], ...] = (
    (7, 30, "retired (REST answers 410 Gone)"),
    (31, 40, "deprecated and unsupported from Summer '27, retired from Summer '28"),
)


def api_version(vendor: str, options: dict[str, Any]) -> str | None:
    """The connection's pinned version, or the tested default (None for a vendor without versions)."""
    value = options.get("api_version")
    return str(value).lstrip("v") if vendor == "salesforce" and value else (value or TESTED.get(vendor))


def retirement(vendor: str, version: str) -> str | None:
    """What the vendor's published schedule says about ``version`` (None: supported)."""
    if vendor != "salesforce":
        return None
    match = _SALESFORCE.match(version)
    number = int(match.group(1)) if match else 0
    for first, last, what in SALESFORCE_RETIREMENTS:
        if first <= number <= last:
            return f"Salesforce API v{version} is {what}"
    return None


def check(vendor: str, connection: str, value: Any, *, line: int | None = None) -> None:
    """Refuse an ``api_version`` hub cannot speak, with what to write instead (at config load, before any call)."""
    where = f"[connections.{connection}] api_version"
    tested = TESTED[vendor]
    at = {"file": "hub.toml", "line": line}
    if vendor == "salesforce":
        if not isinstance(value, str) or not _SALESFORCE.match(value):
            raise ConfigError(f"{where} is {value!r}, not a Salesforce API version",
                              hint=f'write it as a string like "{tested}"', **at)
        note = retirement(vendor, value.lstrip("v"))
        if note and "410" in note:
            raise ConfigError(f"{where}: {note}", hint=f'pin a supported version, e.g. "{tested}"', **at)
        return
    accepted = ACCEPTED.get(vendor, frozenset({tested}))
    if str(value) not in accepted:
        raise ConfigError(f"{where} is {value!r}; hub is tested against {vendor} {', '.join(sorted(accepted))} only",
                          hint=f'set it to "{tested}", or remove the key', **at)


def status_rows(connections: Iterable[Any], root: Path) -> list[dict[str, Any]]:
    """Per versioned connection, for ``hub status``: its API version, last API usage and the notices seen."""
    from hub.sources import notices

    saved = notices.load(root)
    rows = []
    for conn in connections:
        if conn.type not in TESTED:
            continue
        version = api_version(conn.type, conn.options) or ""
        entry = saved.get(conn.name, {})
        found = [n["message"] for n in entry.get("notices", {}).values() if isinstance(n, dict)]
        schedule = retirement(conn.type, version)
        if schedule:
            found.insert(0, schedule)
        usage = entry.get("usage") or None
        rows.append({"connection": conn.name, "type": conn.type, "api_version": version,
                     "pinned": "api_version" in conn.options, "tested_version": TESTED[conn.type],
                     "api_usage": usage and {"used": usage["used"], "limit": usage["limit"],
                                             "share": round(usage["used"] / usage["limit"], 4) if usage["limit"]
                                             else None, "seen_at": usage.get("seen_at")},
                     "warnings": found})
    return rows
