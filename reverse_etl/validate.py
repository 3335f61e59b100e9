"""Checking a row against the target's field metadata before it is sent, so a known-bad row never poisons a batch.

Some targets validate a batch as a whole: one invalid email fails all 100 inputs with a 400. Rows the target would
certainly refuse (an email that is not one, a required field left empty on a create, text longer than the field holds)
are rejected here, with the reason the target would give, and never sent. The checks are the vendors' own rules, no
stricter: a row they would accept is never rejected locally.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hub.reverse_etl.base import TargetField

# the address shape both vendors accept (local part @ dotted domain with a 2+ letter top level)
EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


class Checker:
    """The checks of one target object, compiled once: only fields with a rule are looked at per row."""

    def __init__(self, fields: Mapping[str, TargetField]) -> None:
        self.rules = [(name, f) for name, f in fields.items() if f.required or f.kind == "email" or f.max_length]

    def problem(self, values: Mapping[str, Any], *, creating: bool) -> tuple[str, str] | None:
        """(reason, code) of the first value the target would refuse, or None when the row looks sendable."""
        for name, field in self.rules:
            if name not in values:
                continue
            value = values[name]
            if value is None or value == "":
                if creating and field.required:
                    return f"{name} is required by the target and has no value", "REQUIRED_FIELD_MISSING"
                continue
            text = value if isinstance(value, str) else str(value)
            if field.kind == "email" and not EMAIL_RE.match(text.strip()):
                return f"{name}: '{text}' is not a valid email address", "INVALID_EMAIL"
            if field.max_length and len(text) > field.max_length:
                return (f"{name}: {len(text)} characters, more than the {field.max_length} the target keeps",
                        "STRING_TOO_LONG")
        return None


def problem(values: Mapping[str, Any], fields: Mapping[str, TargetField], *, creating: bool) -> tuple[str, str] | None:
    """(reason, code) of the first value the target would refuse, or None when the row looks sendable."""
    return Checker(fields).problem(values, creating=creating)
