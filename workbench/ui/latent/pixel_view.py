"""A uint8 image shown large with sharp (nearest-neighbour) pixels, for small decoded images."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

pg.setConfigOptions(imageAxisOrder="row-major")



class PixelView(QWidget):
    """``set_image`` puts new pixels straight on the ImageItem; the view is refitted only when
    the image's size changes, so a stream of same-sized images costs one setImage each.

    uint8 images go in without levels, so pyqtgraph wraps them as they are (Grayscale8 or
    RGB888) instead of building a lookup table and an indexed image for every frame."""

    def __init__(self, caption: str = "", min_side: int = 96, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsView(background=self.palette().color(QPalette.ColorRole.Window))
        self.view.setMinimumSize(min_side, min_side)
        self.viewbox = pg.ViewBox(lockAspect=True, invertY=True, enableMouse=False, enableMenu=False)
        self.view.setCentralItem(self.viewbox)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.viewbox.addItem(self.image_item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.caption = QLabel(caption)
        self.caption.setVisible(bool(caption))
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        self._shape: tuple[int, ...] | None = None

    def set_image(self, image: np.ndarray) -> None:
        if image.dtype != np.uint8:
            raise ValueError(f"PixelView shows uint8 images, got {image.dtype}")
        self.image_item.setImage(image, levels=None, autoLevels=False)
        if image.shape != self._shape:
            self._shape = image.shape
            self.viewbox.autoRange(padding=0.0)

    def image(self) -> np.ndarray | None:
        return self.image_item.image

    def clear(self) -> None:
        self.image_item.clear()
        self._shape = None

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)
        self.caption.setVisible(bool(text))
