"""A comparison figure: one image explained by several methods, a cell per method in a grid.

Each cell is the image with one heatmap over it and the method's name above. With a shared
value range there is one colorbar for the whole grid; otherwise each cell has its own. The
Compare tab paints itself with ``paint_compare`` too, so the file holds what is on screen.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from workbench.core.canvas_layers import HeatmapLayer, ImageLayer
from workbench.figure.colorbar import colorbar_width, paint_colorbar
from workbench.figure.paint import paint_layers
from workbench.figure.render import check_format, ensure_gui_app, pixel_scale, write_figure

MIN_PANEL_SIDE = 256     # exported panels are enlarged to at least this many pixels
_TITLE_LINES = 1.8       # title row height, in font heights
_PLACEHOLDER = QColor(128, 128, 128, 150)


@dataclass
class CompareCell:
    """One method's cell of a comparison."""
    title: str
    layer: HeatmapLayer | None = None   # None while the method runs or when it failed
    note: str = ""                      # shown over the image when there is no layer


@dataclass(frozen=True)
class CompareLayout:
    size: tuple[float, float]
    columns: int
    panels: list[QRectF]     # where each cell's image goes
    titles: list[QRectF]     # above each panel, as wide as the panel and its own colorbar
    bars: list[QRectF]       # one per panel when each has its own range; one when shared
    font_px: float
    shared: bool


def grid_rows(n: int, columns: int) -> int:
    return max(1, math.ceil(n / max(1, columns)))


def _fixed(n: int, columns: int, font_px: float, bar_w: float, shared: bool) -> tuple[float, float]:
    """The width and height a layout spends on gaps, titles and colorbars (not on panels)."""
    gap = round(font_px)
    rows = grid_rows(n, columns)
    own_bars = 0.0 if shared else columns * (bar_w + gap)
    width = gap + columns * gap + own_bars + ((bar_w + gap) if shared else 0.0)
    height = gap + rows * (round(font_px * _TITLE_LINES) + gap)
    return width, height


def compare_layout(n: int, panel_wh: tuple[float, float], font_px: float, bar_w: float,
                   shared: bool, columns: int) -> CompareLayout:
    """Place n panels of ``panel_wh`` in ``columns`` columns, titles above, colorbars to the right."""
    columns = max(1, min(columns, max(1, n)))
    rows = grid_rows(n, columns)
    pw, ph = panel_wh
    gap, title_h = round(font_px), round(font_px * _TITLE_LINES)  # whole pixels keep panel edges crisp
    cell_w = pw + (0.0 if shared else bar_w + gap)
    panels, titles, bars = [], [], []
    for i in range(n):
        r, c = divmod(i, columns)
        x, y = gap + c * (cell_w + gap), gap + r * (title_h + ph + gap)
        titles.append(QRectF(x, y, cell_w, title_h))
        panels.append(QRectF(x, y + title_h, pw, ph))
        if not shared:
            bars.append(QRectF(x + pw + gap / 2, y + title_h, bar_w, ph))
    fixed_w, fixed_h = _fixed(n, columns, font_px, bar_w, shared)
    width, height = fixed_w + columns * pw, fixed_h + rows * ph
    if shared and n:
        top, bottom = panels[0].top(), panels[-1].bottom()
        bars.append(QRectF(width - gap - bar_w, top, bar_w, bottom - top))
    return CompareLayout((width, height), columns, panels, titles, bars, font_px, shared)


def fit_layout(n: int, content_wh: tuple[int, int], available: tuple[float, float], font_px: float,
               bar_w: float, shared: bool) -> CompareLayout:
    """The layout whose panels are largest inside ``available``, over every column count."""
    w, h = content_wh
    best: tuple[float, int] = (-1.0, 1)
    for columns in range(1, max(1, n) + 1):
        fixed_w, fixed_h = _fixed(n, columns, font_px, bar_w, shared)
        s = min((available[0] - fixed_w) / (columns * w), (available[1] - fixed_h) / (grid_rows(n, columns) * h))
        if s > best[0] + 1e-9:
            best = (s, columns)
    s = max(best[0], 1e-3)
    return compare_layout(n, (w * s, h * s), font_px, bar_w, shared, best[1])


