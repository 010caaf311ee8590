"""A tab that runs one method at a time and shows it live (Features, Projector, Style): the run it
follows, the result it shows, and the refusal in words when a run cannot start."""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from workbench.ui.live_run import LiveRun
from workbench.ui.panel import Panel


class LiveTab(Panel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.live = LiveRun(self)
        self.result: Any = None          # the result shown: the last preview or the finished run

    @property
    def partials(self) -> int:
        """Previews shown by the current (or last) run."""
        return self.live.partials

    def running(self) -> bool:
        return self.live.running

    def current_result(self) -> Any:
        return self.result

    def stop(self) -> None:
        self.live.stop()

    def refused(self, why: str) -> bool:
        """Whether a run is refused: when ``why`` says what it lacks, say so and refresh the tab."""
        if why:
            self.message.emit(why)
            self._refresh()
        return bool(why)

    def _refresh(self) -> None:
        """Bring the tab's buttons and words up to date (each tab says how)."""
