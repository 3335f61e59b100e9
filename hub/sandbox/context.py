"""What the sandbox hands an emulator plugin, and what it expects back.

The sandbox is a generic engine: it knows no vendor. Each integration that ships an emulator names an object with a
``build(context, **options)`` method (:class:`hub.integrations.spec.EmulatorPlugin`). For every such integration the
:class:`hub.sandbox.Sandbox` makes one :class:`EmulatorContext` (the shared clock, seed data, host, TLS, this
emulator's own chaos and saved state) and calls ``build`` with the ``<name>_<option>`` keyword arguments it was given,
prefix removed. ``build`` returns an :class:`Emulator`, usually a :class:`hub.sandbox.server.HTTPEmulator` subclass.

A plugin, in full::

    class ToyPlugin:
        def build(self, context: EmulatorContext, *, port: int = 0) -> HTTPEmulator:
            emulator = ToyEmulator(host=context.host, port=port, tls=context.tls)
            if context.state is not None:        # this emulator's section of the state file
                emulator.load(context.state)
            return emulator

    EMULATOR = ToyPlugin()
"""

from __future__ import annotations

import random
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from hub.sandbox.chaos import Chaos
    from hub.sandbox.clock import AnyClock
    from hub.sandbox.seed import SeedData


@runtime_checkable
class Emulator(Protocol):
    """What ``build`` returns: a server the sandbox starts, stops, injects faults into and saves.

    :class:`hub.sandbox.server.HTTPEmulator` implements all of it; override ``to_state`` to survive restarts and
    ``credentials`` to have ``hub sandbox`` print what a connection needs.
    """

    #: seeded fault injection, set by the sandbox (None: no faults); tests may replace it at runtime
    chaos: Chaos | None

    @property
    def url(self) -> str:
        """Base URL of the running server, without a trailing slash."""

    def start(self) -> None:
        """Bind the port and serve from a background thread."""

    def stop(self) -> None:
        """Stop serving and release the port."""

    def to_state(self) -> Any:
        """The emulator's data as JSON-ready values, saved as its section of the state file; None saves nothing."""

    def credentials(self) -> dict[str, str]:
        """Secret keys of a connection to this emulator (``{"token": ...}``), printed by ``hub sandbox``."""


@dataclass
class EmulatorContext:
    """Everything one emulator shares with the sandbox; one per emulator, made fresh for every sandbox.

    ``name`` is the integration's name (the option prefix and ``sb.emulators`` key). ``data`` is the seed data every
    emulator draws from: people and companies as each role of system holds them (``data.contacts["marketing"]``,
    ``data.contacts["sales"]``); see :mod:`hub.sandbox.seed`. ``state`` is this emulator's section of the sandbox's
    state file, or None when it starts from the seed. ``chaos`` is this emulator's own copy of the fault settings
    (None: no faults); the sandbox sets it on the returned emulator. ``custom_fields`` asks for that many extra
    custom text fields on every object, as real accounts accumulate them.
    """

    name: str
    seed: int
    clock: AnyClock
    data: SeedData
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    chaos: Chaos | None = None
    state: Any = None
    custom_fields: int = 0
    #: further servers the emulator needs (a separate login host, say), by attribute name; see :meth:`attach`
    companions: dict[str, Emulator] = field(default_factory=dict)

    def attach(self, name: str, server: Emulator) -> None:
        """Register another server of this emulator: the sandbox starts and stops it too and exposes it as
        ``sb.<name>`` (``name`` should start with the emulator's own name)."""
        if name in self.companions:
            raise ValueError(f"emulator {self.name} attached two servers called {name!r}")
        self.companions[name] = server

    def random(self, purpose: str = "") -> random.Random:
        """A random generator seeded from the sandbox's seed, this emulator's name and ``purpose``: the same seed
        gives the same tokens and ids, and two emulators never draw in lockstep."""
        return random.Random(f"{self.seed}:{self.name}:{purpose}")
