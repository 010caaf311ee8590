"""Style transfer as a figure: content | style | result side by side, the losses under them.

The losses run over orders of magnitude, so their axis is logarithmic (decades marked). The layout
is computed at scale 1 and painted through a scaled painter, so a PNG at scale 2 is the same picture
twice as wide; SVG and PDF keep the curves and text as vectors.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from workbench.core.results.style import Stylisation
from workbench.figure import text
from workbench.figure.loss_curves import AXIS_LABELS_WIDTH, FONT_PX, LossCurve, paint_loss_curves
from workbench.figure.paint import to_qimage
from workbench.figure.scaled import paint_scale, write_scaled

PANEL_SIDE = 240.0          # each picture's long side at scale 1
GAP, MARGIN = 10.0, 14.0
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
    left = MARGIN + AXIS_LABELS_WIDTH
    title = QRectF(MARGIN, MARGIN, 0, 2 * line)
    top = title.bottom() + GAP
    panels = [QRectF(left + i * (pw + GAP), top, pw, ph) for i in range(len(pictures))]
    labels = [QRectF(r.left(), r.bottom(), r.width(), 2 * line) for r in panels]
    width = panels[-1].right() + MARGIN
    plot = QRectF(left, labels[0].bottom() + 1.5 * line, width - left - MARGIN, PLOT_HEIGHT)
    title = QRectF(MARGIN, MARGIN, width - 2 * MARGIN, 2 * line)
    return StyleLayout((width, plot.bottom() + 2.2 * line + MARGIN), title, panels, labels, plot)


def paint_losses(painter: QPainter, plot: QRectF, result: Stylisation) -> None:
    curves = [LossCurve("Gram (style) loss", np.asarray(result.style_curve, np.float64), STYLE_COLOR)]
    if len(result.content_curve):
        curves.append(LossCurve("content loss", np.asarray(result.content_curve, np.float64), CONTENT_COLOR))
    paint_loss_curves(painter, plot, curves, max(result.steps, len(curves[0].values), 1))


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
    s = paint_scale(path, scale)
    layout = style_layout(result)
    return write_scaled(path, layout.size, s, lambda painter: paint_style(painter, layout, result), result.title)
