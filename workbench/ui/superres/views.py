"""The Super-res tab's pictures: each upscale (and the original) in a row with its name and scores,
the loupe's region outlined on each, and under them the loupe: that region of every picture magnified.

Moving the mouse over any picture moves the loupe there on all of them; a click pins it (the mouse
then no longer moves it) and another click moves and pins it again; a double click lets it follow the
mouse again. Every picture has its own view in one grid, so all are the same size whatever their titles.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGridLayout, QLabel, QSizePolicy, QWidget

from workbench.figure.superres import LOUPE_COLOR
from workbench.ui.picture_view import PictureView


def _loupe_pen() -> QPen:
    pen = QPen(QColor(*LOUPE_COLOR))
    pen.setWidthF(2.0)
    pen.setCosmetic(True)
    return pen


class _Picture(PictureView):
    """One picture: an image in an aspect-locked view, and a rectangle over it."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rect = QGraphicsRectItem()
        self.rect.setPen(_loupe_pen())
        self.rect.setZValue(10)
        self.viewbox.addItem(self.rect, ignoreBounds=True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumSize(60, 60)

    def show_image(self, picture: np.ndarray) -> None:
        self.image_item.setImage(np.asarray(picture, np.uint8), levels=(0, 255), autoLevels=False)
        self.viewbox.autoRange(padding=0.0)


def _title() -> QLabel:
    label = QLabel()
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


class SuperresViews(QWidget):
    loupeMoved = Signal(float, float)     # centre in upscale pixels
    pinnedChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pinned = False
        self.titles: list[str] = []
        self.pictures: list[_Picture] = []
        self.loupes: list[_Picture] = []
        self._labels: list[QLabel] = []
        self._loupe_labels: list[QLabel] = []
        self._shape: tuple[int, int] | None = None
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setVerticalSpacing(2)

    # --- building -------------------------------------------------------------------
    def _build(self, count: int) -> None:
        for widget in self.pictures + self.loupes + self._labels + self._loupe_labels:
            self.grid.removeWidget(widget)
            widget.deleteLater()
        self.pictures, self.loupes, self._labels, self._loupe_labels = [], [], [], []
        for col in range(count):
            for row, pictures, labels in ((0, self.pictures, self._labels), (2, self.loupes, self._loupe_labels)):
                label, picture = _title(), _Picture()
                self.grid.addWidget(label, row, col)
                self.grid.addWidget(picture, row + 1, col)
                pictures.append(picture)
                labels.append(label)
            index = col
            scene = self.pictures[-1].scene()
            scene.sigMouseMoved.connect(lambda pos, i=index: self._on_moved(i, pos))
            scene.sigMouseClicked.connect(lambda event, i=index: self._on_clicked(i, event))
            self.grid.setColumnStretch(col, 1)
        self.grid.setRowStretch(4, 1)       # what the pictures leave, below them
        self._fit()

    def _fit(self) -> None:
        """Pictures as tall as their width allows (both rows in the height), so titles sit on them."""
        if not self.pictures or self._shape is None:
            return
        h, w = self._shape
        n = len(self.pictures)
        column = (self.width() - self.grid.horizontalSpacing() * (n - 1)) / n
        titles = max(l.sizeHint().height() for l in self._labels) + self._loupe_labels[0].sizeHint().height()
        room = (self.height() - titles - 4 * self.grid.verticalSpacing()) / 2
        side = int(max(60, min(column * h / w, room)))
        for picture in self.pictures + self.loupes:
            picture.setFixedHeight(side)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    # --- showing --------------------------------------------------------------------
    def show_result(self, panels: list[tuple[str, np.ndarray]]) -> None:
        """(title, uint8 (H, W, 3) picture) of each upscale and the original, all one size."""
        if len(panels) != len(self.pictures):
            self._build(len(panels))
        self.titles = [title for title, _p in panels]
        for (title, picture), view, label in zip(panels, self.pictures, self._labels):
            view.show_image(picture)
            label.setText(title)
        h, w = np.asarray(panels[0][1]).shape[:2]
        self._shape = (h, w)
        self._fit()
        for view in self.loupes:
            view.rect.setRect(QRectF(0, 0, w, h))

    def show_loupe(self, rect: tuple[int, int, int, int], views: list[tuple[str, np.ndarray]]) -> None:
        """The loupe's region (left, top, width, height) and each picture's magnified view of it."""
        left, top, rw, rh = rect
        for picture in self.pictures:
            picture.rect.setRect(QRectF(left, top, rw, rh))
        for (title, view), picture, label in zip(views, self.loupes, self._loupe_labels):
            picture.show_image(view)
            label.setText(title)

    # --- the mouse ------------------------------------------------------------------
    def _point(self, index: int, scene_pos: QPointF) -> tuple[float, float] | None:
        """Where ``scene_pos`` falls on picture ``index``, in upscale pixels (None off it)."""
        if self._shape is None or not 0 <= index < len(self.pictures):
            return None
        h, w = self._shape
        p = self.pictures[index].viewbox.mapSceneToView(scene_pos)
        return (float(p.x()), float(p.y())) if 0 <= p.x() < w and 0 <= p.y() < h else None

    def _on_moved(self, index: int, scene_pos: QPointF) -> None:
        point = None if self.pinned else self._point(index, scene_pos)
        if point is not None:
            self.loupeMoved.emit(*point)

    def _on_clicked(self, index: int, event) -> None:
        if event.double():
            self.pinned = False
            self.pinnedChanged.emit(False)
            return
        point = self._point(index, event.scenePos())
        if point is None:
            return
        self.pinned = True
        self.loupeMoved.emit(*point)
        self.pinnedChanged.emit(True)

    def scene_point(self, index: int, x: float, y: float) -> QPointF:
        """The scene position of upscale pixel (x, y) on picture ``index``."""
        return self.pictures[index].viewbox.mapViewToScene(QPointF(x, y))

    def hover(self, index: int, x: float, y: float) -> None:
        """As if the mouse moved onto pixel (x, y) of picture ``index`` (tests, tours)."""
        self._on_moved(index, self.scene_point(index, x, y))

    def click(self, index: int, x: float, y: float, double: bool = False) -> None:
        """As if pixel (x, y) of picture ``index`` were clicked (tests, tours)."""
        pos = self.scene_point(index, x, y)

        class Click:
            def scenePos(self):
                return pos

            def double(self):
                return double
        self._on_clicked(index, Click())
