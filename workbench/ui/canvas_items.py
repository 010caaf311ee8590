"""pyqtgraph items that draw one layer on the canvas: the on-screen twin of figure.paint."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from workbench.core import colormaps
from workbench.core.scene import BoxesLayer, HeatmapLayer, ImageLayer, Layer, MaskLayer, PointsLayer
from workbench.figure.paint import box_color, label_text_color, point_colors

pg.setConfigOptions(imageAxisOrder="row-major")

# a label sits above its box unless the box starts this close (fraction of image height) to the top
_LABEL_INSIDE_BELOW = 0.06


def item_opacity(layer: Layer) -> float:
    # a mask's opacity is already in the alpha channel of layer.rgba()
    return 1.0 if isinstance(layer, MaskLayer) else layer.opacity


class LayerGraphics:
    """The items that draw one layer, under one root item.

    Visibility, opacity and stacking order are set on the root, so they apply to everything
    the layer draws. Raster layers keep one ImageItem and only swap its data on re-render.
    """

    def __init__(self) -> None:
        self.root = pg.ItemGroup()
        self.items: list[QGraphicsItem] = []
        self.image_item: pg.ImageItem | None = None

    def render(self, layer: Layer, size: tuple[int, int] | None, z: int, selected: int | None = None) -> None:
        """Draw ``layer``; ``size`` is the (width, height) of the canvas image, if any."""
        self.root.setZValue(z)
        self.root.setVisible(layer.visible)
        self.root.setOpacity(item_opacity(layer))
        if isinstance(layer, (ImageLayer, HeatmapLayer, MaskLayer)):
            self._render_raster(layer, size)
        elif isinstance(layer, BoxesLayer):
            self._render_boxes(layer, size, selected)
        elif isinstance(layer, PointsLayer):
            self._render_points(layer)

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
        else:
            rgba = layer.rgba() if len(layer.masks) else np.zeros((1, 1, 4), np.uint8)
            item.setImage(rgba, levels=(0, 255), autoLevels=False)
        h, w = item.image.shape[:2]
        width, height = size or (w, h)
        item.setRect(QRectF(0, 0, width, height))

    def _render_boxes(self, layer: BoxesLayer, size: tuple[int, int] | None, selected: int | None) -> None:
        self._clear()
        height = size[1] if size else None
        for i, (x0, y0, x1, y1) in enumerate(np.asarray(layer.boxes, np.float64).reshape(-1, 4)):
            rect = QRectF(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
            color = box_color(layer, i)
            if i == selected:
                self._add(self._rect(rect, (255, 255, 255), layer.line_width + 4, z=1))
                self._add(self._rect(rect, color, layer.line_width + 1, z=2))
            else:
                self._add(self._rect(rect, color, layer.line_width, z=0))
            text = layer.texts[i] if i < len(layer.texts) else ""
            if text:
                inside = height is not None and rect.top() < _LABEL_INSIDE_BELOW * height
                label = pg.TextItem(text, color=label_text_color(color), fill=pg.mkBrush(*color),
                                    anchor=(0, 0) if inside else (0, 1))
                label.setPos(rect.left(), rect.top())
                label.setZValue(3 if i == selected else 0.5)
                self._add(label)

    def _rect(self, rect: QRectF, color: tuple[int, int, int], width: float, z: float) -> QGraphicsRectItem:
        item = QGraphicsRectItem(rect)
        pen = QPen(QColor(*color))
        pen.setWidthF(width)
        pen.setCosmetic(True)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        item.setPen(pen)
        item.setZValue(z)
        return item

    def _render_points(self, layer: PointsLayer) -> None:
        self._clear()
        pts = np.asarray(layer.points, np.float64).reshape(-1, 2)
        scatter = pg.ScatterPlotItem(pos=pts, size=layer.size, pxMode=True, pen=pg.mkPen(0, 0, 0),
                                     brush=[pg.mkBrush(*c) for c in point_colors(layer)])
        self._add(scatter)

    def _add(self, item: QGraphicsItem) -> None:
        item.setParentItem(self.root)
        self.items.append(item)
