"""Jobs, what a job's function sees, and the queue where a newer job supersedes an older one.

Qt-free: the worker thread takes jobs from a ``JobQueue``; the GUI thread puts and cancels.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from workbench.core.context import CancelToken

if TYPE_CHECKING:
    import numpy as np
    import torch

    from workbench.core.handle import ModelHandle
    from workbench.core.registry import Method


class JobContext:
    """What a job's function gets: a cancel token, the device, progress/partial callbacks and a
    chunk-size hint (``chunk_scale``, 1.0 normally, smaller when retrying after GPU out of memory)."""

    def __init__(self, cancel: CancelToken, device: "torch.device", chunk_scale: float,
                 on_progress: Callable[[float, str], None], on_partial: Callable[[Any], None]) -> None:
        self.cancel = cancel
        self.device = device
        self._chunk_scale = chunk_scale
        self._on_progress = on_progress
        self._on_partial = on_partial
        # a job that never reads the hint cannot use smaller chunks, so a retry at a smaller
        # scale on the same GPU would be pointless for it
        self.chunk_scale_read = False

    @property
    def chunk_scale(self) -> float:
        self.chunk_scale_read = True
        return self._chunk_scale

    def progress(self, fraction: float, message: str = "") -> None:
        self._on_progress(float(fraction), str(message))

    def partial(self, result: Any) -> None:
        self._on_partial(result)

    def check(self) -> None:
        """Raise ``Cancelled`` if the job was cancelled or superseded."""
        self.cancel.check()


JobFn = Callable[[JobContext], Any]


@dataclass(eq=False)
class Job:
    id: int
    key: str
    fn: JobFn
    cancel: CancelToken = field(default_factory=CancelToken)
    quiet: bool = False      # the worker does not report its start; see Engine.submit


class JobQueue:
    """Pending jobs in submission order, plus the one running. A newer job with a key drops the
    pending ones with that key and sets the running one's cancel token."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: deque[Job] = deque()
        self._running: Job | None = None
        self._closed = False

    def put(self, job: Job) -> list[Job]:
        """Queue a job; returns the pending jobs it superseded (they will never run)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the engine has been shut down")
            dropped = self._remove_pending(job.key)
            if self._running is not None and self._running.key == job.key:
                self._running.cancel.cancel()
            self._pending.append(job)
            self._cond.notify()
            return dropped

    def take(self) -> Job | None:
        """Block until a job is pending and mark it running; None once the queue is closed."""
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            self._running = self._pending.popleft()
            return self._running

    def finish(self, job: Job) -> None:
        with self._cond:
            if self._running is job:
                self._running = None

    def cancel(self, key: str | None = None) -> tuple[list[Job], Job | None]:
        """Drop pending jobs with the key (all keys when None) and set the running one's token.
        Returns (the dropped pending jobs, the running job that was asked to stop)."""
        with self._cond:
            dropped = self._remove_pending(key)
            running = self._running
            if running is not None and (key is None or running.key == key):
                running.cancel.cancel()
                return dropped, running
            return dropped, None

    def close(self) -> list[Job]:
        """Refuse new jobs, cancel everything and wake the worker so it can exit."""
        with self._cond:
            dropped, _ = self.cancel(None)
            self._closed = True
            self._cond.notify_all()
            return dropped

    def _remove_pending(self, key: str | None) -> list[Job]:
        dropped = [j for j in self._pending if key is None or j.key == key]
        if dropped:
            self._pending = deque(j for j in self._pending if j not in dropped)
        return dropped


def method_job(method: "Method", handle: "ModelHandle", image: "np.ndarray | None",
               values: dict[str, Any] | None, target: int | None = None) -> JobFn:
    """A job that runs a registered method through the shared runner on the job's device."""

    def job(jc: JobContext) -> Any:
        from workbench.core import runner

        handle.to(jc.device)
        ctx = runner.context(handle, image, device=jc.device, target=target, cancel=jc.cancel,
                             chunk_scale=jc.chunk_scale)
        return runner.run_method(method, ctx, values,
                                 on_progress=lambda p: jc.progress(p.fraction, p.message),
                                 on_partial=jc.partial)

    return job
