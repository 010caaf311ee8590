"""pyqtgraph items that draw one layer on the canvas: the on-screen twin of figure.paint."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem, QGraphicsRectItem

from workbench.core import colormaps
from workbench.core.canvas_layers import (BoxesLayer, HeatmapLayer, ImageLayer, Layer, LinesLayer, MaskLayer,
                                          PointsLayer, SegmentationLayer)
from workbench.core.label_placement import Placement, place_labels
from workbench.figure.paint import (OUTLINE_ALPHA, OUTLINE_RGB, box_color, box_pens, label_text_color, point_colors,
                                    segment_color)

pg.setConfigOptions(imageAxisOrder="row-major")


def _box_pen(color: tuple[int, int, int], width: float) -> QPen:
    pen = QPen(QColor(*color))
    pen.setWidthF(width)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    return pen


class OutlinedBox(QGraphicsRectItem):
    """A box line with a dark outline under it, so it reads on light and dark images alike;
    ``pen()`` is the coloured line."""

    def __init__(self) -> None:
        super().__init__()
        self._outline = QPen(Qt.PenStyle.NoPen)

    def set_style(self, color: tuple[int, int, int], width: float, dashed: bool) -> None:
        outline, line = box_pens(color, width, dashed=dashed, cosmetic=True)
        self._outline = outline
        self.setPen(line)

    def outline_pen(self) -> QPen:
        return self._outline

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(self._outline)
        painter.drawRect(self.rect())
        painter.setPen(self.pen())
        painter.drawRect(self.rect())


class BoxLabel(QGraphicsItem):
    """A box's label: text on a filled rectangle with a dark border, the same size at any zoom,
    its top-left corner at its position. Lighter to paint than a text document item, which
    matters with dozens of labels redrawn per slider move."""
    PAD = 3.0

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._font = QFont()
        self._text = ""
        self._fill = QColor(0, 0, 0)
        self._ink = QColor(255, 255, 255)
        self._rect = QRectF()

    def set_label(self, text: str, fill: tuple[int, int, int], ink: tuple[int, int, int]) -> None:
        self.prepareGeometryChange()
        fm = QFontMetricsF(self._font)
        self._rect = QRectF(0, 0, fm.horizontalAdvance(text) + 2 * self.PAD, fm.height() + self.PAD)
        self._text, self._fill, self._ink = text, QColor(*fill), QColor(*ink)
        self.update()

    def text(self) -> str:
        return self._text

    def fill(self) -> QColor:
        return self._fill

    def size(self) -> tuple[float, float]:
        """Width and height in screen pixels."""
        return self._rect.width(), self._rect.height()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt naming)
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, _option, _widget=None) -> None:
        painter.setPen(QPen(QColor(*OUTLINE_RGB, round(255 * OUTLINE_ALPHA)), 1.0))
        painter.setBrush(self._fill)
        painter.drawRect(self._rect)
        painter.setFont(self._font)
        painter.setPen(self._ink)
        painter.drawText(self._rect.adjusted(self.PAD, 0, -self.PAD, 0),
                         int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), self._text)


def view_pixel_size(viewbox: pg.ViewBox) -> tuple[float, float]:
    """Image pixels per screen pixel (1 while the view is not laid out yet)."""
    try:
        px, py = viewbox.viewPixelSize()
    except Exception:   # a view box not laid out yet has no size to divide by
        return 1.0, 1.0
    ok = np.isfinite([px, py]).all() and px > 0 and py > 0
    return (abs(float(px)), abs(float(py))) if ok else (1.0, 1.0)


def item_opacity(layer: Layer) -> float:
    # a mask's opacity is already in the alpha channel of layer.rgba(); a heatmap's is set on its
    # image item, so the wash that dims the image under it keeps its own
    return 1.0 if isinstance(layer, (MaskLayer, SegmentationLayer, HeatmapLayer)) else layer.opacity


class LayerGraphics:
    """The items that draw one layer, under one root item, and its box labels under a second
    root, ``label_root``, a child of ``label_parent``: the canvas stacks that above every layer,
    so labels are read over any layer's lines, masks and maps.

    Visibility, opacity and stacking order are set on both roots, so they apply to everything
    the layer draws. Raster layers keep one ImageItem and only swap its data on re-render.
    """

    def __init__(self, label_parent: QGraphicsItem) -> None:
        self.root = pg.ItemGroup()
        self.label_root = pg.ItemGroup()
        self.label_root.setParentItem(label_parent)
        self.items: list[QGraphicsItem] = []
        self.image_item: pg.ImageItem | None = None
        self.box_items: list[QGraphicsRectItem] = []   # reused across redraws, spares hidden
        self.labels: list[BoxLabel] = []
        self.halo: QGraphicsRectItem | None = None
        self.wash: QGraphicsRectItem | None = None      # dims the image under a heatmap
        self._label_boxes = np.zeros((0, 4))            # the labelled boxes, one per label item in use
        self._label_scores: list[float] = []
        self._label_first: int | None = None            # the selected box's label: placed first
        self._bounds: tuple[float, float] | None = None

    def render(self, layer: Layer, size: tuple[int, int] | None, z: int, selected: int | None = None) -> None:
        """Draw ``layer``; ``size`` is the (width, height) of the canvas image, if any."""
        self.set_z(z)
        for root in (self.root, self.label_root):
            root.setVisible(layer.visible)
            root.setOpacity(item_opacity(layer))
        if isinstance(layer, (ImageLayer, HeatmapLayer, MaskLayer, SegmentationLayer)):
            self._render_raster(layer, size)
        elif isinstance(layer, BoxesLayer):
            self._render_boxes(layer, size, selected)
        elif isinstance(layer, PointsLayer):
            self._render_points(layer)
        elif isinstance(layer, LinesLayer):
            self._render_lines(layer)

    def set_z(self, z: int) -> None:
        """Stack the layer at ``z``: its graphics among the layers, its labels among the labels."""
        self.root.setZValue(z)
        self.label_root.setZValue(z)

    def dispose(self) -> None:
        for root in (self.root, self.label_root):
            if root.scene() is not None:
                root.scene().removeItem(root)

    def _clear(self) -> None:
        for item in self.items:
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.items = []
        self.box_items, self.labels, self.halo, self.wash = [], [], None, None
        self._label_boxes, self._label_scores, self._label_first = np.zeros((0, 4)), [], None

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
            item.setOpacity(layer.opacity)
        elif isinstance(layer, SegmentationLayer):
            item.setImage(layer.rgba(), levels=(0, 255), autoLevels=False)
        else:
            rgba = layer.rgba() if len(layer.masks) else np.zeros((1, 1, 4), np.uint8)
            item.setImage(rgba, levels=(0, 255), autoLevels=False)
        h, w = item.image.shape[:2]
        width, height = size or (w, h)
        item.setRect(QRectF(0, 0, width, height))
        self._render_wash(layer, QRectF(0, 0, width, height) if size else None)

    def _render_wash(self, layer: Layer, image_rect: QRectF | None) -> None:
        """A heatmap's ``dim_image``: a rectangle of the map's neutral colour over the canvas
        image (under the map), at that opacity."""
        dim = layer.dim_image if isinstance(layer, HeatmapLayer) and image_rect is not None else 0.0
        if dim <= 0:
            if self.wash is not None:
                self.wash.setVisible(False)
            return
        if self.wash is None:
            self.wash = QGraphicsRectItem()
            self.wash.setPen(QPen(Qt.PenStyle.NoPen))
            self.wash.setParentItem(self.root)
            self.wash.setZValue(-1)
            self.items.append(self.wash)
        self.wash.setRect(image_rect)
        self.wash.setBrush(QColor(*layer.wash_color()))
        self.wash.setOpacity(dim)
        self.wash.setVisible(True)

    def _render_boxes(self, layer: BoxesLayer, size: tuple[int, int] | None, selected: int | None) -> None:
        """Update the layer's box and label items in place; redraws after a slider move create
        no items unless there are more boxes than ever before. The canvas then places the labels
        of all layers (``place_labels``) at the current zoom, and again when the zoom changes."""
        if self.items and not self.box_items and not self.labels:
            self._clear()
        boxes = np.asarray(layer.boxes, np.float64).reshape(-1, 4)
        while len(self.box_items) < len(boxes):
            self.box_items.append(self._adopt(OutlinedBox()))
        labelled: list[int] = []
        for i, (x0, y0, x1, y1) in enumerate(boxes):
            rect = QRectF(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
            color = box_color(layer, i)
            item = self.box_items[i]
            item.setRect(rect)
            item.set_style(color, layer.line_width + (1 if i == selected else 0), layer.dashed)
            item.setZValue(2 if i == selected else 0)
            item.setVisible(True)
            text = layer.texts[i] if i < len(layer.texts) else ""
            if text:
                if len(labelled) == len(self.labels):
                    self.labels.append(self._adopt(BoxLabel(), self.label_root))
                self.labels[len(labelled)].set_label(text, color, label_text_color(color))
                labelled.append(i)
        for item in self.box_items[len(boxes):] + self.labels[len(labelled):]:
            item.setVisible(False)
        idx = np.asarray(labelled, np.int64)
        self._label_boxes = boxes[idx]
        scores = np.asarray(layer.scores, np.float64)
        self._label_scores = scores[idx].tolist() if len(scores) >= len(boxes) else []
        self._label_first = labelled.index(selected) if selected in labelled else None
        self._bounds = (float(size[0]), float(size[1])) if size else None
        if selected is not None and 0 <= selected < len(boxes):
            if self.halo is None:
                self.halo = self._adopt(QGraphicsRectItem())
            self.halo.setRect(self.box_items[selected].rect())
            self.halo.setPen(_box_pen((255, 255, 255), layer.line_width + 4))
            self.halo.setZValue(1)
            self.halo.setVisible(True)
        elif self.halo is not None:
            self.halo.setVisible(False)

    def has_labels(self) -> bool:
        return len(self._label_boxes) > 0

    def place_labels(self, pixel_size: tuple[float, float], taken: Sequence[Placement] = ()) -> list[Placement]:
        """Place the labels at a zoom of ``pixel_size`` image pixels per screen pixel, clear of
        the labels ``taken`` by layers above; returns where they went, in image pixels."""
        n = len(self._label_boxes)
        if not n:
            return []
        sizes = np.array([self.labels[k].size() for k in range(n)], np.float64) * pixel_size
        placed = place_labels(self._label_boxes, sizes, self._label_scores or None, self._bounds, self._label_first,
                              taken)
        shown = set()
        for rank, p in enumerate(placed):
            label = self.labels[p.index]
            label.setPos(p.x, p.y)
            label.setZValue(3 if p.index == self._label_first else 0.5 + 0.4 * rank / len(placed))
            label.setVisible(True)
            shown.add(p.index)
        for k in range(n):
            if k not in shown:
                self.labels[k].setVisible(False)
        return placed

    def _adopt(self, item: QGraphicsItem, parent: QGraphicsItem | None = None) -> QGraphicsItem:
        self._add(item, parent)
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

    def _add(self, item: QGraphicsItem, parent: QGraphicsItem | None = None) -> None:
        item.setParentItem(self.root if parent is None else parent)
        self.items.append(item)
