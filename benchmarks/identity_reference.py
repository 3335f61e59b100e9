"""The bare reference of benchmarks/identity.py: identity resolution's core work in DuckDB alone, in its own process.

What `hub build` does at its core, done directly on the benchmark's raw tables with plain DuckDB SQL and nothing
else, as someone who knew the data would write it:

- emails lower-cased and trimmed, checked against an address shape (an invalid one is no match key);
- phones to E.164: their digits, ``+1`` for ten North American digits (or eleven starting with 1), ``+`` and the
  digits for a number written with its country code, NULL for anything else;
- match keys: the valid email, and the phone + name (first and last name, lower-cased); as in hub, a phone + name key
  links only through a record that has no valid email, so two people with different emails are never joined for
  sharing an office phone;
- connected components over those keys, by label propagation in SQL over the record-key edges (each record takes the
  smallest record number reachable through its keys, until nothing changes), keys numbered first so every pass
  groups integers;
- per component, the newest non-null value of each field (``arg_max`` by the record's ``updated_at``);
- the record -> person map (connection, source id, person) and the persons written to a DuckDB file of its own;
  the working tables are temporary.

It does none of what hub adds: nicknames, validity by the phone numbering plan, stable ids across runs, per-field
change stamps, source priority, incremental state. Prints one JSON line: records, persons, the seconds of its work
and the process's peak memory.

Run: .venv/bin/python benchmarks/identity_reference.py WAREHOUSE.duckdb [OUT.duckdb]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.peak import peak_mb  # noqa: E402

# The person fields the reference keeps (canonical.person's), per system: (field, HubSpot column, Salesforce column).
FIELDS = (("first_name", "firstname", "first_name"), ("last_name", "lastname", "last_name"),
          ("mobile_phone", "mobilephone", "mobile_phone"), ("company_name", "company", "NULL"),
          ("job_title", "jobtitle", "title"), ("city", "city", "mailing_city"),
          ("country", "country", "mailing_country"),
          ("lifecycle_stage", "lifecyclestage", "NULL"), ("lead_source", "NULL", "lead_source"))
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"


def e164(column: str, digits: str) -> str:
    """A phone's E.164 form (``digits``: its digits), else NULL."""
    return (f"CASE WHEN starts_with({column}, '+') AND length({digits}) BETWEEN 8 AND 15 THEN '+' || {digits} "
            f"WHEN length({digits}) = 10 AND {digits}[1] BETWEEN '2' AND '9' THEN '+1' || {digits} "
            f"WHEN length({digits}) = 11 AND {digits}[1] = '1' THEN '+' || {digits} END")


def records_sql() -> str:
    """Both systems' contacts as one table of normalized records."""
    def side(system: str, table: str, deleted: str, updated: str, pick: int) -> str:
        fields = ", ".join(f"nullif(trim({f[pick]}), '') AS {f[0]}" for f in FIELDS)
        return f"""SELECT '{system}' AS connection, id AS source_id, lower(trim(email)) AS email,
                          trim(phone) AS phone, {fields}, try_cast({updated} AS TIMESTAMPTZ) AS updated_at
                   FROM w.{table} WHERE NOT coalesce({deleted}, false)"""
    union = (side("hubspot", "raw_hubspot.contacts", "archived", "updated_at", 1) + " UNION ALL "
             + side("salesforce", "raw_salesforce.contact", "is_deleted", "last_modified_date", 2))
    digits = "regexp_replace({}, '[^0-9]', '', 'g')"
    phones = f"""SELECT * REPLACE ({e164("phone", "phone_digits")} AS phone),
                        {e164("mobile_phone", "mobile_digits")} AS mobile_e164
                 FROM (SELECT *, {digits.format("phone")} AS phone_digits,
                              {digits.format("mobile_phone")} AS mobile_digits FROM ({union}))"""
    name = "lower(first_name) || ' ' || lower(last_name)"
    return f"""CREATE TEMP TABLE records AS
        SELECT * EXCLUDE (phone_digits, mobile_digits),
               CASE WHEN regexp_full_match(email, '{EMAIL}') THEN email END AS email_key,
               phone || '|' || {name} AS phone_key, mobile_e164 || '|' || {name} AS mobile_key
        FROM ({phones})"""


