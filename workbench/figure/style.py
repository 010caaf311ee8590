"""Style transfer as a figure: content | style | result side by side, the losses under them.

The losses run over orders of magnitude, so their axis is logarithmic (decades marked). The layout
is computed at scale 1 and painted through a scaled painter, so a PNG at scale 2 is the same picture
twice as wide; SVG and PDF keep the curves and text as vectors.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen

from workbench.core.results.style import Stylisation
from workbench.figure import text
from workbench.figure.paint import to_qimage
from workbench.figure.render import check_format, ensure_gui_app, write_figure

PANEL_SIDE = 240.0          # each picture's long side at scale 1
GAP, MARGIN, FONT_PX = 10.0, 14.0, 12.0
PLOT_HEIGHT = 150.0
STYLE_COLOR, CONTENT_COLOR = (200, 70, 40), (40, 110, 200)


@dataclass(frozen=True)
class StyleLayout:
    size: tuple[float, float]
    title: QRectF
    panels: list[QRectF]
    labels: list[QRectF]
    plot: QRectF


def style_layout(result: Stylisation) -> StyleLayout:
    pictures = result.panels()
    h, w = pictures[0][1].shape[:2]
    s = PANEL_SIDE / max(h, w)
    pw, ph = w * s, h * s
    line = FONT_PX * 1.5
    left = MARGIN + 4.2 * FONT_PX           # room for the loss axis's labels
    title = QRectF(MARGIN, MARGIN, 0, 2 * line)
    top = title.bottom() + GAP
    panels = [QRectF(left + i * (pw + GAP), top, pw, ph) for i in range(len(pictures))]
    labels = [QRectF(r.left(), r.bottom(), r.width(), 2 * line) for r in panels]
    width = panels[-1].right() + MARGIN
    plot = QRectF(left, labels[0].bottom() + 1.5 * line, width - left - MARGIN, PLOT_HEIGHT)
    title = QRectF(MARGIN, MARGIN, width - 2 * MARGIN, 2 * line)
    return StyleLayout((width, plot.bottom() + 2.2 * line + MARGIN), title, panels, labels, plot)


def decades(values: np.ndarray) -> tuple[float, float]:
    """The whole decades (log10) that hold the positive finite values."""
    v = values[np.isfinite(values) & (values > 0)]
    if not len(v):
        return -1.0, 0.0
    lo, hi = math.floor(math.log10(v.min())), math.ceil(math.log10(v.max()))
    return float(lo), float(max(hi, lo + 1))


def _curve(painter: QPainter, plot: QRectF, values: np.ndarray, steps: int, logs: tuple[float, float],
           colour: tuple[int, int, int]) -> None:
    path = QPainterPath()
    started = False
    for i, v in enumerate(values):
        if not (np.isfinite(v) and v > 0):
            continue
        x = plot.left() + (i + 1) / max(steps, 1) * plot.width()
        y = plot.bottom() - (math.log10(v) - logs[0]) / (logs[1] - logs[0]) * plot.height()
        path.lineTo(x, y) if started else path.moveTo(x, y)
        started = True
    painter.setPen(QPen(QColor(*colour), 1.6))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)


def paint_losses(painter: QPainter, plot: QRectF, result: Stylisation) -> None:
    font = text.font(FONT_PX)
    painter.setFont(font)
    curves = [("Gram (style) loss", np.asarray(result.style_curve, np.float64), STYLE_COLOR)]
    if len(result.content_curve):
        curves.append(("content loss", np.asarray(result.content_curve, np.float64), CONTENT_COLOR))
    logs = decades(np.concatenate([c for _n, c, _k in curves]))
    steps = max(result.steps, len(curves[0][1]), 1)
    painter.setPen(QPen(QColor(0, 0, 0), 1.0))
    painter.drawRect(plot)
    for k in range(int(logs[0]), int(logs[1]) + 1):
        y = plot.bottom() - (k - logs[0]) / (logs[1] - logs[0]) * plot.height()
        painter.setPen(QPen(QColor(225, 225, 225), 0.8))
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(QRectF(plot.left() - 4.2 * FONT_PX, y - FONT_PX, 4 * FONT_PX, 2 * FONT_PX),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"1e{k}")
    for x_step in (0, steps // 2, steps):
        x = plot.left() + x_step / steps * plot.width()
        painter.drawText(QRectF(x - 3 * FONT_PX, plot.bottom() + 2, 6 * FONT_PX, 1.5 * FONT_PX),
                         int(Qt.AlignmentFlag.AlignHCenter), str(x_step))
    painter.drawText(QRectF(plot.left(), plot.bottom() + 1.5 * FONT_PX, plot.width(), 1.5 * FONT_PX),
                     int(Qt.AlignmentFlag.AlignHCenter), "step")
    for name, values, colour in curves:
        _curve(painter, plot, values, steps, logs, colour)
    entries = [(f"{name} {next((v for v in values[::-1] if np.isfinite(v)), float('nan')):.3g}", colour)
               for name, values, colour in curves]
    fm = QFontMetricsF(font)      # the legend in one row above the plot, so it never hides a curve
    x = plot.right() - sum(fm.horizontalAdvance(t) + 3.2 * FONT_PX for t, _c in entries) + 1.2 * FONT_PX
    y = plot.top() - 0.75 * FONT_PX
    for label, colour in entries:
        painter.setPen(QPen(QColor(*colour), 2.0))
        painter.drawLine(QPointF(x, y), QPointF(x + 1.5 * FONT_PX, y))
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(QPointF(x + 2 * FONT_PX, y + 0.35 * FONT_PX), label)
        x += fm.horizontalAdvance(label) + 3.2 * FONT_PX


def paint_style(painter: QPainter, layout: StyleLayout, result: Stylisation) -> None:
    painter.setPen(QColor(0, 0, 0))
    painter.setFont(text.font(FONT_PX * 1.15, bold=True))
    painter.drawText(layout.title, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), result.title)
    painter.setFont(text.font(FONT_PX))
    for (name, picture), rect, label in zip(result.panels(), layout.panels, layout.labels):
        rgb = np.clip(np.asarray(picture, np.float32) * 255 + 0.5, 0, 255).astype(np.uint8)
        painter.drawImage(rect, to_qimage(rgb))
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        painter.drawText(label, int(flags), name)
    paint_losses(painter, layout.plot, result)


def export_style(result: Stylisation, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    """Content | style | result and the loss curves as .png (``scale`` x), .svg or .pdf."""
    check_format(path)
    if not scale > 0:
        raise ValueError(f"the scale must be positive, not {scale}")
    ensure_gui_app()
    layout = style_layout(result)
    w, h = layout.size
    s = scale if Path(path).suffix.lower() == ".png" else 1.0

    def paint(painter: QPainter) -> None:
        painter.scale(s, s)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        paint_style(painter, layout, result)

    return write_figure(path, (w * s, h * s), paint, result.title)
