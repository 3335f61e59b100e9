"""QuickBooks Online: customers, invoices, payments, items and credit memos both ways, webhooks, the emulator."""

from hub.integrations.spec import ApiVersion, Integration

integration = Integration(
    name="quickbooks", title="QuickBooks Online", package=__name__,
    connector="source:QuickBooks", pusher="target:QuickBooksPusher", webhooks="webhooks:SCHEME",
    emulator="emulator:EMULATOR",
    summary="Accounting API v3: customers, invoices and payments both ways (batch, requestid); CDC; webhooks",
    # sent as ?minorversion= on every request; Intuit retired minor versions 1-74 (Aug 2025): 75 is the base now
    api_version=ApiVersion("75", supported=None, lifecycle="source:minorversion_lifecycle"))
