"""The Grid tab: the workspace's "grid" view (filters, channels, frames) as a montage.

A click on an activation channel lays that channel over the image; a right-click also brings the
Features tab, which visualises what excites that channel (it reads the pick from the workspace).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QVBoxLayout, QWidget

from workbench.core.renderers import GRID
from workbench.ui.grid_view import GridView
from workbench.ui.panel import TAB, Panel


class GridPanel(Panel):
    title = "Grid"
    area = TAB
    object_name = "gridTab"
    views = (GRID,)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid_view = GridView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.grid_view)
        self.workspace = None

    def bind(self, workspace, engine, canvas) -> None:
        self.workspace = workspace
        workspace.view(GRID).changed.connect(self._on_result)
        self.grid_view.tileClicked.connect(self.show_channel)
        self.grid_view.tileContextClicked.connect(self.visualise_channel)

    def _on_result(self, result) -> None:
        if result is None:
            self.grid_view.clear()
        else:
            self.grid_view.set_grid(result.as_grid())

    def show_channel(self, index: int) -> None:
        """Lay one channel of an activation grid over the image (other grids have no channels)."""
        result = self.current_result()
        to_heatmap = getattr(result, "channel_heatmap", None)
        if to_heatmap is None or self.workspace.image is None:
            return
        heatmap = to_heatmap(index)
        self.workspace.show(heatmap)
        self.statusMessage.emit(heatmap.title)

    def visualise_channel(self, index: int) -> None:
        """Lay one activation channel over the image and bring the Features tab, which visualises it."""
        if getattr(self.current_result(), "channel_heatmap", None) is None or self.workspace.image is None:
            return
        self.show_channel(index)
        self.raisePanel.emit("featuresTab")

    def current_result(self):
        return self.workspace.result(GRID) if self.workspace is not None else None

    def script_options(self) -> dict:
        return {"colormap": self.grid_view.current_colormap(), "shared": self.grid_view.shared.isChecked()}

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        return self.grid_view.export(path, scale)
