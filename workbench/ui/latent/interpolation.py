"""Interpolation between two latents: endpoints A and B, path and steps, a frame strip, a scrub
slider with Play, and export as GIF, MP4 or a figure strip.

The panel owns no model: it asks for endpoints and paths through signals and shows the frames
it is given (``set_frames``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGraphicsRectItem, QGridLayout, QHBoxLayout,
                               QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget)

from workbench.core.latent import animation
from workbench.core.latent.session import MODES, interpolation_grid
from workbench.figure import montage
from workbench.figure.render import export_grid
from workbench.ui.latent.pixel_view import PixelView

SLOTS = ("a", "b")
SOURCES = {"current": "Current", "random": "Random", "encoded": "Encoded"}
STRIP_GAP = 2
EXPORT_FILTER = ("Animated GIF (*.gif);;MPEG-4 video (*.mp4);;Figure strip, PNG (*.png);;"
                 "Figure strip, SVG (*.svg);;Figure strip, PDF (*.pdf)")


class InterpolationBar(QWidget):
    endpointRequested = Signal(str, str)    # slot ("a" or "b"), source (a key of SOURCES)
    pathChanged = Signal()                  # mode or steps changed: the frames need rebuilding
    frameShown = Signal(int)
    exported = Signal(str)                  # path written
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.endpoints: dict[str, np.ndarray | None] = {s: None for s in SLOTS}
        self.latents = np.zeros((0, 0), np.float32)
        self.frames = np.zeros((0, 1, 1), np.uint8)
        self._rects: list[tuple[int, int, int, int]] = []
        self.thumbs: dict[str, PixelView] = {}
        self.source_buttons: dict[tuple[str, str], QPushButton] = {}
        self.encoded_available = False

        ends = QGridLayout()
        for row, slot in enumerate(SLOTS):
            self.thumbs[slot] = PixelView(min_side=56)
            self.thumbs[slot].setFixedSize(64, 64)
            ends.addWidget(QLabel(slot.upper()), row, 0)
            ends.addWidget(self.thumbs[slot], row, 1)
            for col, (source, text) in enumerate(SOURCES.items(), start=2):
                button = QPushButton(text)
                button.setToolTip(f"Set {slot.upper()} to the {source} latent")
                button.clicked.connect(lambda _=False, s=slot, src=source: self.endpointRequested.emit(s, src))
                ends.addWidget(button, row, col)
                self.source_buttons[(slot, source)] = button
        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.mode.setToolTip("spherical keeps every frame at a typical distance from the prior's mean; "
                             "a straight line passes closer to it")
        self.steps = _spin(2, 256, 16)
        self.fps = _spin(1, 60, 12)
        form = QHBoxLayout()
        for text, widget in (("Path", self.mode), ("Steps", self.steps), ("Frames/s", self.fps)):
            form.addWidget(QLabel(text))
            form.addWidget(widget)
        form.addStretch(1)

        self.preview = PixelView(min_side=160)
        self.strip = PixelView(min_side=40)
        self.strip.setMaximumHeight(90)
        self.highlight = QGraphicsRectItem()
        pen = QPen(QColor(255, 200, 0))
        pen.setWidthF(2)
        pen.setCosmetic(True)
        self.highlight.setPen(pen)
        self.highlight.setZValue(10)
        self.strip.viewbox.addItem(self.highlight, ignoreBounds=True)
        self.strip.view.scene().sigMouseClicked.connect(self._on_strip_click)
        self.scrub = QSlider(Qt.Orientation.Horizontal)
        self.scrub.setRange(0, 0)
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.readout = QLabel()
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the interpolation as a GIF, an MP4, or a strip figure (PNG, SVG, PDF)")
        self.timer = QTimer(self)

        ends_row = QHBoxLayout()
        ends_row.addLayout(ends)
        ends_row.addStretch(1)
        top = QVBoxLayout()
        top.addLayout(ends_row)
        top.addLayout(form)
        controls = QHBoxLayout()
        controls.addWidget(self.play)
        controls.addWidget(self.scrub, 1)
        controls.addWidget(self.readout)
        controls.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.strip)
        layout.addLayout(controls)

        self.mode.currentTextChanged.connect(lambda _: self.pathChanged.emit())
        self.steps.valueChanged.connect(lambda _: self.pathChanged.emit())
        self.fps.valueChanged.connect(lambda fps: self.timer.setInterval(int(1000 / fps)))
        self.scrub.valueChanged.connect(self.show_frame)
        self.play.toggled.connect(self.set_playing)
        self.timer.setInterval(int(1000 / self.fps.value()))
        self.timer.timeout.connect(self._advance)
        self.export_button.clicked.connect(self.export_dialog)
        self.set_encoded_available(False)

    # -- endpoints and frames ------------------------------------------------------------------

    def set_endpoint(self, slot: str, z: np.ndarray, image: np.ndarray) -> None:
        self.endpoints[slot] = np.asarray(z, np.float32)
        self.thumbs[slot].set_image(image)

    def set_encoded_available(self, available: bool) -> None:
        self.encoded_available = available
        for slot in SLOTS:
            button = self.source_buttons[(slot, "encoded")]
            button.setEnabled(available)
            button.setToolTip(f"Set {slot.upper()} to the latent of the last encoded image" if available
                              else "Encode an image first (autoencoders only)")

    def set_frames(self, latents: np.ndarray, frames: np.ndarray) -> None:
        self.latents, self.frames = latents, frames
        tiles = [np.repeat(f[..., None], 3, axis=2) if f.ndim == 2 else f for f in frames]
        strip, self._rects = montage.montage(tiles, columns=len(tiles), gap=STRIP_GAP, min_side=1)
        self.strip.set_image(strip)
        self.scrub.blockSignals(True)
        self.scrub.setRange(0, len(frames) - 1)
        self.scrub.setValue(min(self.scrub.value(), len(frames) - 1))
        self.scrub.blockSignals(False)
        self.show_frame(self.scrub.value())

    def show_frame(self, index: int) -> None:
        if not len(self.frames):
            return
        self.preview.set_image(self.frames[index])
        x, y, w, h = self._rects[index]
        self.highlight.setRect(x - 0.5, y - 0.5, w + 1, h + 1)
        t = index / max(1, len(self.frames) - 1)
        self.readout.setText(f"frame {index + 1}/{len(self.frames)}, t = {t:.2f}")
        self.frameShown.emit(index)

    def frame_index(self) -> int:
        return self.scrub.value()

    # -- playback --------------------------------------------------------------------------------

    def set_playing(self, playing: bool) -> None:
        if playing and len(self.frames) > 1:
            self.timer.start()
        else:
            self.timer.stop()
        self.play.blockSignals(True)
        self.play.setChecked(self.timer.isActive())
        self.play.setText("Pause" if self.timer.isActive() else "Play")
        self.play.blockSignals(False)

    def _advance(self) -> None:
        self.scrub.setValue((self.scrub.value() + 1) % len(self.frames))

    def _on_strip_click(self, ev) -> None:
        pos = self.strip.image_item.mapFromScene(ev.scenePos())
        index = montage.tile_at(self._rects, pos.x(), pos.y())
        if index is not None:
            self.scrub.setValue(index)

    # -- export ------------------------------------------------------------------------------------

    def export(self, path: str | Path, scale: float = 1.0, model: str = "") -> Path:
        """GIF or MP4 by the suffix, else a strip figure (PNG at ``scale``, SVG or PDF) with one
        panel per frame."""
        if not len(self.frames):
            raise ValueError("nothing to export yet: no interpolation frames")
        path = Path(path)
        if path.suffix.lower() in animation.FORMATS:
            return animation.write_animation(self.frames, path, self.fps.value())
        grid = interpolation_grid(model, self.latents, self.frames, self.mode.currentText())
        return export_grid(grid, path, scale, columns=len(self.frames))

    def export_dialog(self) -> None:
        if not len(self.frames):
            self.message.emit("Nothing to export yet: build an interpolation first")
            return
        path, chosen = QFileDialog.getSaveFileName(self, "Export Interpolation", "interpolation.gif", EXPORT_FILTER)
        if not path:
            return
        if not Path(path).suffix:
            path += "." + chosen.split("*.")[1].rstrip(")")
        try:
            written = self.export(path)
        except (OSError, ValueError) as e:
            self.message.emit(f"Could not export the interpolation: {e}")
            return
        self.message.emit(f"Saved {written}")
        self.exported.emit(str(written))


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    return box
