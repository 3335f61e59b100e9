"""What vendors tell hub on the side of their answers: API usage against the daily limit, and deprecation notices.

Every response passes through :meth:`hub.sources.http.VendorProfile.notice`, which reads a few headers (cheap: a handful of
lookups per page) into the connection's :class:`Seen` record in this process. RFC 9745 ``Deprecation`` and RFC 8594
``Sunset`` headers are read for every vendor; vendor-specific usage and version headers by each integration's
profile. A notice is logged as a warning the first time a process sees it (the command's warning line), and
:func:`save` keeps the latest of each per connection in ``<project>/.hub/api_notes.json`` for ``hub status``.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:  # annotations only: `hub status` reads the notices without loading an HTTP client
    import httpx


def log() -> Any:
    """hub's API logger (``hub.api``); logging loads when there is something to say, not with every command."""
    import logging

    return logging.getLogger("hub.api")


NOTES_FILE = Path(".hub") / "api_notes.json"
#: share of the daily API limit past which hub warns
USAGE_WARN_SHARE = 0.8


@dataclass
class Seen:
    """What one connection's vendor said in this process: last API usage and notices by key."""

    connection: str
    usage: tuple[int, int] | None = None          # (used, limit) of the daily API allowance
    usage_at: float | None = None
    notices: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {message, seen_at}
    changed: bool = False

    def note_usage(self, used: int, limit: int) -> None:
        """Remember the latest usage; warn once when it first passes the warning share."""
        before = self.usage
        self.usage, self.usage_at, self.changed = (used, limit), time.time(), True
        if limit > 0 and used / limit > USAGE_WARN_SHARE and (before is None or before[0] / max(before[1], 1)
                                                               <= USAGE_WARN_SHARE):
            log().warning("warning: connection %s: %s", self.connection, usage_line(used, limit))

    def note(self, key: str, message: str) -> None:
        """Remember a deprecation or retirement notice; the first sighting in this process is logged."""
        with _lock:
            known = self.notices.get(key)
            self.notices[key] = {"message": message, "seen_at": time.time()}
            self.changed = True
        if known is None or known["message"] != message:
            log().warning("warning: connection %s: %s", self.connection, message)


_lock = threading.Lock()
_seen: dict[tuple[str, str], Seen] = {}


def seen(connection: str, root: Path | None = None) -> Seen:
    """The process-wide record of one project's connection (ingest, push and token refresh share it)."""
    key = (str(root), connection)
    with _lock:
        record = _seen.get(key)
        if record is None:
            record = _seen[key] = Seen(connection)
        return record


def usage_line(used: int, limit: int) -> str:
    """``api usage 12,345/15,000 (82%)``, with the warning when past the share."""
    share = used / limit if limit else 0.0
    text = f"api usage {used:,}/{limit:,} ({share:.0%})"
    if share > USAGE_WARN_SHARE:
        text += f": warning, past {USAGE_WARN_SHARE:.0%} of the daily API limit"
    return text


def http_date(value: str) -> str | None:
    """An RFC 9745 ``@epoch`` or HTTP-date as ``YYYY-MM-DD``; None when it is neither."""
    try:
        if value.startswith("@"):
            return datetime.fromtimestamp(int(value[1:]), UTC).strftime("%Y-%m-%d")
        import email.utils   # rare (a Sunset header): not every command pays for the import

        parsed = email.utils.parsedate_to_datetime(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return parsed.strftime("%Y-%m-%d") if parsed else None


def deprecation_notice(vendor: str, request: httpx.Request, headers: httpx.Headers) -> str | None:
    """The notice that RFC 9745 ``Deprecation`` / RFC 8594 ``Sunset`` headers give about one endpoint, if any."""
    deprecation = headers.get("deprecation")
    sunset = headers.get("sunset")
    if deprecation is None and sunset is None:
        return None
    what = f"{vendor} {request.method} {request.url.path}"
    parts = []
    if deprecation is not None:
        when = http_date(deprecation)
        parts.append(f"is deprecated (since {when})" if when else "is deprecated")
    if sunset is not None:
        when = http_date(sunset) or sunset
        parts.append(f"stops working on {when} (Sunset)")
    return f"{what} {' and '.join(parts)}; upgrade hub or the connection's api_version before then"


def observe_headers(connection: str, vendor: str, response: httpx.Response, root: Path | None = None) -> None:
    """Record the RFC deprecation headers of a response that did not go through an ApiClient (token requests)."""
    message = deprecation_notice(vendor, response.request, response.headers)
    if message is not None:
        seen(connection, root).note(f"{response.request.method} {response.request.url.path}", message)


# --- the notes file ------------------------------------------------------------------------------------------------

def load(root: Path) -> dict[str, Any]:
    """``{connection: {usage: {used, limit, seen_at}, notices: {key: {message, seen_at}}}}`` (empty when none)."""
    try:
        data = orjson.loads((Path(root) / NOTES_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def save(root: Path, connection: str) -> None:
    """Merge what this process saw of ``connection`` into the notes file (atomically; nothing when nothing new)."""
    record = _seen.get((str(root), connection))
    if record is None or not record.changed:
        return
    path = Path(root) / NOTES_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = os.open(path.parent / ".api_notes.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two commands saving different connections must not drop each other's
        data = load(root)
        entry = data.setdefault(connection, {})
        with _lock:
            if record.usage is not None:
                entry["usage"] = {"used": record.usage[0], "limit": record.usage[1], "seen_at": record.usage_at}
            entry.setdefault("notices", {}).update(record.notices)
            record.changed = False
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".api_notes-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    finally:
        os.close(lock)
