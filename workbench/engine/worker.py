"""The worker thread: owns the device, runs one job at a time, reports through one signal.

Everything the thread reports goes through ``event(job_id, kind, payload)``; the Engine, on the
GUI thread, turns those into its public signals and drops the ones of superseded jobs.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal

from workbench.core.context import Cancelled
from workbench.engine.jobs import Job, JobContext, JobQueue
from workbench.engine.torch_import import import_torch_sparing_the_ui

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

STARTED, PROGRESS, PARTIAL, DONE, FAILED, CANCELLED = "started", "progress", "partial", "done", "failed", "cancelled"
NOTE, DEVICE = "note", "device"
TERMINAL = (DONE, FAILED, CANCELLED)
NO_JOB = 0
_OUT_OF_MEMORY = "out of memory"  # internal: an attempt to retry, never emitted

OOM_SMALLER_CHUNKS = "GPU out of memory: retrying with smaller chunks"
OOM_RAN_ON_CPU = "GPU out of memory: ran on CPU instead"


class WorkerThread(QThread):
    event = Signal(int, str, object)

    def __init__(self, queue: JobQueue, preference: str) -> None:
        super().__init__()
        self._queue = queue
        self._preference = preference
        self._preference_lock = threading.Lock()
        self._resolved_for: str | None = None
        self._device: "torch.device | None" = None

    def request_device(self, preference: str) -> None:
        """Use this device from the next job on (resolved on the worker thread)."""
        with self._preference_lock:
            self._preference = preference

    def run(self) -> None:
        replaced_threads = None
        try:
            from workbench.engine import device as devices

            import_torch_sparing_the_ui()
            self._resolve_device()
            replaced_threads = devices.spare_a_core_for_the_ui()
        except Exception as exc:  # a broken torch install: every job will fail with this message
            log.error("could not prepare a device", exc_info=True)
            self.event.emit(NO_JOB, NOTE, f"could not prepare a device: {one_line(exc)}")
        try:
            while (job := self._queue.take()) is not None:
                try:
                    self._execute(job)
                finally:
                    self._queue.finish(job)
        finally:
            if replaced_threads is not None:
                import torch

                torch.set_num_threads(replaced_threads)

    def _resolve_device(self) -> "torch.device":
        with self._preference_lock:
            preference = self._preference
        if preference != self._resolved_for or self._device is None:
            from workbench.engine import device as devices

            try:
                self._device = devices.choose_device(preference)
            except ValueError as exc:
                self.event.emit(NO_JOB, NOTE, f"{exc}; using the CPU")
                self._device = devices.choose_device("cpu")
            self._resolved_for = preference
            self.event.emit(NO_JOB, DEVICE, str(self._device))
        return self._device

    def _execute(self, job: Job) -> None:
        if not job.quiet:
            self.event.emit(job.id, STARTED, None)
        try:
            kind, payload = self._run_with_fallback(job)
        except BaseException as exc:  # nothing a job raises may stop the worker or reach a slot
            log.error("job %r could not run", job.key, exc_info=True)
            kind, payload = FAILED, one_line(exc)
        self.event.emit(job.id, kind, payload)

    def _run_with_fallback(self, job: Job) -> tuple[str, Any]:
        """Run the job; after a GPU out-of-memory, retry with half-size chunks (if the job reads
        the hint) on the GPU, then once on the CPU."""
        import torch

        from workbench.engine import device as devices

        device, scale, on_cpu_after_oom = self._resolve_device(), 1.0, False
        while True:
            jc = JobContext(job.cancel, device, scale,
                            on_progress=lambda f, m: self.event.emit(job.id, PROGRESS, (f, m)),
                            on_partial=lambda r: self.event.emit(job.id, PARTIAL, r))
            kind, payload = self._attempt(job, jc)
            if kind != _OUT_OF_MEMORY:
                if on_cpu_after_oom and kind == DONE:
                    self.event.emit(job.id, NOTE, OOM_RAN_ON_CPU)
                return kind, payload
            # out of the except block, so the failed attempt's tensors are unreachable
            devices.free_memory(device)
            if job.cancel.is_set():
                return CANCELLED, None
            if jc.chunk_scale_read and scale == 1.0:
                scale = 0.5
                self.event.emit(job.id, NOTE, OOM_SMALLER_CHUNKS)
            else:
                device, scale, on_cpu_after_oom = torch.device("cpu"), 1.0, True

    @staticmethod
    def _attempt(job: Job, jc: JobContext) -> tuple[str, Any]:
        from workbench.engine import device as devices

        try:
            result = job.fn(jc)
        except Cancelled:
            return CANCELLED, None
        except BaseException as exc:  # SystemExit and friends too: the job failed, the worker goes on
            if isinstance(exc, Exception) and jc.device.type != "cpu" and devices.is_out_of_memory(exc):
                log.warning("job %r ran out of memory on %s: %s", job.key, jc.device, exc)
                return _OUT_OF_MEMORY, None
            log.error("job %r failed", job.key, exc_info=True)
            return FAILED, one_line(exc)
        return DONE, result


def one_line(exc: BaseException, limit: int = 300) -> str:
    """A user-facing message: the exception type and the first line of its text."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if len(first) > limit:
        first = first[: limit - 3] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
