"""The Engine: the GUI thread's handle on the worker. Latest wins per key; results as signals.

All public signals are emitted on the GUI thread. A job superseded by a newer one with the same
key goes quiet: its progress, partial, done and failed never arrive. ``started`` always comes
before a job's other signals; for a job submitted with ``quiet=True`` it comes just before the
first of them instead of when the job begins, which spares the GUI thread one wake-up per job
(what a latent slider's decode, a few milliseconds of work, wants).
"""
from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

from workbench import singleton_refs
from workbench.engine import worker as W
from workbench.engine.device import check_name
from workbench.engine.jobs import Job, JobFn, JobQueue, method_job

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.handle import ModelHandle
    from workbench.core.registry import Method


class Engine(QObject):
    started = Signal(str)                  # key
    progress = Signal(str, float, str)     # key, fraction in [0, 1], message
    partial = Signal(str, object)          # key, partial result
    done = Signal(str, object)             # key, result
    failed = Signal(str, str)              # key, one-line message
    cancelled = Signal(str)                # key
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
        self._live: dict[int, str] = {}        # job id -> key, for every job queued or running
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

    def submit(self, key: str, fn: JobFn, quiet: bool = False) -> int:
        """Run ``fn(job_context)`` on the worker; a newer job with the same key supersedes this one.

        ``quiet``: for short jobs sent often; the worker does not announce the job's start and
        ``started`` is emitted right before its first progress, partial or outcome."""
        if self._shut_down:
            raise RuntimeError("the engine has been shut down")
        job = Job(next(self._ids), key, fn, quiet=quiet)
        for dropped in self._queue.put(job):
            self._forget(dropped.id)
        self._live[job.id] = key
        self._latest[key] = job.id
        if quiet:
            self._unannounced.add(job.id)
        self._start_thread()
        self._update_busy()
        return job.id

    def run_method(self, key: str, method: "Method", handle: "ModelHandle", image: "np.ndarray | None",
                   values: dict[str, Any] | None = None, target: int | None = None) -> int:
        """Run a registered method on the worker's device; its Progress/Partial become signals."""
        return self.submit(key, method_job(method, handle, image, values, target))

    def cancel(self, key: str | None = None) -> None:
        """Ask the job(s) with this key (all when None) to stop; ``cancelled(key)`` follows."""
        dropped, running = self._queue.cancel(key)
        for job in dropped:
            current = self._latest.get(job.key) == job.id
            self._forget(job.id)
            if current:
                self.cancelled.emit(job.key)
        if running is not None:
            self._cancel_asked.add(running.id)
        self._update_busy()

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
                self._forget(job.id)
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
        key = self._live.get(job_id)
        if key is None:
            return
        current = self._latest.get(key) == job_id
        if job_id in self._unannounced:
            self._unannounced.discard(job_id)
            if current and job_id not in self._cancel_asked and kind != W.STARTED:
                self.started.emit(key)
        if kind in W.TERMINAL:
            cancel_asked = job_id in self._cancel_asked
            self._forget(job_id)
            if current:
                self._emit_outcome(key, W.CANCELLED if cancel_asked else kind, payload)
            self._update_busy()
        elif current and job_id not in self._cancel_asked:
            if kind == W.STARTED:
                self.started.emit(key)
            elif kind == W.PROGRESS:
                self.progress.emit(key, *payload)
            elif kind == W.PARTIAL:
                self.partial.emit(key, payload)

    def _emit_outcome(self, key: str, kind: str, payload: Any) -> None:
        if kind == W.DONE:
            self.done.emit(key, payload)
        elif kind == W.FAILED:
            self.failed.emit(key, payload)
        else:
            self.cancelled.emit(key)

    def _forget(self, job_id: int) -> None:
        key = self._live.pop(job_id, None)
        if key is not None and self._latest.get(key) == job_id:
            del self._latest[key]
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
