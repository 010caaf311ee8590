"""The GAN lab's settings form, its Step / Run / Pause / Reset / Export buttons and the readout."""
from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout, QLabel, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from workbench.core.ganlab import LOSS_LABELS, LabConfig
from workbench.core.ganlab.presets import PRESETS, default_spectral_norm, warnings

DISTRIBUTIONS = {"ring": "Ring of 8 Gaussians", "grid": "Grid of 25 Gaussians", "spiral": "Spiral",
                 "moons": "Two moons", "drawn": "Draw: click the plot"}
# data units of arrow per unit of gradient norm; "" rescales every frame
ARROW_SCALES = {"0.03": "fixed: 0.03 per unit", "0.3": "fixed: 0.3 per unit", "3": "fixed: 3 per unit",
                "30": "fixed: 30 per unit", "": "rescaled per frame"}
NO_PRESET = ""


class LabControls(QWidget):
    settingsChanged = Signal()      # any setting that goes into the LabConfig
    presetChosen = Signal(str)      # a preset's name: its settings are shown here already
    arrowScaleChanged = Signal(object)   # float, or None for a scale per frame
    surfaceChanged = Signal(bool)        # True: show the optimal discriminator D* instead of D

    def __init__(self, config: LabConfig = LabConfig(), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        c = config
        self.preset = _combo({NO_PRESET: "(choose a scenario)"} | {k: p.title for k, p in PRESETS.items()}, NO_PRESET)
        # sized to a short title, not the longest one: the column is narrow
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset.setMinimumContentsLength(12)
        self.preset_text = _wrapped()
        self.preset_text.setStyleSheet("color: #404040;")
        self.warning = _wrapped()
        self.warning.setStyleSheet("color: #b00000;")
        self.warning.setObjectName("ganLabWarning")
        self.arrow_scale = _combo(ARROW_SCALES, "3")
        self.surface = _combo({"learned": "learned D", "optimal": "optimal D*"}, "learned")
        self.surface.setToolTip("The optimal discriminator D*(x) = p_r / (p_r + p_g) from the density estimates")
        self.distribution = _combo(DISTRIBUTIONS, c.distribution)
        self.loss = _combo(LOSS_LABELS, c.loss)
        self.spectral = QCheckBox("on D")
        self.spectral.setChecked(c.spectral_norm)
        # EBGAN's own settings, shown while EBGAN is the loss
        self.margin = QDoubleSpinBox()
        self.margin.setDecimals(2)
        self.margin.setRange(0.05, 20.0)
        self.margin.setSingleStep(0.25)
        self.margin.setValue(c.margin)
        self.margin.setToolTip("EBGAN's margin m: D pushes generated points' energy up to m, no further")
        self.pull_away = QCheckBox("on G")
        self.pull_away.setChecked(c.pull_away)
        self.pull_away.setToolTip("EBGAN's pulling-away term: G's loss also penalises the squared cosine "
                                  "similarity between the encoder's codes of its samples (weight 0.1)")
        self.lr_d, self.lr_g = _lr_box(c.lr_d), _lr_box(c.lr_g)
        self.latent = _spin(1, 8, c.latent_dim)
        self.steps_per_frame = _spin(1, 500, 10)
        self.seed = _spin(0, 2**31 - 1, c.seed)
        self.clear_points = QPushButton("Clear drawn points")
        self.clear_points.setVisible(False)
        form = QFormLayout()
        for label, widget in [("Preset", self.preset), ("Target", self.distribution), ("", self.clear_points), ("Loss", self.loss),
                              ("EBGAN margin", self.margin), ("Pulling-away", self.pull_away),
                              ("Spectral norm", self.spectral), ("D learning rate", self.lr_d),
                              ("G learning rate", self.lr_g), ("Latent dim", self.latent),
                              ("Steps per frame", self.steps_per_frame), ("Seed", self.seed),
                              ("Arrows", self.arrow_scale), ("Surface", self.surface)]:
            form.addRow(label, widget)
        self.form = form
        self._show_ebgan_rows(c.loss)
        self.step_button, self.run_button = QPushButton("Step"), QPushButton("Run")
        self.pause_button, self.reset_button = QPushButton("Pause"), QPushButton("Reset")
        self.export_button = QPushButton("Export…")
        self.step_button.setToolTip("One training step: a D update (5 critic updates for the WGANs), then a G update")
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
        column.addWidget(self.preset_text)
        column.addWidget(self.warning)
        column.addLayout(buttons)
        column.addWidget(self.readout)
        column.addStretch(1)
        self.setMaximumWidth(320)

        self.distribution.currentIndexChanged.connect(self.settingsChanged)
        self.loss.currentIndexChanged.connect(self._loss_changed)
        self.preset.activated.connect(lambda: self.choose_preset(self.preset.currentData()))
        self.surface.currentIndexChanged.connect(
            lambda: self.surfaceChanged.emit(self.surface.currentData() == "optimal"))
        self.arrow_scale.currentIndexChanged.connect(
            lambda: self.arrowScaleChanged.emit(float(self.arrow_scale.currentData() or 0) or None))
        self.spectral.toggled.connect(self.settingsChanged)
        self.pull_away.toggled.connect(self.settingsChanged)
        for box in (self.lr_d, self.lr_g, self.latent, self.seed, self.margin):
            box.valueChanged.connect(self.settingsChanged)
        self.distribution.currentIndexChanged.connect(
            lambda: self.clear_points.setVisible(self.distribution.currentData() == "drawn"))

    def _loss_changed(self) -> None:
        """Each loss starts from the spectral-norm setting known to train with it (see presets)."""
        with QSignalBlocker(self.spectral):
            self.spectral.setChecked(default_spectral_norm(self.loss.currentData()))
        self._show_ebgan_rows(self.loss.currentData())
        self.settingsChanged.emit()

    def _show_ebgan_rows(self, loss: str) -> None:
        for widget in (self.margin, self.pull_away):
            self.form.setRowVisible(widget, loss == "ebgan")

    def choose_preset(self, name: str) -> None:
        """Show a preset's settings and description, then announce it (the panel resets and runs)."""
        if name not in PRESETS:
            return
        p = PRESETS[name]
        self.show_config(p.config)
        with QSignalBlocker(self.preset):
            self.preset.setCurrentIndex(self.preset.findData(name))
        _set_note(self.preset_text, f"{p.description} ({p.steps} steps)")
        self.presetChosen.emit(name)

    def show_config(self, c: LabConfig) -> None:
        """Set every widget to ``c`` without announcing each change."""
        widgets = (self.distribution, self.loss, self.spectral, self.lr_d, self.lr_g, self.latent, self.seed,
                   self.margin, self.pull_away)
        blockers = [QSignalBlocker(w) for w in widgets]
        self.distribution.setCurrentIndex(self.distribution.findData(c.distribution))
        self.loss.setCurrentIndex(self.loss.findData(c.loss))
        self.spectral.setChecked(c.spectral_norm)
        self.lr_d.setValue(c.lr_d)
        self.lr_g.setValue(c.lr_g)
        self.latent.setValue(c.latent_dim)
        self.seed.setValue(c.seed)
        self.margin.setValue(c.margin)
        self.pull_away.setChecked(c.pull_away)
        del blockers
        self._show_ebgan_rows(c.loss)
        self.clear_points.setVisible(c.distribution == "drawn")

    def show_warnings(self, config: LabConfig) -> None:
        text = "\n".join(f"⚠ {w}" for w in warnings(config))
        _set_note(self.warning, text)

    def config(self, base: LabConfig, points: tuple[tuple[float, float], ...]) -> LabConfig:
        """``base`` with the settings shown here and the drawn ``points``."""
        return base.replace(distribution=self.distribution.currentData(), points=points,
                            loss=self.loss.currentData(), spectral_norm=self.spectral.isChecked(),
                            lr_d=self.lr_d.value(), lr_g=self.lr_g.value(), latent_dim=self.latent.value(),
                            seed=self.seed.value(), margin=self.margin.value(), pull_away=self.pull_away.isChecked())

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


NOTE_WIDTH = 300      # the controls column's width less its margins


def _wrapped() -> QLabel:
    """A word-wrapped note whose height is set from its text (see _set_note): a label that is
    height-for-width would make the lab's scroll area size the whole tab to its plots' preferred
    height and push the plots off the window."""
    label = QLabel()
    label.setWordWrap(True)
    policy = label.sizePolicy()
    policy.setHeightForWidth(False)
    label.setSizePolicy(policy)
    label.setVisible(False)
    return label


def _set_note(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setFixedHeight(label.heightForWidth(NOTE_WIDTH) if text else 0)
    label.setVisible(bool(text))


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
