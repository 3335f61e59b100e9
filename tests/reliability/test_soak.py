"""Fault soak: the demo loop (ingest -> build -> push) against a sandbox injecting 10% 5xx, 5% 429, 2% dropped
connections and 1% timeouts ends exactly where the same loop against a calm sandbox of the same seed ends.

Bounded: 1,500 people (about 60 requests in all), near-instant backoff, a 1 s client timeout under a 2 s hang.
Run alone with ``pytest -m soak``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.project import Project
from hub.sandbox import Sandbox
from hub.sandbox.chaos import Chaos
from tests.reliability.compare import demo_project, target_records, warehouse_tables

pytestmark = pytest.mark.soak

SEED, PEOPLE = 21, 1500
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
# Each fault costs exactly one retry, so what each emulator injects follows from the seed, however the push's threads
# interleave; with this seed the (short) run meets every kind: 5xx 7, 429 2, drop 2, timeout 1.
FAULTS = Chaos(server_error=0.10, rate_limit=0.05, drop=0.02, timeout=0.01, hang=2.0, seed=142)
CLIENT_OPTIONS = "max_retries = 10\nretry_base_delay = 0.005\ntimeout = 1.0\n"


def run_loop(project: Project) -> list[tuple[Any, ...]]:
    """Ingest, build, push; every step must succeed. Returns each sync's record counts."""
    ingested = project.ingest()
    assert ingested.ok, ingested.errors
    built = project.build()
    assert built.ok, built.errors
    pushed = project.push()
    assert pushed.ok, pushed.errors
    # api_calls and seconds differ by design (retries). So may the split of writes into creates and updates: a batch
    # whose answer was slow past the client's timeout under load is sent again and then finds its records created.
    return [(r.sync, r.creates + r.updates, r.removals, r.rejected, r.unchanged, r.skipped, r.conflicts)
            for r in pushed.results]


def outcome(tmp_path: Path, name: str, chaos: Chaos | None) -> Iterator[Any]:
    """Run the loop in a project of its own against a sandbox of SEED; yields counts, tables, targets, injected."""
    with Sandbox(seed=SEED, people=PEOPLE, hubspot_rate_limit=None, now=NOW, chaos=chaos) as sb:
        project = demo_project(tmp_path / name, sb, CLIENT_OPTIONS)
        counts = run_loop(project)
        injected = {emulator.server_name: {**emulator.chaos.injected, "requests": emulator.requests.total}
                    for emulator in (sb.hubspot, sb.salesforce) if emulator.chaos is not None}
        sb.hubspot.chaos = sb.salesforce.chaos = None  # read the end state calmly
        yield counts
        yield warehouse_tables(project)
        yield target_records(sb)
        yield injected


def test_loop_under_faults_ends_like_the_calm_loop(tmp_path: Path):
    calm_counts, calm_tables, calm_targets, _ = outcome(tmp_path, "calm", None)
    counts, tables, targets, injected = outcome(tmp_path, "chaos", FAULTS)

    print(f"\ninjected faults: {injected}")
    for kind in ("5xx", "429", "drop", "timeout"):
        assert sum(per_vendor[kind] for per_vendor in injected.values()) > 0, injected

    assert counts == calm_counts
    assert all(c[1] for c in calm_counts), "the push wrote nothing: the soak would prove little"
    assert tables.keys() == calm_tables.keys() and any(k.startswith("canonical.") for k in tables)
    for name in calm_tables:
        assert tables[name] == calm_tables[name], name
    assert targets == calm_targets
