"""The integration registry: every vendor hub knows, each in one folder, found by name.

Built-in integrations are the subpackages of this package (one folder each). Third parties ship theirs as pip packages
that declare an entry point in the ``hub.integrations`` group, pointing at an :class:`Integration`::

    [project.entry-points."hub.integrations"]
    acme = "hub_acme:integration"

Descriptors are imported when the registry is first asked; they are plain data, so that costs almost nothing.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import TYPE_CHECKING

from hub.errors import ConfigError, UnknownNameError
from hub.integrations.spec import EmulatorPlugin, Integration, WebhookScheme

if TYPE_CHECKING:
    from hub.reverse_etl.base import Pusher
    from hub.sources.base import Connector

__all__ = ["ENTRY_POINT_GROUP", "EmulatorPlugin", "Integration", "WebhookScheme", "all_integrations", "connector_class",
           "connector_types", "get", "pusher_class", "with_part"]

ENTRY_POINT_GROUP = "hub.integrations"


@functools.cache
def all_integrations() -> dict[str, Integration]:
    """Every integration by name: the built-in folders, then the installed entry points."""
    found: dict[str, Integration] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.ispkg:
            _add(found, importlib.import_module(f"{__name__}.{info.name}").integration, f"{__name__}.{info.name}")
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = point.load()
        except Exception as exc:  # a broken third-party package must say so, not crash every command
            raise ConfigError(f"the integration '{point.name}' ({point.value}) cannot be imported: {exc}",
                              hint="reinstall or uninstall the package that provides it") from None
        _add(found, loaded, point.value)
    return found


def _add(found: dict[str, Integration], integration: object, where: str) -> None:
    if not isinstance(integration, Integration):
        raise ConfigError(f"{where} does not define an Integration", hint="set integration = Integration(...)")
    if integration.name in found:
        raise ConfigError(f"two integrations are called '{integration.name}' ({where})",
                          hint="uninstall one of the packages")
    found[integration.name] = integration


def get(name: str) -> Integration:
    """The integration called ``name``; an unknown name fails with the closest known one."""
    try:
        return all_integrations()[name]
    except KeyError:
        raise UnknownNameError("connector type", name, all_integrations()) from None


def with_part(part: str) -> dict[str, Integration]:
    """The integrations that have ``part`` (``"pusher"``, ``"webhooks"``, ``"emulator"``...), by name."""
    return {name: i for name, i in all_integrations().items() if getattr(i, part) is not None}


def connector_types() -> list[str]:
    """Every connection type hub can read from, sorted."""
    return sorted(with_part("connector"))


def connector_class(kind: str) -> type[Connector]:
    """The connector class for ``kind``; an unknown type fails with the closest known one."""
    if kind not in with_part("connector"):
        raise UnknownNameError("connector type", kind, with_part("connector"))
    return get(kind).load("connector")


def pusher_class(kind: str) -> type[Pusher]:
    """The pusher class for connections of type ``kind``; an unknown type fails with the closest one that has one."""
    if kind not in with_part("pusher"):
        raise UnknownNameError("push target type", kind, with_part("pusher"))
    return get(kind).load("pusher")
