"""The sandbox's generic REST emulator (``EMULATOR``), for ``type = "rest"`` connections and push targets.

``EMULATOR.build(context, **options)`` makes a :class:`RestEmulator` (not started) from a sandbox context with
``clock``, ``seed`` and ``host`` (and optionally ``tls`` and ``state``), as
:class:`hub.sandbox.context.EmulatorContext` has. Options: ``tickets``, ``comments``, ``contacts`` (seed sizes),
``rate_limit`` (``(requests, seconds)`` or None), ``rate_limit_style``, ``batch_limit``, ``churn`` (a :class:`Churn`
or None), ``port``.
"""

from __future__ import annotations

from typing import Any

from hub.integrations.rest.emulator.data import Churn, RestStore
from hub.integrations.rest.emulator.server import LIMIT_STYLES, STYLES, RestEmulator

__all__ = ["EMULATOR", "LIMIT_STYLES", "STYLES", "Churn", "RestEmulator", "RestEmulatorPlugin", "RestStore"]


class RestEmulatorPlugin:
    """The :class:`hub.integrations.spec.EmulatorPlugin` of the generic REST emulator."""

    name = "rest"

    def build(self, context: Any, *, port: int = 0, tickets: int = 250, comments: int = 3, contacts: int = 20,
              rate_limit: tuple[int, float] | None = None, rate_limit_style: str = "retry_after",
              batch_limit: int = 100, churn: Churn | None = None) -> RestEmulator:
        """A REST emulator seeded from ``context.seed`` on ``context.host``, its times from ``context.clock``."""
        seed = int(getattr(context, "seed", 7))
        store = RestStore(context.clock, seed, tickets=int(tickets), comments=int(comments), contacts=int(contacts))
        state = getattr(context, "state", None)
        if state:
            store.load(state)
        return RestEmulator(store, context.clock, seed=seed, host=getattr(context, "host", "127.0.0.1"), port=port,
                            tls=getattr(context, "tls", None), rate_limit=rate_limit,
                            rate_limit_style=rate_limit_style, batch_limit=batch_limit, churn=churn)


EMULATOR = RestEmulatorPlugin()
