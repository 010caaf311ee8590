"""Detectors side by side as one figure: each panel titled with its model and figures."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from workbench.core.canvas_layers import ImageLayer, Layer
from workbench.figure.compare import grid_rows, paint_note
from workbench.figure.paint import paint_layers
from workbench.figure.render import check_format, ensure_gui_app, pixel_scale, write_figure


@dataclasses.dataclass
class DetectorSide:
    """One detector's panel of the figure."""
    title: str                        # the model id
    stats: str                        # time, detections, proposals
    layers: list[Layer] | None        # overlays; None while the model runs or when it failed
    note: str = ""                    # shown over the image when there are no layers


@dataclasses.dataclass(frozen=True)
class PanelsLayout:
    size: tuple[float, float]
    columns: int
    panels: list[QRectF]
    titles: list[QRectF]              # two lines above each panel: model id, then its figures
    font_px: float


STATS_SEPARATOR = " · "
_TITLE_LINES = 2.6                    # title block height, in font heights


def panels_layout(n: int, panel_wh: tuple[float, float], font_px: float, columns: int) -> PanelsLayout:
    columns = max(1, min(columns, n))
    gap, title_h = round(font_px), round(font_px * _TITLE_LINES)
    pw, ph = panel_wh
    panels, titles = [], []
    for i in range(n):
        r, c = divmod(i, columns)
        x, y = gap + c * (pw + gap), gap + r * (title_h + ph + gap)
        titles.append(QRectF(x, y, pw, title_h))
        panels.append(QRectF(x, y + title_h, pw, ph))
    rows = grid_rows(n, columns)
    size = (gap + columns * (pw + gap), gap + rows * (title_h + ph + gap))
    return PanelsLayout(size, columns, panels, titles, font_px)


def fit_panels(n: int, content_wh: tuple[int, int], available: tuple[float, float],
               font_px: float) -> PanelsLayout:
    """The layout with the largest panels inside ``available``: side by side, or stacked."""
    w, h = content_wh
    gap, title_h = round(font_px), round(font_px * _TITLE_LINES)

    def scale(columns: int) -> float:
        rows = grid_rows(n, columns)
        return min((available[0] - gap - columns * gap) / (columns * w),
                   (available[1] - gap - rows * (title_h + gap)) / (rows * h))

    best = max(range(1, max(1, n) + 1), key=scale)
    s = max(scale(best), 1e-3)
    return panels_layout(n, (w * s, h * s), font_px, best)


def fitting_stats(stats: str, metrics: QFontMetricsF, width: float) -> str:
    """``stats`` ("family · time · detections · proposals"), its leading parts dropped until it fits:
    the model id above already names the family, and the numbers are what a comparison reads."""
    parts = stats.split(STATS_SEPARATOR)
    while len(parts) > 1 and metrics.horizontalAdvance(STATS_SEPARATOR.join(parts)) > width:
        parts.pop(0)
    return STATS_SEPARATOR.join(parts)


def paint_panels(painter: QPainter, layout: PanelsLayout, image: np.ndarray, panels: list[DetectorSide],
                 text_color: QColor | None = None, unit: float = 1.0) -> None:
    color = text_color or QColor(0, 0, 0)
    base = ImageLayer(name="image", image=np.asarray(image))
    bold, plain = QFont(), QFont()
    for font in (bold, plain):
        font.setPixelSize(max(6, round(layout.font_px)))
    bold.setBold(True)
    for panel, rect, title in zip(panels, layout.panels, layout.titles):
        painter.save()
        painter.setPen(color)
        line_h = title.height() / 2
        for i, (font, text) in enumerate(((bold, panel.title), (plain, panel.stats))):
            painter.setFont(font)
            line = QRectF(title.left(), title.top() + i * line_h, title.width(), line_h)
            metrics = QFontMetricsF(font)
            if i:
                text = fitting_stats(text, metrics, line.width())
            elided = metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, line.width())
            painter.drawText(line, int(Qt.AlignmentFlag.AlignCenter), elided)
        painter.restore()
        paint_layers(painter, rect, [base] + (panel.layers or []), unit)
        if panel.layers is None:
            paint_note(painter, rect, panel.note, layout.font_px)


def export_panels(path: str | Path, image: np.ndarray, panels: list[DetectorSide], scale: float = 1.0,
                  columns: int | None = None) -> Path:
    """The panels as .png, .svg or .pdf: each titled with its model and figures."""
    check_format(path)
    ensure_gui_app()
    h, w = np.asarray(image).shape[:2]
    s = pixel_scale(scale, max(w, h))
    pw, ph = round(w * s), round(h * s)
    unit = max(1.0, max(pw, ph) / 600)
    layout = panels_layout(len(panels), (pw, ph), 14.0 * unit, columns or len(panels))
    title = "Detectors: " + " vs ".join(p.title for p in panels)
    return write_figure(path, layout.size, lambda p: paint_panels(p, layout, image, panels, unit=unit), title)
