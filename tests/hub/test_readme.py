"""The README is part of the product: every command it lists exists, and the quick start's set-up commands exist."""

from __future__ import annotations

import re

from click.testing import CliRunner

from hub.cli import cli
from tests.conftest import REPO


def test_every_command_in_the_readme_exists():
    text = (REPO / "README.md").read_text()
    names = set(re.findall(r"^\| `hub ([a-z]+)", text, flags=re.M))
    assert {"ingest", "build", "push", "run", "query", "status", "demo"} <= names
    for name in sorted(names):
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, f"README lists `hub {name}` but: {result.output}"


def test_quick_start_targets_exist():
    text = (REPO / "README.md").read_text()
    makefile = (REPO / "Makefile").read_text()
    for target in ("demo", "test"):
        assert f"make {target}" in text
        assert re.search(rf"^{target}:", makefile, flags=re.M)


def test_every_option_in_the_readme_command_table_exists():
    text = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| `hub ([a-z]+)([^`]*)`", text, flags=re.M)
    assert rows
    for name, usage in rows:
        help_text = CliRunner().invoke(cli, [name, "--help"]).output
        for option in re.findall(r"--[a-z][a-z-]*", usage):
            assert option in help_text, f"README shows `hub {name} {option}`, which `hub {name} --help` lacks"
