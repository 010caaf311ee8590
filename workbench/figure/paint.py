"""Paint layer objects (workbench.core.canvas_layers) into a rectangle with QPainter.

``paint_layers`` is the building block of every figure: one panel of image + overlays. A figure
with several panels calls it once per panel rectangle.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen

from workbench.core import colormaps
from workbench.core.canvas_layers import (PALETTE, BoxesLayer, HeatmapLayer, ImageLayer, Layer, LinesLayer, MaskLayer,
                                          PointsLayer, SegmentationLayer)
from workbench.core.label_placement import Placement, place_labels

POINT_COLOR = (255, 225, 25)
LABEL_FONT_PX = 12.0
OUTLINE_RGB = (0, 0, 0)      # drawn around every box line and label, so they read on any background
OUTLINE_ALPHA = 0.6
DASH = 4.0                   # dash and gap length of a dashed box, in line widths


def to_qimage(arr: np.ndarray) -> QImage:
    """An (H, W, 3) RGB or (H, W, 4) RGBA uint8 array as a QImage that owns its pixels."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    h, w, c = arr.shape
    fmt = QImage.Format.Format_RGBA8888 if c == 4 else QImage.Format.Format_RGB888
    return QImage(arr.data, w, h, arr.strides[0], fmt).copy()


def with_alpha(rgb: np.ndarray, opacity: float) -> np.ndarray:
    """RGB -> RGBA with a constant alpha (so opacity survives SVG and PDF, not only rasters)."""
    alpha = np.full(rgb.shape[:2] + (1,), round(255 * min(1.0, max(0.0, opacity))), np.uint8)
    return np.concatenate([rgb, alpha], axis=2)


def heatmap_rgb(layer: HeatmapLayer) -> np.ndarray:
    return colormaps.apply(layer.data, layer.colormap, layer.levels)


