"""Zendesk Support: tickets, users and organizations both ways, signed webhooks and the sandbox's emulator."""

from hub.integrations.spec import ApiVersion, Integration

integration = Integration(
    name="zendesk", title="Zendesk", package=__name__,
    connector="source:Zendesk", pusher="target:ZendeskPusher", webhooks="webhooks:SCHEME", emulator="emulator:EMULATOR",
    summary="Support tickets, users and organizations, both ways; signed webhooks",
    api_version=ApiVersion("v2"))   # every path is under /api/v2
