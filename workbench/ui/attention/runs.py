"""The Attention tab's runs: one engine job per mode at a time (each mode has its own key, so a
rollout does not supersede the attention), and each mode's last result with the settings it ran with."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

KEY_PREFIX = "attention-tab:"


def attention_key(mode: str) -> str:
    return KEY_PREFIX + mode


class ModeRuns(QObject):
    finished = Signal(str, object)    # mode, result
    failed = Signal(str, str)         # mode, one-line message
    cancelled = Signal(str)           # mode

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.results: dict[str, Any] = {}          # mode -> its last result
        self.computed_for: dict[str, tuple] = {}   # mode -> the settings that result ran with
        self.tickets: dict[str, tuple[Any, tuple]] = {}   # mode -> (ticket, settings) in flight
        self.notes: dict[str, str] = {}            # mode -> why its last run failed

    def start(self, engine: Any, mode: str, method: Any, handle: Any, image: Any, values: dict,
              target: int | None, settings: tuple) -> Any:
        ticket = engine.run_method(attention_key(mode), method, handle, image, values, target)
        self.tickets[mode] = (ticket, settings)
        self.notes.pop(mode, None)
        ticket.done.connect(self._on_done)
        ticket.failed.connect(self._on_failed)
        ticket.cancelled.connect(self._on_cancelled)
        return ticket

    def running(self, mode: str) -> bool:
        return mode in self.tickets

    def settled(self, mode: str, settings: tuple) -> bool:
        """Nothing to run: a result for these settings is here or on its way, or the last run failed
        (it is not retried until the model, the image or a setting changes)."""
        in_flight = self.tickets.get(mode)
        return (mode in self.results and self.computed_for.get(mode) == settings) or \
            (in_flight is not None and in_flight[1] == settings) or mode in self.notes

    def clear(self) -> None:
        """Forget every result and cancel every run (their late signals are ignored)."""
        for ticket, _ in self.tickets.values():
            ticket.cancel()
        self.results, self.computed_for, self.tickets, self.notes = {}, {}, {}, {}

    def _sender_mode(self) -> str | None:
        ticket = self.sender()
        return next((m for m, (t, _) in self.tickets.items() if t is ticket), None)

    def _on_done(self, result: Any) -> None:
        mode = self._sender_mode()
        if mode is not None:
            _, settings = self.tickets.pop(mode)
            self.results[mode], self.computed_for[mode] = result, settings
            self.finished.emit(mode, result)

    def _on_failed(self, text: str) -> None:
        mode = self._sender_mode()
        if mode is not None:
            self.tickets.pop(mode)
            self.notes[mode] = text
            self.failed.emit(mode, text)

    def _on_cancelled(self) -> None:
        mode = self._sender_mode()
        if mode is not None:
            self.tickets.pop(mode)
            self.cancelled.emit(mode)
