"""A central tab whose panel is built, and bound, the first time the tab is shown.

It stands in for the panel in the window: export, copy and Export Result build the panel if
needed and ask it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget

from workbench.ui.panel import TAB, Panel


class LazyTab(Panel):
    area = TAB

    def __init__(self, title: str, object_name: str, build: Callable[[], Panel],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.object_name = object_name
        self._build = build
        self.content: Panel | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def ensure_built(self) -> Panel:
        if self.content is None:
            self.content = self._build()
            self.content.message.connect(self.message)
            self.content.statusMessage.connect(self.statusMessage)
            self.content.raiseRequested.connect(self.raiseRequested)
            self.content.raisePanel.connect(self.raisePanel)
            area = QScrollArea()  # dense panels scroll rather than force the window wider than the screen
            area.setWidgetResizable(True)
            area.setFrameShape(QScrollArea.Shape.NoFrame)
            area.setWidget(self.content)
            self.layout().addWidget(area)
        return self.content

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        return self.ensure_built().export_figure(path, scale)

    def export_script(self, path: str | Path) -> Path:
        return self.ensure_built().export_script(path)

    def current_result(self):
        return self.content.current_result() if self.content is not None else None

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        self.ensure_built()
        super().showEvent(event)
