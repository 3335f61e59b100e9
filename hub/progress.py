"""Progress display for long commands: live on a terminal, silent when output is piped or captured."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def stream_progress(stream=None) -> Iterator[Callable[[str, str, int], None] | None]:
    """A ``(connection, stream, rows)`` callback that shows rows fetched so far, or None when not on a terminal."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield None
        return
    from rich.console import Console

    console = Console(file=stream)
    with console.status("starting ingest...") as status:
        def update(connection: str, name: str, rows: int) -> None:
            status.update(f"ingesting {connection}.{name}: {rows:,} rows")
        yield update
