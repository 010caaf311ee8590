"""The Inpaint tab's controls: the mask (paint it on the image, a centred hole, load, clear), the two
fillers (a generator for the latent optimisation, a context encoder) and the optimisation's settings.
``values()`` gives the ``inpaint`` method's parameters shared by both fills."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from workbench.ui.live_controls import LiveControls, double_spin, int_spin

GENERATORS = ("zoo:digits-dcgan", "zoo:digits-sngan")
ENCODERS = ("zoo:digits-inpaint",)


def _models(ids: tuple[str, ...], tip: str) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    box.addItems(list(ids))
    box.setToolTip(tip)
    return box


class InpaintControls(LiveControls):
    paintRequested = Signal()
    centreRequested = Signal()
    loadRequested = Signal()
    clearRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("inpaintRunButton", parent)
        self.mask_label = QLabel()
        self.mask_label.setWordWrap(True)
        self.paint_button = QPushButton("Paint on image")
        self.paint_button.setObjectName("inpaintPaintButton")
        self.paint_button.setToolTip("Switch to the Image tab with the mask brush on (left drag paints, right erases)")
        self.centre_button = QPushButton("Centre hole")
        self.centre_button.setToolTip("A centred square hole 12/32 of the image (the 12x12 hole of a 32x32 digit)")
        self.load_button, self.clear_button = QPushButton("Load…"), QPushButton("Clear")
        self.load_button.setToolTip("Open a mask PNG, white = hole")

        self.generator = _models(GENERATORS, "The generator whose latent z is optimised (a model id)")
        self.steps = int_spin(1, 10000, 300, 50, "Optimisation steps (Adam on z)")
        self.restarts = int_spin(1, 256, 8, 1, "Random starts optimised together; the lowest total loss is kept")
        self.prior_weight = double_spin(0.0, 100.0, 0.03, 0.01, 3, "lambda on the prior loss ||z||^2 / (2 d)")
        self.weighted = QCheckBox("Weight context by the hole")
        self.weighted.setChecked(True)
        self.weighted.setToolTip("Yeh et al.: a known pixel counts by the share of its 7x7 window in the hole")
        self.loss = QComboBox()
        self.loss.addItems(["l1", "l2"])
        self.loss.setToolTip("The context loss on the known pixels")
        self.lr = double_spin(0.0001, 10.0, 0.05, 0.01, 4, "Adam's learning rate on z")
        self.blend = QComboBox()
        self.blend.addItems(["paste", "poisson"])
        self.blend.setToolTip("Paste the fill into the hole, or keep its gradients only (Poisson blending)")
        self.preview_every = int_spin(1, 1000, 10, 1, "Show the optimisation every this many steps")
        self.seed = int_spin(0, 2 ** 31 - 1, 0, 1, "Seed of the random starts")
        self.encoder = _models(ENCODERS, "The context encoder (a model id)")

        mask_box = QGroupBox("Mask")
        mask_layout = QVBoxLayout(mask_box)
        mask_layout.addWidget(self.mask_label)
        for row in ((self.paint_button, self.centre_button), (self.load_button, self.clear_button)):
            line = QHBoxLayout()
            for b in row:
                line.addWidget(b)
            mask_layout.addLayout(line)
        latent_box = QGroupBox("Latent optimisation")
        form = QFormLayout(latent_box)
        form.addRow("Generator", self.generator)
        form.addRow("Steps", self.steps)
        form.addRow("Restarts", self.restarts)
        form.addRow("Prior weight", self.prior_weight)
        form.addRow(self.weighted)
        form.addRow("Context loss", self.loss)
        form.addRow("Learning rate", self.lr)
        form.addRow("Preview every", self.preview_every)
        form.addRow("Seed", self.seed)
        encoder_box = QGroupBox("Context encoder")
        QFormLayout(encoder_box).addRow("Model", self.encoder)
        both = QFormLayout()
        both.addRow("Blend", self.blend)
        self.lay_out(mask_box, latent_box, encoder_box, both)

        self.paint_button.clicked.connect(self.paintRequested.emit)
        self.centre_button.clicked.connect(self.centreRequested.emit)
        self.load_button.clicked.connect(self.loadRequested.emit)
        self.clear_button.clicked.connect(self.clearRequested.emit)

    def values(self) -> dict[str, Any]:
        return {"steps": self.steps.value(), "restarts": self.restarts.value(),
                "prior_weight": self.prior_weight.value(), "weighted": self.weighted.isChecked(),
                "loss": self.loss.currentText(), "lr": self.lr.value(), "blend": self.blend.currentText(),
                "preview_every": self.preview_every.value(), "seed": self.seed.value()}

    def set_values(self, values: dict[str, Any]) -> None:
        spins = {"steps": self.steps, "restarts": self.restarts, "prior_weight": self.prior_weight, "lr": self.lr,
                 "preview_every": self.preview_every, "seed": self.seed}
        combos = {"loss": self.loss, "blend": self.blend, "generator": self.generator, "encoder": self.encoder}
        for key, value in values.items():
            if key in spins:
                spins[key].setValue(value)
            elif key in combos:
                combos[key].setCurrentText(str(value))
            elif key == "weighted":
                self.weighted.setChecked(bool(value))
            else:
                raise KeyError(f"unknown inpainting setting {key!r}")

    def generator_id(self) -> str:
        return self.generator.currentText().strip()

    def encoder_id(self) -> str:
        return self.encoder.currentText().strip()

    def set_mask_text(self, text: str, has_mask: bool) -> None:
        self.mask_label.setText(text)
        self.clear_button.setEnabled(has_mask)
