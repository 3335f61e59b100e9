"""Shared fixtures: isolated projects, a clean environment, and the sandbox over real loopback HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: pg_server and pg_database (a throwaway PostgreSQL cluster) for every test, the engine fixture included
pytest_plugins = ["tests.pg"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HUB__ variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("HUB__"):
            monkeypatch.delenv(name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the PostgreSQL half: every test that uses a cluster (the ``pg_server`` fixture, or a module of its own
    about postgres), and the postgres side of any parameter (``engine``...); ``pytest -m postgres`` runs exactly that
    half, ``-m "not postgres"`` the rest."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = set(map(str, callspec.params.values())) if callspec else set()
        if ("pg_server" in getattr(item, "fixturenames", ()) or "postgres" in params
                or "postgres" in item.path.name or item.path.name.startswith("test_pg_")):
            item.add_marker(pytest.mark.postgres)


#: the warehouse engines a test of the warehouse runs on (the ``engine`` fixture's parameters)
ENGINES = ("duckdb", "postgres")


@dataclass(frozen=True)
class Engine:
    """The warehouse a parametrized test runs on: the ``[warehouse]`` text its projects get, and its password."""

    name: str
    hub_toml: str = ""         # appended to hub.toml ("" for duckdb: the default file)
    secrets_toml: str = ""     # appended to secrets.toml (the postgres password)

    def __str__(self) -> str:
        return self.name


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    """Run the test once per warehouse engine: every project ``make_project`` writes for it uses that engine.

    postgres gets a fresh database of the session's throwaway cluster (tests/pg.py); without PostgreSQL that half
    skips, saying why, unless ``HUB_REQUIRE_POSTGRES=1`` (then it fails). ``HUB_ENGINES=duckdb`` runs one half only.
    """
    wanted = os.environ.get("HUB_ENGINES", ",".join(ENGINES)).split(",")
    if request.param not in wanted:
        pytest.skip(f"engine {request.param} not in HUB_ENGINES={','.join(wanted)}")
    if request.param == "duckdb":
        return Engine("duckdb")
    server = request.getfixturevalue("pg_server")
    database = server.new_database()
    return Engine("postgres", f'\n[warehouse]\ntype = "postgres"\ndsn = "{server.dsn(database)}"\n',
                  f'\n[warehouse]\npassword = "{server.password}"\n')


@pytest.fixture
def make_project(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Path]:
    """Write a project directory from hub.toml (and optionally secrets.toml) text; returns its path.

    In a test that uses ``engine``, the project's warehouse is that engine's (unless the text has its own
    ``[warehouse]``)."""
    engine = request.getfixturevalue("engine") if "engine" in request.fixturenames else None

    def make(hub_toml: str, secrets_toml: str | None = None, name: str = "proj") -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        hub_text = textwrap.dedent(hub_toml)
        if engine is not None and engine.hub_toml and "[warehouse]" not in hub_text:
            hub_text += engine.hub_toml
            secrets_toml = (textwrap.dedent(secrets_toml or "")) + engine.secrets_toml
        (root / "hub.toml").write_text(hub_text)
        if secrets_toml is not None:
            (root / "secrets.toml").write_text(textwrap.dedent(secrets_toml))
        return root

    return make


@pytest.fixture(scope="session")
def sandbox() -> Iterator[object]:
    """One seeded sandbox for read-only tests (unlimited rate so tests stay fast)."""
    from hub.sandbox import Sandbox

    with Sandbox(seed=11, people=300, hubspot_rate_limit=None) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox() -> Iterator[object]:
    """A sandbox of the test's own, for tests that change vendor data."""
    from hub.sandbox import Sandbox

    with Sandbox(seed=5, people=120, hubspot_rate_limit=None) as sb:
        yield sb


def sandbox_project(make_project: Callable[..., Path], sb: object, *, name: str = "proj", extra: str = "") -> Path:
    """A project whose connections point at the sandbox, tokens in secrets.toml."""
    return make_project(f"""
        [connections.hubspot]
        type = "hubspot"
        base_url = "{sb.hubspot.url}"

        [connections.salesforce]
        type = "salesforce"
        base_url = "{sb.salesforce.url}"
        {extra}
        """, f"""
        [connections.hubspot]
        token = "{sb.hubspot.token}"

        [connections.salesforce]
        token = "{sb.salesforce.token}"
        """, name=name)


def run_hub(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess (python -m hub), as a user runs it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd, env=full_env, input=input,
                          capture_output=True, text=True, timeout=300)
