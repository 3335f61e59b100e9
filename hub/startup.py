"""What the ``hub`` process does as it starts, to keep small commands quick.

httpcore (under httpx) imports trio as it loads, when trio is installed, only to run async clients under trio's event
loop (httpcore/_synchronization.py: ``try: import trio``). trio comes with test and browser tools (selenium), and
importing it costs about 70 ms, a seventh of an ingest that finds nothing new. hub's HTTP clients are synchronous and
no hub command runs an event loop, so in the ``hub`` process httpcore is loaded as if trio were absent. Only
httpcore's import sees that: trio stays importable by anything else, and a process that imported trio already (it may
run trio) is left alone. A library user's process (``import hub``) is never changed: only :func:`hub.cli.main` calls
:func:`load_httpcore_without_trio`.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import importlib.abc


class _WithoutTrio:
    """httpcore's own loader, run while ``import trio`` raises ImportError (a ``None`` in ``sys.modules``)."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        hidden = "trio" not in sys.modules
        if hidden:
            sys.modules["trio"] = None  # type: ignore[assignment]
        try:
            self._loader.exec_module(module)
        finally:
            if hidden and "trio" in sys.modules and sys.modules["trio"] is None:
                del sys.modules["trio"]

    def __getattr__(self, name: str) -> Any:   # get_resource_reader, is_package...: httpcore's loader answers
        return getattr(self._loader, name)


class _HttpcoreFinder:
    """Finds httpcore once, through the other finders, and hands it :class:`_WithoutTrio` as its loader."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name != "httpcore":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)   # once: the rest of the import and any later one go the ordinary way
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or "trio" in sys.modules:
            return spec
        spec.loader = _WithoutTrio(spec.loader)
        return spec


def load_httpcore_without_trio() -> None:
    """Have httpcore, when it is first imported in this process, load without importing trio (see the module doc)."""
    if "httpcore" in sys.modules or "trio" in sys.modules:
        return
    if not any(isinstance(finder, _HttpcoreFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _HttpcoreFinder())
