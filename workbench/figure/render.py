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
from workbench.core.atomic import atomic_path
from workbench.core.renderers import renderer_for
from workbench.core.attribution.display import DisplayOptions, restyled_layer
from workbench.core.results import Heatmap, ImageGrid, Result
from workbench.core.canvas_layers import HeatmapLayer, ImageLayer, Layer
from workbench.core.renderers import layers_for
from workbench.figure import montage, text
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
    """Create a white page of ``size`` pixels (points in PDF), let ``paint`` draw on it, save.
    The page is written beside ``path`` and renamed onto it when complete, so a failed export
    leaves the file that was there before."""
    path = Path(path)
    suffix = check_format(path)
    ensure_gui_app()
    singleton_refs.top_up()   # a script exporting in a loop never runs the timer that tops it up
    w, h = max(1, int(round(size[0]))), max(1, int(round(size[1])))
    with atomic_path(path) as tmp:
        _paint_page(tmp, path, suffix, w, h, paint, title)
    return path


def _paint_page(path: Path, target: Path, suffix: str, w: int, h: int, paint: Callable[[QPainter], None],
                title: str) -> None:
    """Paint one page into ``path`` (a temporary file; ``target`` names the file in messages).
    The SVG and PDF devices close their file when they go out of scope here."""
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
        raise OSError(f"cannot write {target}")
    try:
        painter.fillRect(QRectF(0, 0, w, h), QColor(255, 255, 255))
        paint(painter)
    finally:
        painter.end()
    if suffix == ".png" and not device.save(str(path), "PNG"):
        raise OSError(f"cannot write {target}")


def pixel_scale(scale: float, long_side: float, min_side: float = MIN_LONG_SIDE) -> float:
    """Figure pixels per image pixel: a figure's natural size (small images enlarged so their long
    side is ``min_side``) times ``scale``, so a PNG at scale 2 is twice as wide as at scale 1."""
    if not scale > 0:
        raise ValueError(f"the scale must be positive, not {scale}")
    return float(scale) * max(1.0, min_side / max(1.0, float(long_side)))


def _unit(long_side: float) -> float:
    return max(1.0, long_side / _UNIT_SIDE)


@dataclass(frozen=True)
class TextBlock:
    """Lines of text in one font, wrapped to a width (never elided)."""
    font: QFont
    lines: tuple[str, ...]

    @property
    def line_height(self) -> float:
        return QFontMetricsF(self.font).height()

    @property
    def height(self) -> float:
        return self.line_height * len(self.lines)


def title_block(title: str, width: float, unit: float) -> TextBlock:
    """A figure title wrapped to ``width``: two lines at most unless even a smaller size needs more."""
    f, (lines,) = text.fit([title], width, 14 * unit, 10 * unit, max_lines=2, bold=True)
    return TextBlock(f, tuple(lines))


def _title_height(block: TextBlock, unit: float) -> int:
    return round(max(2.0 * 14 * unit, block.height + 0.8 * 14 * unit))


def paint_lines(painter: QPainter, rect: QRectF, block: TextBlock, align: Qt.AlignmentFlag) -> None:
    """The block's lines, one under another, centred vertically in ``rect`` and aligned by ``align``
    (left, centre or right) within its width."""
    painter.setFont(block.font)
    lh = block.line_height
    top = rect.top() + (rect.height() - block.height) / 2
    for k, line in enumerate(block.lines):
        painter.drawText(QRectF(rect.left(), top + k * lh, rect.width(), lh),
                         int(align | Qt.AlignmentFlag.AlignVCenter), line)


def _paint_title(painter: QPainter, rect: QRectF, block: TextBlock) -> None:
    painter.setPen(QColor(0, 0, 0))
    paint_lines(painter, rect, block, Qt.AlignmentFlag.AlignHCenter)


@dataclass(frozen=True)
class LayersFigure:
    """Where things go in a one-panel figure: the image panel, the colorbar, the title."""
    size: tuple[float, float]
    panel: QRectF
    colorbar: QRectF | None
    title: QRectF | None
    unit: float
    title_text: TextBlock | None = None


def layers_figure(layers: list[Layer], scale: float, title: str = "") -> LayersFigure:
    w, h = content_size(layers)
    s = pixel_scale(scale, max(w, h))
    pw, ph = round(w * s), round(h * s)
    unit = _unit(max(pw, ph))
    bar = colorbar_layer(layers)
    if bar is None and not title:
        return LayersFigure((pw, ph), QRectF(0, 0, pw, ph), None, None, unit)
    margin = round(10 * unit)
    bar_w = colorbar_width(bar.levels, 12 * unit) + margin if bar is not None else 0
    block = title_block(title, pw + bar_w, unit) if title else None
    title_h = _title_height(block, unit) if block else 0
    panel = QRectF(margin, margin + title_h, pw, ph)
    bar_rect = None
    right = panel.right()
    if bar is not None:
        bar_rect = QRectF(panel.right() + margin, panel.top(), bar_w - margin, ph)
        right = bar_rect.right()
    title_rect = QRectF(margin, margin, right - margin, title_h) if title else None
    return LayersFigure((right + margin, panel.bottom() + margin), panel, bar_rect, title_rect, unit, block)


def paint_layers_figure(painter: QPainter, fig: LayersFigure, layers: list[Layer], title: str = "") -> None:
    paint_layers(painter, fig.panel, layers, fig.unit)
    bar = colorbar_layer(layers)
    if bar is not None and fig.colorbar is not None:
        paint_colorbar(painter, fig.colorbar, bar.colormap, bar.levels, 12 * fig.unit)
    if title and fig.title is not None:
        _paint_title(painter, fig.title, fig.title_text or title_block(title, fig.title.width(), fig.unit))


