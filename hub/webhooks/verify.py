"""Webhook signature verification: the entry point, which finds each sender's scheme through the registry.

Every integration with a ``webhooks`` part (:mod:`hub.integrations`) brings its own scheme; a connection whose
integration has none is taken to send Standard Webhooks (:mod:`hub.webhooks.standard`). A scheme's ``verify``
returns None for an authentic request and raises :class:`SignatureError` otherwise, with a short ``reason`` code
(``missing_header``, ``malformed_header``, ``mismatch``, ``stale``, ``bad_secret``) and a message saying what to
check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from hub.errors import SignatureError, UnknownNameError
from hub.webhooks.standard import NAME as STANDARD, SCHEME as STANDARD_SCHEME

if TYPE_CHECKING:
    from hub.integrations.spec import WebhookScheme

__all__ = ["STANDARD", "SignatureError", "scheme_for", "scheme_named", "schemes", "verify"]


def schemes() -> dict[str, WebhookScheme]:
    """Every scheme hub knows, by name: each integration's (named after it), and ``standard_webhooks``."""
    from hub.integrations import with_part

    found: dict[str, WebhookScheme] = {name: integration.load("webhooks")
                                       for name, integration in sorted(with_part("webhooks").items())}
    found.setdefault(STANDARD, STANDARD_SCHEME)
    return found


def scheme_named(name: str) -> WebhookScheme:
    """The scheme called ``name`` (an integration's name, or ``standard_webhooks``); an unknown name fails with the
    closest known one."""
    if name == STANDARD:
        return STANDARD_SCHEME
    from hub.integrations import with_part

    integration = with_part("webhooks").get(name)
    if integration is None:
        raise UnknownNameError("webhook signature scheme", name, schemes())
    return integration.load("webhooks")


def scheme_for(connection_type: str) -> str:
    """The name of the scheme a connection of ``connection_type`` is verified with: its integration's own, else
    Standard Webhooks."""
    from hub.integrations import with_part

    return connection_type if connection_type in with_part("webhooks") else STANDARD


def verify(scheme: str, body: bytes, headers: Mapping[str, str], secret: str, *, method: str = "POST",
           url: str = "", now: float | None = None) -> None:
    """Verify a webhook with the scheme called ``scheme`` (see :func:`scheme_named`); ``method`` and ``url`` are the
    request's, for schemes that sign them; ``now`` fixes the clock (tests)."""
    scheme_named(scheme).verify(body, headers, secret, method=method, url=url, now=now)