# A record's number is its rowid in ``records``.
STEPS = (
    # Phone + name keys that link: those some record without a valid email has.
    """CREATE TEMP TABLE active AS
        SELECT DISTINCT k FROM (SELECT unnest([phone_key, mobile_key]) AS k FROM records WHERE email_key IS NULL)
        WHERE k IS NOT NULL""",
    """CREATE TEMP TABLE edge_keys AS
        SELECT rowid AS rid, email_key AS k FROM records WHERE email_key IS NOT NULL
        UNION ALL SELECT rowid, phone_key FROM records SEMI JOIN active ON active.k = records.phone_key
        UNION ALL SELECT rowid, mobile_key FROM records SEMI JOIN active ON active.k = records.mobile_key""",
    # Keys numbered, so label propagation groups integers.
    "CREATE TEMP TABLE keys AS SELECT k, row_number() OVER () AS kid FROM (SELECT DISTINCT k FROM edge_keys)",
    "CREATE TEMP TABLE edges AS SELECT rid, kid FROM edge_keys JOIN keys USING (k)",
    "DROP TABLE edge_keys",
    # First pass: each record takes the smallest record sharing one of its keys.
    """CREATE TEMP TABLE labels AS
        WITH k AS (SELECT kid, min(rid) AS lab FROM edges GROUP BY kid)
        SELECT e.rid, min(k.lab) AS lab FROM edges e JOIN k USING (kid) GROUP BY e.rid""",
)
PASS = """CREATE OR REPLACE TEMP TABLE next_labels AS
    WITH k AS (SELECT e.kid, min(l.lab) AS lab FROM edges e JOIN labels l USING (rid) GROUP BY e.kid)
    SELECT e.rid, min(k.lab) AS lab FROM edges e JOIN k USING (kid) GROUP BY e.rid"""
PERSONS = """CREATE TABLE persons AS
    SELECT person_id, arg_max(email, updated_at) FILTER (WHERE email IS NOT NULL) AS email,
           arg_max(phone, updated_at) FILTER (WHERE phone IS NOT NULL) AS phone,
           {fields}, count(*) AS records, max(updated_at) AS updated_at
    FROM map GROUP BY person_id"""


def main(warehouse: str, out: str) -> None:
    """Resolve, write, print the counts."""
    con = duckdb.connect(out)
    clock = time.perf_counter()
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"ATTACH '{warehouse}' AS w (READ_ONLY)")
    con.execute(records_sql())
    con.execute("DETACH w")
    for step in STEPS:
        con.execute(step)
    passes = 1
    while True:
        con.execute(PASS)
        passes += 1
        moved = con.execute("SELECT count(*) FROM next_labels n JOIN labels l USING (rid) "
                            "WHERE n.lab < l.lab").fetchone()
        con.execute("DROP TABLE labels")
        con.execute("ALTER TABLE next_labels RENAME TO labels")
        if not moved or not moved[0]:
            break
    # A record without a linking key is a person of its own.
    con.execute("""CREATE TEMP TABLE map AS SELECT r.*, coalesce(l.lab, r.rowid) AS person_id
                   FROM records r LEFT JOIN labels l ON l.rid = r.rowid""")
    con.execute("CREATE TABLE person_map AS SELECT connection, source_id, person_id FROM map")
    con.execute(PERSONS.format(fields=", ".join(
        f"arg_max({f}, updated_at) FILTER (WHERE {f} IS NOT NULL) AS {f}" for f, _, _ in FIELDS)))
    for temp in ("records", "active", "keys", "edges", "labels", "map"):
        con.execute(f"DROP TABLE temp.{temp}")
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - clock
    records, persons = con.execute("SELECT (SELECT count(*) FROM person_map), "
                                   "(SELECT count(*) FROM persons)").fetchone()
    con.close()
    print(json.dumps({"records": records, "persons": persons, "passes": passes, "seconds": seconds,
                      "peak_mb": peak_mb()}))


if __name__ == "__main__":
    if len(sys.argv) > 2:
        main(sys.argv[1], sys.argv[2])
    else:
        with tempfile.TemporaryDirectory(prefix="hub-identity-reference-") as folder:
            main(sys.argv[1], str(Path(folder) / "reference.duckdb"))
