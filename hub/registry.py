"""The registry of connector types: one place maps a ``type = "..."`` in hub.toml to the module that implements it.

Modules are imported only when a type is used, so ``hub --help`` never pays for httpx or pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from hub.errors import UnknownNameError

if TYPE_CHECKING:
    from reverse_etl.base import Pusher
    from sources.base import Connector

#: connector type -> "module:Class"
CONNECTORS: dict[str, str] = {
    "hubspot": "sources.hubspot:HubSpot",
    "salesforce": "sources.salesforce:Salesforce",
    "stripe": "sources.stripe:Stripe",
}


def connector_types() -> list[str]:
    """Every connector type hub knows, sorted."""
    return sorted(CONNECTORS)


def connector_class(kind: str) -> type[Connector]:
    """The connector class for ``kind``; an unknown type fails with the closest known one."""
    return _load(CONNECTORS, kind, "connector type")


#: connector type -> "module:Class" of the reverse-ETL pusher that writes to it
PUSHERS: dict[str, str] = {
    "hubspot": "reverse_etl.hubspot:HubSpotPusher",
    "salesforce": "reverse_etl.salesforce:SalesforcePusher",
}


def pusher_class(kind: str) -> type[Pusher]:
    """The pusher class for connections of type ``kind``; an unknown type fails with the closest one that has one."""
    return _load(PUSHERS, kind, "push target type")


def _load(table: dict[str, str], kind: str, what: str) -> type:
    try:
        target = table[kind]
    except KeyError:
        raise UnknownNameError(what, kind, table) from None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
