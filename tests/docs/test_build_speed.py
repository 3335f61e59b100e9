"""What keeps `hub docs` fast, checked by what it does rather than by timing it: a warm build parses no SQL (sqlglot
is not even imported), and a rebuild swaps folders and overwrites, leaving no stale page and no leftover folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_hub
from tests.docs.conftest import Built

ROOT = Path(__file__).resolve().parents[2]


def test_model_cache_names_the_catalogs_folder() -> None:
    from hub.docs import modelcache
    from hub.modeling import catalog

    assert modelcache.MODELS_DIR == catalog.MODELS_DIR


def test_a_warm_build_imports_no_sql_parser(built: Built, tmp_path: Path) -> None:
    assert run_hub("-C", str(built.root), "docs", "--out", str(tmp_path / "warm")).returncode == 0   # caches warm
    code = ("import json, sys; from hub.project import Project; from hub.docs import build_site; "
            "build_site(Project(sys.argv[1]), sys.argv[2] and __import__('pathlib').Path(sys.argv[2])); "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlglot')))")
    done = subprocess.run([sys.executable, "-c", code, str(built.root), str(tmp_path / "warm")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_a_rebuild_swaps_folders_and_drops_stale_pages(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "site"
    for _ in range(3):
        assert run_hub("-C", str(built.root), "docs", "--out", str(out)).returncode == 0
        (out / "stale.html").write_text("a page no build wrote")
    assert run_hub("-C", str(built.root), "docs", "--out", str(out)).returncode == 0
    assert not (out / "stale.html").exists() and (out / "index.html").exists()
    # the folder swapped out is kept, to be overwritten by the next build
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.lock", ".site.next", "site"]
    for page in out.glob("*.html"):   # no page left with an older, longer page's tail after an in-place overwrite
        assert page.read_text().rstrip().endswith("</html>"), page
