"""Fixtures for model tests: a project with a HubSpot and a Salesforce connection, raw tables written directly."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hub.project import Project
from tests.modeling import raw

HUB_TOML = """
[connections.hubspot]
type = "hubspot"

[connections.salesforce]
type = "salesforce"
base_url = "https://example.my.salesforce.com"
"""


@pytest.fixture
def root(make_project: Callable[..., Path]) -> Path:
    return make_project(HUB_TOML)


@pytest.fixture
def project(root: Path) -> Project:
    return Project(root)


@pytest.fixture
def write_raw(project: Project) -> Callable[[str, str, list[dict[str, Any]]], None]:
    """Replace ``raw_<connection>.<table>`` with rows, as ingest would land them."""

    def write(connection: str, table: str, rows: list[dict[str, Any]]) -> None:
        with project.warehouse() as wh:
            raw.write(wh, connection, table, rows)

    return write


@pytest.fixture
def write_model(root: Path) -> Callable[[str, str], Path]:
    """Write a project file under the project root (``models/marts/x.sql``)."""

    def write(path: str, text: str) -> Path:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip())
        return target

    return write
