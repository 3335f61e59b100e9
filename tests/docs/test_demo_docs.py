"""`make demo` (which runs `hub demo`) ends by printing the path of the docs site it built."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO, run_hub


def test_make_demo_runs_hub_demo() -> None:
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M)
    assert recipe and "hub demo" in recipe.group(1)


def test_demo_ends_by_printing_the_docs_path(tmp_path: Path) -> None:
    # bare `hub demo`: every example, each in its folder, each ending with the path of its docs site
    done = run_hub("demo", str(tmp_path / "d"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    from hub.examples import all_examples

    for name in all_examples():
        assert (tmp_path / "d" / name / ".hub" / "docs" / "index.html").is_file(), name
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("docs: "), last
    assert Path(last.split()[1]).name == "index.html" and Path(last.split()[1]).is_file()
    # each example ends with its own docs line; the crm-two-way one is the first example's
    sites = [Path(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("docs: ")]
    index = (tmp_path / "d" / "crm-two-way" / ".hub" / "docs" / "index.html").resolve()
    assert index in sites and index.is_file()
    assert "person_to_hubspot" in index.read_text()