def label_text_color(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black on light label backgrounds, white on dark ones."""
    r, g, b = rgb[:3]
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


def box_color(layer: BoxesLayer, i: int) -> tuple[int, int, int]:
    return tuple(layer.colors[i % len(layer.colors)]) if layer.colors else PALETTE[0]


def segment_color(layer: LinesLayer, i: int) -> tuple[int, int, int]:
    return tuple(layer.colors[i % len(layer.colors)]) if layer.colors else PALETTE[0]


def point_colors(layer: PointsLayer) -> list[tuple[int, int, int]]:
    n = len(layer.points)
    return [tuple(layer.colors[i % len(layer.colors)]) if layer.colors else POINT_COLOR for i in range(n)]


def content_size(layers: list[Layer]) -> tuple[int, int]:
    """(width, height) in image pixels of what the layers show: the first raster layer's size,
    else the extent of boxes and points."""
    for layer in layers:
        if isinstance(layer, ImageLayer):
            return layer.image.shape[1], layer.image.shape[0]
        if isinstance(layer, HeatmapLayer):
            return layer.data.shape[1], layer.data.shape[0]
        if isinstance(layer, MaskLayer) and layer.masks.ndim == 3:
            return layer.masks.shape[2], layer.masks.shape[1]
        if isinstance(layer, SegmentationLayer):
            return layer.mask.shape[1], layer.mask.shape[0]
    extent = [np.asarray(l.boxes).reshape(-1, 2) for l in layers if isinstance(l, BoxesLayer)]
    extent += [np.asarray(l.points).reshape(-1, 2) for l in layers if isinstance(l, PointsLayer)]
    extent += [np.asarray(l.segments).reshape(-1, 2) for l in layers if isinstance(l, LinesLayer)]
    pts = np.concatenate(extent) if extent else np.zeros((0, 2))
    if len(pts) == 0:
        raise ValueError("nothing to draw: no image, heatmap, mask, boxes or points")
    return max(1, int(np.ceil(pts[:, 0].max()))), max(1, int(np.ceil(pts[:, 1].max())))


def colorbar_layer(layers: list[Layer]) -> HeatmapLayer | BoxesLayer | None:
    """The layer whose colorbar is shown: the topmost visible one that asks for a colorbar (a
    heatmap, or boxes coloured by a value, such as proposals by objectness). It has ``colormap``,
    ``levels``, ``name`` and ``colorbar_label``."""
    for layer in reversed(layers):
        if not (layer.visible and getattr(layer, "show_colorbar", False)):
            continue
        if isinstance(layer, HeatmapLayer) or (isinstance(layer, BoxesLayer) and layer.colormap and len(layer.boxes)):
            return layer
    return None


def dash_pattern(pen_width: float, line_width: float) -> list[float]:
    """A dash pattern (in units of ``pen_width``, as Qt reads it) whose dashes are DASH line
    widths long whatever the pen's width, so a dashed line and its wider outline line up."""
    length = DASH * line_width / max(pen_width, 1e-6)
    return [length, length]


def box_pens(color: tuple[int, int, int], width: float, opacity: float = 1.0, dashed: bool = False,
             cosmetic: bool = False) -> tuple[QPen, QPen]:
    """(outline, line): a dark pen up to two pixels wider than the coloured one, drawn first
    (a thin line gets a thin outline, so a swarm of proposals does not turn dark)."""
    pens = []
    for rgb, w, alpha in ((OUTLINE_RGB, width + min(2.0, width), OUTLINE_ALPHA * opacity), (color, width, opacity)):
        pen = QPen(_qcolor(rgb, alpha))
        pen.setWidthF(w)
        pen.setCosmetic(cosmetic)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        if dashed:
            pen.setDashPattern(dash_pattern(w, width))
        pens.append(pen)
    return pens[0], pens[1]


def dims_image(layers: list[Layer], index: int) -> bool:
    """Whether heatmap ``layers[index]`` dims a visible image drawn below it."""
    layer = layers[index]
    return (isinstance(layer, HeatmapLayer) and layer.dim_image > 0
            and any(isinstance(l, ImageLayer) and l.visible for l in layers[:index]))


def paint_layers(painter: QPainter, rect: QRectF, layers: list[Layer], unit: float = 1.0) -> None:
    """Paint visible layers in order, image pixels mapped onto ``rect``, then the box labels of
    all layers over them, the top layer's uppermost; they avoid each other (``box_label_placements``).

    ``unit`` scales line widths, point sizes and label fonts (1.0 = as on screen).
    """
    w, h = content_size(layers)
    sx, sy = rect.width() / w, rect.height() / h
    painter.save()
    painter.setClipRect(rect)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    labels = box_label_placements(layers, (rect.width(), rect.height()), unit)
    for index, layer in enumerate(layers):
        if not layer.visible:
            continue
        if isinstance(layer, ImageLayer):
            rgb = layer.image[..., :3]
            painter.drawImage(rect, to_qimage(rgb if layer.opacity >= 1 else with_alpha(rgb, layer.opacity)))
        elif isinstance(layer, HeatmapLayer):
            if dims_image(layers, index):
                painter.fillRect(rect, _qcolor(layer.wash_color(), layer.dim_image))
            painter.drawImage(rect, to_qimage(with_alpha(heatmap_rgb(layer), layer.opacity)))
        elif isinstance(layer, MaskLayer):
            if len(layer.masks):
                painter.drawImage(rect, to_qimage(layer.rgba()))
        elif isinstance(layer, SegmentationLayer):
            painter.drawImage(rect, to_qimage(layer.rgba()))
        elif isinstance(layer, BoxesLayer):
            _paint_boxes(painter, rect, layer, sx, sy, unit)
        elif isinstance(layer, PointsLayer):
            _paint_points(painter, rect, layer, sx, sy, unit)
        elif isinstance(layer, LinesLayer):
            _paint_lines(painter, rect, layer, sx, sy, unit)
    for index in sorted(labels):
        _paint_labels(painter, rect, layers[index], labels[index], unit)
    for layer in layers:
        if isinstance(layer, SegmentationLayer) and layer.visible:
            _paint_legend(painter, rect, layer, unit)
    painter.restore()


def _qcolor(rgb: tuple[int, int, int], opacity: float = 1.0) -> QColor:
    return QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]), round(255 * min(1.0, max(0.0, opacity))))


def box_label_placements(layers: list[Layer], size: tuple[float, float],
                         unit: float = 1.0) -> dict[int, list[Placement]]:
    """Where the labels of the visible box layers go in a panel of ``size`` (width, height) figure
    pixels, keyed by index in ``layers``: the top layer places its labels first, each layer below
    avoids the labels placed above it. Coordinates are relative to the panel's top-left corner."""
    w, h = content_size(layers)
    sx, sy = size[0] / w, size[1] / h
    fm = QFontMetricsF(label_font(unit))
    pad = 2 * unit
    taken: list[Placement] = []
    placements: dict[int, list[Placement]] = {}
    for index in reversed(range(len(layers))):
        layer = layers[index]
        if not (isinstance(layer, BoxesLayer) and layer.visible):
            continue
        texts = _label_texts(layer)
        if not any(texts):
            continue
        sizes = np.array([(fm.horizontalAdvance(t) + 2 * pad, fm.height()) if t else (0.0, 0.0) for t in texts])
        placed = place_labels(_panel_boxes(layer, sx, sy), sizes, layer.scores or None, size, taken=taken)
        placements[index] = placed
        taken.extend(placed)
    return placements


def label_font(unit: float = 1.0) -> QFont:
    font = QFont()
    font.setPixelSize(max(6, round(LABEL_FONT_PX * unit)))
    return font


