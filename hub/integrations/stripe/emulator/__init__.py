"""The sandbox's Stripe: a test-mode account (customers, invoices, charges, payment intents, events, webhooks).

The sandbox builds it through ``EMULATOR`` (:class:`hub.integrations.spec.EmulatorPlugin`). Its customers are drawn
from the seed's people of every role, so billing joins the CRM data by email (:mod:`.seed`).
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.integrations.stripe.emulator.seed import seed_stripe
from hub.integrations.stripe.emulator.server import StripeEmulator
from hub.integrations.stripe.emulator.store import StripeStore
from hub.sandbox.context import EmulatorContext

__all__ = ["EMULATOR", "StripeEmulator", "StripeEmulatorPlugin", "StripeStore"]


class StripeEmulatorPlugin:
    """Builds the Stripe emulator of one sandbox."""

    def build(self, context: EmulatorContext, *, port: int = 0, rate_limit: tuple[int, float] | None = (25, 1.0),
              webhooks: Sequence[tuple[str, str]] = ()) -> StripeEmulator:
        """The emulator, not started. ``rate_limit`` is the test-mode key's 25 requests a second (None: no limit);
        signed events go to every ``(url, secret)`` in ``webhooks`` and to endpoints added later with
        ``emulator.webhooks.add(url, secret)``."""
        if context.state is not None:
            store = StripeStore.from_state(context.clock, context.state, context.seed)
        else:
            store = StripeStore(context.clock, context.seed)
            seed_stripe(store, context.data)
        emulator = StripeEmulator(store, context.clock, seed=context.seed, host=context.host, port=port,
                                  tls=context.tls, rate_limit=rate_limit)
        for url, secret in webhooks:
            emulator.webhooks.add(url, secret)
        return emulator


EMULATOR = StripeEmulatorPlugin()
