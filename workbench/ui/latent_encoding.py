"""Encoding pane: open or drop a digit image, see what the encoder saw and the reconstruction, and
where the image lands among the encoded held-out digits (AE and VAE side by side).

The held-out digits are encoded by each bundled autoencoder in a job ("latent-scatter"); the
one not loaded is loaded there. Encoding an image ("latent-encode") places a marker in both
plots and reports the Encoding through ``encoded``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core import autoencoding
from workbench.core import latent_session as ls
from workbench.ui.image_io import DIALOG_FILTER, can_accept, local_image_paths, qimage_to_rgb
from workbench.ui.latent_scatter import LatentScatter
from workbench.ui.pixel_view import PixelView

ENCODE, SCATTER = "latent-encode", "latent-scatter"
AUTOENCODERS = {"ae": "zoo:digits-ae", "vae": "zoo:digits-vae"}
HINT = "Open or drop a digit image, or click a point in a plot, to encode it"


def scatter_plot_for(handle: Any) -> str | None:
    """Which side-by-side plot a handle's encodings belong in: a VAE's posterior, or a plain AE."""
    if not autoencoding.can_encode(handle):
        return None
    return "vae" if hasattr(handle.module, "encode_dist") else "ae"


def load_zoo_model(model_id: str) -> Any:
    from workbench.core.sources import load_model
    return load_model(model_id)


class EncodingPane(QWidget):
    encoded = Signal(object)             # the Encoding of the image just encoded
    message = Signal(str)

    def __init__(self, engine: Any, load_model: Callable[[str], Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.handle: Any = None
        self._load_model = load_model or load_zoo_model
        self._plot_handles: dict[str, Any] = {}     # plot name -> the handle its points came from
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

        controls = QVBoxLayout()
        controls.addWidget(self.open_button)
        controls.addWidget(self.hint)
        controls.addWidget(self.info, 1)
        top = QHBoxLayout()
        top.addLayout(controls, 1)
        top.addWidget(self.input_view)
        top.addWidget(self.recon_view)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.scatter, 1)
        self.scatter.setMinimumHeight(260)
        self.scatter.pointClicked.connect(
            lambda _plot, index: self.encode_image(autoencoding.held_out_digits()[0][index], f"held-out digit #{index}"))
        engine.done.connect(self._on_done)

    def set_model(self, handle: Any) -> None:
        """Encoding needs an encoder: for a generator the pane says so and only shows the plots."""
        self.engine.cancel(ENCODE)
        self.handle, self._last = handle, None
        can = autoencoding.can_encode(handle)
        self.open_button.setEnabled(can)
        self.hint.setText(HINT if can else
                          f"{handle.id} is a generator and has no encoder; load zoo:digits-ae or "
                          f"zoo:digits-vae to encode images. The plots show the bundled autoencoders.")
        self.clear()
        self._request_scatter()

    def encode_image(self, image: np.ndarray, name: str = "image") -> None:
        if self.handle is None or not autoencoding.can_encode(self.handle):
            self.message.emit("Only autoencoders can encode an image; load zoo:digits-ae or zoo:digits-vae")
            return
        handle, plots = self.handle, dict(self._plot_handles)
        self._last = (image, name)

        def job(jc):
            encoding = autoencoding.encode(ls.on_device(handle, jc.device), image)
            markers = {plot: autoencoding.encode(ls.on_device(h, jc.device), image).z for plot, h in plots.items()}
            return name, encoding, markers
        self.engine.submit(ENCODE, job)

    def _request_scatter(self) -> None:
        own = scatter_plot_for(self.handle)
        known = {plot: h for plot, h in self._plot_handles.items() if plot != own}
        handle, load = self.handle, self._load_model

        def job(jc):
            out = {}
            for plot, model_id in AUTOENCODERS.items():
                try:
                    h = handle if plot == own else known.get(plot) or load(model_id)
                    out[plot] = (h, autoencoding.encode_dataset(ls.on_device(h, jc.device)), "")
                except Exception as e:  # a missing bundled model leaves its plot empty, with the reason
                    out[plot] = (None, None, f"{model_id} not available ({e})")
            return out
        self.engine.submit(SCATTER, job)

    def _on_done(self, key: str, result: Any) -> None:
        if key == SCATTER:
            self._plot_handles = {plot: h for plot, (h, _, _) in result.items() if h is not None}
            for plot, (_, encoded, reason) in result.items():
                self.scatter.set_encoded(plot, encoded, reason)
            if self._last is not None:      # encoded before the plots were ready: mark it in them now
                self.encode_image(*self._last)
        elif key == ENCODE:
            name, encoding, markers = result
            self.show_encoding(encoding, name)
            for plot, z in markers.items():
                self.scatter.set_marker(plot, z)
            self.encoded.emit(encoding)

    def clear(self) -> None:
        self.input_view.clear()
        self.recon_view.clear()
        self.info.setText("")

    def show_encoding(self, encoding: autoencoding.Encoding, name: str) -> None:
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

