"""Delivering ``http`` and ``notify`` actions: signed, retried with backoff, dead-lettered when they cannot land.

``http`` posts JSON signed with Standard Webhooks (the ``standardwebhooks`` package): ``webhook-id`` (the same for
every attempt of one event's action: the receiver's idempotency key), ``webhook-timestamp`` (of the attempt) and
``webhook-signature``. ``notify`` posts ``{"text": ...}`` (Slack-compatible incoming webhooks; no signature).

Outcomes per answer: 2xx is success. 429, 5xx, a timeout or a broken connection is retried after the backoff (1 s,
doubling, or the answer's ``Retry-After`` when longer, at most 5 minutes), up to the trigger's ``retries``. Any other
answer (3xx, 4xx: the endpoint refuses this body) is final at once. An action that does not succeed becomes a dead
letter in ``_hub.action_dead_letters`` (trigger, action, event id, webhook-id, last HTTP status, attempts, reason): it
is not retried by itself; `hub status` lists them. A timeout is an unknown outcome: the retry carries the same
``webhook-id``, so a receiver that deduplicates on it (as the specification asks) applies it once.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from hub.secrets import redact
from hub.warehouse.sql import qualified, quote

if TYPE_CHECKING:
    import httpx

    from hub.actions.config import ActionDef

DEAD_LETTERS = ("_hub", "action_dead_letters")
MAX_WAIT_S = 300.0


@dataclass
class Delivery:
    """What one action's delivery did."""

    status: str                 # success | dead_letter
    attempts: int = 0
    http_status: int | None = None
    detail: str | None = None
    error: str | None = None
    message_id: str = ""


def message_id(trigger: str, action: str, event_id: str) -> str:
    """The ``webhook-id`` of one event's action: stable across retries, restarts and crashes."""
    return "msg_" + hashlib.sha256(f"{trigger}\x00{action}\x00{event_id}".encode()).hexdigest()[:32]


def payload_of(action: ActionDef, context: dict[str, Any], default: dict[str, Any]) -> bytes:
    """The JSON body: the rendered template, or ``default`` (http) / a ``text`` line (notify)."""
    from hub.actions.template import render, text

    if action.type == "notify":
        line = text(action.text, context) if action.text else default.get("text", "")
        return orjson.dumps({"text": line})
    body = render(action.body, context) if action.body is not None else default
    return orjson.dumps(body, default=str)


def deliver(action: ActionDef, body: bytes, msg_id: str, http: httpx.Client, *, retries: int, backoff: float,
            stop: threading.Event) -> Delivery:
    """Post ``body`` until it lands, a final refusal, or the retries run out (``stop`` cuts the waits short)."""
    import httpx

    result = Delivery("dead_letter", message_id=msg_id)
    wait = 0.0
    for n in range(retries + 1):
        if n and stop.wait(min(MAX_WAIT_S, max(wait, backoff * 2 ** (n - 1)))):
            result.error = (result.error or "") + " (the server stopped before the next retry)"
            return result
        result.attempts += 1
        wait = 0.0
        try:
            response = http.post(action.url.reveal(), content=body, headers=_headers(action, body, msg_id),
                                 timeout=action.timeout)
        except httpx.TimeoutException:
            result.http_status, result.error = None, f"no answer within {action.timeout:g} s (unknown outcome)"
            continue
        except httpx.HTTPError as exc:
            result.http_status, result.error = None, f"unreachable: {type(exc).__name__}"
            continue
        result.http_status = response.status_code
        if 200 <= response.status_code < 300:
            result.status, result.error = "success", None
            result.detail = f"HTTP {response.status_code} (webhook-id {msg_id})"
            return result
        result.error = f"answered HTTP {response.status_code}: {redact(response.text[:200].strip())}"
        if response.status_code == 429 or response.status_code >= 500:   # the spec: honour Retry-After (503 too)
            wait = _retry_after(response.headers.get("retry-after"))
        else:
            result.error += " (not retried: the endpoint refuses this request)"
            return result
    return result


def _headers(action: ActionDef, body: bytes, msg_id: str) -> dict[str, str]:
    headers = {"content-type": "application/json", "user-agent": "hub-actions"}
    if action.type == "http" and action.signing_secret is not None:
        from standardwebhooks import Webhook

        at = datetime.now(UTC).replace(microsecond=0)
        headers.update({"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
                        "webhook-signature": Webhook(action.signing_secret.reveal()).sign(msg_id, at, body.decode())})
    return headers


def _retry_after(value: str | None) -> float:
    try:
        return min(MAX_WAIT_S, max(0.0, float(value or 0)))
    except ValueError:
        return 0.0


def bury(wh: Any, rows: list[tuple[str, str, str, str, int | None, int, str]]) -> None:
    """Record dead letters: (trigger, action, event id, webhook-id, last HTTP status, attempts, reason), through the
    warehouse handle ``wh`` (either engine; inside the caller's transaction)."""
    if not rows:
        return
    wh.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(DEAD_LETTERS[0])}")
    wh.execute(f"CREATE TABLE IF NOT EXISTS {qualified(*DEAD_LETTERS)} (trigger VARCHAR NOT NULL, action VARCHAR "
               "NOT NULL, event_id VARCHAR NOT NULL, message_id VARCHAR NOT NULL, http_status INTEGER, attempts "
               "INTEGER NOT NULL, reason VARCHAR NOT NULL, failed_at TIMESTAMPTZ NOT NULL, "
               "PRIMARY KEY (message_id))")
    for row in rows:   # one statement per letter: a message id may repeat, and the latest attempt wins
        wh.execute(f"INSERT INTO {qualified(*DEAD_LETTERS)} VALUES (?, ?, ?, ?, ?, ?, ?, now()) "
                   "ON CONFLICT (message_id) DO UPDATE SET http_status = excluded.http_status, attempts = "
                   "excluded.attempts, reason = excluded.reason, failed_at = excluded.failed_at",
                   [*row[:6], redact(row[6])])
