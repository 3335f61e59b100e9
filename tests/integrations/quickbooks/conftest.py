"""Fixtures for the QuickBooks integration: the sandbox's QuickBooks over real loopback HTTP, and the official SDK
(python-quickbooks with intuit-oauth's AuthClient) pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.sandbox import Sandbox

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """A sandbox with only QuickBooks, its limits on (500 a minute, 10 at once), as the real API has them."""
    with Sandbox(seed=4, people=60, only=["quickbooks"]) as box:
        yield box


@pytest.fixture
def tls_sb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The same over https with the sandbox's own CA: requests-oauthlib refuses OAuth over plain http, and the SDK
    (requests) trusts the CA through REQUESTS_CA_BUNDLE."""
    with Sandbox(seed=4, people=60, only=["quickbooks"], tls=True) as box:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(box.ca_path))
        yield box


def sdk(sb: Sandbox, refresh_token: str | None = None) -> Any:
    """A python-quickbooks client authorized through intuit-oauth against the emulator.

    intuit-oauth's ``AuthClient`` takes any ``environment`` other than sandbox/production as the URL of the OpenID
    discovery document (``intuitlib/utils.py`` ``get_discovery_doc``), so it finds the emulator's token endpoint
    there; python-quickbooks builds every URL from ``api_url_v3`` (``quickbooks/client.py``), set on the instance.
    """
    from intuitlib.client import AuthClient
    from quickbooks import QuickBooks

    qb_emulator = sb.quickbooks
    auth = AuthClient(qb_emulator.auth.client_id, qb_emulator.auth.client_secret, "http://localhost/callback",
                      f"{qb_emulator.url}/.well-known/openid_configuration")
    client = QuickBooks(auth_client=auth, refresh_token=refresh_token or qb_emulator.auth.authorize(),
                        company_id=qb_emulator.realm, minorversion=75)
    client.api_url_v3 = f"{qb_emulator.url}/v3"
    return client


def project(make_project: Callable[..., Path], sb: Sandbox, *, extra: str = "", name: str = "proj") -> Path:
    """A project with a ``books`` connection to the sandbox's QuickBooks (a refresh token of its own)."""
    q = sb.quickbooks
    return make_project(f"""
        [connections.books]
        type = "quickbooks"
        base_url = "{q.url}"
        auth_url = "{q.url}"
        realm_id = "{q.realm}"
        streams = ["customers", "invoices", "payments", "items"]
        {extra}
        """, f"""
        [connections.books]
        client_id = "{q.auth.client_id}"
        client_secret = "{q.auth.client_secret}"
        refresh_token = "{q.auth.authorize()}"
        """, name=name)
