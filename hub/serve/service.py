"""One running ``hub serve``: the inbox, the HTTP server, the warehouse owner and the scheduler, started and stopped
together. As usable from Python as from the CLI::

    with Service(Project.find("."), port=0) as service:
        print(service.url)      # http://127.0.0.1:<port>
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from hub.serve.inbox import Inbox
from hub.serve.owner import Owner
from hub.serve.server import WebhookServer, receivers_of

if TYPE_CHECKING:
    import httpx

    from hub.project import Project
    from hub.schedule import Schedule

INBOX = Path(".hub") / "inbox.sqlite"


def is_loopback(host: str) -> bool:
    """Whether ``host`` accepts connections from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _OwnerSlots:
    """The scheduler's slot store, read and written through the owner thread like every other warehouse access."""

    def __init__(self, owner: Owner, inner: Any) -> None:
        self.owner, self.inner = owner, inner

    def get(self, name: str) -> Any:
        return self.owner.call(lambda: self.inner.get(name))

    def set(self, name: str, slot: Any) -> None:
        self.owner.call(lambda: self.inner.set(name, slot))


class Service:
    """``hub serve`` as an object: :meth:`start`, :attr:`url`, :meth:`stop` (flushes before returning)."""

    def __init__(self, project: Project, *, host: str = "127.0.0.1", port: int = 8080, schedules: bool = True,
                 http: httpx.Client | None = None, on_event: Callable[[str], None] | None = None) -> None:
        from hub.serve import triggers as trigger_config

        self.project = project
        project.check_all()    # the whole configuration, before the server takes any event
        self.on_event = on_event or (lambda message: None)
        self.triggers = trigger_config.load(project)            # config errors surface before anything starts
        self.schedules = self._schedules() if schedules else {}
        self.receivers, self.unconfigured = receivers_of(project.config.connections)
        self.forms = self._forms()
        self._http, self._own_http = http, http is None
        self._host, self._port = host, port
        self._stop = threading.Event()
        self._scheduler_thread: threading.Thread | None = None
        self.inbox: Inbox | None = None
        self.owner: Owner | None = None
        self.server: WebhookServer | None = None
        self.docs_token: str | None = None   # --- docs hook: set by start() when not bound to loopback

    def _forms(self) -> dict[str, Any]:
        if "forms" not in self.project.config.sections:
            return {}
        from hub.forms.config import load

        return load(self.project)

    def _schedules(self) -> dict[str, Schedule]:
        if "schedules" not in self.project.config.sections:
            return {}
        from hub.schedule import load

        return load(self.project)

    @property
    def url(self) -> str:
        assert self.server is not None, "call start() first"
        return self.server.url

    def start(self) -> Service:
        """Open the inbox, start the owner (which first flushes what an earlier run left), then listen."""
        import httpx

        from hub.serve.triggers import Runner

        if self._http is None:
            self._http = httpx.Client(timeout=10.0)
        self.inbox = Inbox(self.project.root / INBOX)
        runner = Runner(self.project, self._http, stop=self._stop) if self.triggers else None
        self.owner = Owner(self.project, self.inbox, triggers=self.triggers, runner=runner, on_event=self.on_event)
        self.inbox.on_stored = self.owner.poke
        self.owner.start()
        self.server = WebhookServer(self.inbox, self.receivers, host=self._host, port=self._port,
                                    unconfigured=self.unconfigured, health=self.owner.health,
                                    pages=self._docs_pages(), forms=self._desks())
        try:
            self.server.start()
        except OSError:
            self._stop.set()
            self.owner.stop()
            self.inbox.close()
            raise
        if self.schedules:
            self._start_scheduler()
        return self

    def _desks(self) -> dict[str, Any]:
        if not self.forms:
            return {}
        from hub.forms.intake import forms_of

        inbox = self.inbox
        assert inbox is not None
        return forms_of(self.forms, lambda events: inbox.put(events))

    def _docs_pages(self) -> Any:
        """--- docs hook: the docs site at ``/``, rendered through the owner thread (which holds the warehouse);
        a token is required unless bound to loopback (:mod:`hub.docs.live`)."""
        from hub.docs.live import LivePages, new_token

        owner = self.owner
        assert owner is not None
        self.docs_token = None if is_loopback(self._host) else new_token()
        # DuckDB: rendered by the owner thread, the one that may hold the file; PostgreSQL: readers never wait, so
        # pages render in the request's thread while the owner flushes and runs triggers
        direct = not self.project.warehouse(read_only=True).readers_wait
        return LivePages(self.project, token=self.docs_token, run=None if direct else owner.call)

    def _start_scheduler(self) -> None:
        from hub.schedule import Scheduler, WarehouseSlots, run_and_alert

        owner = self.owner
        assert owner is not None
        scheduler = Scheduler(self.project, self.schedules, slots=_OwnerSlots(owner, WarehouseSlots(self.project)),
                              runner=lambda project, schedule: owner.call(lambda: run_and_alert(project, schedule)),
                              on_event=lambda name, message: self.on_event(f"schedule {name}: {message}"))
        scheduler.tick()   # once here, so what is due (or the first start's slot) is settled before start() returns
        self._scheduler_thread = threading.Thread(target=scheduler.run, args=(self._stop,), name="hub-serve-schedule",
                                                  daemon=True)
        self._scheduler_thread.start()

    def stop(self) -> None:
        """Stop listening, let the inbox commit what it has, flush it into the warehouse, and close everything."""
        if self.server is not None:
            self.server.stop()
        self._stop.set()    # the scheduler stops ticking and trigger retries are cut short
        if self._scheduler_thread is not None:
            self._scheduler_thread.join()   # a running job finishes first: the owner is still there to run it
        if self.owner is not None:
            self.owner.stop()
        if self.inbox is not None:
            self.inbox.close()
        if self._own_http and self._http is not None:
            self._http.close()

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
