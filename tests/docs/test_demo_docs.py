"""`make demo` (which runs `hub demo`) ends by printing the path of the docs site it built."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO, run_hub


def test_make_demo_runs_hub_demo() -> None:
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M)
    assert recipe and "hub demo" in recipe.group(1)


def test_demo_ends_by_printing_the_docs_path(tmp_path: Path) -> None:
    # one example here (each example's own end-to-end test runs it; bare `hub demo` runs them all in turn)
    done = run_hub("demo", "--example", "crm-two-way", str(tmp_path / "d" / "crm-two-way"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("docs: "), last
    assert Path(last.split()[1]).name == "index.html" and Path(last.split()[1]).is_file()
    # each example ends with its own docs line; the crm-two-way one is the first example's
    sites = [Path(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("docs: ")]
    index = (tmp_path / "d" / "crm-two-way" / ".hub" / "docs" / "index.html").resolve()
    assert index in sites and index.is_file()
    assert "person_to_hubspot" in index.read_text()


def test_bare_demo_runs_every_example_in_its_own_folder(tmp_path: Path, monkeypatch) -> None:
    import hub.examples.runner as runner
    from hub.demo import run_demo
    from hub.examples import all_examples

    ran = []
    monkeypatch.setattr(runner, "run_example", lambda example, directory, echo, **_: ran.append((example.name, directory)))
    lines: list[str] = []
    run_demo(tmp_path, echo=lines.append)
    assert ran == [(name, tmp_path / name) for name in all_examples()]
    assert {"crm-two-way", "shop-to-books", "form-to-lead", "support-to-crm"} <= {name for name, _ in ran}
    assert [line for line in lines if line.startswith("=== ")][0].startswith("=== 1/")
