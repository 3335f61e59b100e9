"""The sandbox is a generic engine: no vendor is named in hub/sandbox/ or the `hub sandbox` command, in code or
docstrings; vendor behaviour lives in each integration's emulator/ folder."""

from __future__ import annotations

import re
from pathlib import Path

from hub.integrations import all_integrations

ROOT = Path(__file__).resolve().parents[2]
#: the vendors COMMON.md lists, the built-in integrations, and vendor-only words (Salesforce's query language)
VENDOR_WORDS = {"hubspot", "salesforce", "stripe", "shopify", "quickbooks", "zendesk", "soql", "sobject"}


def _engine_files() -> list[Path]:
    return [*sorted((ROOT / "hub" / "sandbox").rglob("*.py")), ROOT / "hub" / "commands" / "sandbox.py"]


def test_the_sandbox_engine_names_no_vendor():
    words = VENDOR_WORDS | {name.lower() for name in all_integrations() if name != "rest"}
    pattern = re.compile("|".join(sorted(words)), re.IGNORECASE)
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in _engine_files() for n, line in enumerate(path.read_text().splitlines(), 1)
             if pattern.search(line)]
    assert found == [], "vendor names in the sandbox engine:\n" + "\n".join(found)


def test_every_emulator_lives_in_its_integration_folder():
    for name, integration in all_integrations().items():
        if integration.emulator is not None and integration.package.startswith("hub.integrations."):
            assert (integration.folder / "emulator" / "__init__.py").is_file(), name
    assert not [p.name for p in (ROOT / "hub" / "sandbox").glob("*.py")
                if p.stem not in {"__init__", "chaos", "clock", "context", "ratelimit", "routing", "sandbox", "seed",
                                  "server", "state", "tls"}]
