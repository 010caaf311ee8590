"""One horizontal slider per latent coordinate (or direction), in a scroll area."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QSlider, QVBoxLayout, QWidget

TICKS = 600          # slider positions across a slider's range


class LatentSliders(QWidget):
    moved = Signal(int, float)       # slider index, its new value

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sliders: list[QSlider] = []
        self._readouts: list[QLabel] = []
        self._lo = self._hi = np.zeros(0)
        self._rows = QWidget()
        self._grid = QGridLayout(self._rows)
        self._grid.setContentsMargins(4, 2, 4, 2)
        self._grid.setVerticalSpacing(1)
        self._grid.setColumnStretch(1, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._rows)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    def configure(self, names: list[str], lo: np.ndarray, hi: np.ndarray, values: np.ndarray) -> None:
        """Rebuild the rows: one slider per name over [lo, hi], set to ``values`` (no signals)."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._sliders, self._readouts = [], []
        self._lo, self._hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
        for i, name in enumerate(names):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, TICKS)
            slider.setPageStep(TICKS // 12)
            slider.setToolTip(f"{name}: {self._lo[i]:+.2f} … {self._hi[i]:+.2f}")
            readout = QLabel()
            readout.setFixedWidth(readout.fontMetrics().horizontalAdvance("+00.00") + 4)
            readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            slider.valueChanged.connect(lambda tick, i=i: self._on_tick(i, tick))
            self._grid.addWidget(QLabel(name), i, 0)
            self._grid.addWidget(slider, i, 1)
            self._grid.addWidget(readout, i, 2)
            self._sliders.append(slider)
            self._readouts.append(readout)
        for row in range(self._grid.rowCount()):
            self._grid.setRowStretch(row, 0)
        self._grid.setRowStretch(len(names), 1)       # few rows stay at the top
        self.set_values(values)

    def count(self) -> int:
        return len(self._sliders)

    def slider(self, index: int) -> QSlider:
        return self._sliders[index]

    def value_at(self, index: int, tick: int) -> float:
        return float(self._lo[index] + (self._hi[index] - self._lo[index]) * tick / TICKS)

    def tick_for(self, index: int, value: float) -> int:
        span = self._hi[index] - self._lo[index]
        return int(np.clip(round((value - self._lo[index]) / span * TICKS), 0, TICKS)) if span > 0 else 0

    def values(self) -> np.ndarray:
        return np.array([self.value_at(i, s.value()) for i, s in enumerate(self._sliders)])

    def set_values(self, values: np.ndarray) -> None:
        """Move the sliders to show ``values`` without emitting ``moved``."""
        for i, (slider, v) in enumerate(zip(self._sliders, values)):
            slider.blockSignals(True)
            slider.setValue(self.tick_for(i, float(v)))
            slider.blockSignals(False)
            self._readouts[i].setText(f"{float(v):+.2f}")

    def _on_tick(self, index: int, tick: int) -> None:
        value = self.value_at(index, tick)
        self._readouts[index].setText(f"{value:+.2f}")
        self.moved.emit(index, value)
