"""The Sandbox: the vendor emulators, seeded from one seed, started and stopped together."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType

from hub.sandbox.chaos import Chaos
from hub.sandbox.clock import AnyClock, make_clock
from hub.sandbox.hubspot import HubSpotEmulator
from hub.sandbox.hubspot_store import HubSpotStore
from hub.sandbox.salesforce import SalesforceEmulator
from hub.sandbox.salesforce_auth import SalesforceLoginEmulator
from hub.sandbox.salesforce_store import SalesforceStore
from hub.sandbox.seed import SeedData, generate
from hub.sandbox.state import load_state, load_stripe_state, save_state
from hub.sandbox.stripe import StripeEmulator
from hub.sandbox.stripe_seed import seed_stripe
from hub.sandbox.stripe_store import StripeStore
from hub.sandbox.tls import LocalTLS


class Sandbox:
    """Local, stateful HubSpot CRM v3, Salesforce REST and Stripe emulators on loopback.

    Example::

        with Sandbox(seed=7, people=400) as sb:
            httpx.get(f"{sb.hubspot.url}/crm/v3/objects/contacts",
                      headers={"Authorization": f"Bearer {sb.hubspot.token}"})

    ``now`` fixes the clock's start (a datetime) or injects a clock (a ``() -> datetime`` callable,
    or a :class:`hub.sandbox.clock.Clock` whose ``advance()`` moves time without sleeping).
    Rate limits are ``(requests, window_seconds)``; None disables them, and a disabled HubSpot limit
    also drops its X-HubSpot-RateLimit-Max/-Remaining headers so clients do not throttle themselves.
    With ``tls=True`` both emulators serve https; trust ``ca_path`` (for requests, also set
    ``session.trust_env = False``: REQUESTS_CA_BUNDLE in the environment overrides ``session.verify``).
    With ``state_file``, vendor data survives restarts: an existing file replaces the seed's records (tokens still
    come from the seed), and ``stop()`` saves the current records to it; an unreadable file raises ValueError.
    ``chaos`` injects seeded faults into every emulator (see :mod:`hub.sandbox.chaos`); ``sb.hubspot.chaos = ...``
    changes one emulator's at runtime, ``None`` turns them off.
    Stripe (``sb.stripe``: api_base ``sb.stripe.url``, secret key ``sb.stripe.token``) delivers signed events to every
    ``(url, secret)`` in ``stripe_webhooks`` and to endpoints added later with ``sb.stripe.webhooks.add(url, secret)``.
    ``custom_fields`` adds that many custom text properties (HubSpot) and ``X__c`` fields (Salesforce) to every object,
    with the long names real ones have: 300 of them take a full pull's URL past the 16,384-byte request line both
    front ends refuse with 414. ``hubspot_hidden`` / ``salesforce_hidden`` leave fields out as a portal without those
    properties / an integration user without field-level access to them would see it (describe, SOQL, records).
    """

    def __init__(self, seed: int = 7, people: int = 400, *, tls: bool = False, host: str = "127.0.0.1",
                 hubspot_port: int = 0, salesforce_port: int = 0,
                 hubspot_rate_limit: tuple[int, float] | None = (190, 10.0),
                 hubspot_search_rate_limit: tuple[int, float] | None = (5, 1.0),
                 hubspot_daily_limit: int = 500_000, salesforce_api_limit: int = 100_000,
                 hubspot_contacts: int | None = None, salesforce_contacts: int | None = None,
                 now: datetime | Callable[[], datetime] | AnyClock | None = None,
                 state_file: Path | None = None, chaos: Chaos | None = None, stripe_port: int = 0,
                 stripe_rate_limit: tuple[int, float] | None = (25, 1.0),
                 stripe_webhooks: Sequence[tuple[str, str]] = (), custom_fields: int = 0,
                 hubspot_hidden: Sequence[str] = (), salesforce_hidden: Sequence[str] = ()) -> None:
        self.seed = seed
        self.clock: AnyClock = make_clock(now)
        self.data: SeedData = generate(seed, people, now_ms=self.clock.millis(), hubspot_contacts=hubspot_contacts,
                                       salesforce_contacts=salesforce_contacts)
        self.state_file = Path(state_file) if state_file is not None else None
        stripe_store: StripeStore | None = None
        if self.state_file is not None and self.state_file.exists():
            hubspot_store, salesforce_store = load_state(self.state_file, self.clock, custom_fields=custom_fields,
                                                         hubspot_hidden=hubspot_hidden,
                                                         salesforce_hidden=salesforce_hidden)
            stripe_store = load_stripe_state(self.state_file, self.clock, seed)
        else:
            hubspot_store = HubSpotStore(self.clock, self.data, custom_properties=custom_fields,
                                         hidden_properties=hubspot_hidden)
            salesforce_store = SalesforceStore(self.clock, self.data, custom_fields=custom_fields,
                                               hidden_fields=salesforce_hidden)
        if stripe_store is None:  # also for state files written before Stripe existed
            stripe_store = StripeStore(self.clock, seed)
            seed_stripe(stripe_store, self.data)
        self._tls = LocalTLS(host) if tls else None
        context = self._tls.context if self._tls else None
        self.ca_path: Path | None = self._tls.ca_path if self._tls else None
        self.hubspot = HubSpotEmulator(hubspot_store, self.clock, seed=seed, host=host,
                                       port=hubspot_port, tls=context, rate_limit=hubspot_rate_limit,
                                       search_rate_limit=hubspot_search_rate_limit, daily_limit=hubspot_daily_limit)
        self.salesforce = SalesforceEmulator(salesforce_store, self.clock, seed=seed, host=host,
                                             port=salesforce_port, tls=context, api_limit=salesforce_api_limit)
        # the login host is a server of its own: its token answer sends clients to the instance (sb.salesforce.url)
        self.salesforce_login = SalesforceLoginEmulator(self.salesforce.oauth_token, host=host, tls=context)
        self.stripe = StripeEmulator(stripe_store, self.clock, seed=seed, host=host, port=stripe_port, tls=context,
                                     rate_limit=stripe_rate_limit)
        for url, secret in stripe_webhooks:
            self.stripe.webhooks.add(url, secret)
        # each emulator draws its own faults and keeps its own counts (sb.hubspot.chaos.injected)
        self.hubspot.chaos = chaos.fresh() if chaos else None
        self.salesforce.chaos = chaos.fresh() if chaos else None
        self.stripe.chaos = chaos.fresh() if chaos else None
        self._stopped = threading.Event()

    def start(self) -> Sandbox:
        """Bind every emulator's port and serve from background threads; returns self."""
        self._stopped.clear()
        if self._tls is not None:
            self._tls.write_ca()
        started = []
        try:
            for emulator in (self.hubspot, self.salesforce, self.salesforce_login, self.stripe):
                emulator.start()
                started.append(emulator)
        except OSError:
            for emulator in started:
                emulator.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every server, close their connections, save to ``state_file`` (if any) and delete the CA file."""
        self.hubspot.stop()
        self.salesforce.stop()
        self.salesforce_login.stop()
        self.stripe.stop()
        if self.state_file is not None:
            save_state(self.state_file, self.hubspot.store, self.salesforce.store, self.stripe.store)
        if self._tls is not None:
            self._tls.remove_ca()
        self._stopped.set()

    def serve_forever(self) -> None:
        """Serve until KeyboardInterrupt (or stop() from another thread), then stop cleanly."""
        self.start()
        try:
            while not self._stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
