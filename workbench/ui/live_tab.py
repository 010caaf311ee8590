"""A tab that runs one method at a time and shows it live (Features, Projector, Style): the run it
follows, the result it shows, and the refusal in words when a run cannot start."""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from workbench.ui.live_run import LiveRun
from workbench.ui.panel import Panel


def status_label() -> QLabel:
    """The line over a live tab's preview that says what is shown: wrapped, and never widening the tab."""
    label = QLabel()
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


class LiveTab(Panel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.live = LiveRun(self)
        self.result: Any = None          # the result shown: the last preview or the finished run

    def lay_out_with_controls(self, main: QWidget, below: QWidget) -> None:
        """The layout and wiring of a tab driven by ``self.controls`` (Run, Stop, Export, a note): the
        controls on the left; on the right ``self.status``, ``main`` and ``below`` it (a curve); each
        preview and the final result shown by ``_show``, failures by ``_on_failed``."""
        right = QVBoxLayout()
        right.addWidget(self.status)
        right.addWidget(main, 1)
        right.addWidget(below)
        layout = QHBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addLayout(right, 1)
        self.controls.run_button.clicked.connect(self.run)
        self.controls.stop_button.clicked.connect(self.stop)
        self.controls.export_button.clicked.connect(self._export_dialog)
        self.live.partial.connect(self._show)
        self.live.done.connect(self._show)
        self.live.failed.connect(self._on_failed)
        self.live.cancelled.connect(lambda: self._refresh(" · stopped"))
        self.live.ended.connect(lambda: self.controls.set_running(False))

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

    def missing(self) -> str:
        """What a run needs and does not have ("" when it can run)."""
        return ""

    def _status_text(self) -> str:
        return ""

    def _refresh(self, suffix: str = "") -> None:
        """Bring the buttons and words up to date: by default those of a tab whose ``controls`` have a
        note, a Run and an Export button, and whose ``status`` line says what is shown."""
        hint = self.missing()
        self.controls.note.setText(hint)
        self.controls.run_button.setEnabled(not hint)
        self.controls.export_button.setEnabled(self.result is not None)
        self.status.setText(self._status_text() + suffix)
