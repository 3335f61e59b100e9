"""``hub serve``: receive webhooks, store them durably, land them in the warehouse, fire triggers, run schedules.

How the single-writer warehouse is shared (DuckDB: one writing process per file). The long-running server never holds
the warehouse open. Its HTTP threads only write the inbox (:mod:`hub.serve.inbox`, SQLite, its own file), so intake
never waits on DuckDB. One owner thread (:mod:`hub.serve.owner`) does all of the server's warehouse work in turn:
flushing inbox batches (:mod:`hub.serve.flusher`), trigger runs (:mod:`hub.serve.triggers`) and, with
``[schedules]`` in hub.toml, the scheduled jobs (the in-process :class:`hub.schedule.Scheduler` hands them to it), each
opening the warehouse through :mod:`hub.warehouse.lock` and closing it when done. CLI commands are separate processes that
take the same lock: writers (`hub ingest`, `hub build`, `hub push`) queue behind a flush for milliseconds or behind a
running job for its length (`--wait`), and the server likewise queues behind them while webhooks keep landing in the
inbox. So `hub schedule run` is not needed beside `hub serve`: one process runs both.

Modules: ``server`` (HTTP), ``intake`` (signature and event ids per sender), ``inbox``, ``flusher``, ``owner``,
``triggers`` and ``when`` (the filter language), ``service`` (wires them together; what the CLI calls).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.serve.service import Service, is_loopback

__all__ = ["Service", "is_loopback"]


def __getattr__(name: str) -> Any:
    """``Service`` and ``is_loopback`` on first use: importing a submodule (``hub.serve.triggers`` for the config
    check) must not pull in the HTTP server, the flusher's pyarrow and the sandbox."""
    if name in __all__:
        from hub.serve import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
