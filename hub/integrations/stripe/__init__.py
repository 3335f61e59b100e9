"""Stripe: customers, invoices and events, signed webhooks and the sandbox's emulator."""

from hub.integrations.spec import ApiVersion, Integration

integration = Integration(
    name="stripe", title="Stripe", package=__name__,
    connector="source:Stripe", webhooks="webhooks:SCHEME", emulator="emulator:EMULATOR",
    summary="customers, invoices and events; signed webhooks",
    api_version=ApiVersion("2024-06-20"))   # sent as Stripe-Version on every request
