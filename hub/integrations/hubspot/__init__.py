"""HubSpot: CRM v3 objects, OAuth, the push target, webhooks v3 and the sandbox's emulator."""

from hub.integrations.spec import ApiVersion, Integration

integration = Integration(
    name="hubspot", title="HubSpot", package=__name__,
    connector="source:HubSpot", pusher="target:HubSpotPusher", webhooks="webhooks:SCHEME", emulator="emulator:EMULATOR",
    summary="CRM v3 contacts, companies, deals, tickets, line items, custom objects (v4 associations), both ways; "
            "signed webhooks v3",
    api_version=ApiVersion("v3"))   # CRM objects, properties, search and batch under /crm/v3
