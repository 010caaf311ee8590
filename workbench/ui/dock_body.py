"""Dock contents that scroll rather than raise the main window's minimum size."""
from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QFrame, QScrollArea, QWidget


def set_scrolling_body(dock: QDockWidget, body: QWidget) -> None:
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(body)
    dock.setWidget(scroll)
