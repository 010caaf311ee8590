"""A widget that paints a figure's panels centred in itself, the way the exported figure does,
or a hint while it has nothing to show."""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QWidget


class PanelCanvas(QWidget):
    """Subclasses say what to paint: ``current_layout`` (None: nothing yet, show ``HINT``) and
    ``paint_layout``; ``show_panels`` gives them the image the panels are drawn over and the panels."""

    HINT = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base_image: np.ndarray | None = None   # what every panel is drawn over
        self.panels: list[Any] = []
        self.layout_used: Any = None      # the layout of the last paint

    def show_panels(self, base_image: np.ndarray | None, panels: list[Any]) -> None:
        self.base_image, self.panels = base_image, panels
        self.update()

    def current_layout(self) -> Any:
        raise NotImplementedError

    def paint_layout(self, painter: QPainter, layout: Any, text: QColor) -> None:
        raise NotImplementedError

    def offset(self, layout: Any) -> QPointF:
        """Where the layout's origin sits in the widget (the panels are centred)."""
        return QPointF(max(0.0, (self.width() - layout.size[0]) / 2), max(0.0, (self.height() - layout.size[1]) / 2))

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        painter = QPainter(self)
        try:
            text = self.palette().color(QPalette.ColorRole.WindowText)
            layout = self.layout_used = self.current_layout()
            if layout is None:
                painter.setPen(text)
                painter.drawText(QRectF(self.rect()), int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                                 self.HINT)
                return
            painter.translate(self.offset(layout))
            self.paint_layout(painter, layout, text)
        finally:
            painter.end()