def bar_width(cells: list[CompareCell], font_px: float) -> float:
    levels = [c.layer.levels for c in cells if c.layer is not None]
    return max((colorbar_width(lv, font_px) for lv in levels), default=colorbar_width((0.0, 1.0), font_px))


def paint_compare(painter: QPainter, layout: CompareLayout, image: np.ndarray, cells: list[CompareCell],
                  text_color: QColor | None = None) -> None:
    color = text_color or QColor(0, 0, 0)
    base = ImageLayer(name="image", image=np.asarray(image))
    title_font = QFont()
    title_font.setPixelSize(max(6, round(layout.font_px)))
    title_font.setBold(True)
    fm = QFontMetricsF(title_font)
    for i, (cell, rect) in enumerate(zip(cells, layout.panels)):
        painter.save()
        painter.setFont(title_font)
        painter.setPen(color)
        _paint_title(painter, layout.titles[i], rect.width(), cell.title, fm)
        painter.restore()
        paint_layers(painter, rect, [base] + ([cell.layer] if cell.layer is not None else []))
        if cell.layer is None:
            paint_note(painter, rect, cell.note, layout.font_px)
        elif not layout.shared:
            _paint_bar(painter, layout.bars[i], cell.layer, layout.font_px, color)
    shown = [c.layer for c in cells if c.layer is not None]
    if layout.shared and shown:
        _paint_bar(painter, layout.bars[0], shown[0], layout.font_px, color)


def _paint_title(painter: QPainter, cell: QRectF, panel_width: float, text: str, fm: QFontMetricsF) -> None:
    """Centred over the panel when it fits there, else over the panel and its colorbar, elided."""
    if fm.horizontalAdvance(text) <= panel_width:
        painter.drawText(QRectF(cell.left(), cell.top(), panel_width, cell.height()),
                         int(Qt.AlignmentFlag.AlignCenter), text)
    else:
        painter.drawText(cell, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         fm.elidedText(text, Qt.TextElideMode.ElideRight, cell.width()))


def _paint_bar(painter: QPainter, rect: QRectF, layer: HeatmapLayer, font_px: float, color: QColor) -> None:
    paint_colorbar(painter, rect, layer.colormap, layer.levels, font_px, color)


def paint_note(painter: QPainter, rect: QRectF, note: str, font_px: float) -> None:
    painter.save()
    painter.fillRect(rect, _PLACEHOLDER)
    font = QFont()
    font.setPixelSize(max(6, round(font_px)))
    painter.setFont(font)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(rect.adjusted(4, 4, -4, -4),
                     int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), note)
    painter.restore()


def export_compare(path: str | Path, image: np.ndarray, cells: list[CompareCell], shared: bool,
                   scale: float = 1.0, columns: int | None = None) -> Path:
    """The comparison as .png, .svg or .pdf: cells titled with method names, and colorbars.
    ``scale``: times the natural size (cells whose long side is at least MIN_PANEL_SIDE)."""
    check_format(path)
    ensure_gui_app()
    if not cells:
        raise ValueError("nothing to export: run a comparison first")
    h, w = np.asarray(image).shape[:2]
    s = pixel_scale(scale, max(w, h), MIN_PANEL_SIDE)
    pw, ph = round(w * s), round(h * s)
    font_px = 12.0 * max(1.0, max(pw, ph) / 300)
    cols = columns or math.ceil(math.sqrt(len(cells)))
    layout = compare_layout(len(cells), (pw, ph), font_px, bar_width(cells, font_px), shared, cols)
    title = "Attribution comparison: " + ", ".join(c.title for c in cells)
    return write_figure(path, layout.size, lambda p: paint_compare(p, layout, image, cells), title)
