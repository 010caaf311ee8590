"""The panel protocol: what every dock and central tab declares and does.

A panel is a widget that declares its ``title`` and ``area`` (a dock area or a central tab),
binds to the workspace, the engine and the canvas, and can export its figure. The window
builds every panel from one list (``workbench.ui.panels``) and wraps dock panels in a
QDockWidget; File > Export Figure and Edit > Copy ask the current central tab's panel.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from workbench.core.results import Result
    from workbench.engine import Engine
    from workbench.ui.canvas import Canvas
    from workbench.ui.workspace_signals import QtWorkspace

LEFT, RIGHT, BOTTOM, TAB = "left", "right", "bottom", "tab"
AREAS = (LEFT, RIGHT, BOTTOM, TAB)


class Panel(QWidget):
    title = ""              # the dock's or tab's title
    area = RIGHT            # one of AREAS
    object_name = ""        # Qt object name of the dock or tab (window state is saved by it)
    views: tuple[str, ...] = ()   # the result views this panel shows (see core.results.renderers)

    message = Signal(str)       # a note the user should see (status bar and a non-modal notice)
    statusMessage = Signal(str)   # passing information for the status bar alone (a pixel, a box)
    raiseRequested = Signal()   # bring this panel to the front
    raisePanel = Signal(str)    # bring the panel with this object name to the front

    def bind(self, workspace: "QtWorkspace", engine: "Engine", canvas: "Canvas") -> None:
        """Connect to the workspace, the engine and the canvas; called once, after __init__."""

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        """Write what the panel shows as a .png (``scale`` x), .svg or .pdf figure."""
        raise ValueError(f"the {self.title} panel has nothing to export yet")

    def current_result(self) -> "Result | None":
        """The result File > Export Result saves while this panel is current."""
        return None

    def export_script(self, path: str | Path) -> Path:
        """A matplotlib script that redraws the current result's figure, with the arrays it reads
        beside it (File > Export as Script)."""
        from workbench.figure.script import companion_npz, write_script
        result = self.current_result()
        if result is None:
            raise ValueError(f"the {self.title} panel has nothing to export yet")
        return write_script(result, companion_npz(path), path, **self.script_options())[1]

    def script_options(self) -> dict:
        """What the script draws besides the result: the image, the layers as shown, a colormap."""
        return {}
