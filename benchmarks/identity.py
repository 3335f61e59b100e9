"""How fast `hub build` resolves a million source records into persons, and how fast it catches up after a 1% change.

Loads 1,000,000 contacts straight into the raw tables, as `hub ingest` lands them: 500k HubSpot-shaped and 500k
Salesforce-shaped, 40% of people in both systems with the usual mess (email case and spaces, nicknames, phone formats,
missing or invalid values), some people reachable only through transitive links (a Salesforce record without an email
that matches a HubSpot record on phone and name, which shares its email with a duplicate HubSpot record), plus 30k
companies per system. Then runs `hub build` in a fresh process and prints its seconds and the process's peak memory;
then changes 1% of the contacts (new job titles, phones, emails, some moving a record onto another person) and prints
the rebuild's seconds; then rewrites 1% of the contacts' titles without moving their timestamps (a content-only
change) and prints that rebuild's seconds.

In the same run, on the same raw records, in a process of its own: Splink 5 on DuckDB (the `bench` extra) links and
clusters the contacts with the equivalent deterministic rules, exact email and phone + last name
(benchmarks/splink_identity.py). Each whole process's wall time and peak memory is measured; `splink ratio:` is hub's
process time over Splink's.

Goals on the 2-core machine: splink ratio <= 1.0 with no more peak memory than Splink; rebuild after a 1% change
<= 20% of the full build.

Run: .venv/bin/python benchmarks/identity.py [--records 1000000] [--keep DIR] [--warehouse postgres]
(``--warehouse postgres``: benchmarks/identity_postgres.py, PostgreSQL and DuckDB side by side.)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hub.project import Project  # noqa: E402
from hub.warehouse.arrow import create_temp_table  # noqa: E402
from hub.warehouse.sql import qualified  # noqa: E402

FIRST = ["Robert", "William", "Elizabeth", "Michael", "James", "Jennifer", "Richard", "Thomas", "Daniel", "Priya",
         "Wei", "Fatima", "Lars", "Sofia", "Mateo", "Aisha", "Kenji", "Olga", "Ahmed", "Chloe", "Liam", "Emma",
         "Olivia", "Lucas", "Hannah", "Yuki", "Diego", "Ana", "Omar", "Ingrid", "Maria", "Chen", "Zoe", "Ravi"]
NICK = {"Robert": "Bob", "William": "Bill", "Elizabeth": "Liz", "Michael": "Mike", "James": "Jim",
        "Jennifer": "Jen", "Richard": "Rick", "Thomas": "Tom", "Daniel": "Dan"}
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Wilson", "Anderson", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark",
        "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Patel", "Kim", "Nguyen",
        "Müller", "Schmidt", "Dubois", "Rossi", "Novak", "Tanaka", "O'Brien", "Silva", "Larsen", "Cohen", "Singh"]
AREAS = ["415", "212", "646", "617", "312", "206", "512", "303", "702", "305", "404", "503"]
TITLES = ["CEO", "CTO", "VP Sales", "Head of Data", "Data Engineer", "Account Executive", "Analyst", "CFO"]
WORDS = ["Acme", "Northwind", "Bluebird", "Summit", "Ironwood", "Pioneer", "Harbor", "Keystone", "Redwood", "Cobalt",
         "Granite", "Meridian", "Nimbus", "Orion", "Quantum", "Sterling", "Vertex", "Willow", "Zenith", "Apex"]
KINDS = ["Analytics", "Logistics", "Systems", "Health", "Labs", "Foods", "Energy", "Robotics", "Capital", "Media"]
HUB_TOML = """\
[connections.hubspot]
type = "hubspot"

