"""Encoded held-out digits in 2-D, coloured by label, one plot per autoencoder side by side, with a
marker for an encoded image. Clicking a point reports which dataset image it is."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from workbench.core.latent.encoding import EncodedSet

PLOTS = {"ae": "AE", "vae": "VAE"}
# Tableau 10, the usual categorical palette
PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))
POINT_SIZE = 6
MARKER_SIZE = 22


class LatentScatter(QWidget):
    pointClicked = Signal(str, int)      # plot name, index of the image in the encoded set

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plots: dict[str, pg.PlotItem] = {}
        self.markers: dict[str, pg.ScatterPlotItem] = {}
        self.notes: dict[str, pg.TextItem] = {}
        self._points: dict[str, list[pg.ScatterPlotItem]] = {name: [] for name in PLOTS}
        self.encoded: dict[str, EncodedSet | None] = {name: None for name in PLOTS}
        for name, title in PLOTS.items():
            widget = pg.PlotWidget()
            plot = widget.getPlotItem()
            plot.setTitle(title)
            plot.setLabel("bottom", "PC 1")
            plot.setLabel("left", "PC 2")
            plot.setMenuEnabled(False)
            plot.addLegend(offset=(4, 2), labelTextSize="8pt", colCount=5, horSpacing=2, verSpacing=-8)
            marker = pg.ScatterPlotItem(symbol="star", size=MARKER_SIZE, brush=pg.mkBrush(255, 230, 0),
                                        pen=pg.mkPen(0, 0, 0, width=1.5))
            marker.setZValue(10)
            marker.setVisible(False)
            plot.addItem(marker)
            note = pg.TextItem(anchor=(0.5, 0.5), color=(120, 120, 120))
            plot.addItem(note, ignoreBounds=True)
            self.plots[name], self.markers[name], self.notes[name] = plot, marker, note
            layout.addWidget(widget)

    def set_encoded(self, name: str, encoded: EncodedSet | None, message: str = "") -> None:
        """Show an encoded set in plot ``name``; None clears it and shows ``message`` as its title."""
        plot = self.plots[name]
        for item in self._points[name]:
            plot.removeItem(item)
        self._points[name] = []
        plot.legend.clear()
        self.encoded[name] = encoded
        self.set_marker(name, None)
        if encoded is None:
            plot.setTitle(PLOTS[name])
            self.notes[name].setText(_wrap(message))
            self.notes[name].setPos(0, 0)
            plot.setRange(xRange=(-1, 1), yRange=(-1, 1))
            return
        self.notes[name].setText("")
        d = encoded.latents.shape[1]
        plot.setTitle(f"{PLOTS[name]}: {encoded.model}")
        plot.setToolTip(f"{len(encoded.labels)} held-out digits encoded by {encoded.model}, "
                        f"{'the first two principal components of their ' if d != 2 else ''}{d}-d latents")
        for label in np.unique(encoded.labels):
            idx = np.flatnonzero(encoded.labels == label)
            color = PALETTE[int(label) % len(PALETTE)]
            item = pg.ScatterPlotItem(encoded.xy[idx, 0], encoded.xy[idx, 1], data=idx, size=POINT_SIZE,
                                      pen=None, brush=pg.mkBrush(*color, 200), name=str(label), hoverable=True)
            item.sigClicked.connect(lambda _item, points, _ev, name=name: self._on_click(name, points))
            plot.addItem(item)
            self._points[name].append(item)
        # room above the points for the legend
        lo, hi = encoded.xy.min(0), encoded.xy.max(0)
        pad = 0.05 * (hi - lo)
        plot.setRange(xRange=(lo[0] - pad[0], hi[0] + pad[0]), yRange=(lo[1] - pad[1], hi[1] + 0.3 * (hi[1] - lo[1])),
                      padding=0)

    def set_marker(self, name: str, z: np.ndarray | None) -> None:
        """Mark latent ``z`` in plot ``name`` (projected like its points); None hides the marker."""
        marker, encoded = self.markers[name], self.encoded[name]
        if z is None or encoded is None:
            marker.setVisible(False)
            return
        xy = encoded.project(z)[0]
        marker.setData([xy[0]], [xy[1]])
        marker.setVisible(True)

    def marker_position(self, name: str) -> np.ndarray | None:
        marker = self.markers[name]
        if not marker.isVisible():
            return None
        x, y = marker.getData()
        return np.array([x[0], y[0]])

    def export(self, path: str | Path, scale: float = 1.0) -> Path:
        """Both plots as they are shown, as a figure (.png, .svg, .pdf; drawn as vectors in SVG and PDF)."""
        from workbench.figure.render import check_format, write_figure
        check_format(path)
        if all(e is None for e in self.encoded.values()):
            raise ValueError("nothing to export: no encoded digits shown yet")

        def paint(painter) -> None:
            painter.scale(scale, scale)
            self.render(painter, QPoint(0, 0))
        return write_figure(path, (self.width() * scale, self.height() * scale), paint, "encoded held-out digits")

    def _on_click(self, name: str, points) -> None:
        if len(points):
            self.pointClicked.emit(name, int(points[0].data()))


def _wrap(text: str, width: int = 36) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(text, width))
