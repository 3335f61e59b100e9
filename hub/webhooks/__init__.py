"""Receiving webhooks: the generic half. Each integration's folder holds its own scheme (``webhooks.py``, exporting
``SCHEME``); this package holds what every scheme shares: the base class (:mod:`hub.webhooks.scheme`), HMAC and
header helpers (:mod:`hub.webhooks.signing`), Standard Webhooks for senders without a scheme of their own
(:mod:`hub.webhooks.standard`), the entry point that finds a connection's scheme through the registry
(:mod:`hub.webhooks.verify`), and the facts other layers share (below).

``hub serve`` lands every connection's webhook events in ``raw_<connection>.events`` (:mod:`hub.serve.flusher`).
That table is append-only: an event never changes, and one that arrived by webhook may be older than any the vendor
still lists, so no ingest may replace or empty it (:mod:`hub.ingest` merges into it instead).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from hub.config import ConnectionConfig

#: the raw table every connection's webhook events land in; append-only
EVENTS_TABLE = "events"
SECRET_KEY = "webhook_secret"


def webhook_only(connection: ConnectionConfig, api_secret_keys: tuple[str, ...]) -> bool:
    """Whether ``connection`` only receives webhooks: a webhook_secret and none of its API's secrets."""
    return bool(connection.secrets.get(SECRET_KEY)) and not any(connection.secrets.get(k) for k in api_secret_keys)


MASK = "***"
#: key names whose values are credentials wherever they appear in a payload (a payment intent's ``client_secret``,
#: say): kept out of the warehouse and the dead letters
_SECRET_NAMES = ("secret", "password", "api_key", "access_token", "refresh_token")
_SECRET_BYTES = tuple(name.encode() for name in _SECRET_NAMES)


def masked_json(value: Any) -> str:
    """``value`` (parsed JSON) as JSON text with secret-named values masked; payloads naming no secret (nearly all)
    are serialized once and never walked."""
    text = orjson.dumps(value)
    lowered = text.lower()
    for name in _SECRET_BYTES:
        if name in lowered:
            return orjson.dumps(mask_secrets(value)).decode()
    return text.decode()


def mask_secrets(value: Any) -> Any:
    """``value`` (parsed JSON) with every secret-named key's value replaced by ``***``."""
    if isinstance(value, dict):
        return {k: MASK if isinstance(k, str) and v is not None and _secret_name(k) else mask_secrets(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


@functools.lru_cache(maxsize=4096)
def _secret_name(key: str) -> bool:
    lowered = key.lower()
    return any(lowered == name or lowered.endswith("_" + name) for name in _SECRET_NAMES)
