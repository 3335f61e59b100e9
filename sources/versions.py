"""The API version each connection speaks: pinned in hub.toml (``api_version``), defaulting to the tested one.

Each integration's descriptor declares its versions (:class:`hub.integrations.spec.ApiVersion`): the one hub is tested
against (the sandbox emulators and the SDK conformance tests speak it; ``tests/sources/test_versions.py`` fails when
they disagree), the others a connection may pin, and where the vendor's published retirement schedule is read. This
module only reads those declarations; it names no vendor.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import ConfigError

if TYPE_CHECKING:
    from hub.integrations.spec import ApiVersion


def spec(kind: str) -> ApiVersion | None:
    """The API versions the integration ``kind`` declares (None: unknown type, or no pinned versions)."""
    from hub.integrations import all_integrations

    integration = all_integrations().get(kind)
    return integration.api_version if integration is not None else None


def tested_versions() -> dict[str, str]:
    """Connection type -> the API version hub is tested against, for every versioned integration."""
    from hub.integrations import all_integrations

    return {name: i.api_version.tested for name, i in all_integrations().items() if i.api_version is not None}


def tested(kind: str) -> str | None:
    """The version hub is tested against for ``kind`` (None: not versioned)."""
    found = spec(kind)
    return found.tested if found else None


def __getattr__(name: str) -> Any:
    # ``TESTED`` was a literal table here; it is now read from the descriptors when asked for
    if name == "TESTED":
        return tested_versions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def api_version(kind: str, options: dict[str, Any]) -> str | None:
    """The connection's pinned version, or the tested default (None for an integration without versions)."""
    found = spec(kind)
    if found is None:
        value = options.get("api_version")
        return str(value) if value else None
    value = options.get("api_version")
    return found.normalize(value) if value else found.tested


def retirement(kind: str, version: str) -> str | None:
    """What the vendor's published schedule says about ``version`` (None: supported, or no schedule declared)."""
    from hub.integrations import all_integrations

    integration = all_integrations().get(kind)
    if integration is None or integration.api_version is None or integration.api_version.lifecycle is None:
        return None
    lifecycle = integration.resolve(integration.api_version.lifecycle)
    return lifecycle(integration.api_version.normalize(version))


def check(kind: str, connection: str, value: Any, *, line: int | None = None) -> None:
    """Refuse an ``api_version`` outside the versions the integration declares (at load, before any call).

    An integration that accepts any version (``supported=None``) checks the value's format and the vendor's schedule
    in its connector's ``check_config``.
    """
    found = spec(kind)
    where = f"[connections.{connection}] api_version"
    at = {"file": "hub.toml", "line": line, "key": "api_version"}
    if found is None:
        raise ConfigError(f"{where}: {kind} connections have no API version to pin", hint="remove the key", **at)
    accepted = found.accepted()
    if accepted is not None and str(value) not in accepted:
        raise ConfigError(f"{where} is {value!r}; hub is tested against {kind} {', '.join(sorted(accepted))} only",
                          hint=f'set it to "{found.tested}", or remove the key', **at)


def status_rows(connections: Iterable[Any], root: Path) -> list[dict[str, Any]]:
    """Per versioned connection, for ``hub status``: its API version, last API usage and the notices seen."""
    from hub.sources import notices

    saved = notices.load(root)
    rows = []
    for conn in connections:
        found = spec(conn.type)
        if found is None:
            continue
        version = api_version(conn.type, conn.options) or ""
        entry = saved.get(conn.name, {})
        seen = [n["message"] for n in entry.get("notices", {}).values() if isinstance(n, dict)]
        schedule = retirement(conn.type, version)
        if schedule:
            seen.insert(0, schedule)
        usage = entry.get("usage") or None
        rows.append({"connection": conn.name, "type": conn.type, "api_version": version,
                     "pinned": "api_version" in conn.options, "tested_version": found.tested,
                     "api_usage": usage and {"used": usage["used"], "limit": usage["limit"],
                                             "share": round(usage["used"] / usage["limit"], 4) if usage["limit"]
                                             else None, "seen_at": usage.get("seen_at")},
                     "warnings": seen})
    return rows