[connections.salesforce]
type = "salesforce"
base_url = "https://example.my.salesforce.com"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="source contacts in all (half per system)")
    parser.add_argument("--companies", type=int, default=30_000, help="companies per system")
    parser.add_argument("--keep", type=Path, help="build the project in this directory and keep it")
    parser.add_argument("--models", action="store_true", help="also print each model's line as `hub build` does")
    parser.add_argument("--warehouse", choices=("duckdb", "postgres"), default="duckdb",
                        help="postgres: the same build on a throwaway PostgreSQL cluster and on DuckDB, side by side "
                             "(benchmarks/identity_postgres.py)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="hub-identity-"))
    try:
        if args.warehouse == "postgres":
            from benchmarks.identity_postgres import run_postgres

            run_postgres(root, args.records, args.companies)
            return
        run(root, args.records, args.companies, args.models)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


def run(root: Path, records: int, companies: int, models: bool = False) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hub.toml").write_text(HUB_TOML)
    for stale in root.glob("warehouse.duckdb*"):
        stale.unlink()
    clock = time.perf_counter()
    data = generate(records // 2, records - records // 2, companies, seed=42)
    load(Project(root), data)
    print(f"loaded {records:,} contacts and {2 * companies:,} companies into raw tables "
          f"in {time.perf_counter() - clock:.1f}s")

    splink = splink_in_subprocess(root / "warehouse.duckdb")
    full = build_in_subprocess(root, models)
    print(f"full build:    {full['seconds']:.2f} s (process {full['wall']:.2f} s)   "
          f"peak RSS {full['peak_mb']:,.0f} MB   "
          f"({full['records']:,} records -> {full['persons']:,} persons, "
          f"{full['company_records']:,} company records -> {full['companies']:,} companies)")
    changed = change(Project(root), records // 100, seed=7)
    rebuild = build_in_subprocess(root, models)
    print(f"rebuild after changing {changed:,} records (1%): {rebuild['seconds']:.2f} s "
          f"(process {rebuild['wall']:.2f} s)   "
          f"peak RSS {rebuild['peak_mb']:,.0f} MB   ({rebuild['changed']:,} records re-resolved, "
          f"{rebuild['merges']:,} merges; {rebuild['persons']:,} persons)")
    print(f"rebuild / full build: {rebuild['seconds'] / full['seconds']:.1%}")
    quiet = silent_change(Project(root), records // 100, seed=11)
    again = build_in_subprocess(root, models)
    print(f"rebuild after a content-only change to {quiet:,} records (timestamps kept): {again['seconds']:.2f} s "
          f"(process {again['wall']:.2f} s)   peak RSS {again['peak_mb']:,.0f} MB   "
          f"({again['changed']:,} records re-resolved)   / full build: {again['seconds'] / full['seconds']:.1%}")
    if splink is None:
        print("splink: not installed (pip install -e '.[bench]')")
        return
    print(f"splink 5 (exact email; phone + last name): process {splink['wall']:.2f} s   "
          f"peak RSS {splink['peak_mb']:,.0f} MB   ({splink['records']:,} records -> {splink['clusters']:,} clusters)")
    print(f"splink ratio: {full['wall'] / splink['wall']:.2f}   (hub build process {full['wall']:.2f} s / "
          f"splink process {splink['wall']:.2f} s)   peak memory: hub {full['peak_mb']:,.0f} MB, "
          f"splink {splink['peak_mb']:,.0f} MB")


def build_in_subprocess(root: Path, models: bool = False) -> dict[str, float]:
    """Run `hub build` in a fresh process: its own build time, its wall time, and its peak resident memory."""
    code = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(REPO)!r})
        from hub.project import Project
        from hub.modeling import build, render_result
        from benchmarks.peak import peak_mb
        show = (lambda r: print("  " + render_result(r), file=sys.stderr)) if {models!r} else None
        report = build(Project({str(root)!r}), progress=show)
        if not report.ok:
            sys.exit("build failed: " + "; ".join(str(e) for e in report.errors))
        person, company = report.person, report.company
        print(json.dumps({{"seconds": report.seconds, "records": person.records, "persons": person.entities,
                          "changed": person.changed_records, "merges": person.merges,
                          "company_records": company.records, "companies": company.entities,
                          "peak_mb": peak_mb()}}))
    """)
    return _measure([sys.executable, "-c", code], "build")


def splink_in_subprocess(warehouse: Path) -> dict[str, float] | None:
    """Splink's link and cluster of the raw contacts in a fresh process; None when Splink is not installed."""
    if importlib.util.find_spec("splink") is None:
        return None
    return _measure([sys.executable, str(REPO / "benchmarks" / "splink_identity.py"), str(warehouse)], "splink")


def _measure(command: list[str], what: str) -> dict[str, float]:
    """Run ``command`` in a fresh process: its last stdout line (JSON, with the process's own ``peak_mb``) and its
    wall time. The peak comes from the process itself: the rusage of a child started from this (large) process counts
    this process's memory at the fork, which once made every child look at least 1.1 GB big."""
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    out = process.stdout.read()
    status = process.wait()
    wall = time.perf_counter() - began
    if status != 0:
        sys.exit(f"{what} process failed ({status})")
    figures = json.loads(out.strip().splitlines()[-1])
    figures["wall"] = wall
    return figures


def generate(n_hubspot: int, n_salesforce: int, n_companies: int, seed: int) -> dict[str, pa.Table]:
    """Raw tables for both systems; 40% of people in both."""
    rng = np.random.default_rng(seed)
    both = int(0.4 * (n_hubspot + n_salesforce) / 1.4)     # people in both: 40% of everyone
    dups = n_hubspot // 50                                  # HubSpot duplicates of people in both (2%)
    hs_only, sf_only = n_hubspot - both - dups, n_salesforce - both
    people = both + hs_only + sf_only
    first = np.array(FIRST, dtype=object)[rng.integers(0, len(FIRST), people)]
    last = np.array(LAST, dtype=object)[rng.integers(0, len(LAST), people)]
    pid = np.arange(people)
    local = pc.utf8_lower(pa.array(first.astype(str))).to_numpy(zero_copy_only=False).astype(object) + "." + \
        pc.utf8_lower(pa.array(last.astype(str))).to_numpy(zero_copy_only=False).astype(object) + pid.astype(str)
    domains = np.array([f"{w.lower()}{k.lower()}.com" for w in WORDS for k in KINDS] + ["gmail.com", "yahoo.com"],
                       dtype=object)
    email = local + "@" + domains[rng.integers(0, len(domains), people)]
    # A distinct valid US number per person: area code, then exchange and line from the person's number.
    area = np.array(AREAS, dtype=object)[pid % len(AREAS)]
    rest = pid // len(AREAS)
    exchange = (200 + rest // 10_000).astype(str).astype(object)
    line = np.char.zfill((rest % 10_000).astype(str), 4).astype(object)
    uk = rng.random(people) < 0.02
    company = rng.integers(0, n_companies, people)

    hs_people = np.concatenate([pid[:both], pid[both: both + hs_only], rng.choice(both, dups, replace=False)])
    sf_people = np.concatenate([pid[:both], pid[both + hs_only:]])
    hs = _contacts(rng, "hubspot", hs_people, first, last, email, area, exchange, line, uk, company, both)
    sf = _contacts(rng, "salesforce", sf_people, first, last, email, area, exchange, line, uk, company, both)
    hs_companies, sf_accounts = _companies(rng, n_companies)
    return {"raw_hubspot.contacts": hs, "raw_salesforce.contact": sf, "raw_hubspot.companies": hs_companies,
            "raw_salesforce.account": sf_accounts}


def _contacts(rng: np.random.Generator, system: str, who: np.ndarray, first: np.ndarray, last: np.ndarray,
              email: np.ndarray, area: np.ndarray, exchange: np.ndarray, line: np.ndarray, uk: np.ndarray,
              company: np.ndarray, both: int) -> pa.Table:
    n = len(who)
    hubspot = system == "hubspot"
    first_n = first[who].copy()
    # Salesforce often has the nickname (Bob for Robert); identity resolution must still match on phone + name.
    if not hubspot:
        nick = rng.random(n) < 0.2
        first_n[nick] = [NICK.get(f, f) for f in first_n[nick]]
    mail = email[who].copy()
    if not hubspot:
        shout = rng.random(n) < 0.3
        mail[shout] = [" " + m.upper() + " " for m in mail[shout]]
        # Some people in both systems have no email in Salesforce: reachable on phone + name only.
        mail[(who < both) & (rng.random(n) < 0.08)] = None
    invalid = rng.random(n) < 0.01
    mail[invalid] = np.array(["n/a", "unknown", "john@", "no email"], dtype=object)[rng.integers(0, 4, invalid.sum())]
    a, x, tail = area[who], exchange[who], line[who]
    styles = rng.integers(0, 3, n)
    if hubspot:
        phone = np.where(styles == 0, "(" + a + ") " + x + "-" + tail,
                         np.where(styles == 1, a + "." + x + "." + tail, a + "-" + x + "-" + tail))
    else:
        phone = np.where(styles == 0, "+1 " + a + " " + x + " " + tail,
                         np.where(styles == 1, "(" + a + ") " + x + "-" + tail, a + x + tail))
    phone = phone.astype(object)
    phone[uk[who]] = "+44 20 7946 " + tail[uk[who]]
    phone[rng.random(n) < 0.1] = None
    bad = rng.random(n) < 0.01
    phone[bad] = np.array(["call me", "TBD", "555-01", "ext. 42"], dtype=object)[rng.integers(0, 4, bad.sum())]
    created = 1_700_000_000 + rng.integers(0, 30_000_000, n)
    updated = created + rng.integers(0, 5_000_000, n)
    ids = _ids(system, n, rng)
    title = np.array(TITLES, dtype=object)[rng.integers(0, len(TITLES), n)]
    if hubspot:
        cols = {"id": ids, "archived": np.zeros(n, bool), "created_at": _iso(created, "Z"),
                "updated_at": _iso(updated, "Z"), "email": mail, "firstname": first_n, "lastname": last[who],
                "phone": phone, "mobilephone": np.full(n, None, object), "company": None, "jobtitle": title,
                "city": "San Francisco", "country": "United States", "lifecyclestage": "lead",
                "associatedcompanyid": (100_000 + company[who]).astype(str), "hubspotscore": np.full(n, None, object),
                "createdate": _iso(created, "Z"),
                "lastmodifieddate": _iso(updated, "Z"), "hs_object_id": ids}
    else:
        cols = {"id": ids, "first_name": first_n, "last_name": last[who], "name": first_n + " " + last[who],
                "email": mail, "phone": phone, "mobile_phone": np.full(n, None, object), "title": title,
                "account_id": np.char.add("001", np.char.zfill(company[who].astype(str), 15)).astype(object),
                "mailing_city": "New York", "mailing_country": "USA", "lead_source": "Web",
                "created_date": _iso(created, "+0000"), "last_modified_date": _iso(updated, "+0000"),
                "system_modstamp": _iso(updated, "+0000"), "is_deleted": np.zeros(n, bool), "hub_person_id_c": None}
    return _table(cols, n)


def _companies(rng: np.random.Generator, n: int) -> tuple[pa.Table, pa.Table]:
    k = np.arange(n)
    word = np.array(WORDS, dtype=object)[k % len(WORDS)] + (k // len(WORDS)).astype(str)
    kind = np.array(KINDS, dtype=object)[rng.integers(0, len(KINDS), n)]
    domain = np.char.lower((word + kind).astype(str)).astype(object) + ".com"
    created = 1_690_000_000 + rng.integers(0, 30_000_000, n)
    updated = created + rng.integers(0, 5_000_000, n)
    hs = {"id": (100_000 + k).astype(str), "archived": np.zeros(n, bool), "created_at": _iso(created, "Z"),
          "updated_at": _iso(updated, "Z"), "name": word + " " + kind + " Inc", "domain": domain, "phone": None,
          "city": "Boston", "country": "United States", "industry": "Software", "numberofemployees": "120",
          "annualrevenue": "1000000.0", "createdate": _iso(created, "Z"), "hs_lastmodifieddate": _iso(updated, "Z"),
          "hs_object_id": (100_000 + k).astype(str)}
    sf = {"id": np.char.add("001", np.char.zfill(k.astype(str), 15)).astype(object),
          "name": np.char.upper((word + " " + kind).astype(str)).astype(object) + ", Inc.",
          "website": "https://www." + domain + "/", "phone": None, "industry": "Software",
          "billing_city": "Boston", "billing_country": "USA", "number_of_employees": np.full(n, 120),
          "annual_revenue": np.full(n, 1e6), "created_date": _iso(created, "+0000"),
          "last_modified_date": _iso(updated, "+0000"), "system_modstamp": _iso(updated, "+0000"),
          "is_deleted": np.zeros(n, bool)}
    return _table(hs, n), _table(sf, n)


def _ids(system: str, n: int, rng: np.random.Generator) -> np.ndarray:
    serial = rng.permutation(n) + 1
    if system == "hubspot":
        return (10_000_000 + serial).astype(str).astype(object)
    return np.char.add("003", np.char.zfill(serial.astype(str), 15)).astype(object)


def _iso(epoch: np.ndarray, zone: str) -> np.ndarray:
    text = np.datetime_as_string(epoch.astype("datetime64[s]"), unit="ms")
    return np.char.add(text.astype(str), zone).astype(object)


def _table(columns: dict[str, object], n: int) -> pa.Table:
    out = {}
    for name, value in columns.items():
        if isinstance(value, np.ndarray):
            out[name] = pa.array(value.tolist() if value.dtype == object else value)
        else:
            out[name] = pa.array([value] * n, pa.string())
    return pa.table(out)


def load(project: Project, data: dict[str, pa.Table]) -> None:
    with project.warehouse() as wh:
        for name, table in data.items():
            schema, _, table_name = name.partition(".")
            create_temp_table(wh, "incoming", table)
            wh.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            wh.execute(f"CREATE OR REPLACE TABLE {qualified(schema, table_name)} AS SELECT * FROM incoming")
            wh.execute("DROP TABLE temp.incoming")


def change(project: Project, count: int, seed: int) -> int:
    """Change ``count`` contacts, half per system, as an incremental ingest would land them: new titles and phones
    for most, new emails for some, and a few moved onto another person's email (merges)."""
    with project.warehouse() as wh:
        half = count // 2
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000", time.gmtime())   # sources stamp every edit
        wh.execute(f"""
            UPDATE raw_hubspot.contacts SET
                jobtitle = 'Chief ' || coalesce(jobtitle, 'Officer'),
                phone = CASE WHEN hash(id) % 4 = 0 THEN '+1 ' || regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g')
                             ELSE phone END,
                email = CASE WHEN hash(id) % 10 = 1 THEN 'renamed.' || id || '@example.com' ELSE email END,
                updated_at = '{stamp}Z', lastmodifieddate = '{stamp}Z'
            WHERE id IN (SELECT id FROM raw_hubspot.contacts USING SAMPLE {half} ROWS (reservoir, {seed}))""")
        # One changed Salesforce record in ten takes the email of some HubSpot contact: a merge of two persons.
        wh.execute(f"""
            UPDATE raw_salesforce.contact AS c SET
                title = 'Senior ' || coalesce(c.title, 'Staff'),
                email = CASE WHEN hash(c.id) % 10 = 1 THEN h.email ELSE c.email END,
                last_modified_date = '{stamp}+0000', system_modstamp = '{stamp}+0000'
            FROM (SELECT row_number() OVER (ORDER BY id) - 1 AS n, email FROM raw_hubspot.contacts
                  WHERE email LIKE '%@%.%' LIMIT 1000) AS h
            WHERE h.n = hash(c.id) % 1000
              AND c.id IN (SELECT id FROM raw_salesforce.contact
                           USING SAMPLE {count - half} ROWS (reservoir, {seed}))""")
    return count


def silent_change(project: Project, count: int, seed: int) -> int:
    """Rewrite ``count`` contacts' titles, half per system, leaving every timestamp as it was (a silent fix)."""
    with project.warehouse() as wh:
        half = count // 2
        wh.execute(f"""UPDATE raw_hubspot.contacts SET jobtitle = 'Principal ' || coalesce(jobtitle, 'Officer')
            WHERE id IN (SELECT id FROM raw_hubspot.contacts USING SAMPLE {half} ROWS (reservoir, {seed}))""")
        wh.execute(f"""UPDATE raw_salesforce.contact SET title = 'Principal ' || coalesce(title, 'Officer')
            WHERE id IN (SELECT id FROM raw_salesforce.contact USING SAMPLE {count - half} ROWS (reservoir, {seed}))""")
    return count


if __name__ == "__main__":
    main()
