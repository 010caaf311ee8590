"""Encoding pane: open or drop a digit image, see what the encoder saw and the reconstruction, and
where the image lands among the encoded held-out digits (AE and VAE side by side).

The held-out digits are encoded by each bundled autoencoder in a job ("latent-scatter"); the
one that is not the workspace's model is loaded there. Encoding an image ("latent-encode")
places a marker in both plots and reports the Encoding through ``encoded``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core.latent import encoding as enc
from workbench.core.latent import jobs
from workbench.ui.image_io import DIALOG_FILTER, can_accept, local_image_paths, qimage_to_rgb
from workbench.ui.latent.pixel_view import PixelView
from workbench.ui.latent.scatter import LatentScatter

ENCODE, SCATTER = "latent-encode", "latent-scatter"
HINT = "Open or drop a digit image, or click a point in a plot, to encode it"


class EncodingPane(QWidget):
    encoded = Signal(object)             # the Encoding of the image just encoded
    message = Signal(str)

    def __init__(self, load_model: Callable[[str], Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self._load_model = load_model           # None: the model sources
        # the bundled autoencoders loaded for the plots that are not the workspace model's, by plot
        self._bundled: dict[str, Any] = {}
        self._last: tuple[np.ndarray, str] | None = None   # the image last encoded, and its name
        self.setAcceptDrops(True)
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self.open_dialog)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.input_view = PixelView("input, as encoded", min_side=120)
        self.recon_view = PixelView("reconstruction", min_side=120)
        for view in (self.input_view, self.recon_view):
            view.setFixedSize(140, 160)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scatter = LatentScatter()

        controls = QHBoxLayout()
        controls.addWidget(self.open_button)
        controls.addWidget(self.hint, 1)
        top = QHBoxLayout()
        top.addWidget(self.input_view)
        top.addWidget(self.recon_view)
        top.addWidget(self.info, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(top)
        layout.addWidget(self.scatter, 1)
        self.scatter.setMinimumHeight(260)
        self.scatter.pointClicked.connect(self._on_point_clicked)

    def attach(self, workspace: Any, engine: Any) -> None:
        self.workspace, self.engine = workspace, engine

    def cancel(self) -> None:
        """Drop the work asked of the previous model."""
        self.engine.cancel(ENCODE)
        self.engine.cancel(SCATTER)
        self._last = None

    def reset(self) -> None:
        """A new model: encoding needs an encoder; for a generator the pane says so and only shows the plots."""
        handle = self.workspace.handle
        can = enc.can_encode(handle)
        self.open_button.setEnabled(can)
        self.hint.setText(HINT if can else
                          f"{handle.id} is a generator and has no encoder; load zoo:digits-ae or "
                          f"zoo:digits-vae to encode images. The plots show the bundled autoencoders.")
        self.clear()
        own = enc.plot_for(handle)
        loaded = {plot: h for plot, h in self._bundled.items() if plot != own}
        ticket = self.engine.submit(SCATTER, jobs.scatter, handle, loaded, self._load_model)
        ticket.done.connect(self._on_scatter)

    def has_plots(self) -> bool:
        return any(e is not None for e in self.scatter.encoded.values())

    def encode_image(self, image: np.ndarray, name: str = "image") -> None:
        handle = self.workspace.handle if self.workspace is not None else None
        if handle is None or not enc.can_encode(handle):
            self.message.emit("Only autoencoders can encode an image; load zoo:digits-ae or zoo:digits-vae")
            return
        self._last = (image, name)
        ticket = self.engine.submit(ENCODE, jobs.encode, handle, image, self._marker_models(handle))
        ticket.done.connect(self._on_encoded)
        ticket.failed.connect(self._on_encode_failed)

    def _marker_models(self, handle: Any) -> dict[str, Any]:
        """The model of each plot that shows points: the workspace's own, or a bundled one."""
        own = enc.plot_for(handle)
        models = {plot: (handle if plot == own else self._bundled.get(plot)) for plot in enc.AUTOENCODERS}
        return {plot: h for plot, h in models.items() if h is not None and self.scatter.encoded.get(plot) is not None}

    def _on_scatter(self, plots: dict[str, jobs.ScatterPlot]) -> None:
        handle = self.workspace.handle
        self._bundled = {name: p.model for name, p in plots.items() if p.model is not None and p.model is not handle}
        for name, p in plots.items():
            self.scatter.set_encoded(name, p.encoded, p.reason)
        if self._last is not None:      # encoded before the plots were ready: mark it in them now
            self.encode_image(*self._last)

    def _on_encoded(self, result: jobs.Encoded) -> None:
        self.show_encoding(result.encoding, self._last[1] if self._last else "image")
        for plot, z in result.markers.items():
            self.scatter.set_marker(plot, z)
        self.encoded.emit(result.encoding)

    def _on_encode_failed(self, text: str) -> None:
        self.message.emit(f"Could not encode {self._last[1] if self._last else 'the image'}: {text}")

    def _on_point_clicked(self, _plot: str, index: int) -> None:
        self.encode_image(enc.held_out_digits()[0][index], f"held-out digit #{index}")

    def clear(self) -> None:
        self.input_view.clear()
        self.recon_view.clear()
        self.info.setText("")

    def show_encoding(self, encoding: enc.Encoding, name: str) -> None:
        self.input_view.set_image(encoding.input)
        self.recon_view.set_image(encoding.reconstruction)
        z = encoding.z
        shown = ", ".join(f"{v:+.2f}" for v in z[:6]) + (", …" if len(z) > 6 else "")
        note = " (inverted: light background)" if encoding.inverted else ""
        self.info.setText(f"{name}{note}\nz = [{shown}] ({len(z)}-d)\nreconstruction MSE {encoding.mse:.4f}")

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Digit Image", str(Path.home()), DIALOG_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        from workbench.core.images import ImageError, load_image
        try:
            image = load_image(path)
        except (ImageError, OSError) as e:
            self.message.emit(f"Could not open {Path(path).name}: {e}")
            return False
        self.encode_image(image, Path(path).name)
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt naming)
        if self.open_button.isEnabled() and can_accept(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt naming)
        mime = event.mimeData()
        paths = local_image_paths(mime)
        if paths:
            if self.open_path(paths[0]):
                event.acceptProposedAction()
        elif mime.hasImage():
            image = qimage_to_rgb(mime.imageData())
            if image is not None:
                self.encode_image(image, "dropped image")
                event.acceptProposedAction()

