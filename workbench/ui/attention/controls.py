"""The Attention tab's settings: the mode, and for each mode what it reads.

Attention: the layer (slider and box) and the head ("all heads (grid)", their mean, or one).
Rollout: how heads are fused, the share of weakest attention discarded, and whether heads are
weighted by the gradient for the workspace's target. Positional similarity needs nothing but a
patch, picked on the image.
"""
from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QSpinBox, QStackedWidget, QWidget)

ATTENTION, ROLLOUT, POSITIONAL = "attention", "rollout", "positional-similarity"
MODES = {ATTENTION: "Attention", ROLLOUT: "Rollout", POSITIONAL: "Positional similarity"}
GRID, MEAN = -2, -1          # head choices besides a head's index
FUSIONS = ("mean", "min", "max")


def _row(*widgets: QWidget, stretch: bool = True) -> QWidget:
    page = QWidget()
    row = QHBoxLayout(page)
    row.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        row.addWidget(w)
    if stretch:
        row.addStretch(1)
    return page


class AttentionControls(QWidget):
    modeChanged = Signal(str)
    viewChanged = Signal()         # layer or head: another view of weights already read
    rolloutChanged = Signal()      # a rollout setting: the rollout is computed again

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode_box = QComboBox()
        for mode, label in MODES.items():
            self.mode_box.addItem(label, mode)
        self.mode_box.setToolTip("What to read from the transformer")

        self.layer_slider = QSlider(Qt.Orientation.Horizontal)
        self.layer_slider.setMinimumWidth(120)
        self.layer_spin = QSpinBox()
        self.layer_slider.setToolTip("The attention layer (0 is the first)")
        self.head_box = QComboBox()
        self.head_box.setToolTip("One head on the image, their mean, or every layer's heads as a grid")
        self.set_shape(1, 0)
        attention = _row(QLabel("Layer"), self.layer_slider, self.layer_spin, QLabel("Head"), self.head_box)

        self.fusion_box = QComboBox()
        self.fusion_box.addItems(FUSIONS)
        self.fusion_box.setToolTip("How each layer's heads become one matrix")
        self.discard_spin = QDoubleSpinBox()
        self.discard_spin.setRange(0.0, 0.99)
        self.discard_spin.setSingleStep(0.05)
        self.discard_spin.setValue(0.9)
        self.discard_spin.setToolTip("Share of each layer's weakest attention set to zero before the rollout")
        self.gradient_box = QCheckBox("Gradient-weighted")
        self.gradient_box.setToolTip("Weight each head by relu(gradient x attention) for the target class")
        self.target_label = QLabel()
        rollout = _row(QLabel("Head fusion"), self.fusion_box, QLabel("Discard"), self.discard_spin,
                       self.gradient_box, self.target_label)
        positional = _row(QLabel("How alike the learned position embeddings are: click a patch"))

        self.pages = QStackedWidget()
        for page in (attention, rollout, positional):
            self.pages.addWidget(page)
        self.export_button = QPushButton("Export…")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.mode_box)
        row.addWidget(self.pages, 1)
        row.addWidget(self.export_button)

        self.mode_box.currentIndexChanged.connect(self._on_mode)
        self.layer_slider.valueChanged.connect(self._on_layer)
        self.layer_spin.valueChanged.connect(self._on_layer)
        self.head_box.currentIndexChanged.connect(lambda _: self.viewChanged.emit())
        self.fusion_box.currentIndexChanged.connect(lambda _: self.rolloutChanged.emit())
        self.discard_spin.valueChanged.connect(lambda _: self.rolloutChanged.emit())
        self.gradient_box.toggled.connect(lambda _: self.rolloutChanged.emit())

    # --- reading ----------------------------------------------------------------------
    def mode(self) -> str:
        return self.mode_box.currentData()

    def layer(self) -> int:
        return self.layer_spin.value()

    def head(self) -> int:
        """GRID, MEAN, or a head's index."""
        return self.head_box.currentData()

    def rollout_values(self) -> dict:
        return {"head_fusion": self.fusion_box.currentText(), "discard_ratio": round(self.discard_spin.value(), 4),
                "gradient": self.gradient_box.isChecked()}

    def settings(self, mode: str, target: int | None) -> tuple:
        """What a mode's result depends on beyond the model and image: a change runs it again."""
        if mode != ROLLOUT:
            return ()
        values = self.rollout_values()
        return (*values.values(), target if values["gradient"] else None)

    def method_values(self, mode: str, patch: int | None, layers_known: bool) -> dict:
        """The parameters a mode's method runs with; ``patch``: the picked patch (None: CLS, or the
        centre); ``layers_known``: the layer box holds one of the model's layers (else: the last)."""
        if mode == ROLLOUT:
            return self.rollout_values()
        if mode == POSITIONAL:
            return {"patch": "centre" if patch is None else str(patch)}
        head = self.head()
        return {"layer": self.layer() if layers_known else -1, "head": max(0, head),
                "query": "cls" if patch is None else str(patch)}

    # --- setting ----------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; modes: {', '.join(MODES)}")
        self.mode_box.setCurrentIndex(list(MODES).index(mode))

    def set_layer(self, layer: int) -> None:
        self.layer_spin.setValue(layer)

    def set_head(self, head: int) -> None:
        index = self.head_box.findData(head)
        if index < 0:
            raise ValueError(f"head {head}: the layers have {self.head_box.count() - 2} heads")
        self.head_box.setCurrentIndex(index)

    def set_shape(self, layers: int, heads: int, layer: int | None = None) -> None:
        """Offer ``layers`` layers and ``heads`` heads, keeping the choices that still exist (quietly)."""
        head = self.head_box.currentData() if self.head_box.count() else MEAN
        for w in (self.layer_slider, self.layer_spin, self.head_box):
            w.blockSignals(True)
        try:
            for w in (self.layer_slider, self.layer_spin):
                w.setRange(0, max(0, layers - 1))
            if layer is not None:
                self.layer_slider.setValue(layer)
                self.layer_spin.setValue(layer)
            self.head_box.clear()
            self.head_box.addItem("all heads (grid)", GRID)
            self.head_box.addItem("mean of heads", MEAN)
            for i in range(heads):
                self.head_box.addItem(f"head {i}", i)
            self.head_box.setCurrentIndex(max(0, self.head_box.findData(head if head < heads else MEAN)))
        finally:
            for w in (self.layer_slider, self.layer_spin, self.head_box):
                w.blockSignals(False)

    def follow_registry(self, registry: Any) -> None:
        """Offer the head fusions the registered rollout method takes."""
        if registry is not None and ROLLOUT in registry:
            spec = next((s for s in registry.get(ROLLOUT).param_specs() if s.name == "head_fusion"), None)
            if spec is not None and isinstance(spec.choices, (list, tuple)):
                self.set_fusions(spec.choices)

    def set_fusions(self, choices: Sequence[str]) -> None:
        if list(choices) == [self.fusion_box.itemText(i) for i in range(self.fusion_box.count())]:
            return
        current = self.fusion_box.currentText()
        self.fusion_box.blockSignals(True)
        self.fusion_box.clear()
        self.fusion_box.addItems([str(c) for c in choices])
        self.fusion_box.setCurrentIndex(max(0, self.fusion_box.findText(current)))
        self.fusion_box.blockSignals(False)

    def _on_mode(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.modeChanged.emit(self.mode())

    def _on_layer(self, value: int) -> None:
        if self.layer_slider.value() != value or self.layer_spin.value() != value:
            for w in (self.layer_slider, self.layer_spin):
                w.blockSignals(True)
                w.setValue(value)
                w.blockSignals(False)
        self.viewChanged.emit()
