"""The GAN lab's settings form, its Step / Run / Pause / Reset / Export buttons and the readout."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout, QLabel, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from workbench.core.ganlab import LOSS_LABELS, LabConfig

DISTRIBUTIONS = {"ring": "Ring of 8 Gaussians", "grid": "Grid of 25 Gaussians", "spiral": "Spiral",
                 "moons": "Two moons", "drawn": "Draw: click the plot"}


class LabControls(QWidget):
    settingsChanged = Signal()      # any setting that goes into the LabConfig

    def __init__(self, config: LabConfig = LabConfig(), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        c = config
        self.distribution = _combo(DISTRIBUTIONS, c.distribution)
        self.loss = _combo(LOSS_LABELS, c.loss)
        self.spectral = QCheckBox("on D")
        self.spectral.setChecked(c.spectral_norm)
        self.lr_d, self.lr_g = _lr_box(c.lr_d), _lr_box(c.lr_g)
        self.latent = _spin(1, 8, c.latent_dim)
        self.steps_per_frame = _spin(1, 500, 10)
        self.seed = _spin(0, 2**31 - 1, c.seed)
        self.clear_points = QPushButton("Clear drawn points")
        self.clear_points.setVisible(False)
        form = QFormLayout()
        for label, widget in [("Target", self.distribution), ("", self.clear_points), ("Loss", self.loss),
                              ("Spectral norm", self.spectral), ("D learning rate", self.lr_d),
                              ("G learning rate", self.lr_g), ("Latent dim", self.latent),
                              ("Steps per frame", self.steps_per_frame), ("Seed", self.seed)]:
            form.addRow(label, widget)
        self.step_button, self.run_button = QPushButton("Step"), QPushButton("Run")
        self.pause_button, self.reset_button = QPushButton("Pause"), QPushButton("Reset")
        self.export_button = QPushButton("Export…")
        self.step_button.setToolTip("One training step: a D update (5 critic updates for WGAN-GP), then a G update")
        buttons = QGridLayout()
        for i, b in enumerate([self.step_button, self.run_button, self.pause_button, self.reset_button]):
            buttons.addWidget(b, i // 2, i % 2)
        buttons.addWidget(self.export_button, 2, 0, 1, 2)
        self.readout = QLabel()
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self.readout.setFont(mono)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addLayout(buttons)
        column.addWidget(self.readout)
        column.addStretch(1)
        self.setMaximumWidth(320)

        for combo in (self.distribution, self.loss):
            combo.currentIndexChanged.connect(self.settingsChanged)
        self.spectral.toggled.connect(self.settingsChanged)
        for box in (self.lr_d, self.lr_g, self.latent, self.seed):
            box.valueChanged.connect(self.settingsChanged)
        self.distribution.currentIndexChanged.connect(
            lambda: self.clear_points.setVisible(self.distribution.currentData() == "drawn"))

    def config(self, base: LabConfig, points: tuple[tuple[float, float], ...]) -> LabConfig:
        """``base`` with the settings shown here and the drawn ``points``."""
        return base.replace(distribution=self.distribution.currentData(), points=points,
                            loss=self.loss.currentData(), spectral_norm=self.spectral.isChecked(),
                            lr_d=self.lr_d.value(), lr_g=self.lr_g.value(), latent_dim=self.latent.value(),
                            seed=self.seed.value())

    def set_running(self, running: bool) -> None:
        self.step_button.setEnabled(not running)
        self.run_button.setEnabled(not running)
        self.pause_button.setEnabled(running)


def _combo(choices: dict[str, str], current: str) -> QComboBox:
    combo = QComboBox()
    for value, label in choices.items():
        combo.addItem(label, value)
    combo.setCurrentIndex(list(choices).index(current))
    return combo


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    return box


def _lr_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(5)
    box.setRange(1e-5, 0.1)
    box.setSingleStep(1e-4)
    box.setValue(value)
    return box
