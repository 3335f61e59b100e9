"""The one thread of ``hub serve`` that writes the warehouse: flushes, triggers and scheduled jobs, one at a time.

DuckDB allows one writing process per file, and within hub's process one writer at a time keeps things simple: every
warehouse write of the server goes through :class:`Owner`'s thread. After new events (the inbox pokes it) it waits a
moment so they gather into one batch (not after a busy turn: what arrived meanwhile has gathered already), flushes
them (:mod:`hub.serve.flusher`), then fires the triggers of the events it just flushed, then runs queued jobs (the
scheduler hands its jobs here with :meth:`Owner.call`). Between those steps the warehouse is closed, so CLI commands
in other processes get their turn (a chunk of trigger runs keeps it open from its first step to its last, a second
or so). A failed flush (the warehouse held by a long `hub ingest`, say) is retried on the next wake-up; the events
wait safely in the inbox meanwhile.
Triggers run at least once: the ``triggered`` mark moves after each event's triggers ran, so a crash repeats the
current event's triggers, never skips them. Events the flusher set aside as dead letters fire no triggers.

The thread never dies of an error: every step catches what it raises, says so through ``on_event`` and the log,
keeps it for :meth:`Owner.health` (what ``/healthz`` answers) and tries again at the next wake-up.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from hub.errors import HubError
from hub.secrets import redact
from hub.serve import flusher
from hub.serve.inbox import Inbox

if TYPE_CHECKING:
    from hub.project import Project
    from hub.serve.triggers import Runner, Trigger

log = logging.getLogger("hub.serve")
T = TypeVar("T")
TRIGGERED = "triggered"
LINGER_S = 0.5          # let a burst of events gather into one flush (one warehouse open per batch)
RETRY_S = 2.0           # a failed flush is tried again this often
#: /healthz says "stuck" once an event has waited this long for the warehouse (a long job holding the owner, say)
STUCK_S = 300.0
#: how many flushed events' triggers run (and are recorded) together
CHUNK = 200


class Owner:
    """Owns the warehouse for the server: start(), poke() after new events, call() for other work, stop()."""

    def __init__(self, project: Project, inbox: Inbox, *, triggers: dict[str, Trigger] | None = None,
                 runner: Runner | None = None, on_event: Callable[[str], None] | None = None) -> None:
        self.project, self.inbox = project, inbox
        self.triggers = triggers or {}
        self.runner = runner
        self.on_event = on_event or (lambda message: None)
        self.stopping = threading.Event()
        self.flushed = 0
        self._wake = threading.Event()
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="hub-serve-owner", daemon=True)
        self._failing = False
        self.last_error: str | None = None     # the latest error a step raised
        self.errors = 0                        # how many errors the steps raised since the start
        self.stuck_after = STUCK_S
        self._evaluated_at, self._evaluated_once = 0, False   # data triggers: the flush count last evaluated at

    def start(self) -> None:
        """Start the thread; events already in the inbox (from before a restart) are flushed first."""
        self._wake.set()
        self._thread.start()

    def poke(self) -> None:
        """New events are in the inbox."""
        self._wake.set()

    def call(self, work: Callable[[], T]) -> T:
        """Run ``work`` in the owner's thread (between flushes) and return its result or raise its error."""
        if not self._thread.is_alive():
            raise HubError("the server is stopping; the job was not run")
        future: Future[T] = Future()
        self._jobs.put((work, future))
        self._wake.set()
        return future.result()

    def stop(self) -> None:
        """Flush what arrived, then end the thread (queued jobs still run; trigger retries are cut short)."""
        self.stopping.set()
        self._wake.set()
        self._thread.join()

    def health(self) -> dict[str, Any]:
        """``status`` ok | failing (the latest flush failed: ``error`` says why) | stuck (an event has waited longer
        than ``stuck_after``) | down (the thread is gone), with the inbox's backlog, the oldest waiting event's age,
        the dead letters, and how many errors the steps raised since the start."""
        alive = self._thread.is_alive() or not self._thread.ident   # not started yet counts as alive
        oldest = self.inbox.oldest_waiting()
        waited = max(0.0, time.time() - oldest) if oldest is not None else 0.0
        stuck = oldest is not None and waited > self.stuck_after
        status = "down" if not alive else "failing" if self._failing else "stuck" if stuck else "ok"
        report: dict[str, Any] = {"status": status, "received": self.inbox.last_seq(),
                                  "flushed": self.inbox.mark(flusher.MARK), "backlog": self.inbox.backlog(),
                                  "oldest_waiting_s": round(waited, 3), "dead_letters": self.inbox.dead_count(),
                                  "errors": self.errors}
        if status == "stuck":
            report["error"] = f"an event has waited {waited:.0f} s for the warehouse (a long job or trigger?)"
        elif status != "ok":
            report["error"] = self.last_error or "the warehouse owner thread has stopped"
        elif self.last_error:
            report["last_error"] = self.last_error
        return report

    def _loop(self) -> None:
        while True:
            final = self.stopping.is_set()
            try:
                final = self._turn()
            except Exception as exc:   # noqa: BLE001 - the thread outlives any bug; the error is reported and kept
                self._failed("the warehouse owner", exc)
                self._failing = True
                if not final:
                    self.stopping.wait(RETRY_S)   # not a busy loop when the inbox itself fails
            if final:
                return

    def _turn(self) -> bool:
        """Wait for work, then flush, fire triggers and run jobs; True when this was the last turn."""
        if not self.stopping.is_set():
            # events that arrived while the last turn worked have gathered already: take them at once
            waited = not self._wake.is_set()
            self._wake.wait(RETRY_S if self._failing or self._pending_triggers() else None)
            self._wake.clear()
            if waited and not self.stopping.is_set() and self._jobs.empty():
                self.stopping.wait(LINGER_S)
        final = self.stopping.is_set()
        self._flush(drain=final)
        if not final:
            self._fire_triggers()
            self._data_triggers()
        self._run_jobs()
        return final

    def _data_triggers(self) -> None:
        """``model:`` triggers (hub.actions.data): after a flush brought rows (a model may be a view over them), and
        once at the start (firings a crash left undelivered)."""
        models = [t for t in self.triggers.values() if t.source == "model"]
        if not models or self.runner is None or (self.flushed == self._evaluated_at and self._evaluated_once):
            return
        from hub.actions.data import evaluate

        self._evaluated_at, self._evaluated_once = self.flushed, True
        try:
            result = evaluate(self.project, models, self.runner)
        except Exception as exc:   # noqa: BLE001 - reported and kept like any step's error; tried after the next flush
            self._failed("data triggers", exc)
            return
        for name, error in result.errors.items():
            self.on_event(f"trigger {name} could not be evaluated: {error}")
        for execution in result.executions:
            actions = ", ".join(f"{o.action} {o.status}" for o in execution.outcomes)
            self.on_event(f"trigger {execution.trigger} for {execution.event_id}: "
                          f"{'ok' if execution.ok else 'failed'} ({actions}; run {execution.run_id})")

    def _failed(self, what: str, exc: Exception) -> None:
        """Report and keep an error a step raised (with the traceback in the log under --debug)."""
        message = redact(f"{what} failed: {type(exc).__name__}: {exc}")
        if message != self.last_error:   # a flush failing the same way every retry is said once
            log.error("hub serve: %s", message, exc_info=log.isEnabledFor(logging.DEBUG))
            self.on_event(message)
        self.errors += 1
        self.last_error = message
        try:   # a run the step had started ends failed with the cause, not "running" to be found interrupted later
            from hub.history import fail_unfinished

            fail_unfinished(self.project, exc)
        except Exception as again:   # noqa: BLE001 - recording is best effort; the error above is already kept
            log.debug("hub serve: could not record the failed run: %s", redact(str(again)))

    def _flush(self, drain: bool = False) -> None:
        """One batch (more only while batches come full, or until empty when ``drain``)."""
        try:
            while True:
                dead = self.inbox.dead_count()
                moved = flusher.flush(self.project, self.inbox)
                self.flushed += moved
                if self.inbox.dead_count() > dead:
                    self.on_event(f"{self.inbox.dead_count() - dead} event(s) set aside in _hub.webhook_dead_letters "
                                  "(they do not fit raw events; see the reason there)")
                if moved == 0 or (moved < flusher.BATCH and not drain):
                    break
            if self._failing:
                self.on_event("flushing into the warehouse again")
            self._failing = False
        except HubError as exc:   # the warehouse stayed locked, say: the events wait in the inbox
            if not self._failing:
                self.on_event(f"cannot flush into the warehouse yet ({exc}); events are kept in the inbox")
            self._failing, self.last_error = True, redact(f"flush failed: {exc}")
        except Exception as exc:   # noqa: BLE001 - a bug: reported, the events wait in the inbox, tried again later
            self._failed("flush", exc)
            self._failing = True

    def _pending_triggers(self) -> bool:
        return bool(self.triggers) and self.inbox.mark(TRIGGERED) < self.inbox.mark(flusher.MARK)

    def _fire_triggers(self) -> None:
        """Run the triggers of flushed events, oldest first, a chunk of events at a time (their runs are recorded
        together: :meth:`Runner.run_many`); an event's work is done before the next one's. The ``triggered`` mark
        moves after each chunk, so a crash repeats at most the current chunk's triggers, never skips them. Events
        flushed while a chunk ran make the next chunk straight away, so a steady stream of posts is taken chunk after
        chunk without waiting for another turn."""
        if not self.triggers or self.runner is None:
            self.inbox.set_mark(TRIGGERED, self.inbox.mark(flusher.MARK))
            return
        done, upto = self.inbox.mark(TRIGGERED), self.inbox.mark(flusher.MARK)
        halted = self.runner.stop
        while done < upto and not (self.stopping.is_set() or halted.is_set()):
            events = [e for e in self.inbox.read_after(done, min(CHUNK, upto - done)) if e.seq <= upto]
            if not events:
                break
            dead = self.inbox.dead(done, upto)
            items = [item for event in events if event.seq not in dead for item in self._wanted(event)]
            # the chunk's steps (its runs' bookkeeping, each action's build and push, then the flush of what arrived
            # meanwhile) each open the warehouse: kept open across them, each open costs milliseconds, not a read of
            # the file and a checkpoint at its close
            with self.project.warehouse().kept_open() if items else nullcontext():
                try:
                    self._fire(items)
                except Exception as exc:   # noqa: BLE001 - one chunk's bad trigger run must not stop the rest
                    self._failed(f"triggers of {len(items)} event(s)", exc)
                done = events[-1].seq
                self.inbox.set_mark(TRIGGERED, done)
                # events keep landing and scheduled jobs keep running behind a long queue of triggers; what landed
                # while this chunk ran is the next chunk, at once (no linger: those events have gathered already)
                self._flush()
            self._data_triggers()
            self._run_jobs()
            upto = max(upto, self.inbox.mark(flusher.MARK))

    def _wanted(self, event: Any) -> list[tuple[Trigger, Any, dict[str, Any]]]:
        """(trigger, event, payload) for every trigger the event fires."""
        try:
            payload = orjson.loads(event.body)
        except orjson.JSONDecodeError:
            return []
        if not isinstance(payload, dict):
            return []
        return [(t, event, payload) for t in self.triggers.values() if t.wants(event.connection, event.type, payload)]

    def _fire(self, items: list[tuple[Trigger, Any, dict[str, Any]]]) -> None:
        assert self.runner is not None
        if not items:
            return
        try:
            executions = self.runner.run_many(items)
        except HubError as exc:   # e.g. the warehouse stayed locked: record nothing, say so
            self.on_event(f"triggers of {len(items)} event(s) failed: {exc}")
            return
        for execution in executions:
            status = "ok" if execution.ok else "failed"
            actions = ", ".join(f"{o.action} {o.status}" for o in execution.outcomes)
            self.on_event(f"trigger {execution.trigger} for {execution.event_id}: {status} ({actions}; run "
                          f"{execution.run_id})")

    def _run_jobs(self) -> None:
        while True:
            try:
                work, future = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work())
            except BaseException as exc:  # handed back to the caller, who decides
                future.set_exception(exc)
