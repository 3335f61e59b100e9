"""Shopify: signed webhooks (the Admin API connector and emulator come with the e-commerce flows)."""

from hub.integrations.spec import Integration

integration = Integration(name="shopify", title="Shopify", package=__name__, webhooks="webhooks:SCHEME",
                          summary="signed webhooks (X-Shopify-Hmac-Sha256)")
