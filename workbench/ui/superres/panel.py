"""The Super-res tab: bicubic, the pixel-loss model (zoo:sr-pixel) and the GAN (zoo:sr-gan) on the
workspace's image, side by side, with a loupe that shows the same magnified region of each.

In compare mode the image is the truth: its 4x area downsample is enlarged again by each, and each
is scored against the image (PSNR, SSIM), so the GAN's sharper edges and lower PSNR sit side by side.
In upscale mode the image itself is enlarged 4x and nothing is scored. A super-resolution model of
the user's, loaded in the workspace, joins the bundled pair. Each run is
``core.superres.jobs.compare_upscales`` on the engine.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from workbench.core.superres.jobs import card_summary, compare_upscales
from workbench.core.results.loupe import DEFAULT_ZOOM, ZOOMS
from workbench.core.superres.upscale import COMPARE, UPSCALE
from workbench.figure.superres import export_superres
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.panel import TAB, Panel
from workbench.ui.superres.views import SuperresViews

KEY = "superres-tab"
CARDS_KEY = KEY + ":cards"
NOTE = ("PSNR and SSIM reward the average of every plausible image, which is blurry; the GAN's adversarial and "
        "perceptual losses buy sharper edges and texture at a lower PSNR. Compare the loupes.")
MODES = {COMPARE: "Compare: shrink 4x, enlarge, score", UPSCALE: "Upscale the image 4x"}


class SuperresPanel(Panel):
    title = "Super-res"
    area = TAB
    object_name = "superresTab"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.result: Any = None
        self.mode_box = QComboBox()
        for key, text in MODES.items():
            self.mode_box.addItem(text, key)
        self.mode_box.setToolTip("Compare: the image is the truth; its 4x area downsample is enlarged and "
                                 "scored against it. Upscale: the image itself is enlarged 4x.")
        self.zoom_box = QComboBox()
        for zoom in ZOOMS:
            self.zoom_box.addItem(f"loupe ×{zoom:g}", zoom)
        self.zoom_box.setCurrentIndex(ZOOMS.index(DEFAULT_ZOOM))
        self.export_button = QPushButton("Export…")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.views = SuperresViews()
        self.note = QLabel(NOTE)
        self.note.setWordWrap(True)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout()
        row.addWidget(self.mode_box)
        row.addWidget(self.zoom_box)
        row.addWidget(self.export_button)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.note)
        self.mode_box.currentIndexChanged.connect(lambda _i: self.run())
        self.zoom_box.currentIndexChanged.connect(lambda _i: self._zoom_changed())
        self.export_button.clicked.connect(self._export_dialog)
        self.views.loupeMoved.connect(self.set_loupe)
        self.views.pinnedChanged.connect(lambda _p: self._refresh())
        self._refresh()

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.imageChanged.connect(lambda _image: self.run())
        workspace.modelChanged.connect(lambda _handle: self.run())
        engine.submit(CARDS_KEY, card_summary, quiet=True).done.connect(
            lambda text: self.note.setText(f"{NOTE}\n{text}" if text else NOTE))
        self.run()

    # --- reading ----------------------------------------------------------------------
    def mode(self) -> str:
        return self.mode_box.currentData()

    def zoom(self) -> float:
        return float(self.zoom_box.currentData())

    def current_result(self) -> Any:
        return self.result

    # --- actions ----------------------------------------------------------------------
    def run(self) -> Any:
        """Enlarge the workspace's image with bicubic and every super-resolution model; its ticket."""
        ws = self.workspace
        if ws is None or ws.image is None:
            self._refresh()
            return None
        handle = ws.handle if ws.handle is not None and ws.handle.task == "superres" else None
        ticket = self.engine.submit(KEY, compare_upscales, ws.image, self.mode(), handle)
        ticket.done.connect(self._show)
        ticket.failed.connect(self._on_failed)
        self.status.setText("Enlarging…")
        return ticket

    def set_loupe(self, x: float, y: float) -> None:
        """Centre the loupe on upscale pixel (x, y) in every picture."""
        if self.result is None:
            return
        self.result = dataclasses.replace(self.result, loupe=[float(x), float(y), self.zoom()])
        self._show_loupe()

    def set_mode(self, mode: str) -> None:
        self.mode_box.setCurrentIndex(list(MODES).index(mode))

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        if self.result is None:
            raise ValueError("nothing to export: open an image first")
        return export_superres(self.result, None, path, scale)

    # --- showing ----------------------------------------------------------------------
    def _show(self, result: Any) -> None:
        previous = self.result
        if previous is not None and previous.loupe and previous.bicubic.shape == result.bicubic.shape:
            result = dataclasses.replace(result, loupe=list(previous.loupe))
        self.result = result
        self.views.show_result(result.panels())
        self._show_loupe()
        self._refresh()

    def _show_loupe(self) -> None:
        self.views.show_loupe(self.result.loupe_rect(), self.result.loupe_views())

    def _zoom_changed(self) -> None:
        if self.result is None:
            return
        (x, y), _zoom = self.result.loupe_at()
        self.set_loupe(x, y)

    def _on_failed(self, text: str) -> None:
        self.message.emit(f"Super-resolution: {text}")
        self.status.setText(f"Failed: {text}")

    def _refresh(self) -> None:
        self.export_button.setEnabled(self.result is not None)
        if self.workspace is not None and self.workspace.image is None:
            self.status.setText("Open an image: it is enlarged 4x by bicubic, the pixel-loss and the GAN model")
            return
        r = self.result
        if r is None:
            return
        how = ("the image shrunk 4x and enlarged again; scores against the image" if r.scored
               else f"the image ({r.low.shape[1]}×{r.low.shape[0]}) enlarged 4x")
        loupe = "loupe pinned: double-click to follow the mouse" if self.views.pinned else \
            "move over a picture to move the loupe, click to pin it"
        self.status.setText(f"{how} · {loupe}")

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export Super-resolution", "superres.png", self.export_figure, self.message.emit)
