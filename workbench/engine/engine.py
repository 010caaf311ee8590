"""The Engine: the GUI thread's handle on the worker. Latest wins per key; each job a ticket.

``submit`` returns a :class:`Ticket` whose signals (started, progress, partial, done, failed,
cancelled) are emitted on the GUI thread for that job alone. A job superseded by a newer one
with the same key goes quiet: its progress, partial, done and failed never arrive. ``started``
always comes before a job's other signals; for a job submitted with ``quiet=True`` it comes
just before the first of them instead of when the job begins, which spares the GUI thread one
wake-up per job (what a latent slider's decode, a few milliseconds of work, wants).

Jobs are core functions or methods: a callable defined in ``workbench.ui`` is refused, so all
compute stays reachable from the CLI and the API.
"""
from __future__ import annotations

import functools
import itertools
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

from workbench import singleton_refs
from workbench.engine import worker as W
from workbench.engine.device import check_name
from workbench.engine.jobs import Job, JobFn, JobQueue, method_job
from workbench.engine import ticket as T
from workbench.engine.ticket import Ticket

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.handle import ModelHandle
    from workbench.core.registry import Method


class Engine(QObject):
    submitted = Signal(object)             # a new Ticket, for observers of all work (the status bar)
    note = Signal(str)                     # a non-fatal notice for the status bar
    busyChanged = Signal(bool)
    deviceChanged = Signal(str)            # the device the worker now uses, e.g. "cpu", "cuda"

    def __init__(self, device: str = "auto", parent: QObject | None = None) -> None:
        super().__init__(parent)
        app = QCoreApplication.instance()
        if app is not None:   # every view that shows results has an engine: keep Qt's leaks covered
            singleton_refs.install(app)
        self._queue = JobQueue()
        self._worker = W.WorkerThread(self._queue, check_name(device))
        self._worker.event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._ids = itertools.count(1)
        self._live: dict[int, Ticket] = {}     # job id -> its ticket, for every job queued or running
        self._latest: dict[str, int] = {}      # key -> the job id whose signals still count
        self._cancel_asked: set[int] = set()
        self._unannounced: set[int] = set()    # quiet jobs whose ``started`` has not been emitted
        self._busy = False
        self._thread_started = False
        self._shut_down = False
        self._device_name: str | None = None
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- public API ---------------------------------------------------------------------------

    def submit(self, key: str, fn: JobFn, *args: Any, quiet: bool = False, **kwargs: Any) -> Ticket:
        """Run ``fn(job_context, *args, **kwargs)`` on the worker; a newer job with the same key
        supersedes this one. ``fn`` is a core function (or a method job), never one written in ui/.

        ``quiet``: for short jobs sent often; the worker does not announce the job's start and
        ``started`` is emitted right before its first progress, partial or outcome."""
        if self._shut_down:
            raise RuntimeError("the engine has been shut down")
        check_job_function(fn)
        call = fn if not (args or kwargs) else _bound(fn, args, kwargs)
        job = Job(next(self._ids), key, call, quiet=quiet)
        ticket = Ticket(job.id, key, self._cancel_ticket)
        for dropped in self._queue.put(job):
            self._forget(dropped.id, T.SUPERSEDED)
        previous = self._latest.get(key)
        if previous is not None and previous in self._live:
            self._live[previous].state = T.SUPERSEDED
        self._live[job.id] = ticket
        self._latest[key] = job.id
        if quiet:
            self._unannounced.add(job.id)
        self.submitted.emit(ticket)
        self._start_thread()
        self._update_busy()
        return ticket

    def run_method(self, key: str, method: "Method", handle: "ModelHandle", image: "np.ndarray | None",
                   values: dict[str, Any] | None = None, target: int | None = None) -> Ticket:
        """Run a registered method on the worker's device; its Progress/Partial reach the ticket."""
        return self.submit(key, method_job(method, handle, image, values, target))

    def cancel(self, key: str | None = None) -> None:
        """Ask the job(s) with this key (all when None) to stop; their tickets get ``cancelled``."""
        dropped, running = self._queue.cancel(key)
        for job in dropped:
            ticket = self._live.get(job.id)
            current = self._latest.get(job.key) == job.id
            self._forget(job.id, T.CANCELLED)
            if current and ticket is not None:
                ticket.cancelled.emit()
                ticket.finished.emit()
        if running is not None:
            self._cancel_asked.add(running.id)
        self._update_busy()

    def _cancel_ticket(self, ticket: Ticket) -> None:
        if self._latest.get(ticket.key) == ticket.id:
            self.cancel(ticket.key)

    def set_device(self, name: str) -> None:
        """Use "auto", "cpu", "cuda[:N]" or "mps" from the next job on. Unknown names raise
        ValueError; an unavailable device gives a ``note`` and the CPU."""
        self._worker.request_device(check_name(name))

    def warm_up(self) -> None:
        """Start the worker now so it imports torch and picks the device in the background."""
        self._start_thread()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything and stop the worker thread; True when it has stopped."""
        if not self._shut_down:
            self._shut_down = True
            for job in self._queue.close():
                self._forget(job.id, T.CANCELLED)
        stopped = self._worker.wait(timeout_ms) if self._thread_started else True
        self._update_busy()
        return stopped

    @property
    def is_busy(self) -> bool:
        return self._busy

    @property
    def device_name(self) -> str | None:
        """The device the worker last resolved ("cpu", "cuda", ...), None before it has."""
        return self._device_name

    # -- worker events, on the GUI thread -----------------------------------------------------

    @Slot(int, str, object)
    def _on_event(self, job_id: int, kind: str, payload: Any) -> None:
        if kind == W.NOTE:
            self.note.emit(payload)
            return
        if kind == W.DEVICE:
            self._device_name = payload
            self.deviceChanged.emit(payload)
            return
        ticket = self._live.get(job_id)
        if ticket is None:
            return
        current = self._latest.get(ticket.key) == job_id
        if job_id in self._unannounced:
            self._unannounced.discard(job_id)
            if current and job_id not in self._cancel_asked and kind != W.STARTED:
                ticket.state = T.RUNNING
                ticket.started.emit()
        if kind in W.TERMINAL:
            # a job still running at shutdown was cancelled by it: its result would reach slots
            # that may submit more work to an engine that takes none
            cancel_asked = job_id in self._cancel_asked or self._shut_down
            outcome = W.CANCELLED if cancel_asked else kind
            self._forget(job_id, outcome if current else T.SUPERSEDED)
            if current:
                self._emit_outcome(ticket, outcome, payload)
            self._update_busy()
        elif current and job_id not in self._cancel_asked:
            if kind == W.STARTED:
                ticket.state = T.RUNNING
                ticket.started.emit()
            elif kind == W.PROGRESS:
                ticket.progress.emit(*payload)
            elif kind == W.PARTIAL:
                ticket.partial.emit(payload)

    @staticmethod
    def _emit_outcome(ticket: Ticket, kind: str, payload: Any) -> None:
        if kind == W.DONE:
            ticket.result = payload
            ticket.done.emit(payload)
        elif kind == W.FAILED:
            ticket.error = payload
            ticket.failed.emit(payload)
        else:
            ticket.cancelled.emit()
        ticket.finished.emit()

    def _forget(self, job_id: int, state: str) -> None:
        ticket = self._live.pop(job_id, None)
        if ticket is not None:
            ticket.state = state
            if self._latest.get(ticket.key) == job_id:
                del self._latest[ticket.key]
        self._cancel_asked.discard(job_id)
        self._unannounced.discard(job_id)

    def _update_busy(self) -> None:
        busy = bool(self._live) and not (self._shut_down and not self._worker.isRunning())
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

    def _start_thread(self) -> None:
        if not self._thread_started and not self._shut_down:
            self._thread_started = True
            self._worker.start()


UI_PACKAGE = "workbench.ui"


def check_job_function(fn: Any) -> None:
    """Refuse a job function written in the UI: compute belongs in core, where the CLI and the
    API reach it too."""
    inner = fn
    while isinstance(inner, functools.partial):
        inner = inner.func
    module = getattr(inner, "__module__", "") or ""
    if module == UI_PACKAGE or module.startswith(UI_PACKAGE + "."):
        name = getattr(inner, "__qualname__", repr(inner))
        raise TypeError(f"engine jobs are core functions or methods; {module}.{name} is defined in the UI")


def _bound(fn: JobFn, args: tuple, kwargs: dict) -> JobFn:
    def call(jc: Any) -> Any:
        return fn(jc, *args, **kwargs)
    return call
