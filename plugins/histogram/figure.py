"""The histogram as a figure: one curve per channel over 0..255, axes and a title."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen

from workbench.figure.render import write_figure

COLORS = ((220, 40, 40), (40, 160, 40), (40, 80, 220))
WIDTH, HEIGHT = 480, 300


def export_histogram(result, image, path: str | Path, scale: float = 1.0) -> Path:
    s = max(1.0, float(scale))
    w, h = WIDTH * s, HEIGHT * s
    plot = QRectF(56 * s, 36 * s, w - 72 * s, h - 84 * s)
    counts = np.asarray(result.counts, np.float64)
    top = max(1.0, float(counts.max()) if counts.size else 1.0)

    def paint(p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont()
        font.setPixelSize(round(12 * s))
        p.setFont(font)
        p.setPen(QPen(QColor(0, 0, 0), s))
        p.drawRect(plot)
        p.drawText(QRectF(0, 4 * s, w, 28 * s), int(Qt.AlignmentFlag.AlignCenter), result.title or "histogram")
        for value in (0, 64, 128, 192, 255):
            x = plot.left() + plot.width() * value / 256
            p.drawText(QRectF(x - 20 * s, plot.bottom() + 4 * s, 40 * s, 16 * s), int(Qt.AlignmentFlag.AlignCenter),
                       str(value))
        p.drawText(QRectF(plot.left(), plot.bottom() + 22 * s, plot.width(), 18 * s),
                   int(Qt.AlignmentFlag.AlignCenter), "pixel value")
        p.drawText(QRectF(0, plot.top() - 8 * s, plot.left() - 6 * s, 16 * s),
                   int(Qt.AlignmentFlag.AlignRight), f"{int(top)}")
        p.drawText(QRectF(0, plot.bottom() - 8 * s, plot.left() - 6 * s, 16 * s),
                   int(Qt.AlignmentFlag.AlignRight), "0")
        centres = (result.edges[:-1] + result.edges[1:]) / 2
        for row, color in zip(counts, COLORS):
            path = QPainterPath()
            for i, (c, n) in enumerate(zip(centres, row)):
                point = QPointF(plot.left() + plot.width() * c / 256, plot.bottom() - plot.height() * n / top)
                path.moveTo(point) if i == 0 else path.lineTo(point)
            p.setPen(QPen(QColor(*color), 2 * s))
            p.drawPath(path)

    return write_figure(path, (w, h), paint, result.title)
