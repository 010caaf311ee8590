"""A tab whose content is built the first time it is shown, off the start-up path."""
from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget


class LazyTab(QWidget):
    def __init__(self, build: Callable[[], QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._build = build
        self.content: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def ensure_built(self) -> QWidget:
        if self.content is None:
            self.content = self._build()
            area = QScrollArea()  # dense panels scroll rather than force the window wider than the screen
            area.setWidgetResizable(True)
            area.setFrameShape(QScrollArea.Shape.NoFrame)
            area.setWidget(self.content)
            self.layout().addWidget(area)
        return self.content

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        self.ensure_built()
        super().showEvent(event)
