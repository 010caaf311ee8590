"""Super-resolution as a figure: bicubic and each model's 4x upscale beside the original (or the
input), each with its PSNR and SSIM, and under them the loupe: the same region of every picture
magnified, its place outlined on the pictures above.

Pictures are drawn without smoothing, so every pixel of the upscales stays a crisp square; the
layout is computed at scale 1 and painted through a scaled painter (PNG at scale 2 = twice as wide).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from workbench.core.results.superres import SuperResolution
from workbench.figure import text
from workbench.figure.paint import to_qimage
from workbench.figure.scaled import paint_scale, write_scaled

PANEL_SIDE = 200.0
GAP, MARGIN, FONT_PX = 10.0, 14.0, 12.0
LOUPE_COLOR = (255, 200, 0)


@dataclass(frozen=True)
class SuperresLayout:
    size: tuple[float, float]
    title: QRectF
    pictures: list[QRectF]
    labels: list[QRectF]
    loupes: list[QRectF]
    loupe_labels: list[QRectF]


def superres_layout(result: SuperResolution) -> SuperresLayout:
    panels = result.panels()
    h, w = panels[0][1].shape[:2]
    s = PANEL_SIDE / max(h, w)
    pw, ph = w * s, h * s
    line = FONT_PX * 1.45
    top = MARGIN + 2 * line + GAP
    pictures = [QRectF(MARGIN + i * (pw + GAP), top, pw, ph) for i in range(len(panels))]
    labels = [QRectF(r.left(), r.bottom() + 2, r.width(), 2 * line) for r in pictures]
    loupe_top = labels[0].bottom() + GAP
    loupes = [QRectF(r.left(), loupe_top, pw, ph) for r in pictures]
    loupe_labels = [QRectF(r.left(), r.bottom() + 2, r.width(), line) for r in loupes]
    width = pictures[-1].right() + MARGIN
    title = QRectF(MARGIN, MARGIN, width - 2 * MARGIN, 2 * line)
    return SuperresLayout((width, loupe_labels[0].bottom() + MARGIN), title, pictures, labels, loupes,
                          loupe_labels)


def _draw_picture(painter: QPainter, rect: QRectF, image: np.ndarray) -> None:
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    painter.drawImage(rect, to_qimage(np.asarray(image, np.uint8)))
    painter.setPen(QPen(QColor(90, 90, 90), 0.8))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect)


def paint_superres(painter: QPainter, layout: SuperresLayout, result: SuperResolution) -> None:
    painter.setPen(QColor(0, 0, 0))
    painter.setFont(text.font(FONT_PX * 1.15, bold=True))
    painter.drawText(layout.title, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), result.title)
    painter.setFont(text.font(FONT_PX))
    flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap)
    left, top, rw, rh = result.loupe_rect()
    h, w = np.asarray(result.bicubic).shape[:2]
    for (title, image), rect, label in zip(result.panels(), layout.pictures, layout.labels):
        _draw_picture(painter, rect, image)
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(label, flags, title)
        sx, sy = rect.width() / w, rect.height() / h
        painter.setPen(QPen(QColor(*LOUPE_COLOR), 1.6))
        painter.drawRect(QRectF(rect.left() + left * sx, rect.top() + top * sy, rw * sx, rh * sy))
    for (title, view), rect, label in zip(result.loupe_views(), layout.loupes, layout.loupe_labels):
        _draw_picture(painter, rect, view)
        painter.setPen(QPen(QColor(*LOUPE_COLOR), 2.0))
        painter.drawRect(rect)
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(label, flags, f"loupe: {title}")


def export_superres(result: SuperResolution, image: np.ndarray | None, path: str | Path,
                    scale: float = 1.0) -> Path:
    """The upscales with their scores and the loupe, as .png (``scale`` x), .svg or .pdf."""
    s = paint_scale(path, scale)
    layout = superres_layout(result)
    return write_scaled(path, layout.size, s, lambda painter: paint_superres(painter, layout, result), result.title)
