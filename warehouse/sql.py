"""Identifier and literal quoting: the one way names and values from config reach SQL (never string-built from user
input)."""

from __future__ import annotations


def quote(name: str) -> str:
    """A DuckDB-quoted identifier: embedded double quotes are doubled, so any name is safe in SQL."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal: embedded single quotes are doubled, so any text is safe in SQL."""
    return "'" + text.replace("'", "''") + "'"


def qualified(*parts: str) -> str:
    """A dotted, quoted name: ``qualified("raw_crm", "contacts")`` -> ``"raw_crm"."contacts"``."""
    return ".".join(quote(p) for p in parts)
