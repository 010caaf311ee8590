"""What the controls of a live tab (ui/live_tab.LiveTab) share: the Run, Stop and Export… buttons with
the note under them, laid out below the tab's own settings, and spin boxes made in one call."""
from __future__ import annotations

from PySide6.QtWidgets import (QDoubleSpinBox, QHBoxLayout, QLabel, QLayout, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)


def double_spin(lo: float, hi: float, value: float, step: float, decimals: int, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    box.setToolTip(tip)
    return box


def int_spin(lo: int, hi: int, value: int, step: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setValue(value)
    box.setToolTip(tip)
    return box


class LiveControls(QWidget):
    """The buttons and the note that ``LiveTab`` wires and refreshes; ``run_name`` is the Run button's
    object name. A subclass makes its settings, then calls ``lay_out`` with them."""

    def __init__(self, run_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName(run_name)
        self.stop_button = QPushButton("Stop")
        self.export_button = QPushButton("Export…")
        self.note = QLabel()
        self.note.setWordWrap(True)

    def lay_out(self, *settings: QWidget | QLayout) -> None:
        """``settings`` top down, then the buttons in a row and the note, the rest of the height empty."""
        buttons = QHBoxLayout()
        for b in (self.run_button, self.stop_button, self.export_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for part in settings:
            if isinstance(part, QLayout):
                layout.addLayout(part)
            else:
                layout.addWidget(part)
        layout.addLayout(buttons)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.set_running(False)

    def set_running(self, running: bool) -> None:
        self.stop_button.setEnabled(running)
