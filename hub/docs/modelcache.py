"""The project's models as plain data for the docs, cached: parsing 200 models with sqlglot costs seconds, and the
answer only changes when a model file or the connections change.

The cache (``.hub/docs-models.json``) is keyed by a fingerprint of everything :func:`hub.modeling.catalog.load_catalog`
reads: every model file (project and built-in, by path, size and modification time), the connections (names, types,
streams) and hub's version. Any change there and the catalog is loaded (and validated) afresh.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from hub.project import Project

CACHE = Path(".hub") / "docs-models.json"
#: ``hub.modeling.catalog.MODELS_DIR``, named here because importing the catalog loads sqlglot (~0.4 s), which a
#: cache hit never needs (tests/docs/test_build_speed.py checks they agree)
MODELS_DIR = "models"


def models(project: Project) -> list[dict[str, Any]]:
    """Every model of ``project`` (name, kind, materialization, description, reads, writes, columns, SQL...)."""
    return _load(project)["models"]


def entities(project: Project) -> list[dict[str, Any]]:
    """Every entity (name, union, identity, contract columns, resolved or a business record), as plain data."""
    return _load(project)["entities"]


_loaded: dict[str, dict[str, Any]] = {}


def _load(project: Project) -> dict[str, Any]:
    key = fingerprint(project)
    if key in _loaded:
        return _loaded[key]
    path = project.root / CACHE
    try:
        cached = orjson.loads(path.read_bytes())
        if cached.get("key") == key and "entities" in cached:
            _loaded.clear()
            _loaded[key] = cached
            return cached
    except (OSError, orjson.JSONDecodeError, AttributeError):
        pass   # missing or damaged: load the catalog
    from hub.modeling.catalog import load_catalog
    from hub.modeling.entities import UNIONS

    found = {"key": key, "models": [_plain(m) for m in load_catalog(project)],
             "entities": [{"name": e.name, "union": e.union, "identity": e.identity,
                           "columns": [c for c, _ in e.columns], "resolved": e.resolved}
                          for e in UNIONS.values()]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(found))
        tmp.replace(path)
    except OSError:
        pass   # a read-only project only builds slower
    _loaded.clear()
    _loaded[key] = found
    return found


def fingerprint(project: Project) -> str:
    """Changes whenever anything the model catalog is made from changes."""
    import hub.models as builtin
    from hub import __version__
    from hub.integrations import all_integrations

    folders = [project.root / MODELS_DIR, Path(builtin.__file__).parent]
    code = Path(__file__).resolve().parents[1] / "modeling" / "entities.py"   # the entity contracts
    folders += [f for f in (i.staging_dir() for i in all_integrations().values()) if f is not None]
    digest = hashlib.sha256(__version__.encode())
    if code.is_file():
        digest.update(f"{code}\0{code.stat().st_mtime_ns}\n".encode())
    for folder in folders:
        if not folder.is_dir():
            continue
        for file in sorted(folder.rglob("*")):
            if file.is_file() and file.suffix in (".sql", ".toml", ".yml", ".yaml"):
                stat = file.stat()
                digest.update(f"{file}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    for conn in sorted(project.config.connections.values(), key=lambda c: c.name):
        digest.update(f"{conn.name}\0{conn.type}\0{conn.streams}\n".encode())
    return digest.hexdigest()


def _plain(model: Any) -> dict[str, Any]:
    return {"name": model.name, "kind": model.kind, "materialized": model.materialized,
            "description": model.header.description, "entity": model.header.entity,
            "depends_on": list(model.depends_on), "produces": list(model.produces), "columns": list(model.columns),
            "connection": model.connection, "stream": model.stream, "file": model.file, "sql": model.sql}
