"""The Latent tab: sliders over a generator's or autoencoder's latent with the decoded image live,
random samples, a 2-D manifold grid, interpolation with export, and encoding of images.

Every slider move sends one quiet decode job under one engine key, so a fast drag never queues
(latest wins) and the GUI thread wakes once per move, for the result, whose image goes straight
onto an ImageItem. The model is the workspace's; all model work is a job of
``core.latent.jobs``, and this panel keeps a ``LatentState`` and renders arrays.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QSplitter, QStackedWidget,
                               QTabWidget, QVBoxLayout, QWidget)

from workbench.core.latent import encoding as enc
from workbench.core.latent import jobs
from workbench.core.latent import session as ls
from workbench.core.results import ImageGrid
from workbench.figure.render import check_format, export_grid
from workbench.ui.latent.encoding import EncodingPane
from workbench.ui.latent.interpolation import InterpolationBar
from workbench.ui.latent.manifold import ManifoldPane
from workbench.ui.latent.pixel_view import PixelView
from workbench.ui.latent.sliders import LatentSliders
from workbench.ui.panel import TAB, Panel

DECODE, SETUP, DIRECTIONS, MANIFOLD = "latent-decode", "latent-setup", "latent-directions", "latent-manifold"
PATH, ENDPOINT = "latent-path", "latent-endpoint-"
KEYS = (DECODE, SETUP, DIRECTIONS, MANIFOLD, PATH, ENDPOINT + "a", ENDPOINT + "b")
BUNDLED = ("zoo:digits-ae", "zoo:digits-vae", "zoo:digits-dcgan", "zoo:digits-sngan")
DIRECTION_COUNT = 8
LEFT_SHARE = 0.42      # of the tab's width, for the decoded image and its sliders
NO_MODEL = ("Load a generator or autoencoder to explore its latent space: "
            + ", ".join(BUNDLED) + ", or your own model with task generate or autoencode.")


def not_latent_text(handle: Any) -> str:
    return (f"The latent explorer works with generators and autoencoders (task \"generate\" or "
            f"\"autoencode\"), such as {', '.join(BUNDLED)}. {handle.id} is a \"{handle.task}\" model.")


class LatentPanel(Panel):
    title = "Latent"
    area = TAB
    object_name = "latentTab"

    imageShown = Signal()          # the decoded view has just been given new pixels

    def __init__(self, parent: QWidget | None = None, load_model: Callable[[str], Any] | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.state: ls.LatentState | None = None
        self.encoding: enc.Encoding | None = None
        self._directions: ls.Directions | None = None
        self._build(load_model)

    def _build(self, load_model: Callable[[str], Any] | None) -> None:
        self.notice = QLabel(NO_MODEL)
        self.notice.setWordWrap(True)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.heading = QLabel()
        self.view = PixelView(min_side=256)
        self.random_button = QPushButton("Random")
        self.random_button.setToolTip("Decode a new random latent (its seed appears in the box)")
        self.seed = QSpinBox()
        self.seed.setRange(0, ls.MAX_SEED)
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
        left = QWidget()
        column = QVBoxLayout(left)
        column.addWidget(self.heading)
        column.addWidget(self.view, 3)
        column.addLayout(row)
        column.addWidget(self.directions_box)
        column.addWidget(self.sliders, 2)
        column.addWidget(self.status)

        self.tabs = QTabWidget()
        self.manifold = ManifoldPane()
        self.tabs.addTab(self.manifold, "Manifold")
        self.interpolation = InterpolationBar()
        self.tabs.addTab(self.interpolation, "Interpolation")
        self.encoding_pane = EncodingPane(load_model)
        self.tabs.addTab(self.encoding_pane, "Encoding")
        self.splitter = splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        self._split_fitted = False
        splitter.installEventFilter(self)
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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if (watched is self.splitter and event.type() in (QEvent.Type.Show, QEvent.Type.Resize)
                and not self._split_fitted and self.splitter.isVisible() and self.splitter.width() > 1):
            self._split_fitted = True   # once, when the splitter first shows: then the user's own split stays
            self.fit_split()
        return False

    def fit_split(self) -> None:
        """Share the width it has between the sliders and the tabs, neither under its minimum."""
        width = self.splitter.width() - self.splitter.handleWidth()
        lo = self.splitter.widget(0).minimumSizeHint().width()
        hi = max(lo, width - self.splitter.widget(1).minimumSizeHint().width())
        left = min(max(int(width * LEFT_SHARE), lo), hi)
        self.splitter.setSizes([left, max(0, width - left)])

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine = workspace, engine
        self.encoding_pane.attach(workspace, engine)
        workspace.modelChanged.connect(self._on_model)
        if workspace.handle is not None:      # built after the model was loaded
            self._open(workspace.handle)

    # -- model -------------------------------------------------------------------------------------

    def _on_model(self, handle: Any) -> None:
        self._open(handle)
        if handle is not None and ls.applies_to(handle):
            self.raiseRequested.emit()

    def _open(self, handle: Any) -> None:
        for key in KEYS:
            self.engine.cancel(key)
        self.encoding_pane.cancel()
        self.interpolation.set_playing(False)
        self.state, self.encoding, self._directions = None, None, None
        if handle is None or not ls.applies_to(handle):
            self.notice.setText(NO_MODEL if handle is None else not_latent_text(handle))
            self.pages.setCurrentIndex(0)
            return
        self.pages.setCurrentIndex(1)
        self.setEnabled(False)
        self.interpolation.set_encoded_available(False)
        self.directions_box.blockSignals(True)
        self.directions_box.setChecked(False)
        self.directions_box.blockSignals(False)
        self._submit(SETUP, self._on_setup, jobs.setup, handle, self.seed.value())
        self.encoding_pane.reset()           # the held-out digits are encoded after the setup

    def _submit(self, key: str, on_done: Callable[[Any], None], fn: Callable, *args: Any, quiet: bool = False):
        """A job on the workspace's model; its result goes to ``on_done``, its failure to the status line."""
        ticket = self.engine.submit(key, fn, *args, quiet=quiet)
        ticket.done.connect(on_done)
        ticket.failed.connect(self._on_failed)
        return ticket

    def _on_setup(self, setup: jobs.Setup) -> None:
        handle = self.workspace.handle
        self.state = ls.LatentState(setup.prior, setup.a.z)
        self._configure_sliders()
        self.heading.setText(f"{handle.id}: {self.state.dim}-d latent ({handle.task})")
        self.manifold.set_effects(setup.effects)
        self.setEnabled(True)
        self._show(setup.a.image)
        self.interpolation.set_endpoint("a", *setup.a)
        self.interpolation.set_endpoint("b", *setup.b)
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
        self._submit(DECODE, self._on_decoded, jobs.decode, self.workspace.handle, np.array(z, np.float32),
                     quiet=True)

    def _decode_seed(self, seed: int) -> None:
        if self.state is not None:
            self._submit(DECODE, self._on_decoded, jobs.decode_seed, self.workspace.handle, seed, quiet=True)

    def random_sample(self) -> None:
        self.seed.setValue(int(np.random.default_rng().integers(0, ls.MAX_SEED)))

    def set_latent(self, z: np.ndarray) -> None:
        """Jump to latent ``z``: sliders follow and the view decodes it."""
        if self.state is not None:
            self.state.set_latent(z)
            self.sliders.set_values(self.state.slider_values())
            self._decode(self.state.z)

    def _on_decoded(self, decoded: jobs.Decoded) -> None:
        if self.state is None:
            return
        if not np.array_equal(decoded.z, self.state.z):
            self.state.set_latent(decoded.z)
            self.sliders.set_values(self.state.slider_values())
        self._show(decoded.image)

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
            self._submit(DIRECTIONS, self._use_directions, jobs.directions, self.workspace.handle,
                         min(DIRECTION_COUNT, self.state.dim))

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
        self._submit(MANIFOLD, pane.set_grid, jobs.manifold, self.workspace.handle, self.state.prior,
                     self.state.z.copy(), dx, dy, pane.grid_n.value(), pane.span.value())

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
            seed = int(np.random.default_rng().integers(0, ls.MAX_SEED))
            self._submit(ENDPOINT + slot, self._on_endpoint, jobs.decode_seed, self.workspace.handle, seed)

    def _on_endpoint(self, decoded: jobs.Decoded) -> None:
        slot = self.sender().key.removeprefix(ENDPOINT)
        self.interpolation.set_endpoint(slot, *decoded)
        self.build_path()

    def build_path(self) -> None:
        a, b = self.interpolation.endpoints["a"], self.interpolation.endpoints["b"]
        if self.state is None or a is None or b is None:
            return
        bar = self.interpolation
        self._submit(PATH, self._on_path, jobs.path, self.workspace.handle, self.state.prior, a, b,
                     bar.steps.value(), bar.mode.currentText())

    def _on_path(self, path: tuple[np.ndarray, np.ndarray]) -> None:
        self.interpolation.set_frames(*path)

    def _on_encoded(self, encoding: enc.Encoding) -> None:
        self.encoding = encoding
        self.interpolation.set_encoded_available(True)
        self.set_latent(encoding.z)

    # -- export --------------------------------------------------------------------------------------

    def current_result(self) -> ImageGrid | None:
        """What the open tab shows: the manifold grid, the interpolation frames, else the decoded latent."""
        if self.state is None:
            return None
        model, tab = self.workspace.handle.id, self.tabs.currentWidget()
        if tab is self.manifold and self.manifold.grid_view.grid() is not None:
            return self.manifold.grid_view.grid()
        if tab is self.interpolation and len(self.interpolation.frames):
            bar = self.interpolation
            return ls.interpolation_grid(model, bar.latents, bar.frames, bar.mode.currentText())
        image = self.view.image()
        return None if image is None else ls.decoded_grid(model, self.state.z, image)

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        """The open tab as a figure: the manifold grid, the interpolation strip or the scatter plots
        (the decoded latent while the tab has nothing yet)."""
        check_format(path)
        result = self.current_result()
        if result is None:
            raise ValueError("nothing to export: load a generator or autoencoder first")
        if self.tabs.currentWidget() is self.encoding_pane and self.encoding_pane.has_plots():
            return self.encoding_pane.scatter.export(path, scale)
        columns = len(result.tiles) if result.method == "latent-interpolation" else None
        return export_grid(result, path, scale, columns=columns)

    # -- messages ------------------------------------------------------------------------------------

    def _on_failed(self, text: str) -> None:
        key = getattr(self.sender(), "key", "latent")
        if key == SETUP:
            self.setEnabled(True)
        elif key == DIRECTIONS:
            self.directions_box.setChecked(False)
        self._say(f"{key}: {text}")

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text)
