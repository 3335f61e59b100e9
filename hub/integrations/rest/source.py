"""The ``type = "rest"`` connector: the generic engine in :mod:`hub.sources.rest`, registered as an integration."""

from hub.sources.rest.connector import RestConnector

__all__ = ["RestConnector"]
