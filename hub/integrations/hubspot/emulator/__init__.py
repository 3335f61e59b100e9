"""The sandbox's HubSpot: a stateful CRM portal (contacts, companies, deals, tickets, line items, a custom object;
search, batch, schemas, v4 associations, OAuth) on loopback.

The sandbox builds it through ``EMULATOR`` (:class:`hub.integrations.spec.EmulatorPlugin`); HubSpot plays the seed's
``"marketing"`` role (:mod:`hub.sandbox.seed`).
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.integrations.hubspot.emulator.server import HubSpotEmulator
from hub.integrations.hubspot.emulator.store import HubSpotStore
from hub.sandbox.context import EmulatorContext
from hub.sandbox.seed import MARKETING

__all__ = ["EMULATOR", "HubSpotEmulator", "HubSpotEmulatorPlugin", "HubSpotStore"]


class HubSpotEmulatorPlugin:
    """Builds the HubSpot emulator of one sandbox."""

    def build(self, context: EmulatorContext, *, port: int = 0,
              rate_limit: tuple[int, float] | None = (190, 10.0),
              search_rate_limit: tuple[int, float] | None = (5, 1.0), daily_limit: int = 500_000,
              contacts: int | None = None, hidden: Sequence[str] = ()) -> HubSpotEmulator:
        """The emulator, not started. ``rate_limit`` is HubSpot's ten-secondly window, ``search_rate_limit`` the
        search endpoints' per-second one (None disables a limit, and a disabled ``rate_limit`` also drops the
        X-HubSpot-RateLimit-Max/-Remaining headers, so clients do not throttle themselves); ``contacts`` sizes the
        portal (bulk rows beyond the seed's people); ``hidden`` leaves properties out as a portal without them."""
        context.data.resize(MARKETING, contacts)
        options = {"custom_properties": context.custom_fields, "hidden_properties": hidden}
        if context.state is not None:
            store = HubSpotStore.from_state(context.clock, context.state, **options)
        else:
            store = HubSpotStore(context.clock, context.data, **options)
        return HubSpotEmulator(store, context.clock, seed=context.seed, host=context.host, port=port, tls=context.tls,
                               rate_limit=rate_limit, search_rate_limit=search_rate_limit, daily_limit=daily_limit)


EMULATOR = HubSpotEmulatorPlugin()
