"""Inpainting as a figure: one row per fill (the input with its hole tinted, what the filler made, the
filled image, the original), its losses above it, and the latent optimisation's loss curves below.

The layout is computed at scale 1 and painted through a scaled painter (a PNG at scale 2 is the same
picture twice as wide); SVG and PDF keep curves and text as vectors.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from workbench.core.results.inpaint import COLUMNS, Inpainting
from workbench.figure import text
from workbench.figure.loss_curves import AXIS_LABELS_WIDTH, FONT_PX, LossCurve, paint_loss_curves
from workbench.figure.paint import to_qimage
from workbench.figure.render import check_format
from workbench.figure.scaled import paint_scale, write_scaled

PANEL_SIDE = 150.0
GAP, MARGIN = 10.0, 14.0
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
    left = MARGIN + AXIS_LABELS_WIDTH
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


def paint_curves(painter: QPainter, plot: QRectF, result: Inpainting) -> None:
    """The latent fill's context and prior losses (of the best start) per step, log axis; the legend
    gives the losses at the latent kept, as the row's caption does."""
    curves = [LossCurve("context loss", np.asarray(result.context_curve, np.float64), CONTEXT_COLOR,
                        result.context_loss),
              LossCurve("prior loss", np.asarray(result.prior_curve, np.float64), PRIOR_COLOR, result.prior_loss)]
    paint_loss_curves(painter, plot, curves, max(result.steps, len(curves[0].values), 1),
                      "step (latent optimisation, best start)")


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
    s = paint_scale(path, scale)
    title = title or (results[0].title if len(results) == 1 else "inpainting: " + " vs ".join(
        r.fill_name for r in results))
    lay = layout(results, title)
    return write_scaled(path, lay.size, s, lambda painter: paint_inpaintings(painter, lay, results, title), title,
                        smooth_pixmaps=False)


def export_inpaint(result: Inpainting, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    """The figure of one inpainting (the renderer's figure: the CLI's --out)."""
    return export_inpaintings([result], path, scale)
