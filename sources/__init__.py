"""Source connectors: one module per vendor API, over the shared HTTP client layer in :mod:`hub.sources.http`."""

import sys

# httpx's __init__ imports its command-line tool (httpx._main) whenever click is installed, and with it rich and
# pygments: half of what importing httpx costs (measured: 0.16 s of CPU -> 0.085 s), paid by every `hub status`,
# `hub runs` and `hub ingest`. hub never runs that tool; without the module httpx falls back to a stub that says the
# CLI is not installed. Only when httpx is not loaded yet, and only for this process.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
