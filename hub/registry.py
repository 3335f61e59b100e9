"""Compatibility names for the integration registry (:mod:`hub.integrations`)."""

from hub.integrations import connector_class, connector_types, pusher_class

__all__ = ["connector_class", "connector_types", "pusher_class"]
