"""A montage of an ImageGrid's tiles (filters, channels, frames): click a tile to pick it."""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPalette, QPen
from PySide6.QtWidgets import QCheckBox, QComboBox, QGraphicsRectItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.core import colormaps
from workbench.core.results import ImageGrid
from workbench.figure import montage

pg.setConfigOptions(imageAxisOrder="row-major")

AUTO = "auto"
GAP = 2                                 # montage pixels between tiles
HIGHLIGHT = (255, 200, 0)
MAX_CAPTIONED = 12                      # a grid this small names every tile on it; a bigger one on hover


class GridView(QWidget):
    tileClicked = Signal(int)
    tileContextClicked = Signal(int)    # a right-click on a tile

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.colormap = QComboBox()
        self.colormap.addItems((AUTO,) + colormaps.NAMES)
        self.colormap.setToolTip("Colormap for scalar tiles (auto: diverging if signed, else grey)")
        self.shared = QCheckBox("shared range")
        self.shared.setToolTip("Normalise all tiles to one range instead of each to its own")
        self.view = pg.GraphicsView()
        self.viewbox = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view.setCentralItem(self.viewbox)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.viewbox.addItem(self.image_item)
        self.highlight = QGraphicsRectItem()
        pen = QPen(QColor(*HIGHLIGHT))
        pen.setWidthF(3)
        pen.setCosmetic(True)
        self.highlight.setPen(pen)
        self.highlight.setZValue(10)
        self.highlight.setVisible(False)
        self.viewbox.addItem(self.highlight, ignoreBounds=True)

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.colormap)
        bar.addWidget(self.shared)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

        self._grid: ImageGrid | None = None
        self._captions: list[pg.TextItem] = []
        self._rects: list[tuple[int, int, int, int]] = []
        self._selected: int | None = None
        self._follow_palette()
        self.colormap.currentTextChanged.connect(lambda _: self._render())
        self.shared.toggled.connect(lambda _: self._render())
        self.view.scene().sigMouseClicked.connect(self._on_click)
        self.view.scene().sigMouseMoved.connect(self._on_hover)

    def set_grid(self, grid: ImageGrid) -> None:
        self._grid = grid
        self._selected = None
        self._render()
        self.viewbox.autoRange(padding=0.01)

    def grid(self) -> ImageGrid | None:
        return self._grid

    def clear(self) -> None:
        self._grid, self._rects, self._selected = None, [], None
        self._caption_tiles()
        self.image_item.clear()
        self.highlight.setVisible(False)
        self.title.setText("")

    def selected(self) -> int | None:
        return self._selected

    def select(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self._rects):
            raise IndexError(f"tile {index} out of range ({len(self._rects)} tiles)")
        self._selected = index
        if index is None:
            self.highlight.setVisible(False)
        else:
            x, y, w, h = self._rects[index]
            self.highlight.setRect(QRectF(x, y, w, h))
            self.highlight.setVisible(True)
        self._show_title(index)

    def tile_rect(self, index: int) -> QRectF:
        """Where a tile is, in montage pixels (the view's coordinates)."""
        x, y, w, h = self._rects[index]
        return QRectF(x, y, w, h)

    def tile_at(self, scene_pos: QPointF) -> int | None:
        p = self.viewbox.mapSceneToView(scene_pos)
        return montage.tile_at(self._rects, p.x(), p.y())

    def current_colormap(self) -> str | None:
        name = self.colormap.currentText()
        return None if name == AUTO else name

    def export(self, path: str | Path, scale: float = 1.0) -> Path:
        """The grid as a figure, tiles coloured as they are shown here."""
        if self._grid is None:
            raise ValueError("nothing to export: no grid shown")
        from workbench.figure.render import export_grid
        return export_grid(self._grid, path, scale, colormap=self.current_colormap(), shared=self.shared.isChecked())

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if event.type() == QEvent.Type.PaletteChange:
            self._follow_palette()
            self._render()
        super().changeEvent(event)

    def _follow_palette(self) -> None:
        self._background = self.palette().color(QPalette.ColorRole.Window)
        self.view.setBackground(self._background)

    def _render(self) -> None:
        if self._grid is None:
            return
        images = montage.tile_images(self._grid, self.current_colormap(), self.shared.isChecked())
        bg = self._background
        arr, self._rects = montage.montage(images, gap=GAP, background=(bg.red(), bg.green(), bg.blue()))
        self.image_item.setImage(arr, levels=(0, 255), autoLevels=False)
        self._caption_tiles()
        self.select(self._selected if self._selected is not None and self._selected < len(self._rects) else None)

    def captions(self) -> list[str]:
        """The names written on the tiles (none on a grid of more than MAX_CAPTIONED)."""
        return [item.textItem.toPlainText() for item in self._captions]

    def _caption_tiles(self) -> None:
        for item in self._captions:
            self.viewbox.removeItem(item)
        self._captions = []
        grid = self._grid
        if grid is None or len(self._rects) > MAX_CAPTIONED:
            return
        for (x, y, _w, _h), name in zip(self._rects, grid.titles):
            if not name:
                continue
            item = pg.TextItem(name, color=(255, 255, 255), fill=pg.mkBrush(0, 0, 0, 150), anchor=(0, 0))
            item.setPos(x, y)
            item.setZValue(5)
            self.viewbox.addItem(item, ignoreBounds=True)
            self._captions.append(item)

    def _show_title(self, index: int | None) -> None:
        grid = self._grid
        if grid is None:
            self.title.setText("")
        elif index is not None:
            name = grid.titles[index] if index < len(grid.titles) else ""
            self.title.setText(f"{name}  (tile {index} of {len(self._rects)})" if name else f"tile {index}")
        else:
            self.title.setText(grid.title or f"{len(self._rects)} tiles")

    def _on_hover(self, scene_pos: QPointF) -> None:
        index = self.tile_at(scene_pos)
        self._show_title(index if index is not None else self._selected)
        tip = "" if index is None or self._grid is None or index >= len(self._grid.titles) else self._grid.titles[index]
        self.view.setToolTip(tip)

    def _on_click(self, ev) -> None:
        if ev.button() == Qt.MouseButton.RightButton and not ev.double():
            index = self.tile_at(ev.scenePos())
            if index is not None:
                self.select(index)
                self.tileContextClicked.emit(index)
            return
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        index = self.tile_at(ev.scenePos())
        if index is not None:
            self.select(index)
            self.tileClicked.emit(index)
