"""hub's own SQL functions (``_hub.survivor_key``, ``_hub.edited``, ``_hub.held``, ``_hub.two_way_key``): what each
computes, written once per engine.

On DuckDB they are macros created in ``_hub`` (:data:`SURVIVOR_KEY`, :data:`TWO_WAY_MACROS`), so a model calls them
like any function. Every other engine gets them inlined: :mod:`hub.warehouse.dialect` replaces each call with the
engine's template below, its ``__<parameter>`` placeholders filled with the call's arguments. So a PostgreSQL
warehouse (and `hub compile --dialect`'s output) needs nothing installed beyond the tables a model reads. The DuckDB
templates are the macros' own bodies, so the macro stays the single source of what each function means.

What a template cannot make identical (the 25 tie-break bits come from another hash than DuckDB's ``hash()``) is
said in the dialect's notes (:mod:`hub.warehouse.dialect`).
"""

from __future__ import annotations

import re

# For survivorship in models: `arg_max(value, _hub.survivor_key(valid, rank, updated_at, source_id))` picks a valid
# value before an invalid one, then the best-ranked source (0 first), then the latest update, then a fixed tie-break.
# Packed into one BIGINT (1 + 4 + 33 + 25 bits) because DuckDB aggregates over a number several times faster than
# over a struct of the same four values.
SURVIVOR_KEY = """
CREATE OR REPLACE MACRO _hub.survivor_key(valid, rank, updated_at, tiebreak) AS
    (CAST(coalesce(valid, false) AS BIGINT) << 62)
  + (CAST(15 - least(greatest(coalesce(rank, 0), 0), 15) AS BIGINT) << 58)
  + (CAST(least(greatest(coalesce(epoch(CAST(updated_at AS TIMESTAMPTZ)), 0), 0), 8589934591) AS BIGINT) << 25)
  + CAST(hash(tiebreak) & 33554431 AS BIGINT)
"""
# Two-way survivorship (see hub/modeling/synced.py). Packed like _hub.survivor_key: edited (1 bit), standing (4, only
# while not edited: two edits are decided by time alone), epoch seconds (33), tie-break (25).
TWO_WAY_MACROS = """
CREATE OR REPLACE MACRO _hub.edited(fresh, current_value, synced_value) AS
    coalesce(fresh, false) AND (current_value IS DISTINCT FROM synced_value);
CREATE OR REPLACE MACRO _hub.held(fresh, current_value, synced_value) AS
    CASE WHEN NOT coalesce(fresh, true) THEN synced_value ELSE current_value END;
CREATE OR REPLACE MACRO _hub.two_way_key(edited, standing, updated_at, tiebreak) AS
    (CAST(coalesce(edited, false) AS BIGINT) << 62)
  + (CAST(CASE WHEN coalesce(edited, false) THEN 15 ELSE 15 - least(greatest(coalesce(standing, 0), 0), 15) END
          AS BIGINT) << 58)
  + (CAST(least(greatest(coalesce(epoch(CAST(updated_at AS TIMESTAMPTZ)), 0), 0), 8589934591) AS BIGINT) << 25)
  + CAST(hash(tiebreak) & 33554431 AS BIGINT)
"""
_MACRO = re.compile(r"MACRO\s+_hub\.(\w+)\s*\(([^)]*)\)\s+AS\s+(.*?)(?:;\s*(?=CREATE)|;?\s*$)", re.S | re.I)


def _macros(text: str) -> dict[str, tuple[tuple[str, ...], str]]:
    """name -> (parameters, body with each parameter renamed ``__<parameter>``) of every macro in ``text``."""
    out = {}
    for match in _MACRO.finditer(text):
        params = tuple(p.strip() for p in match.group(2).split(","))
        body = match.group(3).strip()
        for param in params:
            body = re.sub(rf"\b{param}\b", f"__{param}", body)
        out[match.group(1).lower()] = (params, body)
    return out


_DUCKDB = {**_macros(SURVIVOR_KEY), **_macros(TWO_WAY_MACROS)}
assert set(_DUCKDB) == {"survivor_key", "edited", "held", "two_way_key"}, "a macro of hub's no longer parses"
#: Each function's parameters, in call order.
PARAMETERS = {name: params for name, (params, _) in _DUCKDB.items()}


def _seconds_half_even(micros: str, div: str, iff: str) -> str:
    """Whole seconds from a count of microseconds, rounded half to even as DuckDB's CAST(DOUBLE AS BIGINT) rounds
    ``epoch()``, in integer arithmetic (a float cast to an integer rounds half away from zero in some warehouses).
    Below zero the result is at most 0, which the clamp that follows makes 0, as in DuckDB."""
    seconds, rest = f"{div.format(m=micros)}", f"MOD({micros}, 1000000)"
    return (f"{seconds} + {iff.format(cond=f'{rest} > 500000 OR ({rest} = 500000 AND MOD({seconds}, 2) = 1)')}")


