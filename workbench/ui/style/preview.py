"""The result large, with the content and the style at half its size beside it, each named on its
tile; the view keeps their aspect."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPalette

from workbench.core.results.style import fit_to
from workbench.ui.picture_view import PictureView

GAP = 4          # pixels between the pictures, at the result's size


def layout(shape: tuple[int, int], others: int) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) of the result, then of each other picture, stacked in a column to its right."""
    h, w = shape
    rects = [(0, 0, w, h)]
    if others:
        side_h = (h - GAP * (others - 1)) // others
        side_w = max(1, round(w * side_h / h))
        rects += [(w + GAP, k * (side_h + GAP), side_w, side_h) for k in range(others)]
    return rects


class StylePreview(PictureView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.titles: list[str] = []
        self._captions: list[pg.TextItem] = []

    def show_panels(self, panels: list[tuple[str, np.ndarray]]) -> None:
        """(title, (H, W, 3) float image in [0, 1]) pictures of one size, the result last."""
        self.clear_panels()
        if not panels:
            return
        result, others = panels[-1], panels[:-1]
        rects = layout(result[1].shape[:2], len(others))
        width, height = max(x + w for x, _y, w, _h in rects), max(y + h for _x, y, _w, h in rects)
        bg = self.palette().color(QPalette.ColorRole.Window)
        canvas = np.empty((height, width, 3), np.uint8)
        canvas[:] = (bg.red(), bg.green(), bg.blue())
        for (title, picture), (x, y, w, h) in zip([result, *others], rects):
            tile = fit_to(np.asarray(picture, np.float32), (h, w))
            canvas[y:y + h, x:x + w] = np.clip(tile * 255 + 0.5, 0, 255).astype(np.uint8)
            item = pg.TextItem(title, color=(255, 255, 255), fill=pg.mkBrush(0, 0, 0, 150), anchor=(0, 0))
            item.setPos(x, y)
            item.setZValue(5)
            self.viewbox.addItem(item, ignoreBounds=True)
            self._captions.append(item)
        self.titles = [title for title, _p in panels]
        self.image_item.setImage(canvas, levels=(0, 255), autoLevels=False)
        self.viewbox.autoRange(padding=0.01)

    def clear_panels(self) -> None:
        for item in self._captions:
            self.viewbox.removeItem(item)
        self._captions, self.titles = [], []
        self.image_item.clear()
