"""The Attention tab's picture: one map over the image, or the image beside every head as tiles.

Painted with the figure painters (``paint_layers``, ``paint_colorbar``) so it looks like the
exported figure. A click on the image reports the image pixel (the panel turns it into a query
patch); a click on a tile reports the tile.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontInfo, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QWidget

from workbench.core.canvas_layers import Layer
from workbench.figure.colorbar import colorbar_width, paint_colorbar
from workbench.figure.paint import colorbar_layer, content_size, paint_layers, to_qimage
from workbench.ui.attention.layout import GridLayout, grid_layout, map_layout
from workbench.ui.panel_canvas import PanelCanvas

HIGHLIGHT = (255, 200, 0)


@dataclass
class MapScene:
    """One map: the image, the map over it and the query patch's outline."""
    layers: list[Layer]
    title: str


@dataclass
class GridScene:
    """The image with the query patch, beside one tile per layer and head."""
    image_layers: list[Layer]
    caption: str
    tiles: list[np.ndarray]         # (h, w, 3) uint8, row by row
    rows: int                       # layers
    columns: int                    # heads
    highlight: tuple[int, int | None] | None   # (layer, head); head None: the whole layer
    title: str


class AttentionCanvas(PanelCanvas):
    imageClicked = Signal(float, float)     # image pixel
    tileClicked = Signal(int)               # tile index, row by row
    imageHovered = Signal(float, float)
    tileHovered = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene: MapScene | GridScene | None = None
        self.setMinimumSize(240, 180)
        self.setMouseTracking(True)

    def show_scene(self, scene: MapScene | GridScene | None, hint: str = "") -> None:
        self.scene, self.HINT = scene, hint
        self.update()

    # --- geometry ---------------------------------------------------------------------
    def font_px(self) -> float:
        return float(QFontInfo(self.font()).pixelSize())

    def current_layout(self) -> Any:
        scene, font_px = self.scene, self.font_px()
        available = (float(self.width()), float(self.height()))
        if isinstance(scene, MapScene):
            bar = colorbar_layer(scene.layers)
            bar_w = colorbar_width(bar.levels, font_px) if bar is not None else 0.0
            return map_layout(content_size(scene.layers), available, font_px, bar_w)
        if isinstance(scene, GridScene):
            tile_hw = scene.tiles[0].shape[:2] if scene.tiles else (1, 1)
            return grid_layout(content_size(scene.image_layers), scene.rows, scene.columns,
                               (tile_hw[1], tile_hw[0]), available, font_px)
        return None

    def image_rect(self) -> QRectF | None:
        """Where the image is drawn, in widget coordinates."""
        layout = self.current_layout()
        if layout is None:
            return None
        rect = layout.image if isinstance(layout, GridLayout) else layout.panels[0]
        return rect.translated(self.offset(layout))

    def widget_point(self, x: float, y: float) -> QPointF:
        """The widget point over image pixel (x, y)."""
        rect, (w, h) = self.image_rect(), self._image_wh()
        return QPointF(rect.left() + x / w * rect.width(), rect.top() + y / h * rect.height())

    def tile_rect(self, index: int) -> QRectF:
        layout = self.current_layout()
        if not isinstance(layout, GridLayout) or not 0 <= index < len(layout.tiles):
            raise IndexError(f"no tile {index}")
        return layout.tiles[index].translated(self.offset(layout))

    def _image_wh(self) -> tuple[int, int]:
        scene = self.scene
        return content_size(scene.layers if isinstance(scene, MapScene) else scene.image_layers)

    def _hit(self, pos: QPointF) -> tuple[str, Any]:
        layout = self.current_layout()
        if layout is None:
            return "", None
        p = pos - self.offset(layout)
        image = layout.image if isinstance(layout, GridLayout) else layout.panels[0]
        if image.contains(p):
            w, h = self._image_wh()
            return "image", ((p.x() - image.left()) / image.width() * w, (p.y() - image.top()) / image.height() * h)
        if isinstance(layout, GridLayout):
            tile = layout.tile_at(p.x(), p.y())
            if tile is not None:
                return "tile", tile
        return "", None

    # --- mouse ------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        kind, where = self._hit(event.position())
        if kind == "image":
            self.imageClicked.emit(*where)
        elif kind == "tile":
            self.tileClicked.emit(where)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        kind, where = self._hit(event.position())
        if kind == "image":
            self.imageHovered.emit(*where)
        elif kind == "tile":
            self.tileHovered.emit(where)
        super().mouseMoveEvent(event)

    # --- painting ---------------------------------------------------------------------
    def paint_layout(self, painter: QPainter, layout: Any, text: QColor) -> None:
        if isinstance(layout, GridLayout):
            self._paint_grid(painter, layout, self.scene, text)
        else:
            self._paint_map(painter, layout, self.scene, text)

    def _paint_map(self, painter: QPainter, layout: Any, scene: MapScene, text: QColor) -> None:
        panel = layout.panels[0]
        _paint_text(painter, layout.titles[0], scene.title, layout.font_px, text, bold=True)
        paint_layers(painter, panel, scene.layers)
        bar = colorbar_layer(scene.layers)
        if bar is not None and layout.bars:
            paint_colorbar(painter, layout.bars[0], bar.colormap, bar.levels, layout.font_px, text)

    def _paint_grid(self, painter: QPainter, layout: GridLayout, scene: GridScene, text: QColor) -> None:
        _paint_text(painter, layout.title, scene.title, layout.font_px, text, bold=True)
        _paint_text(painter, layout.image_caption, scene.caption, layout.font_px, text)
        paint_layers(painter, layout.image, scene.image_layers)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for rect, tile in zip(layout.tiles, scene.tiles):
            painter.drawImage(rect, to_qimage(tile))
        painter.restore()
        small = 0.85 * layout.font_px
        for c, rect in enumerate(layout.columns):
            _paint_text(painter, rect, f"H{c}", small, text, align=Qt.AlignmentFlag.AlignCenter)
        for r, rect in enumerate(layout.rows):
            _paint_text(painter, rect, f"L{r}", small, text,
                        align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if scene.highlight is not None:
            self._paint_highlight(painter, layout, *scene.highlight)

    @staticmethod
    def _paint_highlight(painter: QPainter, layout: GridLayout, layer: int, head: int | None) -> None:
        if not 0 <= layer < layout.rows_count:
            return
        first = layout.tiles[layer * layout.columns_count + (head if head is not None else 0)]
        last = layout.tiles[layer * layout.columns_count + (head if head is not None else layout.columns_count - 1)]
        pen = QPen(QColor(*HIGHLIGHT))
        pen.setWidthF(2.0)
        painter.save()
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(first.united(last).adjusted(-1, -1, 1, 1))
        painter.restore()


def _paint_text(painter: QPainter, rect: QRectF, text: str, font_px: float, color: QColor, bold: bool = False,
                align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter) -> None:
    """One line in ``rect``, elided when it does not fit."""
    font = QFont()
    font.setPixelSize(max(6, round(font_px)))
    font.setBold(bold)
    fm = QFontMetricsF(font)
    painter.save()
    painter.setFont(font)
    painter.setPen(color)
    painter.drawText(rect, int(align), fm.elidedText(text, Qt.TextElideMode.ElideRight, rect.width()))
    painter.restore()
