"""A vertical colorbar with ticks and min/max labels, painted with QPainter.

The canvas's colorbar widget and figure export both call ``paint_colorbar``, so the bar on
screen and the bar in a file are drawn by the same code.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen

from workbench.core import colormaps

_BAR = 1.1      # bar width, in font heights
_TICK = 0.35    # tick length, in font heights
_GAP = 0.3      # space between tick and label, in font heights
# interior ticks closer than this fraction of the bar to an end would collide with min/max labels
_END_CLEARANCE = 0.09


def format_value(v: float) -> str:
    if v == 0 or abs(v) < 1e-12:
        return "0"
    return f"{v:.4g}"


def ticks(levels: tuple[float, float], max_ticks: int = 6) -> list[tuple[float, str]]:
    """(value, label) pairs from low to high: both ends plus round values in between."""
    lo, hi = float(levels[0]), float(levels[1])
    if not hi > lo:
        return [(lo, format_value(lo))]
    span = hi - lo
    raw = span / max(1, max_ticks - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    inner = [v for v in np.arange(first, hi, step)
             if lo + _END_CLEARANCE * span < v < hi - _END_CLEARANCE * span]
    return [(lo, format_value(lo))] + [(float(v), format_value(round(v / step) * step)) for v in inner] + \
        [(hi, format_value(hi))]


def colorbar_font(font_px: float) -> QFont:
    font = QFont()
    font.setPixelSize(max(6, round(font_px)))
    return font


def colorbar_width(levels: tuple[float, float], font_px: float) -> float:
    """Width that bar, ticks and the widest label need at this font size."""
    fm = QFontMetricsF(colorbar_font(font_px))
    widest = max(fm.horizontalAdvance(label) for _, label in ticks(levels))
    return font_px * (_BAR + _TICK + _GAP) + widest + 2


def paint_colorbar(painter: QPainter, rect: QRectF, colormap: str, levels: tuple[float, float],
                   font_px: float, text_color: QColor | None = None) -> None:
    """Bar on the left of ``rect`` (high values at the top), ticks and labels to its right.

    The bar is inset vertically by half a label height so the end labels fit inside ``rect``.
    """
    font = colorbar_font(font_px)
    fm = QFontMetricsF(font)
    pad = fm.height() / 2
    bar = QRectF(rect.left(), rect.top() + pad, font_px * _BAR, max(1.0, rect.height() - 2 * pad))
    gradient = np.ascontiguousarray(colormaps.lut(colormap)[::-1].reshape(256, 1, 3))
    img = QImage(gradient.data, 1, 256, 3, QImage.Format.Format_RGB888).copy()
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    painter.drawImage(bar, img)
    color = text_color or QColor(0, 0, 0)
    pen = QPen(color, max(1.0, font_px / 12))
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(bar)
    painter.setFont(font)
    lo, hi = float(levels[0]), float(levels[1])
    span = hi - lo if hi > lo else 1.0
    tick_x0, tick_x1 = bar.right(), bar.right() + font_px * _TICK
    for value, label in ticks(levels):
        y = bar.bottom() - (value - lo) / span * bar.height()
        painter.drawLine(QPointF(tick_x0, y), QPointF(tick_x1, y))
        text_rect = QRectF(tick_x1 + font_px * _GAP, y - fm.height() / 2, rect.right() - tick_x1, fm.height())
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)
    painter.restore()
