"""One engine run at a time, with its live partial results: a new run, a stop that has ended or a
clear silences the one before, whose late signals are dropped here rather than in every panel."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal


class LiveRun(QObject):
    partial = Signal(object)          # a preview of the current run
    progress = Signal(float, str)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()                  # after done, failed or cancelled

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ticket: Any = None
        self.partials = 0             # previews of the current (or last) run so far

    @property
    def running(self) -> bool:
        return self.ticket is not None

    def start(self, ticket: Any) -> Any:
        """Follow ``ticket`` instead of the run before it."""
        self.forget()
        self.ticket, self.partials = ticket, 0
        for signal, slot in self._wiring(ticket):
            signal.connect(slot)
        return ticket

    def stop(self) -> None:
        if self.ticket is not None:
            self.ticket.cancel()

    def clear(self) -> None:
        """Cancel the run and drop whatever it still sends."""
        if self.ticket is not None:
            self.ticket.cancel()
            self.forget()

    def forget(self) -> None:
        ticket, self.ticket = self.ticket, None
        if ticket is None:
            return
        for signal, slot in self._wiring(ticket):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass

    def _wiring(self, ticket: Any) -> tuple:
        return ((ticket.partial, self._on_partial), (ticket.progress, self._on_progress),
                (ticket.done, self._on_done), (ticket.failed, self._on_failed),
                (ticket.cancelled, self._on_cancelled))

    def _current(self) -> bool:
        return self.ticket is not None and self.sender() is self.ticket

    def _on_partial(self, result: Any) -> None:
        if self._current():
            self.partials += 1
            self.partial.emit(result)

    def _on_progress(self, fraction: float, text: str = "") -> None:
        if self._current():
            self.progress.emit(fraction, text)

    def _on_done(self, result: Any) -> None:
        if self._current():
            self.forget()
            self.done.emit(result)
            self.ended.emit()

    def _on_failed(self, text: str) -> None:
        if self._current():
            self.forget()
            self.failed.emit(text)
            self.ended.emit()

    def _on_cancelled(self) -> None:
        if self._current():
            self.forget()
            self.cancelled.emit()
            self.ended.emit()
