"""Fixtures for the Shopify integration: a sandbox with only the Shopify emulator, the official SDK pointed at it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import shopify

from hub.sandbox import Sandbox
from hub.sandbox.clock import Clock

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
VERSION = "2025-01"


def sdk(emulator: Any, token: str | None = None) -> Callable[..., dict[str, Any]]:
    """``shopify.GraphQL().execute`` against the emulator, parsed: the SDK builds
    ``<protocol>://<shop>.<myshopify_domain>:<port>/admin/api/<version>``, so shop "127" and domain "0.0.1" give
    http://127.0.0.1:<port>."""
    shopify.Session.setup(protocol="http", myshopify_domain="0.0.1", port=emulator.port)
    session = shopify.Session("127", VERSION, token or emulator.token)
    shopify.ShopifyResource.activate_session(session)

    def execute(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return json.loads(shopify.GraphQL().execute(query, variables))

    return execute


@pytest.fixture
def shop() -> Iterator[Sandbox]:
    """A sandbox of the test's own with the Shopify emulator on a frozen clock (the bucket refills only when the test
    advances it), the Standard plan's bucket."""
    with Sandbox(seed=5, people=80, now=Clock(NOW, frozen=True), only={"shopify"}) as sb:
        yield sb


@pytest.fixture
def live_shop() -> Iterator[Sandbox]:
    """A sandbox whose clock ticks (the bucket refills in real time) with a fast bucket, for ingests."""
    with Sandbox(seed=5, people=80, now=NOW, only={"shopify"}, shopify_restore_rate=20000.0,
                 shopify_bucket_size=20000.0) as sb:
        yield sb


def shop_project(make_project: Callable[..., Path], sb: Sandbox, *, token: str | None = None,
                 extra: str = "") -> Path:
    emulator = sb.emulators["shopify"]
    return make_project(f"""
        [connections.shopify]
        type = "shopify"
        base_url = "{emulator.url}"
        {extra}
        """, f"""
        [connections.shopify]
        token = "{token or emulator.token}"
        """)
