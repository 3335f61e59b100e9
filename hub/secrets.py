"""Secret values: a string type that never prints itself, and a process-wide redactor.

Every secret hub loads (tokens, client secrets, refresh tokens) is wrapped in :class:`Secret` and registered with the
redactor. Output paths that may carry foreign text (error messages from APIs, logs, run records) pass through
:func:`redact`, so a secret that slipped into a message is replaced by ``***`` before anyone sees it.
"""

from __future__ import annotations

import logging
import threading

_MASK = "***"
_lock = threading.Lock()
_known: set[str] = set()


class Secret(str):
    """A ``str`` whose repr and ``str()`` are masked; use :meth:`reveal` where the real value is needed (an auth
    header)."""

    def __new__(cls, value: str) -> Secret:
        self = super().__new__(cls, value)
        register(value)
        return self

    def reveal(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK


def register(value: str) -> None:
    """Remember ``value`` so that :func:`redact` masks it wherever it appears."""
    if value and len(value) >= 4:
        with _lock:
            _known.add(value)


def redact(text: str) -> str:
    """Replace every registered secret value in ``text`` with ``***``."""
    if not _known or not text:
        return text
    with _lock:
        values = sorted(_known, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, _MASK)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in every record, installed on hub's and dlt's loggers."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _known:
            record.msg = redact(record.getMessage())
            record.args = ()
        return True
