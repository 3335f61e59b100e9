"""`make demo` (which runs `hub demo`) ends by printing the path of the docs site it built."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO, run_hub
from tests.hub.test_demo_and_progress import section


def test_make_demo_runs_hub_demo() -> None:
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M)
    assert recipe and "hub demo" in recipe.group(1)


def test_demo_ends_by_printing_the_docs_path(tmp_path: Path) -> None:
    done = run_hub("demo", str(tmp_path / "d"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("docs: ")   # every example ends so; crm-two-way's:
    last = section(done.stdout, "crm-two-way").strip().splitlines()[-1]
    assert last.startswith("docs: "), last
    index = Path(last.split()[1])
    assert index.name == "index.html" and index.is_file()
    assert index == (tmp_path / "d" / "crm-two-way" / ".hub" / "docs" / "index.html").resolve()
    assert "person_to_hubspot" in index.read_text()
