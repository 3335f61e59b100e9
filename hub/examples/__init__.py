"""Example projects: each is a folder with a working project and, optionally, a scenario that drives it.

``hub init --example NAME DIR`` writes an example's project; ``hub demo --example NAME [DIR]`` runs it end to end,
offline, against the in-process sandbox (:mod:`hub.examples.runner`); bare ``hub demo`` runs them all. An example's
folder (``hub/examples/<name_with_underscores>/``) holds:

- ``project/``: the project files (``hub.toml``, ``models/``...), copied as they are;
- ``__init__.py``: ``EXAMPLE = Example(...)``: its name, what it shows, the sandbox emulators it needs, and optional
  hooks the runner calls around the run (post a form, close a deal) and after it (the lines that say what happened).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hub.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from hub.examples.runner import ExampleRun

Hook = Callable[["ExampleRun"], None]


@dataclass(frozen=True)
class Example:
    """One example project: ``name`` is what ``--example`` takes."""

    name: str
    title: str
    #: one line: what the example shows (``hub init --example`` lists it)
    shows: str
    #: the integrations whose sandbox emulators the example needs
    emulators: tuple[str, ...]
    #: the package the example lives in (``__name__``); its ``project/`` folder is the project
    package: str
    #: called after the sandbox starts and before the first run (seed the scenario's vendor records)
    before: Hook | None = None
    #: called after the run (drive events, triggers), then prints what happened
    after: Hook | None = None
    #: environment the example's project needs beyond the sandbox's URLs and credentials
    environment: dict[str, str] = field(default_factory=dict)
    #: options of the example's sandbox beyond seed and people (``<emulator>_<option>``, e.g. a smaller shop)
    sandbox: dict[str, object] = field(default_factory=dict)

    @property
    def project(self) -> Path:
        return Path(importlib.import_module(self.package).__file__).parent / "project"

    def write(self, directory: Path) -> list[Path]:
        """Copy the project into ``directory`` (created); refuses to overwrite an existing project."""
        from hub.config import CONFIG_FILE
        from hub.scaffold import GITIGNORE, SECRETS_TOML_EMPTY, write_private

        directory = Path(directory)
        if (directory / CONFIG_FILE).exists():
            raise ConfigError(f"{directory / CONFIG_FILE} already exists",
                              hint="choose another directory, or remove the project first")
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for source in sorted(self.project.rglob("*")):
            if source.name in (".keep", "__pycache__") or "__pycache__" in source.parts:
                continue
            target = directory / source.relative_to(self.project)
            if source.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                written.append(target)
        (directory / "models").mkdir(exist_ok=True)
        if not (directory / "secrets.toml").exists():
            write_private(directory / "secrets.toml", SECRETS_TOML_EMPTY)
            written.append(directory / "secrets.toml")
        if not (directory / ".gitignore").exists():
            (directory / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
            written.append(directory / ".gitignore")
        return written


@functools.cache
def all_examples() -> dict[str, Example]:
    """Every example by name, in the order `hub demo` runs them."""
    found: dict[str, Example] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            example = getattr(importlib.import_module(f"{__name__}.{info.name}"), "EXAMPLE", None)
            if isinstance(example, Example):
                found[example.name] = example
    order = ["crm-two-way", "shop-to-books", "form-to-lead", "support-to-crm", "payments-to-everything"]
    return dict(sorted(found.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0])))


def get(name: str) -> Example:
    """The example called ``name``; an unknown one names the closest."""
    examples = all_examples()
    if name not in examples:
        raise UnknownNameError("example", name, list(examples))
    return examples[name]


def describe() -> list[tuple[str, str]]:
    """``(name, what it shows)`` of every example."""
    return [(e.name, e.shows) for e in all_examples().values()]