def _label_texts(layer: BoxesLayer) -> list[str]:
    return [layer.texts[i] if i < len(layer.texts) else "" for i in range(len(layer.boxes))]


def _panel_boxes(layer: BoxesLayer, sx: float, sy: float) -> np.ndarray:
    """The layer's boxes as (N, 4) x0 <= x1, y0 <= y1 in panel pixels."""
    b = np.asarray(layer.boxes, np.float64).reshape(-1, 4)
    return np.stack([np.minimum(b[:, 0], b[:, 2]) * sx, np.minimum(b[:, 1], b[:, 3]) * sy,
                     np.maximum(b[:, 0], b[:, 2]) * sx, np.maximum(b[:, 1], b[:, 3]) * sy], axis=1)


def _paint_boxes(painter: QPainter, rect: QRectF, layer: BoxesLayer, sx: float, sy: float, unit: float) -> None:
    """Box lines: a dark outline, then the colour."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for i, (x0, y0, x1, y1) in enumerate(_panel_boxes(layer, sx, sy)):
        r = QRectF(rect.left() + x0, rect.top() + y0, x1 - x0, y1 - y0)
        for pen in box_pens(box_color(layer, i), layer.line_width * unit, layer.opacity, layer.dashed):
            painter.setPen(pen)
            painter.drawRect(r)


def _paint_labels(painter: QPainter, rect: QRectF, layer: BoxesLayer, labels: list[Placement], unit: float) -> None:
    """The layer's labels where ``box_label_placements`` put them, in their drawing order."""
    texts = _label_texts(layer)
    painter.setFont(label_font(unit))
    border = QPen(_qcolor(OUTLINE_RGB, OUTLINE_ALPHA * layer.opacity), max(1.0, 0.75 * unit))
    for p in labels:
        color = box_color(layer, p.index)
        label = QRectF(rect.left() + p.x, rect.top() + p.y, p.w, p.h)
        painter.setPen(border)
        painter.setBrush(QBrush(_qcolor(color, layer.opacity)))
        painter.drawRect(label)
        painter.setPen(_qcolor(label_text_color(color), layer.opacity))
        painter.drawText(label, int(Qt.AlignmentFlag.AlignCenter), texts[p.index])
    painter.setBrush(Qt.BrushStyle.NoBrush)


def _paint_points(painter: QPainter, rect: QRectF, layer: PointsLayer, sx: float, sy: float, unit: float) -> None:
    radius = layer.size * unit / 2
    painter.setPen(QPen(_qcolor((0, 0, 0), layer.opacity), max(1.0, unit)))
    for (x, y), color in zip(np.asarray(layer.points, np.float64).reshape(-1, 2), point_colors(layer)):
        painter.setBrush(QBrush(_qcolor(color, layer.opacity)))
        painter.drawEllipse(QPointF(rect.left() + x * sx, rect.top() + y * sy), radius, radius)


def _paint_legend(painter: QPainter, rect: QRectF, layer: SegmentationLayer, unit: float) -> None:
    """A swatch, name and pixel share per shown class, in the panel's top-right corner."""
    rows = [(color, f"{name} {100 * f:.1f}%") for _c, name, color, f in layer.legend()]
    if not rows:
        return
    font = label_font(unit)
    fm = QFontMetricsF(font)
    painter.setFont(font)
    pad, line = 3 * unit, fm.height()
    width = line + pad + max(fm.horizontalAdvance(t) for _, t in rows) + 3 * pad
    box = QRectF(rect.right() - width - pad, rect.top() + pad, width, len(rows) * line + 2 * pad)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor(255, 255, 255, 200)))
    painter.drawRect(box)
    for i, (color, text) in enumerate(rows):
        y = box.top() + pad + i * line
        swatch = QRectF(box.left() + pad, y + 0.15 * line, 0.7 * line, 0.7 * line)
        painter.setPen(QPen(QColor(0, 0, 0), max(1.0, unit * 0.5)))
        painter.setBrush(QBrush(_qcolor(color)))
        painter.drawRect(swatch)
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(QRectF(swatch.right() + pad, y, box.right() - swatch.right() - pad, line),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)


def _paint_lines(painter: QPainter, rect: QRectF, layer: LinesLayer, sx: float, sy: float, unit: float) -> None:
    for i, ((x0, y0), (x1, y1)) in enumerate(np.asarray(layer.segments, np.float64).reshape(-1, 2, 2)):
        pen = QPen(_qcolor(segment_color(layer, i), layer.opacity), layer.line_width * unit)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(rect.left() + x0 * sx, rect.top() + y0 * sy),
                         QPointF(rect.left() + x1 * sx, rect.top() + y1 * sy))
