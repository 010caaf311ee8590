"""Latent explorer: sliders over a generator's or autoencoder's latent with the decoded image live,
random samples, a 2-D manifold grid, interpolation with export, and encoding of images.

Every slider move sends one quiet decode job under one engine key, so a fast drag never queues
(latest wins) and the GUI thread wakes once per move, for the result, whose image goes straight
onto an ImageItem. All model work runs on the worker
through ``core.latent_session``; this panel keeps a ``LatentState`` and renders arrays.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QSplitter, QStackedWidget,
                               QTabWidget, QVBoxLayout, QWidget)

from workbench.core import autoencoding
from workbench.core import latent_session as ls
from workbench.core.methods._generative import MAX_SEED
from workbench.ui.interpolation_bar import InterpolationBar
from workbench.ui.latent_encoding import EncodingPane
from workbench.ui.latent_manifold import ManifoldPane
from workbench.ui.latent_sliders import LatentSliders
from workbench.ui.pixel_view import PixelView

DECODE, SETUP, DIRECTIONS, MANIFOLD = "latent-decode", "latent-setup", "latent-directions", "latent-manifold"
PATH, ENDPOINT = "latent-path", "latent-endpoint-"
KEYS = (DECODE, SETUP, DIRECTIONS, MANIFOLD, PATH, ENDPOINT + "a", ENDPOINT + "b")
BUNDLED = ("zoo:digits-ae", "zoo:digits-vae", "zoo:digits-dcgan", "zoo:digits-sngan")
DIRECTION_COUNT = 8
NO_MODEL = ("Load a generator or autoencoder to explore its latent space: "
            + ", ".join(BUNDLED) + ", or your own model with task generate or autoencode.")


def not_latent_text(handle: Any) -> str:
    return (f"The latent explorer works with generators and autoencoders (task \"generate\" or "
            f"\"autoencode\"), such as {', '.join(BUNDLED)}. {handle.id} is a \"{handle.task}\" model.")


class LatentExplorer(QWidget):
    imageShown = Signal()          # the decoded view has just been given new pixels
    message = Signal(str)

    def __init__(self, engine: Any, parent: QWidget | None = None,
                 load_model: Callable[[str], Any] | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.handle: Any = None
        self.state: ls.LatentState | None = None
        self.encoding: autoencoding.Encoding | None = None
        self._directions: ls.Directions | None = None
        self._build(load_model)
        engine.done.connect(self._on_done)
        engine.failed.connect(self._on_failed)

    # -- construction ----------------------------------------------------------------------------

    def _build(self, load_model: Callable[[str], Any] | None) -> None:
        self.notice = QLabel(NO_MODEL)
        self.notice.setWordWrap(True)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel()
        self.view = PixelView(min_side=256)
        self.random_button = QPushButton("Random")
        self.random_button.setToolTip("Decode a new random latent (its seed appears in the box)")
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setPrefix("seed ")
        self.directions_box = QCheckBox("principal directions")
        self.directions_box.setToolTip("Sliders along the latent directions that change the decoder's first "
                                       "layer most (GANSpace), from the current latent")
        self.sliders = LatentSliders()
        self.status = QLabel()
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.random_button)
        row.addWidget(self.seed, 1)
        row.addWidget(self.directions_box)
        left = QWidget()
        column = QVBoxLayout(left)
        column.addWidget(self.title)
        column.addWidget(self.view, 3)
        column.addLayout(row)
        column.addWidget(self.sliders, 2)
        column.addWidget(self.status)

        self.tabs = QTabWidget()
        self.manifold = ManifoldPane()
        self.tabs.addTab(self.manifold, "Manifold")
        self.interpolation = InterpolationBar()
        self.tabs.addTab(self.interpolation, "Interpolation")
        self.encoding_pane = EncodingPane(self.engine, load_model)
        self.tabs.addTab(self.encoding_pane, "Encoding")
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([380, 620])
        self.pages = QStackedWidget()
        self.pages.addWidget(self.notice)
        self.pages.addWidget(splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        self.sliders.moved.connect(self._on_slider)
        self.random_button.clicked.connect(self.random_sample)
        self.seed.valueChanged.connect(self._decode_seed)
        self.directions_box.toggled.connect(self._on_directions_toggled)
        self.interpolation.endpointRequested.connect(self._on_endpoint_requested)
        self.interpolation.pathChanged.connect(self.build_path)
        self.interpolation.message.connect(self._say)
        self.manifold.buildRequested.connect(self.build_manifold)
        self.manifold.latentPicked.connect(self.set_latent)
        self.encoding_pane.encoded.connect(self._on_encoded)
        self.encoding_pane.message.connect(self._say)

    # -- model -------------------------------------------------------------------------------------

    def set_model(self, handle: Any) -> None:
        for key in KEYS:
            self.engine.cancel(key)
        self.interpolation.set_playing(False)
        if handle is None or not ls.applies_to(handle):
            self.handle, self.state = None, None
            self.notice.setText(NO_MODEL if handle is None else not_latent_text(handle))
            self.pages.setCurrentIndex(0)
            return
        self.handle, self.state, self.encoding, self._directions = handle, None, None, None
        self.pages.setCurrentIndex(1)
        self.setEnabled(False)
        self.interpolation.set_encoded_available(False)
        self.encoding_pane.set_model(handle)
        self.directions_box.blockSignals(True)
        self.directions_box.setChecked(False)
        self.directions_box.blockSignals(False)
        seed = self.seed.value()

        def setup(jc):
            h = ls.on_device(handle, jc.device)
            a, b, prior = ls.random_latent(h, seed), ls.random_latent(h, seed + 1), ls.latent_prior(h)
            return prior, ls.dimension_effects(h, prior), a, ls.decode(h, a), b, ls.decode(h, b)
        self.engine.submit(SETUP, setup)

    def _on_setup(self, result: tuple) -> None:
        prior, effects, a, image_a, b, image_b = result
        self.state = ls.LatentState(prior, a)
        self._configure_sliders()
        self.title.setText(f"{self.handle.id}: {self.state.dim}-d latent ({self.handle.task})")
        self.manifold.set_effects(effects)
        self.setEnabled(True)
        self._show(image_a)
        self.interpolation.set_endpoint("a", a, image_a)
        self.interpolation.set_endpoint("b", b, image_b)
        self.build_path()
        self.build_manifold()
        if self.directions_box.isChecked():      # ticked while the model was loading
            self._on_directions_toggled(True)

    def _configure_sliders(self) -> None:
        lo, hi = self.state.slider_ranges()
        names = ([f"PC {j + 1}" for j in range(len(lo))] if self.state.along_directions
                 else [f"z{i}" for i in range(len(lo))])
        self.sliders.configure(names, lo, hi, self.state.slider_values())

    # -- decoding ----------------------------------------------------------------------------------

    def _on_slider(self, index: int, value: float) -> None:
        if self.state is not None:
            self._decode(self.state.set_slider(index, value))

    def _decode(self, z: np.ndarray) -> None:
        handle, z = self.handle, np.array(z, np.float32)
        self.engine.submit(DECODE, lambda jc: (z, ls.decode(ls.on_device(handle, jc.device), z)), quiet=True)

    def _decode_seed(self, seed: int) -> None:
        if self.state is None:
            return
        handle = self.handle

        def job(jc):
            h = ls.on_device(handle, jc.device)
            z = ls.random_latent(h, seed)
            return z, ls.decode(h, z)
        self.engine.submit(DECODE, job, quiet=True)

    def random_sample(self) -> None:
        self.seed.setValue(int(np.random.default_rng().integers(0, MAX_SEED)))

    def set_latent(self, z: np.ndarray) -> None:
        """Jump to latent ``z``: sliders follow and the view decodes it."""
        if self.state is not None:
            self.state.set_latent(z)
            self.sliders.set_values(self.state.slider_values())
            self._decode(self.state.z)

    def _on_decoded(self, result: tuple) -> None:
        z, image = result
        if self.state is None:
            return
        if not np.array_equal(z, self.state.z):
            self.state.set_latent(z)
            self.sliders.set_values(self.state.slider_values())
        self._show(image)

    def _show(self, image: np.ndarray) -> None:
        self.view.set_image(image)
        self.imageShown.emit()

    def _on_directions_toggled(self, on: bool) -> None:
        if self.state is None:
            return
        if not on:
            self.state.use_directions(None)
            self._configure_sliders()
        elif self._directions is not None:
            self._use_directions(self._directions)
        else:
            handle, k = self.handle, min(DIRECTION_COUNT, self.state.dim)
            self.engine.submit(DIRECTIONS, lambda jc: ls.principal_directions(ls.on_device(handle, jc.device), k))

    def _use_directions(self, directions: ls.Directions) -> None:
        self._directions = directions
        if self.directions_box.isChecked():
            self.state.use_directions(directions)
            self._configure_sliders()

    # -- manifold and interpolation ------------------------------------------------------------------

    def build_manifold(self) -> None:
        if self.state is None:
            return
        (dx, dy), pane = self.manifold.dims(), self.manifold
        if dx == dy:
            self._say("Choose two different dimensions for x and y")
            return
        handle, prior, base = self.handle, self.state.prior, self.state.z.copy()
        n, span = pane.grid_n.value(), pane.span.value()
        self.engine.submit(MANIFOLD, lambda jc: ls.manifold(ls.on_device(handle, jc.device), prior, base, dx, dy, n, span))

    def _on_endpoint_requested(self, slot: str, source: str) -> None:
        if self.state is None:
            return
        if source == "current":
            self.interpolation.set_endpoint(slot, self.state.z, self.view.image())
            self.build_path()
        elif source == "encoded" and self.encoding is not None:
            self.interpolation.set_endpoint(slot, self.encoding.z, self.encoding.reconstruction)
            self.build_path()
        elif source == "random":
            handle, seed = self.handle, int(np.random.default_rng().integers(0, MAX_SEED))

            def job(jc):
                h = ls.on_device(handle, jc.device)
                z = ls.random_latent(h, seed)
                return slot, z, ls.decode(h, z)
            self.engine.submit(ENDPOINT + slot, job)

    def build_path(self) -> None:
        a, b = self.interpolation.endpoints["a"], self.interpolation.endpoints["b"]
        if self.state is None or a is None or b is None:
            return
        handle, prior = self.handle, self.state.prior
        steps, mode = self.interpolation.steps.value(), self.interpolation.mode.currentText()
        self.engine.submit(PATH, lambda jc: ls.interpolation_frames(
            ls.on_device(handle, jc.device), prior, a, b, steps, mode))

    def _on_encoded(self, encoding: autoencoding.Encoding) -> None:
        self.encoding = encoding
        self.interpolation.set_encoded_available(True)
        self.set_latent(encoding.z)

    def export(self, path: str | Path, scale: float = 2.0) -> Path:
        """The open tab as a figure: the manifold grid, the interpolation strip or the scatter plots."""
        tab = self.tabs.currentWidget()
        if self.state is None:
            raise ValueError("nothing to export: load a generator or autoencoder first")
        if tab is self.manifold:
            return self.manifold.grid_view.export(path, scale)
        if tab is self.interpolation:
            return self.interpolation.export(path)
        return self.encoding_pane.scatter.export(path, scale)

    # -- engine --------------------------------------------------------------------------------------

    def _on_done(self, key: str, result: Any) -> None:
        if key == DECODE:
            self._on_decoded(result)
        elif key == SETUP:
            self._on_setup(result)
        elif key == DIRECTIONS:
            self._use_directions(result)
        elif key == MANIFOLD:
            self.manifold.set_grid(result)
        elif key == PATH:
            self.interpolation.set_frames(*result)
        elif key.startswith(ENDPOINT):
            self.interpolation.set_endpoint(*result)
            self.build_path()

    def _on_failed(self, key: str, text: str) -> None:
        if key in KEYS:
            if key == SETUP:
                self.setEnabled(True)
            elif key == DIRECTIONS:
                self.directions_box.setChecked(False)
            self._say(f"{key}: {text}")

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text)

