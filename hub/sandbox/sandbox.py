"""The Sandbox: every registered emulator, seeded from one seed, started and stopped together.

The sandbox names no vendor. It loops over the integrations that ship an emulator
(``hub.integrations.with_part("emulator")``), hands each plugin an :class:`hub.sandbox.context.EmulatorContext` and
the keyword arguments meant for it, and keeps what ``build`` returns in ``sb.emulators[name]``.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from hub.errors import UnknownNameError
from hub.sandbox.chaos import Chaos
from hub.sandbox.clock import AnyClock, make_clock
from hub.sandbox.context import Emulator, EmulatorContext
from hub.sandbox.seed import SeedData, generate
from hub.sandbox.state import corrupt_section, load_state, save_state
from hub.sandbox.tls import LocalTLS

if TYPE_CHECKING:
    from hub.integrations.spec import EmulatorPlugin

#: what a corrupt state section makes a plugin's loader raise (its ``from_state`` reading a changed layout)
_CORRUPT = (KeyError, IndexError, TypeError, ValueError, AttributeError)


class Sandbox:
    """Local, stateful emulators of the vendor APIs hub talks to, on loopback; one per integration that has one.

    Example::

        with Sandbox(seed=7, people=400, only={"acme"}, acme_port=8001) as sb:
            emulator = sb.emulators["acme"]          # also sb.acme
            httpx.get(f"{emulator.url}/v1/contacts",
                      headers={"Authorization": f"Bearer {emulator.credentials()['token']}"})

    Every other keyword argument is ``<name>_<option>``: it goes to the emulator called ``name`` as ``option``
    (``acme_rate_limit=None`` calls the acme plugin's ``build(context, rate_limit=None)``); each plugin's
    ``build`` documents its options. ``only`` (a set of names) builds just those emulators; options for the others
    are ignored, so one set of options serves every selection. An unknown name or option fails with the closest one.

    ``now`` fixes the clock's start (a datetime) or injects a clock (a ``() -> datetime`` callable, or a
    :class:`hub.sandbox.clock.Clock` whose ``advance()`` moves time without sleeping). With ``tls=True`` every
    emulator serves https; trust ``ca_path`` (for requests, also set ``session.trust_env = False``:
    REQUESTS_CA_BUNDLE in the environment overrides ``session.verify``). With ``state_file``, vendor data survives
    restarts: each emulator's section of an existing file replaces the seed's records (tokens still come from the
    seed), ``stop()`` saves every emulator's current records to it, and a section that cannot be read raises
    ValueError naming the file. ``chaos`` injects seeded faults into every emulator, each with its own draws (see
    :mod:`hub.sandbox.chaos`); ``sb.emulators[name].chaos = ...`` changes one emulator's at runtime, ``None`` turns
    them off. ``custom_fields`` adds that many long-named custom text fields to every object of every emulator:
    300 of them take a full pull's URL past the 16,384-byte request line front ends refuse with 414.
    """

    def __init__(self, seed: int = 7, people: int = 400, *, tls: bool = False, host: str = "127.0.0.1",
                 now: datetime | Callable[[], datetime] | AnyClock | None = None, state_file: Path | None = None,
                 chaos: Chaos | None = None, custom_fields: int = 0, only: Collection[str] | None = None,
                 **options: Any) -> None:
        self.seed = seed
        self.clock: AnyClock = make_clock(now)
        self.data: SeedData = generate(seed, people, now_ms=self.clock.millis())
        self.state_file = Path(state_file) if state_file is not None else None
        plugins = emulator_plugins(only)
        per_emulator = split_options(options)
        # sections of emulators left out by only= are kept, so a partial sandbox does not erase them on stop()
        self._saved: dict[str, Any] = {}
        if self.state_file is not None and self.state_file.exists():
            self._saved = load_state(self.state_file)
        self._tls = LocalTLS(host) if tls else None
        tls_context = self._tls.context if self._tls else None
        self.ca_path: Path | None = self._tls.ca_path if self._tls else None
        self.emulators: dict[str, Emulator] = {}
        self.companions: dict[str, Emulator] = {}
        for name, plugin in plugins.items():
            context = EmulatorContext(name=name, seed=seed, clock=self.clock, data=self.data, host=host,
                                      tls=tls_context, chaos=chaos.fresh() if chaos else None,
                                      state=self._saved.get(name), custom_fields=custom_fields)
            self.emulators[name] = self._build(plugin, context, per_emulator.get(name, {}))
            self.companions.update(context.companions)
        self._stopped = threading.Event()

    def _build(self, plugin: EmulatorPlugin, context: EmulatorContext, options: Mapping[str, Any]) -> Emulator:
        check_options(context.name, plugin, options)
        try:
            emulator = plugin.build(context, **options)
        except _CORRUPT as exc:
            if context.state is None or self.state_file is None:
                raise
            raise corrupt_section(self.state_file, context.name, exc) from exc
        emulator.chaos = context.chaos  # each emulator draws its own faults and keeps its own counts
        return emulator

    def __getattr__(self, name: str) -> Emulator:
        # sb.<name> and sb.<name>_login: attribute access to emulators and their companion servers, which the
        # many tests written before sb.emulators existed use
        for group in ("emulators", "companions"):
            found = self.__dict__.get(group, {})
            if name in found:
                return found[name]
        built = sorted({*self.__dict__.get("emulators", {}), *self.__dict__.get("companions", {})})
        raise AttributeError(f"this sandbox has no emulator {name!r} (it has: {', '.join(built) or 'none'})")

    def servers(self) -> list[Emulator]:
        """Every server of the sandbox: the emulators, then their companions."""
        return [*self.emulators.values(), *self.companions.values()]

    def start(self) -> Sandbox:
        """Bind every emulator's port and serve from background threads; returns self."""
        self._stopped.clear()
        if self._tls is not None:
            self._tls.write_ca()
        started: list[Emulator] = []
        try:
            for server in self.servers():
                server.start()
                started.append(server)
        except OSError:
            for server in started:
                server.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every server, close their connections, save to ``state_file`` (if any) and delete the CA file."""
        for server in self.servers():
            server.stop()
        if self.state_file is not None:
            sections = dict(self._saved)
            for name, emulator in self.emulators.items():
                state = emulator.to_state()
                if state is not None:
                    sections[name] = state
            save_state(self.state_file, sections)
        if self._tls is not None:
            self._tls.remove_ca()
        self._stopped.set()

    def serve_forever(self) -> None:
        """Serve until KeyboardInterrupt (or stop() from another thread), then stop cleanly."""
        self.start()
        try:
            while not self._stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def emulator_names() -> list[str]:
    """The names of every registered integration that has an emulator, in build order."""
    from hub.integrations import with_part

    return list(with_part("emulator"))


def emulator_plugins(only: Collection[str] | None = None) -> dict[str, EmulatorPlugin]:
    """The emulator plugins to build, by name (all, or those in ``only``); an unknown name suggests the closest."""
    from hub.integrations import with_part

    registered = with_part("emulator")
    if isinstance(only, str):  # only="x" would otherwise select by its letters
        only = {only}
    for name in sorted(only or ()):
        if name not in registered:
            raise UnknownNameError("emulator", name, registered)
    return {name: integration.load("emulator") for name, integration in registered.items()
            if only is None or name in only}


def split_options(options: Mapping[str, Any], names: Collection[str] | None = None) -> dict[str, dict[str, Any]]:
    """``{"acme_port": 1, "zeta_rate_limit": None}`` -> ``{"acme": {"port": 1}, "zeta": {"rate_limit": None}}``.

    A key belongs to the longest emulator name it starts with, followed by ``_`` (so ``acme_crm_port`` goes to
    ``acme_crm`` even when ``acme`` is registered too). A key that starts with no name fails, naming the closest.
    """
    known = sorted(names if names is not None else emulator_names(), key=len, reverse=True)
    split: dict[str, dict[str, Any]] = {}
    for key, value in options.items():
        owner = next((name for name in known if key.startswith(name + "_") and len(key) > len(name) + 1), None)
        if owner is None:
            raise UnknownNameError("sandbox option", key, [f"{name}_<option>" for name in known],
                                   where=" (options are <emulator>_<option>)")
        split.setdefault(owner, {})[key[len(owner) + 1:]] = value
    return split


def option_names(plugin: EmulatorPlugin) -> list[str] | None:
    """The options a plugin's ``build`` takes (its parameters after ``context``); None when it takes any."""
    parameters = list(inspect.signature(plugin.build).parameters.values())[1:]
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return [p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]


def check_options(name: str, plugin: EmulatorPlugin, options: Mapping[str, Any]) -> None:
    """Fail on an option the plugin does not take, naming the closest it does."""
    known = option_names(plugin)
    if known is None:
        return
    for option in options:
        if option not in known:
            raise UnknownNameError(f"{name} emulator option", option, known,
                                   where=f" (given as {name}_{option})")
