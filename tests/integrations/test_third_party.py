"""A third party ships an integration as a pip package, and hub uses it end to end without any change to hub.

The toy package is written to a temporary folder, installed with pip (``--target``, so the shared environment is left
alone) and found through its ``hub.integrations`` entry point. Its one folder holds a connector and a staging model;
``hub ingest`` pulls its records over real HTTP from a loopback server, and ``hub build`` resolves them into
``canonical.person``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import run_hub

PEOPLE = [
    {"id": "t1", "email": "Ada@Example.com", "first": "Ada", "last": "Lovelace", "updated": "2026-01-02T00:00:00Z"},
    {"id": "t2", "email": "grace@example.com", "first": "Grace", "last": "Hopper", "updated": "2026-01-03T00:00:00Z"},
    {"id": None, "email": "nokey@example.com", "first": "No", "last": "Key", "updated": "2026-01-03T00:00:00Z"},
]

PACKAGE = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "hub-toy"
        version = "1.0"

        [project.entry-points."hub.integrations"]
        toy = "hub_toy:integration"

        [tool.setuptools]
        packages = ["hub_toy"]

        [tool.setuptools.package-data]
        hub_toy = ["staging/*.sql"]
        """,
    "hub_toy/__init__.py": """
        from hub.integrations.spec import Integration

        integration = Integration(name="toy", title="Toy CRM", package=__name__, connector="source:Toy",
                                  summary="a third-party integration installed with pip")
        """,
    "hub_toy/source.py": """
        import pyarrow as pa

        from hub.sources.base import Connector, Stream, records_to_table

        SCHEMA = pa.schema([("id", pa.string()), ("email", pa.string()), ("first", pa.string()),
                            ("last", pa.string()), ("updated", pa.string())])


        class Toy(Connector):
            type = "toy"
            default_base_url = None
            streams = Connector.declare(Stream("people", "people", cursor_field="updated"))
            default_streams = ("people",)

            def read(self, stream, since, state):
                records = self.client.get("/people")
                state.rows = len(records)
                yield records_to_table(records, SCHEMA)
        """,
    "hub_toy/staging/people.sql": """
        -- materialized: view
        -- entity: person
        -- description: the toy CRM's people.
        SELECT id AS source_id, lower(email) AS email, first AS first_name, last AS last_name,
               CAST(updated AS TIMESTAMPTZ) AS updated_at
        FROM raw_toy.people
        """,
}


class _People(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        if self.path != "/people" or self.headers.get("Authorization") != "Bearer toy-token":
            self.send_response(401 if self.path == "/people" else 404)
            self.end_headers()
            return
        body = json.dumps(PEOPLE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def toy_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _People)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy package, really installed by pip into a folder of its own; returns that folder."""
    src = tmp_path_factory.mktemp("hub-toy")
    for name, text in PACKAGE.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(textwrap.dedent(text).lstrip())
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(target), str(src)], check=True)
    return target


def test_a_pip_installed_integration_is_used_end_to_end(installed: Path, toy_api: str, make_project) -> None:
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(installed), os.environ.get("PYTHONPATH")]))}
    root = make_project(f"""
        [connections.toy]
        type = "toy"
        base_url = "{toy_api}"
        """, """
        [connections.toy]
        token = "toy-token"
        """)

    listed = run_hub("integrations", cwd=root, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "toy" in listed.stdout and "Toy CRM" in listed.stdout

    ingest = run_hub("ingest", cwd=root, env=env)
    assert ingest.returncode == 0, ingest.stderr
    build = run_hub("build", cwd=root, env=env)
    assert build.returncode == 0, build.stderr

    query = run_hub("query", "--format", "json",
                    "SELECT email, first_name FROM canonical.person ORDER BY email", cwd=root, env=env)
    assert query.returncode == 0, query.stderr
    rows = json.loads(query.stdout)
    assert [(r["email"], r["first_name"]) for r in rows] == [("ada@example.com", "Ada"),
                                                             ("grace@example.com", "Grace")]
    # the record without a key is quarantined, as for every built-in connector
    assert "quarantined 1 record(s) of toy.people: missing id" in ingest.stdout + ingest.stderr
    raw = run_hub("query", "--format", "json", "SELECT count(*) AS n FROM raw_toy.people", cwd=root, env=env)
    assert json.loads(raw.stdout) == [{"n": 2}]


def test_without_the_package_the_type_is_unknown(toy_api: str, make_project) -> None:
    root = make_project(f"""
        [connections.toy]
        type = "toy"
        base_url = "{toy_api}"
        """)
    result = run_hub("status", cwd=root)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "hub.toml:" in lines[0] and "toy" in lines[0], result.stderr
