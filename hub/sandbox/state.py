"""A sandbox's vendor data on disk, so a stopped sandbox can start again where it left off.

The file is JSON (orjson) holding the stores' ``to_state()`` under a format name and version (Stripe's is optional, so
files written before the Stripe emulator existed still load, with Stripe starting from the seed). Ids, timestamps,
archived/deleted flags, deletion times and id counters are saved; indexes are rebuilt on load. Tokens are not:
they come from the seed, so they stay the same across restarts anyway.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from hub.sandbox.clock import AnyClock
from hub.sandbox.hubspot_store import HubSpotStore
from hub.sandbox.salesforce_store import SalesforceStore
from hub.sandbox.stripe_store import StripeStore

FORMAT = "hub-sandbox-state"
VERSION = 1  # bump when the layout changes; older files are then refused with ValueError
_HINT = "delete it to start again from the seed"


def save_state(path: Path, hubspot: HubSpotStore, salesforce: SalesforceStore,
               stripe: StripeStore | None = None) -> None:
    """Write the stores to ``path`` atomically: a temp file in the same directory, fsync, then os.replace."""
    state = {"format": FORMAT, "version": VERSION, "hubspot": hubspot.to_state(), "salesforce": salesforce.to_state()}
    if stripe is not None:
        state["stripe"] = stripe.to_state()
    data = orjson.dumps(state)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # make the rename itself durable; not every platform lets a directory be opened, hence the suppress
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def load_state(path: Path, clock: AnyClock, *, custom_fields: int = 0, hubspot_hidden: Sequence[str] = (),
               salesforce_hidden: Sequence[str] = ()) -> tuple[HubSpotStore, SalesforceStore]:
    """The stores saved in ``path`` (by a sandbox with the same custom and hidden fields); ValueError naming the file
    if it is corrupt or from an incompatible version."""
    data = _read(path)
    try:
        return (HubSpotStore.from_state(clock, data["hubspot"], custom_properties=custom_fields,
                                        hidden_properties=hubspot_hidden),
                SalesforceStore.from_state(clock, data["salesforce"], custom_fields=custom_fields,
                                           hidden_fields=salesforce_hidden))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"sandbox state file {path} is corrupt or from an incompatible version "
                         f"({type(exc).__name__}: {exc}); {_HINT}") from exc


def load_stripe_state(path: Path, clock: AnyClock, seed: int) -> StripeStore | None:
    """The Stripe store saved in ``path``, or None when the file predates the Stripe emulator."""
    data = _read(path)
    if "stripe" not in data:
        return None
    try:
        return StripeStore.from_state(clock, data["stripe"], seed)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"sandbox state file {path} has a corrupt Stripe section "
                         f"({type(exc).__name__}: {exc}); {_HINT}") from exc


def _read(path: Path) -> dict[str, Any]:
    """The parsed file, checked for format and version."""
    hint = _HINT
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"sandbox state file {path} is not valid JSON ({exc}); {hint}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a sandbox state file (no format {FORMAT!r}); {hint}")
    if data.get("version") != VERSION:
        raise ValueError(f"sandbox state file {path} has format version {data.get('version')!r}, but this hub reads "
                         f"version {VERSION}; {hint}")
    return data
