"""The DETR tab's picture: every query's box beside the selected query's map, and the map once
per head beneath. Painted with the figure painters so it looks like the exported figures.

A click on the queries panel reports the image point as a query pick, one on the map as a token
pick; a click on a head tile reports the head.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontInfo, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.core.canvas_layers import Layer
from workbench.figure.colorbar import colorbar_width, paint_colorbar
from workbench.figure.paint import colorbar_layer, content_size, paint_layers
from workbench.ui.detr import views as V
from workbench.ui.detr.layout import DetrLayout, detr_layout
from workbench.ui.panel_canvas import PanelCanvas

HIGHLIGHT = (255, 200, 0)
QUERIES, MAP = 0, 1


@dataclass
class DetrScene:
    queries: list[Layer]
    queries_title: tuple[str, str]
    map: list[Layer]
    map_title: tuple[str, str]
    tiles: list[list[Layer]] = field(default_factory=list)   # the map once per head (empty: no strip)
    head: int = -1                                            # the head shown in the map (-1: the mean)


def detr_scene(image: np.ndarray, view: Any, show_empty: bool, show_heads: bool) -> DetrScene:
    """The picture of ``view``: every query's box beside the map, and the map per head if asked."""
    tiles = [V.map_layers(image, v) for v in V.head_views(view)] if show_heads else []
    return DetrScene(V.queries_layers(image, view, show_empty), V.queries_title(view), V.map_layers(image, view),
                     V.map_title(view), tiles, view.head)


class DetrCanvas(PanelCanvas):
    queriesClicked = Signal(float, float)   # image pixel on the queries panel
    mapClicked = Signal(float, float)       # image pixel on the map panel
    tileClicked = Signal(int)               # head
    mapHovered = Signal(float, float)     # image pixel under the pointer on the map
    queriesHovered = Signal(float, float)   # image pixel under the pointer on the queries panel
    tileHovered = Signal(int)               # head

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene: DetrScene | None = None
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def show_scene(self, scene: DetrScene | None, hint: str = "") -> None:
        self.scene, self.HINT = scene, hint
        self.update()

    # --- geometry ---------------------------------------------------------------------
    def font_px(self) -> float:
        return float(QFontInfo(self.font()).pixelSize())

    def current_layout(self) -> DetrLayout | None:
        scene = self.scene
        if scene is None:
            return None
        bar = colorbar_layer(scene.map)
        font_px = self.font_px()
        bar_w = colorbar_width(bar.levels, font_px) if bar is not None else 0.0
        return detr_layout(content_size(scene.queries), (float(self.width()), float(self.height())), font_px,
                           bar_w, len(scene.tiles))

    def panel_rect(self, which: int) -> QRectF:
        """Where panel QUERIES or MAP is drawn, in widget coordinates."""
        layout = self.current_layout()
        if layout is None:
            raise ValueError("nothing shown")
        return layout.panels[which].translated(self.offset(layout))

    def widget_point(self, which: int, x: float, y: float) -> QPointF:
        """The widget point over image pixel (x, y) of panel QUERIES or MAP."""
        rect = self.panel_rect(which)
        w, h = content_size(self.scene.queries)
        return QPointF(rect.left() + x / w * rect.width(), rect.top() + y / h * rect.height())

    def tile_rect(self, head: int) -> QRectF:
        layout = self.current_layout()
        if layout is None or not 0 <= head < len(layout.tiles):
            raise IndexError(f"no head tile {head}")
        return layout.tiles[head].translated(self.offset(layout))

    def _hit(self, pos: QPointF) -> tuple[str, Any]:
        layout = self.current_layout()
        if layout is None:
            return "", None
        p = pos - self.offset(layout)
        w, h = content_size(self.scene.queries)
        for which, rect in enumerate(layout.panels):
            if rect.contains(p):
                point = ((p.x() - rect.left()) / rect.width() * w, (p.y() - rect.top()) / rect.height() * h)
                return ("queries" if which == QUERIES else "map"), point
        tile = layout.tile_at(p.x(), p.y())
        return ("tile", tile) if tile is not None else ("", None)

    # --- mouse ------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        kind, where = self._hit(event.position())
        if kind == "queries":
            self.queriesClicked.emit(*where)
        elif kind == "map":
            self.mapClicked.emit(*where)
        elif kind == "tile":
            self.tileClicked.emit(where)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        kind, where = self._hit(event.position())
        if kind == "queries":
            self.queriesHovered.emit(*where)
        elif kind == "map":
            self.mapHovered.emit(*where)
        elif kind == "tile":
            self.tileHovered.emit(where)
        super().mouseMoveEvent(event)

    # --- painting ---------------------------------------------------------------------
    def paint_layout(self, painter: QPainter, layout: DetrLayout, text: QColor) -> None:
        scene = self.scene
        for title, lines in zip(layout.titles, (scene.queries_title, scene.map_title)):
            paint_title(painter, title, lines, layout.font_px, text)
        paint_layers(painter, layout.panels[QUERIES], scene.queries)
        paint_layers(painter, layout.panels[MAP], scene.map)
        bar = colorbar_layer(scene.map)
        if bar is not None:
            paint_colorbar(painter, layout.bar, bar.colormap, bar.levels, layout.font_px, text)
        small = 0.9 * layout.font_px
        for h, (rect, label, layers) in enumerate(zip(layout.tiles, layout.tile_labels, scene.tiles)):
            paint_layers(painter, rect, layers)
            _paint_line(painter, label, f"head {h}", small, text, bold=h == scene.head)
        if 0 <= scene.head < len(layout.tiles):
            pen = QPen(QColor(*HIGHLIGHT))
            pen.setWidthF(2.5)
            painter.save()
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(layout.tiles[scene.head].adjusted(-1.5, -1.5, 1.5, 1.5))
            painter.restore()


def paint_title(painter: QPainter, rect: QRectF, lines: tuple[str, str], font_px: float, color: QColor) -> None:
    """Two centred lines in ``rect``: the first bold, both elided to fit."""
    half = rect.height() / 2
    for i, line in enumerate(lines):
        _paint_line(painter, QRectF(rect.left(), rect.top() + i * half, rect.width(), half), line, font_px, color,
                    bold=i == 0)


def _paint_line(painter: QPainter, rect: QRectF, text: str, font_px: float, color: QColor,
                bold: bool = False) -> None:
    font = QFont()
    font.setPixelSize(max(6, round(font_px)))
    font.setBold(bold)
    painter.save()
    painter.setFont(font)
    painter.setPen(color)
    elided = QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
    painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), elided)
    painter.restore()
