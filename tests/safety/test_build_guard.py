"""A build that would remove every record of a source whose raw tables still hold data refuses; ids survive."""

from __future__ import annotations

import pytest

from tests.conftest import run_hub, sandbox_project


@pytest.fixture
def built(make_project, sandbox):
    """A project ingested from the sandbox and built once; returns (root, its hub.toml text, person ids by record)."""
    root = sandbox_project(make_project, sandbox)
    for command in ("ingest", "build"):
        proc = run_hub(command, cwd=root)
        assert proc.returncode == 0, proc.stderr
    return root, (root / "hub.toml").read_text(), _ids(root)


def _ids(root):
    proc = run_hub("query", "--format", "csv", "SELECT connection || ':' || source_id, person_id "
                   "FROM _hub.person_identity ORDER BY 1", cwd=root)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()[1:]


@pytest.mark.parametrize("damage", ["", "cut"])
def test_an_emptied_or_truncated_hub_toml_cannot_wipe_identity(built, damage):
    root, text, ids = built
    assert len(ids) > 100
    # emptied, or cut short right after the first connection (which keeps hubspot, drops salesforce)
    secrets = (root / "secrets.toml").read_text()
    kept = "" if damage == "" else text[:text.index("[connections.salesforce]")]
    (root / "hub.toml").write_text(kept)
    # secrets.toml naming a connection hub.toml lacks is refused anyway; tokens in the environment would not be
    (root / "secrets.toml").write_text("" if damage == "" else secrets.split("[connections.salesforce]")[0])
    proc = run_hub("build", cwd=root)
    assert proc.returncode == 1, proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert errors and all("refusing to build" in e and "--full-refresh" in e for e in errors), proc.stderr
    assert "'salesforce' (" in errors[-1] and ("'hubspot' (" in errors[-1]) == (damage == ""), errors
    assert _ids(root) == ids
    (root / "hub.toml").write_text(text)
    (root / "secrets.toml").write_text(secrets)
    proc = run_hub("build", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert _ids(root) == ids


def test_full_refresh_is_how_to_remove_a_source_on_purpose(built):
    root, text, ids = built
    (root / "hub.toml").write_text(text[:text.index("[connections.salesforce]")])
    (root / "secrets.toml").write_text((root / "secrets.toml").read_text().split("[connections.salesforce]")[0])
    proc = run_hub("build", "--full-refresh", cwd=root)
    assert proc.returncode == 0, proc.stderr
    left = _ids(root)
    assert left and all(line.startswith("hubspot:") for line in left)
    assert set(left) <= set(ids)     # the remaining records keep their ids
