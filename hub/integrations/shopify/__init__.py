"""Shopify: orders, customers and products from the Admin GraphQL API, signed webhooks and the sandbox's emulator."""

from hub.integrations.spec import ApiVersion, Integration

integration = Integration(
    name="shopify", title="Shopify", package=__name__,
    connector="source:Shopify", webhooks="webhooks:SCHEME", emulator="emulator:EMULATOR",
    summary="orders, customers and products (Admin GraphQL API, paced by query cost); signed webhooks",
    # the path's version (/admin/api/<version>/graphql.json); any stable YYYY-MM may be pinned (source.check_config)
    api_version=ApiVersion("2025-01", supported=None))
