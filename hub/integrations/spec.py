"""What an integration is: one folder that holds everything hub knows about one vendor.

An integration's folder (``hub/integrations/<name>/``, or any package a third party installs) has an ``__init__.py``
that defines ``integration = Integration(...)``. The descriptor is plain data: it names the modules of the folder that
implement each part, as ``"module:attribute"`` relative to the folder, and they are imported only when used, so that
reading the descriptor (``hub --help``, ``hub status``) costs nothing. The engines (ingest, model, push, serve,
sandbox, config checks) loop over the registered integrations (:mod:`hub.integrations`) and never name a vendor.

The parts, each optional:

- ``connector``: a :class:`hub.sources.base.Connector` subclass (source streams, auth and OAuth, options, secrets).
- ``pusher``: a :class:`hub.reverse_etl.base.Pusher` subclass (push targets).
- ``webhooks``: an object with the :class:`WebhookScheme` methods (signature verification and event parsing).
- ``staging``: a folder of staging SQL, ``<stream>.sql`` each (default ``staging``, when it exists).
- ``emulator``: an object with the :class:`EmulatorPlugin` methods (the sandbox's emulator of the vendor).

Besides the parts, ``api_version`` (an :class:`ApiVersion`) says which version of the vendor's API hub speaks and which
a connection may pin (``api_version = "..."`` in hub.toml); :mod:`hub.sources.versions` reads it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hub.serve.inbox import InboxEvent


@dataclass(frozen=True)
class ApiVersion:
    """The vendor API versions of one integration: the one hub is tested against, and which a connection may pin."""

    #: sent when the connection pins none; the sandbox's emulator and the SDK conformance tests speak it
    tested: str
    #: versions a connection may pin besides ``tested``; None: any, as far as the connector's ``check_config``
    #: (its format, the vendor's retirement schedule) accepts it
    supported: frozenset[str] | None = frozenset()
    #: ``"module:function"`` in the integration's folder: ``function(version)`` says what the vendor's published
    #: schedule holds for a version ("... is deprecated ..."), None when it is supported; shown by ``hub status``
    lifecycle: str | None = None
    #: a prefix users may write that is not part of the version (``v59.0`` for ``59.0``, say)
    prefix: str = ""

    def accepted(self) -> frozenset[str] | None:
        """Every version a connection may pin (None: the connector decides)."""
        return None if self.supported is None else frozenset({self.tested, *self.supported})

    def normalize(self, value: object) -> str:
        """A pinned value as the version it names."""
        text = str(value)
        return text[len(self.prefix):] if self.prefix and text.startswith(self.prefix) else text


@dataclass(frozen=True)
class Integration:
    """The descriptor of one integration; ``name`` is the connection ``type`` users write in hub.toml."""

    name: str
    title: str
    #: the package the descriptor lives in (``__name__`` of its ``__init__.py``); parts resolve against it
    package: str
    connector: str | None = None
    pusher: str | None = None
    webhooks: str | None = None
    emulator: str | None = None
    staging: str | None = "staging"
    #: a one-line description for ``hub integrations`` and the docs pages
    summary: str = ""
    #: the vendor API versions hub speaks (None: the vendor's API is not versioned, or hub does not pin it)
    api_version: ApiVersion | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def load(self, part: str) -> Any:
        """The object a part names (``self.connector``, say), imported now; None when the integration has none."""
        target = getattr(self, part)
        return None if target is None else self.resolve(target)

    def resolve(self, target: str) -> Any:
        """The object ``"module:attribute"`` names in the integration's folder, imported now."""
        module, _, attribute = target.partition(":")
        loaded = importlib.import_module(f"{self.package}.{module}" if module else self.package)
        return getattr(loaded, attribute) if attribute else loaded

    @property
    def folder(self) -> Path:
        """The integration's folder on disk."""
        spec = importlib.util.find_spec(self.package)
        assert spec is not None and spec.submodule_search_locations, self.package
        return Path(next(iter(spec.submodule_search_locations)))

    def staging_dir(self) -> Path | None:
        """The folder of the integration's staging SQL, if it has one."""
        if self.staging is None:
            return None
        path = self.folder / self.staging
        return path if path.is_dir() else None


class WebhookScheme(Protocol):
    """How one vendor signs and shapes its webhooks (``Integration.webhooks``)."""

    #: the scheme's name in messages (the vendor's title)
    title: str

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str, *, method: str, url: str,
               now: float | None) -> None:
        """Return None for an authentic request; raise :class:`hub.webhooks.verify.SignatureError` otherwise."""

    def events(self, connection: str, body: bytes, headers: Mapping[str, str]) -> list[InboxEvent]:
        """The events of a verified request (``headers`` keys lower-case); raise ``BadEventError`` when malformed."""

    def subject(self, event: Mapping[str, Any]) -> tuple[str, str] | None:
        """``(stream, source id)`` of the record an event is about, for triggers; None when unknown."""

    def row(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """The ``raw_<connection>.events`` row of an event, when the vendor's events table has its own shape."""


class EmulatorPlugin(Protocol):
    """The sandbox's emulator of one vendor (``Integration.emulator``); see :mod:`hub.sandbox.sandbox`."""

    def build(self, context: Any, **options: Any) -> Any:
        """Create the emulator's servers and stores for one sandbox; ``options`` are the sandbox's
        ``<name>_<option>`` keyword arguments with the prefix removed."""
