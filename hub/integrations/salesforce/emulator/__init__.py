"""The sandbox's Salesforce: a stateful org's REST API (sObjects, SOQL, composite collections) and its login host.

The sandbox builds it through ``EMULATOR`` (:class:`hub.integrations.spec.EmulatorPlugin`); Salesforce plays the
seed's ``"sales"`` role (:mod:`hub.sandbox.seed`). The login host is a server of its own (``sb.salesforce_login``):
its token answer sends clients to the instance (``sb.salesforce.url``).
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.integrations.salesforce.emulator.auth import SalesforceLoginEmulator
from hub.integrations.salesforce.emulator.server import SalesforceEmulator
from hub.integrations.salesforce.emulator.store import SalesforceStore
from hub.sandbox.context import EmulatorContext
from hub.sandbox.seed import SALES

__all__ = ["EMULATOR", "SalesforceEmulator", "SalesforceEmulatorPlugin", "SalesforceLoginEmulator",
           "SalesforceStore"]


class SalesforceEmulatorPlugin:
    """Builds the Salesforce emulator (instance and login host) of one sandbox."""

    def build(self, context: EmulatorContext, *, port: int = 0, login_port: int = 0, api_limit: int = 100_000,
              contacts: int | None = None, hidden: Sequence[str] = ()) -> SalesforceEmulator:
        """The instance, not started; the login host is attached as ``<name>_login``. ``api_limit`` is the org's
        DailyApiRequests; ``contacts`` sizes the org (bulk rows beyond the seed's people); ``hidden`` leaves fields
        out as an integration user without field-level access to them would see it (describe, SOQL, records)."""
        context.data.resize(SALES, contacts)
        options = {"custom_fields": context.custom_fields, "hidden_fields": hidden}
        if context.state is not None:
            store = SalesforceStore.from_state(context.clock, context.state, **options)
        else:
            store = SalesforceStore(context.clock, context.data, **options)
        instance = SalesforceEmulator(store, context.clock, seed=context.seed, host=context.host, port=port,
                                      tls=context.tls, api_limit=api_limit)
        context.attach(f"{context.name}_login", SalesforceLoginEmulator(instance.oauth_token, host=context.host,
                                                                        port=login_port, tls=context.tls))
        return instance


EMULATOR = SalesforceEmulatorPlugin()
