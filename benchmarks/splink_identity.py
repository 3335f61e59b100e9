"""Splink 5's side of benchmarks/identity.py: link and cluster the benchmark's raw contacts, in a process of its own.

The equivalent deterministic rules: exact email, and phone + last name. Splink does not normalize, so what hub's match
keys need is done in SQL first: valid emails lower-cased (invalid ones NULL, as hub leaves them out of its keys;
otherwise "n/a" would join thousands of records), phones reduced to their digits without a leading US 1 (junk NULL),
last names lower-cased. Prints one JSON line: records, clusters and the process's peak memory.

Run: .venv/bin/python benchmarks/splink_identity.py WAREHOUSE.duckdb   (needs the `bench` extra: splink==5.0.0)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.peak import peak_mb  # noqa: E402



def email(column: str) -> str:
    """A valid email lower-cased, else NULL."""
    value = f"lower(trim({column}))"
    return rf"CASE WHEN regexp_full_match({value}, '[^@\s]+@[^@\s]+\.[^@\s]+') THEN {value} END"


def phone(column: str) -> str:
    """A phone's digits without a leading US 1, else NULL."""
    digits = f"regexp_replace({column}, '[^0-9]', '', 'g')"
    return rf"CASE WHEN length({digits}) BETWEEN 10 AND 15 THEN regexp_replace({digits}, '^1([0-9]{{10}})$', '\1') END"


RECORDS = f"""CREATE TABLE records AS
    SELECT 'h' || id AS unique_id, {email("email")} AS email, {phone("phone")} AS phone,
           nullif(lower(trim(lastname)), '') AS last_name
    FROM w.raw_hubspot.contacts WHERE NOT coalesce(archived, false)
    UNION ALL
    SELECT 's' || id, {email("email")}, {phone("phone")}, nullif(lower(trim(last_name)), '')
    FROM w.raw_salesforce.contact WHERE NOT coalesce(is_deleted, false)"""


def main(warehouse: str) -> None:
    """Link and cluster, print the counts."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{warehouse}' AS w (READ_ONLY)")
    con.execute(RECORDS)
    con.execute("DETACH w")
    api = DuckDBAPI(connection=con)
    settings = SettingsCreator(link_type="dedupe_only",
                               blocking_rules_to_generate_predictions=[block_on("email"),
                                                                       block_on("phone", "last_name")],
                               retain_intermediate_calculation_columns=False, retain_matching_columns=False)
    linker = Linker(api.register("records"), settings)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(linker.inference.deterministic_link())
    records, found = con.sql(f"SELECT count(*), count(DISTINCT cluster_id) FROM {clusters.physical_name}").fetchall()[0]
    print(json.dumps({"records": records, "clusters": found, "peak_mb": peak_mb()}))


if __name__ == "__main__":
    main(sys.argv[1])
