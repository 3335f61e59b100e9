"""Source connectors: one module per vendor API, over the shared HTTP client layer in :mod:`hub.sources.http`."""