def export_layers(layers: list[Layer], path: str | Path, scale: float = 1.0, title: str = "") -> Path:
    """Image + overlays (+ colorbar of the top visible heatmap, + title) as .png, .svg or .pdf."""
    check_format(path)
    ensure_gui_app()
    fig = layers_figure(layers, scale, title)
    return write_figure(path, fig.size, lambda p: paint_layers_figure(p, fig, layers, title), title)


@dataclass(frozen=True)
class GridLabels:
    """How a grid figure is labelled: a title under each tile, or a 2-D sweep's values at the edges."""
    tiles: list[TextBlock]          # one per tile, or empty
    columns: list[TextBlock]        # above the top row, or empty
    rows: list[TextBlock]           # left of each row, or empty
    tile_h: float = 0.0             # height of the label band under each tile
    top_h: float = 0.0              # height of the column labels' band
    left_w: float = 0.0             # width of the row labels' band


def grid_labels(titles: list[str], rows: int, cols: int, tile_w: float, unit: float) -> GridLabels:
    """Tile labels that are never cut: a 2-D sweep's "A, B" titles go to the grid's edges (A
    above each column, B left of each row); other titles wrap to two lines under their tile,
    shrinking to fit."""
    if not titles:
        return GridLabels([], [], [])
    sweep = montage.sweep_labels(titles, rows, cols)
    if sweep is None:
        f, lines = text.fit(titles[:rows * cols], tile_w, 11 * unit, 7 * unit, max_lines=2)
        blocks = [TextBlock(f, tuple(l)) for l in lines]
        return GridLabels(blocks, [], [], tile_h=max(b.height for b in blocks) + 0.2 * blocks[0].line_height)
    f, lines = text.fit(sweep[0], tile_w, 11 * unit, 7 * unit, max_lines=2)
    columns = [TextBlock(f, tuple(l)) for l in lines]
    fm = QFontMetricsF(f)
    row_blocks = [TextBlock(f, tuple(text.wrap(t, fm, max(tile_w, 140 * unit)))) for t in sweep[1]]
    left_w = max(fm.horizontalAdvance(line) for b in row_blocks for line in b.lines) + 6 * unit
    top_h = max(b.height for b in columns) + 0.3 * fm.height()
    return GridLabels([], columns, row_blocks, top_h=top_h, left_w=left_w)


def export_grid(grid: ImageGrid, path: str | Path, scale: float = 1.0, columns: int | None = None,
                colormap: str | None = None, shared: bool = False) -> Path:
    """The grid's tiles (coloured as the grid view colours them), labelled as ``grid_labels`` says."""
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
    titled = min(tw, th) >= _MIN_TITLED_TILE
    labels = grid_labels(list(grid.titles) if titled else [], rows, cols, tw, unit)
    x0 = gap + labels.left_w
    width = x0 + cols * (tw + gap)
    block = title_block(grid.title, width - 2 * gap, unit) if grid.title else None
    title_h = _title_height(block, unit) if block else 0
    y0 = title_h + labels.top_h + gap
    height = y0 + rows * (th + labels.tile_h + gap)

    def paint(painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        if block is not None:
            _paint_title(painter, QRectF(gap, gap, width - 2 * gap, title_h), block)
        painter.setPen(QColor(0, 0, 0))
        for i, img in enumerate(images):
            r, c = divmod(i, cols)
            x, y = x0 + c * (tw + gap), y0 + r * (th + labels.tile_h + gap)
            painter.drawImage(QRectF(x, y, tw, th), to_qimage(img))
            if i < len(labels.tiles):
                band = QRectF(x, y + th, tw, labels.tile_h)
                paint_lines(painter, band, labels.tiles[i], Qt.AlignmentFlag.AlignHCenter)
        for c, b in enumerate(labels.columns):
            band = QRectF(x0 + c * (tw + gap), title_h + gap, tw, labels.top_h)
            paint_lines(painter, band, b, Qt.AlignmentFlag.AlignHCenter)
        for r, b in enumerate(labels.rows):
            band = QRectF(gap, y0 + r * (th + labels.tile_h + gap), labels.left_w - 4 * unit, th)
            paint_lines(painter, band, b, Qt.AlignmentFlag.AlignRight)

    return write_figure(path, (width, height), paint, grid.title)


def export_result(result: Result, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    """Any result as a figure, drawn by the painter its renderer names."""
    check_format(path)
    module, _, name = renderer_for(result).figure.partition(":")
    painter = getattr(importlib.import_module(module), name)
    return painter(result, image, path, scale)


def overlay_layers(result: Result, display: DisplayOptions | None = None) -> list[Layer]:
    """The layers that show ``result`` over its image, as the Image tab shows them: an attribution
    map (a Heatmap that explains a target) is coloured by the attribution display options (the
    workspace's; by default its defaults), as the Attribution panel colours it."""
    layers = layers_for(result)
    if not (isinstance(result, Heatmap) and result.target is not None):
        return layers
    options = display or DisplayOptions()
    return [restyled_layer(l, result.heatmap, options) if isinstance(l, HeatmapLayer) else l for l in layers]


def export_overlay(result: Result, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    """The result's layers over its image (if any), with its title: the Image tab's figure."""
    layers: list[Layer] = [] if image is None else [ImageLayer(name="image", image=np.asarray(image))]
    layers += overlay_layers(result)
    if not layers:
        raise ValueError(f"a {result.kind} result has no picture to export; save it as npz instead")
    return export_layers(layers, path, scale, title=result.title)


def export_grid_result(result: Result, image: np.ndarray | None, path: str | Path, scale: float = 1.0) -> Path:
    """A grid-like result (tiles, frames) as its grid."""
    return export_grid(result.as_grid(), path, scale)
