"""The registry of connector types: one place maps a ``type = "..."`` in hub.toml to the module that implements it.

Modules are imported only when a type is used, so ``hub --help`` never pays for httpx or pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from hub.errors import UnknownNameError

if TYPE_CHECKING:
    from sources.base import Connector

#: connector type -> "module:Class"
CONNECTORS: dict[str, str] = {
    "hubspot": "sources.hubspot:HubSpot",
    "salesforce": "sources.salesforce:Salesforce",
}


def connector_types() -> list[str]:
    """Every connector type hub knows, sorted."""
    return sorted(CONNECTORS)


def connector_class(kind: str) -> type[Connector]:
    """The connector class for ``kind``; an unknown type fails with the closest known one."""
    try:
        target = CONNECTORS[kind]
    except KeyError:
        raise UnknownNameError("connector type", kind, CONNECTORS) from None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
