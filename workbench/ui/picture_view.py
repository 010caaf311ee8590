"""A picture that only shows: its aspect kept, scaled to the view, on the window's colour, with no
mouse interaction or menu. Tabs that show a result beside their controls build on it."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QPalette


class PictureView(pg.GraphicsView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.viewbox = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.viewbox.setMouseEnabled(False, False)
        self.setCentralItem(self.viewbox)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.viewbox.addItem(self.image_item)
        self.setBackground(self.palette().color(QPalette.ColorRole.Window))
