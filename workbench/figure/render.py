"""Write figures to PNG, SVG or PDF (QtGui + QtSvg only, so the CLI can use it headless).

Every format is painted by the same function on a different QPaintDevice: a QImage for PNG,
a QSvgGenerator for SVG (raster layers embedded as images, boxes and text as vectors) and a
QPdfWriter for PDF.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QMarginsF, QRect, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QGuiApplication, QImage, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator

from workbench import singleton_refs
from workbench.core.renderers import renderer_for
from workbench.core.results import ImageGrid, Result
from workbench.core.canvas_layers import ImageLayer, Layer
from workbench.core.renderers import layers_for
from workbench.figure import montage
from workbench.figure.colorbar import colorbar_width, paint_colorbar
from workbench.figure.paint import colorbar_layer, content_size, paint_layers, to_qimage

FORMATS = (".png", ".svg", ".pdf")
MIN_LONG_SIDE = 512      # small images (64x64) are enlarged to this so labels stay legible
_UNIT_SIDE = 600         # a figure this many pixels across draws lines and fonts at screen size
_MIN_TITLED_TILE = 48    # tiles smaller than this (in figure pixels) get no title


def ensure_gui_app() -> QGuiApplication:
    """The running Q(Gui)Application, or a new offscreen one (fonts need one); never a second."""
    from workbench.qt_app import application   # here, as figure/ itself makes no widgets
    return application(headless=True)


def check_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot export {Path(path).name!r}: unsupported format {suffix or '(none)'!r}; "
                         f"use one of {', '.join(FORMATS)}")
    return suffix


def write_figure(path: str | Path, size: tuple[int, int], paint: Callable[[QPainter], None],
                 title: str = "") -> Path:
    """Create a white page of ``size`` pixels (points in PDF), let ``paint`` draw on it, save."""
    path = Path(path)
    suffix = check_format(path)
    ensure_gui_app()
    singleton_refs.top_up()   # a script exporting in a loop never runs the timer that tops it up
    w, h = max(1, int(round(size[0]))), max(1, int(round(size[1])))
    if suffix == ".png":
        device = QImage(w, h, QImage.Format.Format_ARGB32)
    elif suffix == ".svg":
        device = QSvgGenerator()
        device.setFileName(str(path))
        device.setSize(QSize(w, h))
        device.setViewBox(QRect(0, 0, w, h))
        device.setResolution(96)  # so viewers show it at w x h screen pixels
        device.setTitle(title)
    else:
        device = QPdfWriter(str(path))
        device.setResolution(72)
        device.setPageSize(QPageSize(QSizeF(w, h), QPageSize.Unit.Point, "figure",
                                     QPageSize.SizeMatchPolicy.ExactMatch))
        device.setPageMargins(QMarginsF(0, 0, 0, 0))
        device.setTitle(title)
    painter = QPainter(device)
    if not painter.isActive():
        raise OSError(f"cannot write {path}")
    try:
        painter.fillRect(QRectF(0, 0, w, h), QColor(255, 255, 255))
        paint(painter)
    finally:
        painter.end()
    if suffix == ".png" and not device.save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")
    return path


def pixel_scale(scale: float, long_side: float, min_side: float = MIN_LONG_SIDE) -> float:
    """Figure pixels per image pixel: a figure's natural size (small images enlarged so their long
    side is ``min_side``) times ``scale``, so a PNG at scale 2 is twice as wide as at scale 1."""
    if not scale > 0:
        raise ValueError(f"the scale must be positive, not {scale}")
    return float(scale) * max(1.0, min_side / max(1.0, float(long_side)))


def _unit(long_side: float) -> float:
    return max(1.0, long_side / _UNIT_SIDE)


def _font(px: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(max(6, round(px)))
    font.setBold(bold)
    return font


def _paint_title(painter: QPainter, rect: QRectF, title: str, px: float) -> None:
    font = _font(px, bold=True)
    painter.setFont(font)
    painter.setPen(QColor(0, 0, 0))
    text = QFontMetricsF(font).elidedText(title, Qt.TextElideMode.ElideRight, rect.width())
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)


@dataclass(frozen=True)
class LayersFigure:
    """Where things go in a one-panel figure: the image panel, the colorbar, the title."""
    size: tuple[float, float]
    panel: QRectF
    colorbar: QRectF | None
    title: QRectF | None
    unit: float


def layers_figure(layers: list[Layer], scale: float, title: str = "") -> LayersFigure:
    w, h = content_size(layers)
    s = pixel_scale(scale, max(w, h))
    pw, ph = round(w * s), round(h * s)
    unit = _unit(max(pw, ph))
    bar = colorbar_layer(layers)
    if bar is None and not title:
        return LayersFigure((pw, ph), QRectF(0, 0, pw, ph), None, None, unit)
    margin = round(10 * unit)
    title_h = round(2.0 * 14 * unit) if title else 0
    panel = QRectF(margin, margin + title_h, pw, ph)
    bar_rect = None
    right = panel.right()
    if bar is not None:
        bar_w = colorbar_width(bar.levels, 12 * unit)
        bar_rect = QRectF(panel.right() + margin, panel.top(), bar_w, ph)
        right = bar_rect.right()
    title_rect = QRectF(margin, margin, right - margin, title_h) if title else None
    return LayersFigure((right + margin, panel.bottom() + margin), panel, bar_rect, title_rect, unit)


def paint_layers_figure(painter: QPainter, fig: LayersFigure, layers: list[Layer], title: str = "") -> None:
    paint_layers(painter, fig.panel, layers, fig.unit)
    bar = colorbar_layer(layers)
    if bar is not None and fig.colorbar is not None:
        paint_colorbar(painter, fig.colorbar, bar.colormap, bar.levels, 12 * fig.unit)
    if title and fig.title is not None:
        _paint_title(painter, fig.title, title, 14 * fig.unit)


def export_layers(layers: list[Layer], path: str | Path, scale: float = 1.0, title: str = "") -> Path:
    """Image + overlays (+ colorbar of the top visible heatmap, + title) as .png, .svg or .pdf."""
    check_format(path)
    ensure_gui_app()
    fig = layers_figure(layers, scale, title)
    return write_figure(path, fig.size, lambda p: paint_layers_figure(p, fig, layers, title), title)


def export_grid(grid: ImageGrid, path: str | Path, scale: float = 1.0, columns: int | None = None,
                colormap: str | None = None, shared: bool = False) -> Path:
    """The grid's tiles (coloured as the grid view colours them) with small titles where they fit."""
    check_format(path)
    ensure_gui_app()
    images = montage.tile_images(grid, colormap, shared)
    if not images:
        raise ValueError("nothing to export: the grid has no tiles")
    rows, cols = montage.grid_shape(len(images), columns)
    h, w = images[0].shape[:2]
    s = pixel_scale(scale, max(cols * w, rows * h))
    tw, th = w * s, h * s
    unit = _unit(max(cols * tw, rows * th))
    gap = max(2.0, round(3 * unit))
    titled = bool(grid.titles) and min(tw, th) >= _MIN_TITLED_TILE
    tile_font = _font(min(11 * unit, tw / 7))
    label_h = QFontMetricsF(tile_font).height() * 1.2 if titled else 0.0
    title_h = round(2.0 * 14 * unit) if grid.title else 0
    width = cols * tw + (cols + 1) * gap
    height = title_h + rows * (th + label_h) + (rows + 1) * gap

    def paint(painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        if grid.title:
            _paint_title(painter, QRectF(gap, gap, width - 2 * gap, title_h), grid.title, 14 * unit)
        painter.setFont(tile_font)
        painter.setPen(QColor(0, 0, 0))
        fm = QFontMetricsF(tile_font)
        for i, img in enumerate(images):
            r, c = divmod(i, cols)
            x, y = gap + c * (tw + gap), title_h + gap + r * (th + label_h + gap)
            painter.drawImage(QRectF(x, y, tw, th), to_qimage(img))
            if titled and i < len(grid.titles):
                text = fm.elidedText(grid.titles[i], Qt.TextElideMode.ElideRight, tw)
                painter.drawText(QRectF(x, y + th, tw, label_h), int(Qt.AlignmentFlag.AlignCenter), text)

    return write_figure(path, (width, height), paint, grid.title)


def export_result(result: Result, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    """Any result as a figure, drawn by the painter its renderer names."""
    check_format(path)
    module, _, name = renderer_for(result).figure.partition(":")
    painter = getattr(importlib.import_module(module), name)
    return painter(result, image, path, scale)


def export_overlay(result: Result, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    """The result's canvas layers over its image (if any), with its title."""
    layers: list[Layer] = [] if image is None else [ImageLayer(name="image", image=np.asarray(image))]
    layers += layers_for(result)
    if not layers:
        raise ValueError(f"a {result.kind} result has no picture to export; save it as npz instead")
    return export_layers(layers, path, scale, title=result.title)


def export_grid_result(result: Result, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    """A grid-like result (tiles, frames) as its grid."""
    return export_grid(result.as_grid(), path, scale)
