"""hub: a warehouse-centric ELT hub. Ingest SaaS APIs into DuckDB, unify entities with SQL models, push changes back.

Heavy modules (dlt, duckdb, httpx) are imported lazily so that ``hub --help`` stays instant.

The repository keeps the engines in top-level folders (``sources/``, ``models/``, ``reverse_etl/``, ``warehouse/``);
they are the subpackages ``hub.sources``, ``hub.models``, ``hub.reverse_etl`` and ``hub.warehouse``. An installed wheel
holds them under ``hub/`` (setuptools ``package-dir``, see setup.py), so nothing generic lands in site-packages. Run from
a source checkout, the small finder below maps the same names onto the top-level folders.
"""

from __future__ import annotations

import sys
from importlib.machinery import ModuleSpec
from importlib.util import spec_from_file_location
from pathlib import Path

__version__ = "0.1.0"

#: the engines kept in top-level folders of the repository, importable as ``hub.<name>``
ENGINE_FOLDERS = ("sources", "models", "reverse_etl", "warehouse")


class _CheckoutFinder:
    """Finds ``hub.sources`` (and the other engine folders) at the checkout's top level (a meta path finder: the
    protocol is its one method; importlib.abc, which would only name it, costs every command 10-20 ms to import)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        package, _, name = fullname.partition(".")
        if package != __name__ or name not in ENGINE_FOLDERS:
            return None
        folder = self.root / name
        return spec_from_file_location(fullname, folder / "__init__.py", submodule_search_locations=[str(folder)])


def _map_checkout() -> None:
    here = Path(__file__).resolve().parent
    root = here.parent
    if (here / "sources").is_dir() or not (root / "sources" / "__init__.py").is_file():
        return  # an installed wheel: the engines are real subpackages of hub
    sys.meta_path.insert(0, _CheckoutFinder(root))


_map_checkout()
