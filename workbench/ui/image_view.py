"""The Image tab: the canvas with the workspace's image and the overlays of its "image" view."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QVBoxLayout, QWidget

from workbench.core.attribution.notes import zero_map_note
from workbench.core.renderers import DETECTION, IMAGE
from workbench.figure.render import overlay_layers
from workbench.ui.mask_tools import mask_tools
from workbench.ui.panel import TAB, Panel


class ImageView(Panel):
    title = "Image"
    area = TAB
    object_name = "imageTab"
    views = (IMAGE,)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.workspace = None
        self.canvas = None
        self._shown_view = IMAGE     # the view whose result the canvas shows last

    def bind(self, workspace, engine, canvas) -> None:
        self.workspace, self.canvas = workspace, canvas
        self.mask_tools = mask_tools(canvas, workspace)
        self.mask_tools.message.connect(self.message)
        self.mask_tools.brush.activeChanged.connect(lambda on: on and self.raiseRequested.emit())
        self._layout.addWidget(self.mask_tools)
        self._layout.addWidget(canvas)
        workspace.imageChanged.connect(self._on_image)
        workspace.view(IMAGE).changed.connect(self._on_result)
        workspace.view(DETECTION).changed.connect(self._on_detections)
        canvas.clicked.connect(lambda x, y: self.statusMessage.emit(f"x {x:.1f}, y {y:.1f}"))

    def _on_image(self, image) -> None:
        self.canvas.set_image(image)
        self.canvas.clear_overlays()

    def _on_result(self, result) -> None:
        if result is None:
            return
        self._shown_view = IMAGE
        layers = overlay_layers(result, self.workspace.display)   # as the CLI's figure shows it
        if not layers:
            self.message.emit(f"{result.title or result.method}: no view for {result.kind} results yet; "
                              "File ▸ Export Result saves it")
        self.canvas.replace_overlays(layers)
        note = zero_map_note(result)   # an all-zero map says why it shows nothing
        if note:
            self.message.emit(f"{result.title or result.method}: {note}")

    def _on_detections(self, result) -> None:
        if result is not None:
            self._shown_view = DETECTION   # the detection panel draws them on this canvas

    def current_result(self):
        return self.workspace.result(self._shown_view) if self.workspace is not None else None

    def script_options(self) -> dict:
        return {"image": self.canvas.image(), "layers": self.canvas.layers()} if self.canvas is not None else {}

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        if self.canvas is None or self.canvas.image() is None:
            raise ValueError("nothing to export: open an image first")
        result = self.current_result()
        return self.canvas.export(path, scale, title=result.title if result is not None else "")
