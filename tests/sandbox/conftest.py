"""Fixtures for the sandbox emulator tests: sandboxes on loopback and HTTP clients pointed at them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from hub.sandbox import Sandbox

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
API = "/services/data/v59.0"


def hubspot_client(sb: Sandbox, token: str | None = None) -> httpx.Client:
    """A keep-alive client for the HubSpot emulator with its bearer token."""
    return httpx.Client(base_url=sb.hubspot.url, headers={"Authorization": f"Bearer {token or sb.hubspot.token}"})


def salesforce_client(sb: Sandbox, token: str | None = None) -> httpx.Client:
    """A keep-alive client rooted at the Salesforce emulator's /services/data/v59.0."""
    return httpx.Client(base_url=sb.salesforce.url + API,
                        headers={"Authorization": f"Bearer {token or sb.salesforce.token}"})


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    """A read-only sandbox shared by a module's tests (no rate limits, fixed clock start)."""
    with Sandbox(seed=7, people=400, now=NOW, hubspot_rate_limit=None, hubspot_search_rate_limit=None) as sb:
        yield sb


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """A small sandbox of the test's own, for tests that change data."""
    with Sandbox(seed=3, people=120, now=NOW, hubspot_rate_limit=None, hubspot_search_rate_limit=None) as box:
        yield box


@pytest.fixture
def hs(shared: Sandbox) -> Iterator[httpx.Client]:
    """Client for the shared sandbox's HubSpot emulator."""
    with hubspot_client(shared) as client:
        yield client


@pytest.fixture
def sf(shared: Sandbox) -> Iterator[httpx.Client]:
    """Client for the shared sandbox's Salesforce emulator."""
    with salesforce_client(shared) as client:
        yield client
