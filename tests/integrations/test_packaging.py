"""The wheel puts nothing generic into site-packages: the engines' folders install under ``hub/``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO

ENGINES = ("sources", "models", "reverse_etl", "warehouse")


def test_the_wheel_maps_the_engine_folders_under_hub(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("hub", *ENGINES):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", "--no-index", "-w", str(tmp_path / "dist"), str(src)], check=True)
    wheel = next((tmp_path / "dist").glob("hub-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"hub", next(t for t in tops if t.endswith(".dist-info"))}, sorted(tops)
    for engine in ENGINES:
        assert f"hub/{engine}/__init__.py" in names
    # package data travels: built-in models and each integration's staging SQL
    assert "hub/models/canonical/person.sql" in names
    assert "hub/integrations/hubspot/staging/contacts.sql" in names

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-index", "--target", str(site), str(wheel)], check=True)
    assert not any((site / engine).exists() for engine in ENGINES)
    probe = ("import hub.sources, hub.reverse_etl, hub.warehouse, hub.models, hub.integrations as i; "
             "print(hub.sources.__file__); print(sorted(i.all_integrations()))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == str(site / "hub" / "sources" / "__init__.py")
    assert "hubspot" in out[1]
