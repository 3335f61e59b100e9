"""`benchmarks/identity.py --warehouse postgres`: the same build on PostgreSQL and on DuckDB, side by side in one run.

A throwaway PostgreSQL cluster is started (tests/pg.py: initdb into a temp folder, a free loopback port, fsync off,
stopped and removed at the end). The same generated raw tables (benchmarks/identity.py's ``generate``) are loaded into
a DuckDB project and into a PostgreSQL project with the same connections; `hub build` runs on each in a fresh process.
Printed per engine: the build's seconds (and its identity steps'), the hub process's wall time and peak RSS; for
PostgreSQL also the server's peak memory: the sum of the proportional set size (``Pss`` of ``/proc/<pid>/smaps_rollup``,
so shared buffers count once) of the postmaster and all its children, sampled every 0.2 s during the build. Then the
1% change of benchmarks/identity.py is applied to both and each rebuilds incrementally. ``ratio:`` is PostgreSQL's hub
process time over DuckDB's.

Goal (issue 15): ratio <= 3, hub process <= 2 GB.
"""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from benchmarks.identity import HUB_TOML, REPO, _measure, generate, load
from hub.project import Project
from hub.warehouse.arrow import create_temp_table, drop_temp, fetch_arrow


def run_postgres(root: Path, records: int, companies: int) -> None:
    from tests import pg

    server = pg.start()
    try:
        _run(root, records, companies, server)
    finally:
        pg.stop(server)


