"""Render query results and reports as text tables, CSV or JSON (JSON = an array of objects)."""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import orjson

FORMATS = ("table", "csv", "json")


def _json_default(value: Any) -> Any:
    decimal = sys.modules.get("decimal")   # a Decimal exists only once its module is loaded: no import for nothing
    if decimal is not None and isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return str(value)


def to_json(value: Any) -> str:
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S%z") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "table") -> str:
    """``rows`` under ``columns`` in one of :data:`FORMATS`."""
    if fmt == "json":
        return to_json([dict(zip(columns, row)) for row in rows])
    if fmt == "csv":
        import csv

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        return out.getvalue().rstrip("\n")
    return table(columns, [[cell(v) for v in row] for row in rows])


def table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned text table (numbers right-aligned), stable for piping and tests."""
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row)]
    numeric = [all(_is_number(r[i]) for r in rows if r[i]) and any(r[i] for r in rows) for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line(columns), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'3 min ago' style age of ``moment``."""
    if moment is None:
        return "never"
    now = now or datetime.now(moment.tzinfo)
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"
