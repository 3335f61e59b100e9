"""Local emulators of the vendor APIs hub talks to, for tests and demos: a generic engine (HTTP core, chaos, state,
seed data, clock, TLS, rate limits) that builds each integration's emulator plugin (``hub/integrations/<name>/
emulator/``, see :mod:`hub.sandbox.context`)."""

from __future__ import annotations

from hub.sandbox.sandbox import Sandbox

__all__ = ["Sandbox"]
