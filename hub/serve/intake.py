"""From an HTTP request to inbox events: verify the sender's signature, then split the body into events with ids.

The scheme follows the connection's type: the integration's own (its ``webhooks`` part, found through the registry
by :func:`hub.webhooks.verify.scheme_for`), else Standard Webhooks. The secret is the connection's
``webhook_secret`` (``HUB__CONNECTIONS__<NAME>__WEBHOOK_SECRET`` or secrets.toml). Where each sender puts its event
ids (the dedup key), and how one request splits into events, is the scheme's :meth:`events`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hub.errors import BadEventError
from hub.serve.inbox import InboxEvent
from hub.webhooks.standard import NAME as STANDARD
from hub.webhooks.verify import scheme_for, scheme_named

if TYPE_CHECKING:
    from hub.config import ConnectionConfig
    from hub.integrations.spec import WebhookScheme

__all__ = ["STANDARD", "BadEventError", "Receiver", "parse"]


@dataclass(frozen=True)
class Receiver:
    """What hub needs to accept one connection's webhooks: its name, signature scheme (by name) and secret."""

    connection: str
    scheme: str
    secret: str = field(repr=False)
    #: the scheme object, looked up once here rather than on every request
    handler: WebhookScheme = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "handler", scheme_named(self.scheme))

    @classmethod
    def of(cls, connection: ConnectionConfig) -> Receiver:
        """The receiver of a configured connection; its webhook_secret must be set (SecretMissingError says where)."""
        return cls(connection.name, scheme_for(connection.type), connection.secret("webhook_secret").reveal())

    def accept(self, body: bytes, headers: Mapping[str, str], *, url: str = "") -> list[InboxEvent]:
        """Verify the request (raises SignatureError) and return its events (raises BadEventError)."""
        handler = self.handler
        handler.verify(body, headers, self.secret, method="POST", url=url, now=None)
        return handler.events(self.connection, body, headers)


def parse(scheme: str, connection: str, body: bytes, headers: Mapping[str, str]) -> list[InboxEvent]:
    """The events in a verified request body, read by the scheme called ``scheme``; ``headers`` keys lower-case."""
    return scheme_named(scheme).events(connection, body, headers)