def _run(root: Path, records: int, companies: int, server: object) -> None:
    duck_root, pg_root = root / "duckdb", root / "postgres"
    for folder in (duck_root, pg_root):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("warehouse.duckdb*"):
            stale.unlink()
    database = server.new_database()  # type: ignore[attr-defined]
    (duck_root / "hub.toml").write_text(HUB_TOML)
    (pg_root / "hub.toml").write_text(f'[warehouse]\ntype = "postgres"\n'
                                      f'dsn = "{server.dsn(database)}"\n\n{HUB_TOML}')  # type: ignore[attr-defined]
    (pg_root / "secrets.toml").write_text(f'[warehouse]\npassword = "{server.password}"\n')  # type: ignore
    clock = time.perf_counter()
    data = generate(records // 2, records - records // 2, companies, seed=42)
    print(f"generated {records:,} contacts and {2 * companies:,} companies in {time.perf_counter() - clock:.1f}s")
    for name, folder in (("duckdb", duck_root), ("postgres", pg_root)):
        clock = time.perf_counter()
        load(Project(folder), data)
        print(f"loaded into {name} in {time.perf_counter() - clock:.1f}s")
    data = None
    postmaster = int((server.root / "data" / "postmaster.pid").read_text().split()[0])  # type: ignore
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")

    duck = _build(duck_root)
    pg = _build(pg_root, postmaster)
    _line("duckdb", "full build", duck)
    _line("postgres", "full build", pg)
    print(f"ratio: {pg['wall'] / duck['wall']:.2f}   (postgres hub process {pg['wall']:.2f} s / duckdb hub process "
          f"{duck['wall']:.2f} s; identity steps {pg['identity']:.2f} s / {duck['identity']:.2f} s)   "
          f"hub process peak RSS {pg['peak_mb']:,.0f} MB (goal <= 2,048)   "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    same = duck["persons"] == pg["persons"] and duck["companies"] == pg["companies"]
    print(f"same result: {'yes' if same else 'NO'} ({duck['persons']:,} / {pg['persons']:,} persons, "
          f"{duck['companies']:,} / {pg['companies']:,} companies)")

    changed = change_both([Project(duck_root), Project(pg_root)], records // 100, seed=7)
    duck_again = _build(duck_root)
    pg_again = _build(pg_root, postmaster)
    _line("duckdb", f"rebuild after changing {changed:,} records (1%)", duck_again)
    _line("postgres", f"rebuild after changing {changed:,} records (1%)", pg_again)
    print(f"rebuild ratio: {pg_again['wall'] / duck_again['wall']:.2f}   "
          f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def change_both(projects: list[Project], count: int, seed: int) -> int:
    """benchmarks/identity.py's 1% change (new titles and phones, some new emails, one changed Salesforce record in
    ten taking a HubSpot contact's email: a merge), made identically on each project: the records and the choices are
    drawn here, once, and applied with SQL both engines run."""
    rng = np.random.default_rng(seed)
    with projects[0].warehouse(read_only=True) as wh:
        hubspot = fetch_arrow(wh, "SELECT id FROM raw_hubspot.contacts ORDER BY id").column("id").to_numpy(False)
        salesforce = fetch_arrow(wh, "SELECT id FROM raw_salesforce.contact ORDER BY id").column("id").to_numpy(False)
        emails = fetch_arrow(wh, "SELECT email FROM raw_hubspot.contacts WHERE email LIKE '%@%.%' ORDER BY id "
                                 "LIMIT 1000").column("email").to_pylist()
    half = count // 2
    picked_h = rng.choice(hubspot, half, replace=False)
    picked_s = rng.choice(salesforce, count - half, replace=False)
    h = pa.table({"id": picked_h.astype(str), "phone_fix": rng.random(half) < 0.25, "rename": rng.random(half) < 0.1})
    s = pa.table({"id": picked_s.astype(str), "email": pa.array(
        [emails[i] if take else None for i, take in zip(rng.integers(0, len(emails), count - half),
                                                      rng.random(count - half) < 0.1)], pa.string())})
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000", time.gmtime())   # sources stamp every edit
    for project in projects:
        with project.warehouse() as wh, wh.transaction():
            create_temp_table(wh, "bench_h", h)
            create_temp_table(wh, "bench_s", s)
            wh.execute(f"""UPDATE raw_hubspot.contacts SET
                jobtitle = 'Chief ' || coalesce(jobtitle, 'Officer'),
                phone = CASE WHEN c.phone_fix THEN '+1 ' || regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g')
                             ELSE phone END,
                email = CASE WHEN c.rename THEN 'renamed.' || c.id || '@example.com' ELSE email END,
                updated_at = '{stamp}Z', lastmodifieddate = '{stamp}Z'
                FROM bench_h c WHERE raw_hubspot.contacts.id = c.id""")
            wh.execute(f"""UPDATE raw_salesforce.contact SET
                title = 'Senior ' || coalesce(title, 'Staff'), email = coalesce(c.email, raw_salesforce.contact.email),
                last_modified_date = '{stamp}+0000', system_modstamp = '{stamp}+0000'
                FROM bench_s c WHERE raw_salesforce.contact.id = c.id""")
            drop_temp(wh, "bench_h", "bench_s")
    return count


def _line(engine: str, what: str, figures: dict[str, float]) -> None:
    server = f"   postgres server peak {figures['server_mb']:,.0f} MB (sum of PSS)" if "server_mb" in figures else ""
    print(f"{engine:8} {what}: build {figures['seconds']:.2f} s (identity {figures['identity']:.2f} s), hub process "
          f"{figures['wall']:.2f} s, peak RSS {figures['peak_mb']:,.0f} MB{server}   ({figures['records']:,} records "
          f"-> {figures['persons']:,} persons; {figures['changed']:,} re-resolved, {figures['merges']:,} merges)")


def _build(root: Path, postmaster: int | None = None) -> dict[str, float]:
    """`hub build` in a fresh process (see benchmarks/identity.build_in_subprocess), with the PostgreSQL server's
    memory sampled meanwhile when ``postmaster`` is given."""
    code = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(REPO)!r})
        from hub.project import Project
        from hub.modeling import build
        from benchmarks.peak import peak_mb
        report = build(Project({str(root)!r}))
        if not report.ok:
            sys.exit("build failed: " + "; ".join(str(e) for e in report.errors))
        person, company = report.person, report.company
        identity = sum(r.seconds for r in report.results if r.mode == "identity")
        print(json.dumps({{"seconds": report.seconds, "identity": identity, "records": person.records,
                          "persons": person.entities, "changed": person.changed_records, "merges": person.merges,
                          "companies": company.entities, "peak_mb": peak_mb()}}))
    """)
    sampler = _ServerMemory(postmaster) if postmaster else None
    if sampler:
        sampler.start()
    try:
        figures = _measure([sys.executable, "-c", code], "build")
    finally:
        if sampler:
            sampler.stop()
    if sampler:
        figures["server_mb"] = sampler.peak_mb
    return figures


class _ServerMemory(threading.Thread):
    """The peak, over samples every 0.2 s, of the summed PSS of a postmaster and its children."""

    def __init__(self, postmaster: int) -> None:
        super().__init__(daemon=True)
        self.postmaster = postmaster
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak_mb = max(self.peak_mb, self.sample())
            self._done.wait(0.2)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def sample(self) -> float:
        total = 0
        for pid in [self.postmaster, *_children(self.postmaster)]:
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            except OSError:
                continue   # a backend that just ended
        return total / 1024


def _children(parent: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            out.append(int(entry))
    return out
