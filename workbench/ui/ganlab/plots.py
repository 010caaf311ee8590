"""The GAN lab's live plots: D's surface with the real and generated points and G's gradient
arrows (and its colorbar) over the D and G loss curves. Colours come from the lab's figure, so
the screen and an exported figure agree."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QVBoxLayout, QWidget

from workbench.core import colormaps
from workbench.core.canvas_layers import HeatmapLayer
from workbench.core.ganlab import Snapshot
from workbench.figure.ganlab import (ARROW_COLOR, ARROW_FRACTION, COLORMAP, D_LOSS_COLOR, FAKE_COLOR, G_LOSS_COLOR,
                                     REAL_COLOR, SURFACE_OPACITY)
from workbench.ui.colorbar_widget import ColorbarWidget


class LabPlots(QWidget):
    clicked = Signal(float, float)     # a left click on the lab plot, in data coordinates

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.snapshot: Snapshot | None = None     # the one drawn
        self.plot = pg.PlotWidget(background="w")
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.surface_item = pg.ImageItem(axisOrder="row-major")
        self.surface_item.setOpacity(SURFACE_OPACITY)
        self.surface_item.setLookupTable(colormaps.lut(COLORMAP))
        self.real_item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(*REAL_COLOR, 200))
        self.fake_item = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(*FAKE_COLOR, 220))
        self.arrow_item = pg.PlotCurveItem(pen=pg.mkPen(*ARROW_COLOR, 160, width=1), connect="pairs")
        for item in (self.surface_item, self.arrow_item, self.real_item, self.fake_item):
            self.plot.addItem(item)
        self.plot.addLegend(offset=(5, 5), labelTextColor="k", brush=pg.mkBrush(255, 255, 255, 200))
        self.plot.plotItem.legend.addItem(self.real_item, "real")
        self.plot.plotItem.legend.addItem(self.fake_item, "generated")
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self.colorbar = ColorbarWidget()
        self._colorbar_shows: tuple[str, tuple[float, float]] | None = None
        self.loss_plot = pg.PlotWidget(background="w")
        self.loss_plot.setMenuEnabled(False)
        self.loss_plot.hideButtons()
        self.loss_plot.setLabel("bottom", "step")
        # the key sits in the title: a legend inside the plot would hide the newest losses, which
        # the curves draw at the right-hand end, where a corner legend goes
        self.loss_plot.setTitle(f"<span style='color:{_hex(D_LOSS_COLOR)}'>━ D loss</span>&nbsp;&nbsp;&nbsp;"
                                f"<span style='color:{_hex(G_LOSS_COLOR)}'>━ G loss</span>", size="9pt")
        self.d_curve = self.loss_plot.plot(pen=pg.mkPen(*D_LOSS_COLOR, width=1.5), name="D loss")
        self.g_curve = self.loss_plot.plot(pen=pg.mkPen(*G_LOSS_COLOR, width=1.5), name="G loss")
        top = QWidget()
        row = QHBoxLayout(top)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.plot, 1)
        row.addWidget(self.colorbar)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.loss_plot)
        splitter.setSizes([500, 170])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def show_snapshot(self, snap: Snapshot) -> None:
        x0, x1, y0, y1 = snap.bounds
        self.surface_item.setImage(snap.surface, levels=snap.surface_levels, autoLevels=False)
        self.surface_item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        if self._colorbar_shows != (snap.surface_label, snap.surface_levels):   # repaint only on change
            self._colorbar_shows = (snap.surface_label, snap.surface_levels)
            self.colorbar.set_layer(HeatmapLayer(name=snap.surface_label, colormap=COLORMAP, levels=snap.surface_levels))
        last = self.snapshot
        if last is None or snap.real is not last.real:
            self.real_item.setData(pos=snap.real)
        self.fake_item.setData(pos=snap.fake)
        arrows = snap.arrow_segments(ARROW_FRACTION * (x1 - x0))
        self.arrow_item.setData(arrows[:, 0], arrows[:, 1], connect="pairs")
        self.d_curve.setData(snap.loss_steps, snap.d_loss)
        self.g_curve.setData(snap.loss_steps, snap.g_loss)
        if last is None or last.bounds != snap.bounds:
            self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        if last is None or last.surface_label != snap.surface_label:
            self.plot.setTitle(f"surface: {snap.surface_label}", color="k", size="10pt")
        self.snapshot = snap

    def show_drawing_area(self) -> None:
        """No target yet: an empty plot of the drawing area."""
        self.real_item.setData(pos=np.zeros((0, 2)))
        self.fake_item.setData(pos=np.zeros((0, 2)))
        self.arrow_item.setData([], [])
        self.plot.setRange(xRange=(-3, 3), yRange=(-3, 3), padding=0)

    def _on_click(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            p = self.plot.plotItem.vb.mapSceneToView(ev.scenePos())
            self.clicked.emit(p.x(), p.y())


def _hex(rgb: tuple[int, ...]) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb[:3])
