"""The sandbox's Zendesk Support: tickets, users and organizations, drawn from the seed's people and companies.

The sandbox builds it through ``EMULATOR`` (:class:`hub.integrations.spec.EmulatorPlugin`). Its users are the seed's
sales contacts (customers who write to support), its organizations their companies, and each user has a ticket or two.
"""

from __future__ import annotations

from hub.integrations.zendesk.emulator.seed import seed_zendesk
from hub.integrations.zendesk.emulator.server import ZendeskEmulator
from hub.integrations.zendesk.emulator.store import ZendeskStore
from hub.sandbox.context import EmulatorContext

__all__ = ["EMULATOR", "ZendeskEmulator", "ZendeskEmulatorPlugin", "ZendeskStore"]


class ZendeskEmulatorPlugin:
    """Builds the Zendesk emulator of one sandbox."""

    def build(self, context: EmulatorContext, *, port: int = 0, rate_limit: tuple[int, float] | None = (700, 60.0),
              export_rate_limit: tuple[int, float] | None = (10, 60.0), people: int | None = 40,
              job_delay: float = 0.0, hidden: dict[str, set[str]] | None = None) -> ZendeskEmulator:
        """The emulator, not started. ``rate_limit`` is the account's requests a minute (Enterprise: 700),
        ``export_rate_limit`` the incremental exports' 10 a minute (None: no limit); ``people`` caps the seeded
        users; ``job_delay`` is how many seconds a bulk job stays queued; ``hidden`` leaves fields out of every answer
        (``{"user": {"phone"}}``), as permissions do."""
        if context.state is not None:
            store = ZendeskStore.from_state(context.clock, context.state)
        else:
            store = ZendeskStore(context.clock)
            seed_zendesk(store, context.data, context.random("seed"), people)
        store.job_delay = job_delay
        emulator = ZendeskEmulator(store, context.clock, seed=context.seed, host=context.host, port=port,
                                   tls=context.tls, rate_limit=rate_limit, export_rate_limit=export_rate_limit)
        emulator.hidden = {kind: set(names) for kind, names in (hidden or {}).items()}
        return emulator


EMULATOR = ZendeskEmulatorPlugin()
