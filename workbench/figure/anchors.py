"""The anchors at a location as a figure: the canvas's overlay with a key under it (the colour of
each feature level, what solid, dashed and yellow boxes mean)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen

from workbench.core.canvas_layers import ImageLayer, Layer
from workbench.core.detection.anchor_layers import anchor_legend
from workbench.core.renderers import layers_for
from workbench.figure import text
from workbench.figure.paint import dash_pattern
from workbench.figure.render import check_format, ensure_gui_app, layers_figure, paint_layers_figure, write_figure


def export_anchors(result: Any, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    check_format(path)
    ensure_gui_app()
    layers: list[Layer] = [] if image is None else [ImageLayer(name="image", image=np.asarray(image))]
    layers += layers_for(result)
    fig = layers_figure(layers, scale, result.title)
    rows = anchor_legend(result)
    unit = fig.unit
    swatch, gap = 30 * unit, 6 * unit
    left = fig.panel.left()
    width = fig.size[0] - left - swatch - gap - 10 * unit
    font, lines = text.fit([t for _, t, _ in rows], width, 11 * unit, 8 * unit, max_lines=2)
    line_h = QFontMetricsF(font).height()
    heights = [len(ls) * line_h + 3 * unit for ls in lines]
    top = fig.size[1]

    def paint(painter: QPainter) -> None:
        paint_layers_figure(painter, fig, layers, result.title)
        painter.setFont(font)
        y = top
        for (colors, _, swatch_kind), row_lines, h in zip(rows, lines, heights):
            mid = y + min(h, line_h) / 2
            _paint_swatch(painter, colors, swatch_kind, QRectF(left, mid - line_h / 2, swatch, line_h), unit)
            painter.setPen(QColor(0, 0, 0))
            for i, line in enumerate(row_lines):
                painter.drawText(QRectF(left + swatch + gap, y + i * line_h, width, line_h),
                                 int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), line)
            y += h

    size = (fig.size[0], top + sum(heights) + 10 * unit)
    return write_figure(path, size, paint, result.title)


def _paint_swatch(painter: QPainter, colors: list, kind: str, rect: QRectF, unit: float) -> None:
    """A line (solid or dashed) across ``rect``, or a dot per colour, each with a dark rim."""
    mid = rect.center().y()
    if kind == "dots":
        r = min(rect.height() / 3, rect.width() / (2 * len(colors) + 1))
        painter.setPen(QPen(QColor(0, 0, 0), max(1.0, 0.75 * unit)))
        for i, c in enumerate(colors):
            painter.setBrush(QColor(*c))
            painter.drawEllipse(QPointF(rect.left() + r * (1 + 2.2 * i), mid), r, r)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        return
    pen = QPen(QColor(*colors[0]), 2.5 * unit)
    if kind == "dashed":
        pen.setDashPattern(dash_pattern(pen.widthF(), 2.5 * unit))
    painter.setPen(pen)
    painter.drawLine(QPointF(rect.left(), mid), QPointF(rect.right(), mid))
