"""The Histogram panel: the current image's channel histogram, one curve per channel."""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from workbench.ui.panel import RIGHT, Panel

from . import CHANNELS, VIEW, histogram
from .figure import COLORS, export_histogram


class HistogramPanel(Panel):
    title = "Histogram"
    area = RIGHT
    object_name = "histogramDock"
    views = (VIEW,)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bins = QSpinBox()
        self.bins.setRange(2, 256)
        self.bins.setValue(64)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "pixel value")
        self.plot.setMinimumHeight(160)
        self.curves = [self.plot.plot(pen=pg.mkPen(color, width=2), name=name)
                       for name, color in zip(CHANNELS, COLORS)]
        row = QHBoxLayout()
        row.addWidget(QLabel("Bins"))
        row.addWidget(self.bins, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        self.workspace = None
        self.result = None

    def bind(self, workspace, engine, canvas) -> None:
        self.workspace = workspace
        workspace.imageChanged.connect(self._recompute)
        workspace.view(VIEW).changed.connect(self.show_result)
        self.bins.valueChanged.connect(self._recompute)
        self._recompute()

    def _recompute(self, *_: object) -> None:
        if self.workspace.image is not None:
            self.show_result(histogram(self.workspace.image, self.bins.value(), self.workspace.image_name))

    def show_result(self, result) -> None:
        if result is None:
            return
        self.result = result
        centres = (result.edges[:-1] + result.edges[1:]) / 2
        for curve, counts in zip(self.curves, result.counts):
            curve.setData(centres, counts)

    def current_result(self):
        return self.result

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        if self.result is None:
            raise ValueError("nothing to export: open an image first")
        return export_histogram(self.result, None, path, scale)