#: The second of change, as the survivor key packs it: DuckDB's ``epoch()`` is a DOUBLE, clamped to [0, 2^33 - 1] and
#: rounded half to even by its cast to BIGINT. A Postgres float8 rounds the same way (rint); its NUMERIC would not.
SECOND_OF_CHANGE = {
    "postgres": "CAST(LEAST(GREATEST(COALESCE(CAST(DATE_PART('epoch', CAST(__updated_at AS TIMESTAMPTZ))"
                " AS DOUBLE PRECISION), 0), 0), 8589934591) AS BIGINT)",
    "snowflake": "CAST(LEAST(GREATEST(COALESCE("
                 + _seconds_half_even("DATE_PART(EPOCH_MICROSECOND, CAST(__updated_at AS TIMESTAMP_TZ))",
                                      "FLOOR({m} / 1000000)", "IFF({cond}, 1, 0)")
                 + ", 0), 0), 8589934591) AS BIGINT)",
    "bigquery": "CAST(LEAST(GREATEST(COALESCE("
                + _seconds_half_even("UNIX_MICROS(CAST(__updated_at AS TIMESTAMP))", "DIV({m}, 1000000)",
                                     "IF({cond}, 1, 0)")
                + ", 0), 0), 8589934591) AS INT64)",
}
#: The 25 tie-break bits of a key, from the engine's own hash of ``__tiebreak`` (never NULL: 0 then).
_TIEBREAK = {
    "postgres": "COALESCE(CAST(CAST('x' || SUBSTR(MD5(CAST(__tiebreak AS TEXT)), 1, 16) AS BIT(64)) AS BIGINT)"
                " & 33554431, 0)",
    "snowflake": "COALESCE(BITAND(HASH(__tiebreak), 33554431), 0)",
    "bigquery": "COALESCE(FARM_FINGERPRINT(CAST(__tiebreak AS STRING)) & 33554431, 0)",
}
_PG_EDITED = "COALESCE(__edited, FALSE)"

#: dialect -> function -> template in that dialect's SQL (a function missing for a dialect stays a call, which
#: `hub compile` says needs the function installed in that warehouse)
TEMPLATES: dict[str, dict[str, str]] = {
    "duckdb": {name: body for name, (_, body) in _DUCKDB.items()},
    "postgres": {
        "survivor_key": "(CAST(CAST(COALESCE(__valid, FALSE) AS INT) AS BIGINT) << 62)"
                        " + (CAST(15 - LEAST(GREATEST(COALESCE(__rank, 0), 0), 15) AS BIGINT) << 58)"
                        f" + ({SECOND_OF_CHANGE['postgres']} << 25)"
                        f" + {_TIEBREAK['postgres']}",
        "edited": "COALESCE(__fresh, FALSE) AND (__current_value IS DISTINCT FROM __synced_value)",
        "held": "CASE WHEN NOT COALESCE(__fresh, TRUE) THEN __synced_value ELSE __current_value END",
        "two_way_key": f"(CAST(CAST({_PG_EDITED} AS INT) AS BIGINT) << 62)"
                       f" + (CAST(CASE WHEN {_PG_EDITED} THEN 15"
                       " ELSE 15 - LEAST(GREATEST(COALESCE(__standing, 0), 0), 15) END AS BIGINT) << 58)"
                       f" + ({SECOND_OF_CHANGE['postgres']} << 25)"
                       f" + {_TIEBREAK['postgres']}",
    },
    "snowflake": {
        "survivor_key": "BITSHIFTLEFT(CAST(COALESCE(__valid, FALSE) AS BIGINT), 62)"
                        " + BITSHIFTLEFT(CAST(15 - LEAST(GREATEST(COALESCE(__rank, 0), 0), 15) AS BIGINT), 58)"
                        f" + BITSHIFTLEFT({SECOND_OF_CHANGE['snowflake']}, 25)"
                        f" + {_TIEBREAK['snowflake']}",
    },
    "bigquery": {
        "survivor_key": "(CAST(COALESCE(__valid, FALSE) AS INT64) << 62)"
                        " + (CAST(15 - LEAST(GREATEST(COALESCE(__rank, 0), 0), 15) AS INT64) << 58)"
                        f" + ({SECOND_OF_CHANGE['bigquery']} << 25)"
                        f" + {_TIEBREAK['bigquery']}",
    },
}
