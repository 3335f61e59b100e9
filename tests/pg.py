"""A throwaway PostgreSQL cluster for the tests: initdb into a temp dir, started on a free loopback port, stopped at
the end of the session.

The server binaries come from Debian's ``postgresql`` package (``scripts/ensure-postgres.sh`` installs it); they are
found on PATH or in ``/usr/lib/postgresql/<major>/bin``. PostgreSQL refuses to run as root, so as root the cluster is
owned by, and every server command runs as, the ``postgres`` user (``runuser``). The superuser connects only over the
cluster's own unix socket (trust); hub connects over TCP as role ``hub`` with a password (scram-sha-256), as it would
to a real server. When PostgreSQL cannot be found or started the tests that need it skip, saying why
(``HUB_REQUIRE_POSTGRES=1`` turns that into a failure, for CI).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: seconds a cluster gets to start (pg_ctl waits for it to accept connections within this)
START_TIMEOUT_S = 60
HUB_ROLE = "hub"


def bin_dir() -> Path | None:
    """The folder of initdb and pg_ctl: PATH first, then the newest Debian install."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent   # /usr/local/bin/initdb may link to the install's bin
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


@dataclass
class PgServer:
    """A running cluster: where it listens and how hub reaches it."""

    root: Path
    bin: Path
    port: int
    password: str = field(repr=False)
    host: str = "127.0.0.1"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def dsn(self, database: str) -> str:
        """The DSN hub.toml would hold: the ``hub`` role, no password."""
        return f"postgresql://{HUB_ROLE}@{self.host}:{self.port}/{database}"

    def admin(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` as the superuser over the unix socket; its output."""
        return _run(self.bin / "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
                    "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql).stdout

    def new_database(self) -> str:
        """A fresh empty database owned by ``hub`` (one per test: each gets its own ``_hub`` and raw schemas)."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.admin(f"CREATE DATABASE {name} OWNER {HUB_ROLE}")
        return name


def _as_owner(*cmd: str) -> list[str]:
    """``cmd`` as the cluster's owner: the postgres user when we are root (PostgreSQL refuses root), else us."""
    if os.geteuid() != 0:
        return list(cmd)
    runuser = shutil.which("runuser")
    return [runuser, "-u", "postgres", "--", *cmd] if runuser else ["su", "postgres", "-s", "/bin/sh", "-c",
                                                                    " ".join(_sh(c) for c in cmd)]


def _sh(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def _run(*cmd: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_as_owner(*(str(c) for c in cmd)), capture_output=True, text=True, check=check,
                          timeout=START_TIMEOUT_S)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start() -> PgServer:
    """initdb and start a cluster; raises RuntimeError saying what failed."""
    pg_bin = bin_dir()
    if pg_bin is None:
        raise RuntimeError("PostgreSQL's initdb was not found (run scripts/ensure-postgres.sh)")
    if os.geteuid() == 0:
        try:
            import pwd

            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root and there is no postgres user to own the cluster") from None
    root = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    if os.geteuid() == 0:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    server = PgServer(root=root, bin=pg_bin, port=0, password=secrets.token_urlsafe(16))
    try:
        _run("mkdir", "-p", str(server.socket_dir))
        done = _run(pg_bin / "initdb", "-D", str(root / "data"), "-U", "postgres", "--auth-local=trust",
                    "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", check=False)
        if done.returncode:
            raise RuntimeError(f"initdb failed: {(done.stderr or done.stdout).strip()[-500:]}")
        for _ in range(3):   # the free port can be taken between the probe and the bind: try another
            server.port = _free_port()
            done = _run(pg_bin / "pg_ctl", "-D", str(root / "data"), "-l", str(root / "log"), "-w",
                        "-t", str(START_TIMEOUT_S), "-o",
                        f"-p {server.port} -k {server.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                        "start", check=False)
            if done.returncode == 0:
                break
        else:
            log = (root / "log").read_text(errors="replace")[-800:] if (root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {(done.stderr or done.stdout).strip()[-300:]} {log}")
        ready = _run(pg_bin / "pg_isready", "-h", str(server.socket_dir), "-p", str(server.port), check=False)
        if ready.returncode:
            raise RuntimeError(f"the cluster does not accept connections (pg_isready exit {ready.returncode}): "
                               f"{(ready.stdout + ready.stderr).strip()}")
        server.admin(f"CREATE ROLE {HUB_ROLE} LOGIN PASSWORD '{server.password}'")
        return server
    except BaseException:
        stop(server)
        raise


def stop(server: PgServer) -> None:
    """Stop the cluster (fast shutdown) and remove its folder."""
    if (server.root / "data" / "postmaster.pid").exists():
        _run(server.bin / "pg_ctl", "-D", str(server.root / "data"), "-m", "fast", "-w", "stop", check=False)
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One cluster per test session (per xdist worker); skips the test when PostgreSQL is not available."""
    if os.environ.get("HUB_SKIP_POSTGRES") == "1":
        pytest.skip("PostgreSQL tests skipped (HUB_SKIP_POSTGRES=1)")
    try:
        server = start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("HUB_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (HUB_REQUIRE_POSTGRES=1) and could not start: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    try:
        yield server
    finally:
        stop(server)


@pytest.fixture
def pg_database(pg_server: PgServer) -> str:
    """A fresh database of the test's own in the session's cluster; its DSN is ``pg_server.dsn(name)``."""
    return pg_server.new_database()

