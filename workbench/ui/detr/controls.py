"""The DETR tab's settings: the decoder layer, the head (their mean or one, and whether to show
every head beneath), the object threshold and whether "no object" queries are drawn. None of
them runs the model again: each picks another view of the weights already read."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QSpinBox, QVBoxLayout, QWidget)

from workbench.ui.detr.views import MEAN

DEFAULT_THRESHOLD = 0.7


class DetrControls(QWidget):
    viewChanged = Signal()         # any setting: the picture is drawn again from the same result

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer_slider = QSlider(Qt.Orientation.Horizontal)
        self.layer_slider.setMinimumWidth(80)
        self.layer_slider.setMaximumWidth(160)
        self.layer_spin = QSpinBox()
        self.layer_label = QLabel("Decoder layer")
        for w in (self.layer_slider, self.layer_spin):
            w.setToolTip("The decoder layer whose boxes, classes and cross-attention are shown (0 is the "
                         "first); the encoder layer for a clicked token")
        self.head_box = QComboBox()
        self.head_box.setToolTip("The mean of the attention heads, or one head")
        self.heads_grid = QCheckBox("All heads")
        self.heads_grid.setChecked(True)
        self.heads_grid.setToolTip("Show the map once per head beneath (click one to pick that head)")
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.0, 1.0)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setValue(DEFAULT_THRESHOLD)
        self.threshold_spin.setToolTip("A query whose best class scores below this predicts no object")
        self.show_empty = QCheckBox("Show \"no object\" queries")
        self.show_empty.setChecked(True)
        self.show_empty.setToolTip("Draw the queries that predict no object, faded and dashed")
        self.back_button = QPushButton("Back to queries")
        self.back_button.setToolTip("Leave the encoder token and show the selected query's cross-attention again")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the per-query figure (.png, .svg, .pdf)")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the per-query figure to the clipboard")
        self.set_shape(1, 0)

        first = QHBoxLayout()
        first.setContentsMargins(0, 0, 0, 0)
        for w in (self.layer_label, self.layer_slider, self.layer_spin, QLabel("Head"), self.head_box,
                  self.heads_grid):
            first.addWidget(w)
        first.addStretch(1)
        first.addWidget(self.export_button)
        first.addWidget(self.copy_button)
        second = QHBoxLayout()
        second.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel("Object threshold"), self.threshold_spin, self.show_empty):
            second.addWidget(w)
        second.addStretch(1)
        second.addWidget(self.back_button)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addLayout(first)
        rows.addLayout(second)

        self.layer_slider.valueChanged.connect(self._on_layer)
        self.layer_spin.valueChanged.connect(self._on_layer)
        self.head_box.currentIndexChanged.connect(self._changed)
        self.heads_grid.toggled.connect(self._changed)
        self.threshold_spin.valueChanged.connect(self._changed)
        self.show_empty.toggled.connect(self._changed)

    # --- reading ----------------------------------------------------------------------
    def layer(self) -> int:
        return self.layer_spin.value()

    def head(self) -> int:
        """MEAN or a head's index."""
        data = self.head_box.currentData()
        return MEAN if data is None else int(data)

    def threshold(self) -> float:
        return round(self.threshold_spin.value(), 4)

    def shows_heads(self) -> bool:
        return self.heads_grid.isChecked()

    def shows_empty(self) -> bool:
        return self.show_empty.isChecked()

    # --- setting ----------------------------------------------------------------------
    def set_layer(self, layer: int) -> None:
        if not 0 <= layer <= self.layer_spin.maximum():
            raise ValueError(f"layer {layer}: the decoder has layers 0-{self.layer_spin.maximum()}")
        self.layer_spin.setValue(layer)

    def set_head(self, head: int) -> None:
        index = self.head_box.findData(head)
        if index < 0:
            raise ValueError(f"head {head}: the attention has {self.head_box.count() - 1} heads (-1: their mean)")
        self.head_box.setCurrentIndex(index)

    def follow_focus(self, token: bool) -> None:
        """Name the layer control for what it picks: a decoder layer, or for a token an encoder layer."""
        self.layer_label.setText("Encoder layer" if token else "Decoder layer")
        self.back_button.setEnabled(token)

    def set_threshold(self, value: float) -> None:
        self.threshold_spin.setValue(value)

    def set_shape(self, layers: int, heads: int, layer: int | None = None) -> None:
        """Offer ``layers`` decoder layers and ``heads`` heads, keeping the choices that still exist (quietly)."""
        head = self.head()
        widgets = (self.layer_slider, self.layer_spin, self.head_box)
        for w in widgets:
            w.blockSignals(True)
        try:
            for w in (self.layer_slider, self.layer_spin):
                w.setRange(0, max(0, layers - 1))
                if layer is not None:
                    w.setValue(layer)
            self.head_box.clear()
            self.head_box.addItem("mean of heads", MEAN)
            for i in range(heads):
                self.head_box.addItem(f"head {i}", i)
            self.head_box.setCurrentIndex(max(0, self.head_box.findData(head if head < heads else MEAN)))
        finally:
            for w in widgets:
                w.blockSignals(False)

    def _on_layer(self, value: int) -> None:
        for w in (self.layer_slider, self.layer_spin):
            if w.value() != value:
                w.blockSignals(True)
                w.setValue(value)
                w.blockSignals(False)
        self.viewChanged.emit()

    def _changed(self, *_: object) -> None:
        self.viewChanged.emit()
