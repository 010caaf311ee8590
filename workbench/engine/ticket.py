"""A ticket: one submitted job's own signals, emitted on the GUI thread.

Every ticket ends with exactly one of ``done``, ``failed`` or ``cancelled`` (then ``finished``),
unless a newer job with the same key supersedes it: a superseded ticket goes quiet and its
``state`` becomes "superseded", since the newer ticket carries on for the same key.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

PENDING, RUNNING, DONE, FAILED, CANCELLED, SUPERSEDED = (
    "pending", "running", "done", "failed", "cancelled", "superseded")


class Ticket(QObject):
    started = Signal()
    progress = Signal(float, str)     # fraction in [0, 1], message
    partial = Signal(object)          # a partial result
    done = Signal(object)             # the result
    failed = Signal(str)              # a one-line message
    cancelled = Signal()
    finished = Signal()               # after done, failed or cancelled

    def __init__(self, job_id: int, key: str, cancel) -> None:
        super().__init__()
        self.id = job_id
        self.key = key
        self.state = PENDING
        self.result: object = None
        self.error = ""
        self._cancel = cancel

    def cancel(self) -> None:
        """Ask this job to stop; ``cancelled`` follows unless it already ended."""
        if self.state in (PENDING, RUNNING):
            self._cancel(self)

    @property
    def ended(self) -> bool:
        return self.state in (DONE, FAILED, CANCELLED, SUPERSEDED)

    def __repr__(self) -> str:
        return f"<Ticket {self.id} {self.key!r} {self.state}>"
