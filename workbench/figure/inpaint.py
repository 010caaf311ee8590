"""Inpainting as a figure: one row per fill (the input with its hole tinted, what the filler made, the
filled image, the original), its losses above it, and the latent optimisation's loss curves below.

The layout is computed at scale 1 and painted through a scaled painter (a PNG at scale 2 is the same
picture twice as wide); SVG and PDF keep curves and text as vectors.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen

from workbench.core.results.inpaint import COLUMNS, Inpainting
from workbench.figure import text
from workbench.figure.paint import to_qimage
from workbench.figure.render import check_format, ensure_gui_app, write_figure

PANEL_SIDE = 150.0
GAP, MARGIN, FONT_PX = 10.0, 14.0, 12.0
PLOT_HEIGHT = 140.0
CONTEXT_COLOR, PRIOR_COLOR = (40, 110, 200), (200, 70, 40)


def row_pictures(result: Inpainting) -> list[np.ndarray]:
    """RGB uint8 pictures of one row, in COLUMNS order."""
    return [np.clip(p * 255 + 0.5, 0, 255).astype(np.uint8) for p in result.pictures()]


def row_title(result: Inpainting) -> str:
    return f"{result.fill_name} ({result.model}): {result.loss_text()}"


@dataclass(frozen=True)
class InpaintLayout:
    size: tuple[float, float]
    title: QRectF
    rows: list[tuple[QRectF, list[QRectF]]]      # (row title, pictures)
    labels: list[QRectF]                          # column names under the last row
    plot: QRectF | None


def layout(results: list[Inpainting], title: str) -> InpaintLayout:
    line = FONT_PX * 1.5
    left = MARGIN + 4.2 * FONT_PX
    width = left + len(COLUMNS) * (PANEL_SIDE + GAP) - GAP + MARGIN
    head = QRectF(MARGIN, MARGIN, width - 2 * MARGIN, 2 * line)
    y = head.bottom() + GAP
    rows = []
    for _r in results:
        caption = QRectF(left, y, width - left - MARGIN, 2 * line)
        y = caption.bottom()
        rows.append((caption, [QRectF(left + i * (PANEL_SIDE + GAP), y, PANEL_SIDE, PANEL_SIDE)
                               for i in range(len(COLUMNS))]))
        y += PANEL_SIDE + GAP
    labels = [QRectF(r.left(), y - GAP, r.width(), line) for r in rows[-1][1]]
    y = labels[0].bottom() + GAP
    plot = None
    if any(len(r.context_curve) for r in results):
        plot = QRectF(left, y + 1.5 * line, width - left - MARGIN, PLOT_HEIGHT)
        y = plot.bottom() + 2.2 * line
    return InpaintLayout((width, y + MARGIN), head, rows, labels, plot)


def _decades(values: np.ndarray) -> tuple[float, float]:
    v = values[np.isfinite(values) & (values > 0)]
    if not len(v):
        return -1.0, 0.0
    lo, hi = math.floor(math.log10(v.min())), math.ceil(math.log10(v.max()))
    return float(lo), float(max(hi, lo + 1))


def paint_curves(painter: QPainter, plot: QRectF, result: Inpainting) -> None:
    """The latent fill's context and prior losses (of the best start) per step, log axis."""
    font = text.font(FONT_PX)
    painter.setFont(font)
    curves = [("context loss", np.asarray(result.context_curve, np.float64), CONTEXT_COLOR),
              ("prior loss", np.asarray(result.prior_curve, np.float64), PRIOR_COLOR)]
    logs = _decades(np.concatenate([c for _n, c, _k in curves]))
    steps = max(result.steps, len(curves[0][1]), 1)
    painter.setPen(QPen(QColor(0, 0, 0), 1.0))
    painter.setBrush(Qt.BrushStyle.NoBrush)
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
                     int(Qt.AlignmentFlag.AlignHCenter), "step (latent optimisation, best start)")
    for _name, values, colour in curves:
        path, started = QPainterPath(), False
        for i, v in enumerate(values):
            if not (np.isfinite(v) and v > 0):
                continue
            x = plot.left() + (i + 1) / steps * plot.width()
            y = plot.bottom() - (math.log10(v) - logs[0]) / (logs[1] - logs[0]) * plot.height()
            path.lineTo(x, y) if started else path.moveTo(x, y)
            started = True
        painter.setPen(QPen(QColor(*colour), 1.6))
        painter.drawPath(path)
    fm = QFontMetricsF(font)
    now = (result.context_loss, result.prior_loss)      # at the latent kept, as the row's caption says
    entries = [(f"{n} {value:.3g}", c) for (n, _v, c), value in zip(curves, now)]
    x = plot.right() - sum(fm.horizontalAdvance(t) + 3.2 * FONT_PX for t, _c in entries) + 1.2 * FONT_PX
    y = plot.top() - 0.75 * FONT_PX
    for label, colour in entries:
        painter.setPen(QPen(QColor(*colour), 2.0))
        painter.drawLine(QPointF(x, y), QPointF(x + 1.5 * FONT_PX, y))
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(QPointF(x + 2 * FONT_PX, y + 0.35 * FONT_PX), label)
        x += fm.horizontalAdvance(label) + 3.2 * FONT_PX


def paint_inpaintings(painter: QPainter, lay: InpaintLayout, results: list[Inpainting], title: str) -> None:
    painter.setPen(QColor(0, 0, 0))
    painter.setFont(text.font(FONT_PX * 1.15, bold=True))
    painter.drawText(lay.title, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), title)
    painter.setFont(text.font(FONT_PX))
    flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap)
    for result, (caption, rects) in zip(results, lay.rows):
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(caption, flags, row_title(result))
        for picture, rect in zip(row_pictures(result), rects):
            painter.drawImage(rect, to_qimage(picture))
    for name, rect in zip(COLUMNS, lay.labels):
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom), name)
    curves = next((r for r in results if len(r.context_curve)), None)
    if lay.plot is not None and curves is not None:
        paint_curves(painter, lay.plot, curves)


def export_inpaintings(results: list[Inpainting], path: str | Path, scale: float = 1.0, title: str = "") -> Path:
    """One row per fill with its losses, the latent fill's curves below, as .png (``scale`` x), .svg or .pdf."""
    check_format(path)
    if not results:
        raise ValueError("nothing to export: no inpainting yet")
    if not scale > 0:
        raise ValueError(f"the scale must be positive, not {scale}")
    ensure_gui_app()
    title = title or (results[0].title if len(results) == 1 else "inpainting: " + " vs ".join(
        r.fill_name for r in results))
    lay = layout(results, title)
    w, h = lay.size
    s = scale if Path(path).suffix.lower() == ".png" else 1.0

    def paint(painter: QPainter) -> None:
        painter.scale(s, s)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        paint_inpaintings(painter, lay, results, title)

    return write_figure(path, (w * s, h * s), paint, title)


def export_inpaint(result: Inpainting, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    """The figure of one inpainting (the renderer's figure: the CLI's --out)."""
    return export_inpaintings([result], path, scale)
