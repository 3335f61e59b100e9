"""Receiving vendor webhooks: signature verification (``hub.webhooks.verify``)."""

from __future__ import annotations
