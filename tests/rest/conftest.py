"""Fixtures for the REST engine's tests: the sandbox's generic REST emulator on loopback, and a client for it."""

from __future__ import annotations

import types
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from hub.integrations.rest.emulator import EMULATOR, RestEmulator
from hub.sandbox.clock import Clock

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def emulator_context(seed: int = 7) -> object:
    """The sandbox context an emulator plugin is built from (clock, seed, host)."""
    try:
        from hub.sandbox.context import EmulatorContext  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # the sandbox's own context object is not on this branch yet: any object with the attributes
        return types.SimpleNamespace(name="rest", clock=Clock(NOW), seed=seed, host="127.0.0.1", tls=None, state=None)
    return EmulatorContext(name="rest", seed=seed, clock=Clock(NOW), data=None)  # type: ignore[arg-type]


@pytest.fixture
def rest_emulator() -> Iterator[RestEmulator]:
    """A started REST emulator of the test's own: 250 tickets with comments, 20 contacts, no rate limit."""
    emulator = EMULATOR.build(emulator_context())
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def rest_api(rest_emulator: RestEmulator) -> Iterator[httpx.Client]:
    """A keep-alive httpx client for ``rest_emulator`` with its bearer token."""
    with httpx.Client(base_url=rest_emulator.url, timeout=10,
                      headers={"Authorization": f"Bearer {rest_emulator.auth.token}"}) as client:
        yield client
