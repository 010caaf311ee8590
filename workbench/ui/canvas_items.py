"""pyqtgraph items that draw one layer on the canvas: the on-screen twin of figure.paint."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem, QGraphicsRectItem

from workbench.core import colormaps
from workbench.core.canvas_layers import (BoxesLayer, HeatmapLayer, ImageLayer, Layer, MaskLayer, PointsLayer,
                                  SegmentationLayer)
from workbench.core.canvas_layers import LinesLayer
from workbench.figure.paint import box_color, label_text_color, point_colors, segment_color

pg.setConfigOptions(imageAxisOrder="row-major")

# a label sits above its box unless the box starts this close (fraction of image height) to the top
_LABEL_INSIDE_BELOW = 0.06


def _box_pen(color: tuple[int, int, int], width: float) -> QPen:
    pen = QPen(QColor(*color))
    pen.setWidthF(width)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    return pen


class BoxLabel(QGraphicsItem):
    """A box's label: text on a filled rectangle, the same size at any zoom. Lighter to paint
    than a text document item, which matters with dozens of labels redrawn per slider move."""
    PAD = 3.0

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._font = QFont()
        self._text = ""
        self._fill = QColor(0, 0, 0)
        self._ink = QColor(255, 255, 255)
        self._rect = QRectF()

    def set_label(self, text: str, fill: tuple[int, int, int], ink: tuple[int, int, int], below: bool) -> None:
        """Show ``text``; the label hangs below its position when ``below``, else sits above it."""
        self.prepareGeometryChange()
        fm = QFontMetricsF(self._font)
        w, h = fm.horizontalAdvance(text) + 2 * self.PAD, fm.height() + self.PAD
        self._rect = QRectF(0, 0 if below else -h, w, h)
        self._text, self._fill, self._ink = text, QColor(*fill), QColor(*ink)
        self.update()

    def text(self) -> str:
        return self._text

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt naming)
        return self._rect

    def paint(self, painter: QPainter, _option, _widget=None) -> None:
        painter.fillRect(self._rect, self._fill)
        painter.setFont(self._font)
        painter.setPen(self._ink)
        painter.drawText(self._rect.adjusted(self.PAD, 0, -self.PAD, 0),
                         int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), self._text)


def item_opacity(layer: Layer) -> float:
    # a mask's opacity is already in the alpha channel of layer.rgba()
    return 1.0 if isinstance(layer, (MaskLayer, SegmentationLayer)) else layer.opacity


class LayerGraphics:
    """The items that draw one layer, under one root item.

    Visibility, opacity and stacking order are set on the root, so they apply to everything
    the layer draws. Raster layers keep one ImageItem and only swap its data on re-render.
    """

    def __init__(self) -> None:
        self.root = pg.ItemGroup()
        self.items: list[QGraphicsItem] = []
        self.image_item: pg.ImageItem | None = None
        self.box_items: list[QGraphicsRectItem] = []   # reused across redraws, spares hidden
        self.labels: list[BoxLabel] = []
        self.halo: QGraphicsRectItem | None = None

    def render(self, layer: Layer, size: tuple[int, int] | None, z: int, selected: int | None = None) -> None:
        """Draw ``layer``; ``size`` is the (width, height) of the canvas image, if any."""
        self.root.setZValue(z)
        self.root.setVisible(layer.visible)
        self.root.setOpacity(item_opacity(layer))
        if isinstance(layer, (ImageLayer, HeatmapLayer, MaskLayer, SegmentationLayer)):
            self._render_raster(layer, size)
        elif isinstance(layer, BoxesLayer):
            self._render_boxes(layer, size, selected)
        elif isinstance(layer, PointsLayer):
            self._render_points(layer)
        elif isinstance(layer, LinesLayer):
            self._render_lines(layer)

    def dispose(self) -> None:
        scene = self.root.scene()
        if scene is not None:
            scene.removeItem(self.root)

    def _clear(self) -> None:
        for item in self.items:
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.items = []
        self.box_items, self.labels, self.halo = [], [], None

    def _render_raster(self, layer: Layer, size: tuple[int, int] | None) -> None:
        if self.image_item is None:
            self.image_item = pg.ImageItem(axisOrder="row-major")
            self.image_item.setParentItem(self.root)
            self.items = [self.image_item]
        item = self.image_item
        if isinstance(layer, ImageLayer):
            data = np.ascontiguousarray(layer.image[..., :3])
            item.setImage(data, levels=(0, 255), autoLevels=False)
        elif isinstance(layer, HeatmapLayer):
            lo, hi = float(layer.levels[0]), float(layer.levels[1])
            hi = hi if hi > lo else lo + 1.0
            data = np.nan_to_num(np.asarray(layer.data, np.float32), nan=lo)
            item.setImage(data, levels=(lo, hi), lut=colormaps.lut(layer.colormap), autoLevels=False)
        elif isinstance(layer, SegmentationLayer):
            item.setImage(layer.rgba(), levels=(0, 255), autoLevels=False)
        else:
            rgba = layer.rgba() if len(layer.masks) else np.zeros((1, 1, 4), np.uint8)
            item.setImage(rgba, levels=(0, 255), autoLevels=False)
        h, w = item.image.shape[:2]
        width, height = size or (w, h)
        item.setRect(QRectF(0, 0, width, height))

    def _render_boxes(self, layer: BoxesLayer, size: tuple[int, int] | None, selected: int | None) -> None:
        """Update the layer's box and label items in place; redraws after a slider move create
        no items unless there are more boxes than ever before."""
        if self.items and not self.box_items and not self.labels:
            self._clear()
        height = size[1] if size else None
        boxes = np.asarray(layer.boxes, np.float64).reshape(-1, 4)
        while len(self.box_items) < len(boxes):
            self.box_items.append(self._adopt(QGraphicsRectItem()))
        shown_labels = 0
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            rect = QRectF(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
            color = box_color(layer, i)
            item = self.box_items[i]
            item.setRect(rect)
            item.setPen(_box_pen(color, layer.line_width + (1 if i == selected else 0)))
            item.setZValue(2 if i == selected else 0)
            item.setVisible(True)
            text = layer.texts[i] if i < len(layer.texts) else ""
            if text:
                if shown_labels == len(self.labels):
                    self.labels.append(self._adopt(BoxLabel()))
                label = self.labels[shown_labels]
                shown_labels += 1
                inside = height is not None and rect.top() < _LABEL_INSIDE_BELOW * height
                label.set_label(text, color, label_text_color(color), below=inside)
                label.setPos(rect.left(), rect.top())
                label.setZValue(3 if i == selected else 0.5)
                label.setVisible(True)
        for item in self.box_items[len(boxes):] + self.labels[shown_labels:]:
            item.setVisible(False)
        if selected is not None and 0 <= selected < len(boxes):
            if self.halo is None:
                self.halo = self._adopt(QGraphicsRectItem())
            self.halo.setRect(self.box_items[selected].rect())
            self.halo.setPen(_box_pen((255, 255, 255), layer.line_width + 4))
            self.halo.setZValue(1)
            self.halo.setVisible(True)
        elif self.halo is not None:
            self.halo.setVisible(False)

    def _adopt(self, item: QGraphicsItem) -> QGraphicsItem:
        self._add(item)
        return item

    def _render_points(self, layer: PointsLayer) -> None:
        self._clear()
        pts = np.asarray(layer.points, np.float64).reshape(-1, 2)
        scatter = pg.ScatterPlotItem(pos=pts, size=layer.size, pxMode=True, pen=pg.mkPen(0, 0, 0),
                                     brush=[pg.mkBrush(*c) for c in point_colors(layer)])
        self._add(scatter)

    def _render_lines(self, layer: LinesLayer) -> None:
        self._clear()
        for i, ((x0, y0), (x1, y1)) in enumerate(np.asarray(layer.segments, np.float64).reshape(-1, 2, 2)):
            pen = QPen(QColor(*segment_color(layer, i)))
            pen.setWidthF(layer.line_width)
            pen.setCosmetic(True)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            item = QGraphicsLineItem(x0, y0, x1, y1)
            item.setPen(pen)
            self._add(item)

    def _add(self, item: QGraphicsItem) -> None:
        item.setParentItem(self.root)
        self.items.append(item)
