"""The embedding's scatter: one ScatterPlotItem per category (a brush each, so 100,000 points redraw
without per-point brushes), the hovered image as a thumbnail beside the cursor, a ring on the chosen
point and dots on its nearest neighbours, a lasso (drag in lasso mode, or Shift+drag) that selects
the points it encloses."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QPainterPath, QPixmap
from PySide6.QtWidgets import QGraphicsPathItem, QLabel, QVBoxLayout, QWidget

from workbench.core.results.embedding import Embedding
from workbench.figure.embedding import point_colours
from workbench.figure.paint import to_qimage

THUMB_SIDE = 72          # the hover thumbnail, in screen pixels


def point_size(n: int) -> float:
    return float(np.clip(9 - 1.5 * np.log10(max(n, 1)), 2, 7))


def thumbnail_pixmap(image: np.ndarray, side: int = THUMB_SIDE) -> QPixmap:
    return QPixmap.fromImage(to_qimage(image)).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                      Qt.TransformationMode.FastTransformation)


class LassoViewBox(pg.ViewBox):
    """Pans and zooms as usual; in lasso mode (or with Shift held) a left drag draws a free polygon
    instead, and ``lassoed`` gives its vertices in data coordinates when the button is let go."""
    lassoed = Signal(object)         # (M, 2) float array

    def __init__(self) -> None:
        super().__init__()
        self.lasso = False
        self.trace: list[tuple[float, float]] = []
        self.outline = QGraphicsPathItem()
        self.outline.setPen(pg.mkPen(20, 20, 20, width=1.5, style=Qt.PenStyle.DashLine))
        self.outline.setZValue(20)
        self.addItem(self.outline, ignoreBounds=True)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt naming)
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if ev.button() != Qt.MouseButton.LeftButton or not (self.lasso or shift):
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        if ev.isStart():
            start = self.mapSceneToView(ev.buttonDownScenePos())
            self.trace = [(start.x(), start.y())]
        at = self.mapSceneToView(ev.scenePos())
        self.trace.append((at.x(), at.y()))
        path = QPainterPath()
        path.moveTo(*self.trace[0])
        for x, y in self.trace[1:]:
            path.lineTo(x, y)
        path.closeSubpath()
        self.outline.setPath(path)
        if ev.isFinish():
            polygon, self.trace = np.asarray(self.trace, np.float64), []
            self.outline.setPath(QPainterPath())
            self.lassoed.emit(polygon)


class EmbeddingScatter(QWidget):
    pointClicked = Signal(int)
    pointOpened = Signal(int)        # a double-click on a point
    pointHovered = Signal(int)       # -1 when the cursor leaves the points
    lassoed = Signal(object)         # the lasso's polygon, (M, 2) in data coordinates

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view_box = LassoViewBox()
        self.view_box.lassoed.connect(self.lassoed.emit)
        self.plot_widget = pg.PlotWidget(viewBox=self.view_box)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setAspectLocked(True)
        self.plot_widget.setBackground("w")
        self.legend = self.plot.addLegend(offset=(4, 4), labelTextSize="8pt", labelTextColor=(30, 30, 30))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)
        self.items: list[pg.ScatterPlotItem] = []
        self.embedding: Embedding | None = None
        self.values = np.zeros((0,), np.int64)
        self.names: list[str] = []
        self.hovered = -1
        self.colour_by = ""
        self.neighbour_marks = pg.ScatterPlotItem(size=11, pen=pg.mkPen(0, 0, 0, width=1.5), brush=None)
        self.selected_mark = pg.ScatterPlotItem(size=20, pen=pg.mkPen(0, 0, 0, width=2.5), brush=None)
        self.lasso_marks = pg.ScatterPlotItem(size=9, pen=pg.mkPen(255, 140, 0, width=1.5), brush=None)
        for mark in (self.lasso_marks, self.neighbour_marks, self.selected_mark):
            mark.setZValue(10)
            mark.setEnabled(False)     # drawn on top, but clicks go through to the point beneath
            self.plot.addItem(mark)
        self.thumb = QLabel(self.plot_widget)
        self.thumb.setStyleSheet("background: white; border: 1px solid #888; padding: 2px; color: black")
        self.thumb.hide()

    def set_embedding(self, embedding: Embedding | None, colour_by: str = "label", keep_view: bool = False) -> None:
        """Show ``embedding`` (None clears), coloured by its labels or its predictions; ``keep_view``: leave
        the range as the user left it (else fit the points, and keep fitting them as they move)."""
        previous, self.embedding = self.embedding, embedding
        if (keep_view and embedding is not None and previous is not None and self.items
                and len(previous) == len(embedding) and self.colour_by == colour_by
                and np.array_equal(previous.colour_values(colour_by)[0], embedding.colour_values(colour_by)[0])):
            self._move(embedding.points)      # a new t-SNE step: the same points elsewhere
            return
        self.colour_by = colour_by
        for item in self.items:
            self.plot.removeItem(item)
        self.items = []
        self.legend.clear()
        self.thumb.hide()
        if embedding is None or not len(embedding):
            self.mark(None)
            self.mark_lasso(None)
            return
        self.values, self.names = embedding.colour_values(colour_by)
        colours = point_colours(self.values)
        size = point_size(len(embedding))
        for c in np.unique(self.values):
            idx = np.flatnonzero(self.values == c)
            name = self.names[c] if 0 <= c < len(self.names) else "none"
            item = pg.ScatterPlotItem(embedding.points[idx, 0], embedding.points[idx, 1], data=idx, size=size,
                                      pen=None, brush=pg.mkBrush(*map(int, colours[idx[0]]), 210), name=name,
                                      hoverable=True)
            item.category, item.indices = int(c), idx
            item.sigClicked.connect(self._on_click)
            item.sigHovered.connect(self._on_hover)
            self.plot.addItem(item)
            self.items.append(item)
        if not keep_view:
            # follows the points (t-SNE's layout grows as it runs) until the user pans or zooms
            self.plot.enableAutoRange()
            self.plot.vb.updateAutoRange()       # now, not at the next paint, so positions map at once

    def _move(self, points: np.ndarray) -> None:
        """New positions for the same points, written into the items' arrays: far cheaper than rebuilding
        them (each rebuild makes a record per point)."""
        for item in self.items:
            idx = item.indices
            item.data["x"] = points[idx, 0]
            item.data["y"] = points[idx, 1]
            item.prepareGeometryChange()
            item.bounds = [None, None]
            item.invalidate()
            item.informViewBoundsChanged()
        if self.plot.vb.state["autoRange"][0]:
            self.plot.vb.updateAutoRange()

    def mark(self, index: int | None, neighbours: np.ndarray | None = None) -> None:
        """Ring point ``index`` and dot its neighbours (None clears)."""
        e = self.embedding
        if index is None or e is None:
            self.selected_mark.setData([], [])
            self.neighbour_marks.setData([], [])
            return
        self.selected_mark.setData([e.points[index, 0]], [e.points[index, 1]])
        nb = np.asarray(neighbours if neighbours is not None else [], np.int64)
        self.neighbour_marks.setData(e.points[nb, 0], e.points[nb, 1])

    def set_lasso_mode(self, on: bool) -> None:
        self.view_box.lasso = bool(on)

    def mark_lasso(self, indices: np.ndarray | None) -> None:
        """Outline the points the lasso holds (None clears)."""
        e = self.embedding
        if indices is None or e is None or not len(indices):
            self.lasso_marks.setData([], [])
            return
        self.lasso_marks.setSize(point_size(len(e)) + 4)
        self.lasso_marks.setData(e.points[indices, 0], e.points[indices, 1])

    def show_thumbnail(self, index: int, at: QPoint | None = None) -> None:
        e = self.embedding
        if e is None or not 0 <= index < len(e):
            self.hovered = -1
            self.thumb.hide()
            return
        self.hovered = index
        self.thumb.setPixmap(thumbnail_pixmap(e.thumbnails[index]))
        self.thumb.setToolTip(e.name_of(index))
        self.thumb.adjustSize()
        if at is None:
            view = self.plot.vb.mapViewToScene(pg.Point(*map(float, e.points[index])))
            at = self.plot_widget.mapFromScene(view)
        # beside the cursor, inside the plot
        x = min(at.x() + 14, self.plot_widget.width() - self.thumb.width())
        y = min(at.y() + 14, self.plot_widget.height() - self.thumb.height())
        self.thumb.move(max(0, x), max(0, y))
        self.thumb.show()
        self.thumb.raise_()

    def _on_click(self, _item, points, ev=None) -> None:
        if len(points):
            index = int(points[0].data())
            self.pointClicked.emit(index)
            if ev is not None and ev.double():
                self.pointOpened.emit(index)

    def _on_hover(self, item, points, ev=None) -> None:
        if len(points):
            index = int(points[0].data())
            if index != self.hovered:
                at = self.plot_widget.mapFromScene(ev.scenePos()) if hasattr(ev, "scenePos") else None
                self.show_thumbnail(index, at)
                self.pointHovered.emit(index)
        elif self.hovered >= 0 and self.values[self.hovered] == getattr(item, "category", None):
            self.hovered = -1          # the cursor left the hovered point's category
            self.thumb.hide()
            self.pointHovered.emit(-1)
