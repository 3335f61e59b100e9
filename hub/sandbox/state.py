"""A sandbox's vendor data on disk, so a stopped sandbox can start again where it left off.

The file is JSON (orjson) holding, under a format name and version, one section per emulator: whatever its
``to_state()`` returned, keyed by the emulator's name. A section is handed back to that emulator's plugin as
``EmulatorContext.state`` on the next start; an emulator without a section (new since the file was written) starts
from the seed. The sections' contents are the plugins' business (ids, timestamps, deleted flags, id counters...).
Version 1 files, which kept the sections at the top level, still load.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

FORMAT = "hub-sandbox-state"
VERSION = 2  # bump when the layout changes; other versions are then refused with ValueError
_SECTIONS_AT_TOP = 1  # the version that kept the sections at the top level
_HINT = "delete it to start again from the seed"


def save_state(path: Path, sections: Mapping[str, Any]) -> None:
    """Write one section per emulator to ``path`` atomically: a temp file in the same directory, fsync, then
    os.replace."""
    state = {"format": FORMAT, "version": VERSION, "emulators": dict(sections)}
    data = orjson.dumps(state)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # make the rename itself durable; not every platform lets a directory be opened, hence the suppress
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def load_state(path: Path) -> dict[str, Any]:
    """The sections saved in ``path``, by emulator name; ValueError naming the file if it is not a sandbox state
    file or is from an incompatible version."""
    data = _read(path)
    if data["version"] == _SECTIONS_AT_TOP:
        return {name: section for name, section in data.items() if name not in ("format", "version")}
    sections = data.get("emulators")
    if not isinstance(sections, dict):
        raise ValueError(f"sandbox state file {path} has no emulators section; {_HINT}")
    return sections


def corrupt_section(path: Path, name: str, exc: Exception) -> ValueError:
    """The error for a section its emulator could not read back, naming the file and the section."""
    return ValueError(f"sandbox state file {path}: the {name} section is corrupt or from an incompatible version "
                      f"({type(exc).__name__}: {exc}); {_HINT}")


def _read(path: Path) -> dict[str, Any]:
    """The parsed file, checked for format and version."""
    hint = _HINT
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"sandbox state file {path} is not valid JSON ({exc}); {hint}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a sandbox state file (no format {FORMAT!r}); {hint}")
    if data.get("version") not in (VERSION, _SECTIONS_AT_TOP):
        raise ValueError(f"sandbox state file {path} has format version {data.get('version')!r}, but this hub reads "
                         f"version {VERSION}; {hint}")
    return data
