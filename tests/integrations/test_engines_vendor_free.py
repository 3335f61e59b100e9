"""The engines name no vendor: vendor facts live in the integration folders (``hub/integrations/<vendor>/``).

Ingest (sources/, hub/ingest.py), the warehouse, modeling and the built-in models, push (reverse_etl/), ``hub serve``
and webhooks, the docs site, status and the registry's own files. The sandbox and the core layers have their own
tests (tests/sandbox/test_no_vendor_names.py, tests/ops/test_layers.py).

A grep over the engines' source, comments and docstrings included (a vendor named in a docstring is usually a vendor
fact that belongs in its integration's folder). Word boundaries are loose on purpose: ``stripe_row`` counts too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINES = ("hub/serve", "hub/webhooks", "reverse_etl", "sources", "warehouse", "hub/modeling", "models", "hub/docs",
           "hub/ingest.py", "hub/status.py", "hub/integrations/__init__.py", "hub/integrations/spec.py",
           "hub/integrations/checks.py")
VENDORS = ("hubspot", "salesforce", "stripe", "shopify", "quickbooks", "zendesk")
PATTERN = re.compile("|".join(VENDORS), re.IGNORECASE)


def offending_lines(root: Path, base: Path = REPO) -> list[str]:
    """``path:line: text`` (relative to ``base``) of every line under ``root`` that names a vendor."""
    out = []
    for path in [root] if root.is_file() else sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".sql", ".toml", ".md", ".txt"}:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if PATTERN.search(line):
                    out.append(f"{path.relative_to(base)}:{number}: {line.strip()}")
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_the_engine_names_no_vendor(engine):
    root = REPO / engine
    assert root.exists(), f"{engine} moved: update ENGINES"
    assert offending_lines(root) == [], "move vendor facts into hub/integrations/<vendor>/ (webhooks.py, target.py)"


def test_the_grep_finds_a_vendor_where_there_is_one(tmp_path):
    # the check itself works: a file naming a vendor in a comment is caught, one that does not is not
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "x.py").write_text("x = 1  # like Stripe does\n")
    (tmp_path / "engine" / "y.py").write_text("y = 2  # like any sender does\n")
    assert offending_lines(tmp_path / "engine", tmp_path) == ["engine/x.py:1: x = 1  # like Stripe does"]
