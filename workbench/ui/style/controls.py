"""The Style tab's controls: the extractor, the style image (bundled or a file), the mode, the
layers and weights, and the run's length. ``values()`` gives the ``style`` method's parameters."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from workbench.core.style.images import load_style, style_names
from workbench.ui.image_io import DIALOG_FILTER
from workbench.ui.live_controls import LiveControls, double_spin, int_spin

MODES = {"transfer": "Style transfer", "texture": "Texture synthesis"}
THUMB = 72


class StyleControls(LiveControls):
    extractorChanged = Signal(str)
    styleChanged = Signal(str)
    openContent = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("styleRunButton", parent)
        self.extractor = QComboBox()
        self.extractor.setEditable(True)
        self.extractor.setToolTip("The network whose Gram matrices define style: a model id (zoo:, torchvision:, "
                                  "file:); the first is the default (README, Style transfer)")
        self.style_box = QComboBox()
        for name in style_names():
            self.style_box.addItem(name, name)
        self.style_box.setToolTip("A bundled style, or an image file opened with Open…")
        self.style_open = QPushButton("Open…")
        self.style_thumb = QLabel()
        self.style_thumb.setFixedSize(THUMB, THUMB)
        self.style_thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.content_label = QLabel()
        self.content_label.setToolTip("The content is the workspace's image")
        self.content_open = QPushButton("Open…")
        self.content_open.setToolTip("Open another image as the workspace's image (the content)")
        self.mode_box = QComboBox()
        for key, text in MODES.items():
            self.mode_box.addItem(text, key)
        self.mode_box.setToolTip("Style transfer: the content image in the style's texture; texture synthesis: "
                                 "the style alone, grown from noise")
        for box in (self.extractor, self.style_box, self.mode_box):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(10)
        self.layers = QLineEdit()
        self.layers.setToolTip("Style layers and their weights, layer:weight, ... (a layer's last name part will "
                               "do: relu1:1, relu2:0.5); empty: the extractor's defaults, shown greyed")
        self.content_layer = QLineEdit()
        self.content_layer.setToolTip("The layer whose features keep the content; empty: the default, shown greyed")
        self.content_weight = double_spin(0.0, 1e6, 1.0, 0.1, 2,
                                          "Weight of the content loss (relative: 1 = as far as zero)")
        self.style_weight = double_spin(0.0, 1e6, 20.0, 1.0, 1,
                                        "Weight of the Gram (style) loss (relative, like content)")
        self.tv_weight = double_spin(0.0, 10.0, 0.0005, 0.0001, 4,
                                     "Weight of total variation: smooths neighbouring pixels")
        self.steps = int_spin(1, 10000, 300, 10, "Optimisation steps (Adam)")
        self.size = int_spin(16, 1024, 256, 16, "The long side of the result, in pixels (the content is resized)")
        self.preview_every = int_spin(1, 1000, 10, 1, "Show the image every this many steps")

        style_row = QHBoxLayout()
        style_row.addWidget(self.style_box, 1)
        style_row.addWidget(self.style_open)
        content_row = QHBoxLayout()
        content_row.addWidget(self.content_label, 1)
        content_row.addWidget(self.content_open)
        form = QFormLayout()
        form.addRow("Extractor", self.extractor)
        form.addRow("Style", style_row)
        form.addRow("", self.style_thumb)
        form.addRow("Content", content_row)
        form.addRow("Mode", self.mode_box)
        form.addRow("Style layers", self.layers)
        form.addRow("Content layer", self.content_layer)
        form.addRow("Content weight", self.content_weight)
        form.addRow("Style weight", self.style_weight)
        form.addRow("TV weight", self.tv_weight)
        form.addRow("Steps", self.steps)
        form.addRow("Size", self.size)
        form.addRow("Preview every", self.preview_every)
        self.lay_out(form)

        self.style_open.clicked.connect(self._open_style)
        self.content_open.clicked.connect(self.openContent.emit)
        self.style_box.currentIndexChanged.connect(lambda _i: self._on_style())
        self.extractor.activated.connect(lambda _i: self.extractorChanged.emit(self.extractor_id()))
        self.extractor.lineEdit().editingFinished.connect(lambda: self.extractorChanged.emit(self.extractor_id()))
        self.mode_box.currentIndexChanged.connect(lambda _i: self._on_mode())
        self._on_style()
        self._on_mode()

    # --- reading ----------------------------------------------------------------------
    def extractor_id(self) -> str:
        return self.extractor.currentText().strip()

    def style(self) -> str:
        return str(self.style_box.currentData() or "")

    def mode(self) -> str:
        return str(self.mode_box.currentData())

    def values(self) -> dict[str, Any]:
        return {"style": self.style(), "mode": self.mode(), "style_layers": self.layers.text().strip(),
                "content_layer": self.content_layer.text().strip(),
                "content_weight": self.content_weight.value(), "style_weight": self.style_weight.value(),
                "tv_weight": self.tv_weight.value(), "steps": self.steps.value(), "size": self.size.value(),
                "preview_every": self.preview_every.value()}

    # --- writing ----------------------------------------------------------------------
    def set_values(self, values: dict[str, Any]) -> None:
        boxes = {"content_weight": self.content_weight, "style_weight": self.style_weight,
                 "tv_weight": self.tv_weight, "steps": self.steps, "size": self.size,
                 "preview_every": self.preview_every}
        for key, value in values.items():
            if key in boxes:
                boxes[key].setValue(value)
            elif key == "style":
                self.set_style(str(value))
            elif key == "mode":
                self.mode_box.setCurrentIndex(self.mode_box.findData(value))
            elif key == "style_layers":
                self.layers.setText(str(value))
            elif key == "content_layer":
                self.content_layer.setText(str(value))
            else:
                raise KeyError(f"unknown style setting {key!r}")

    def set_style(self, style: str) -> None:
        """Choose a bundled style by name, or an image file by path (added to the list)."""
        index = self.style_box.findData(style)
        if index < 0:
            self.style_box.addItem(Path(style).name, style)
            index = self.style_box.count() - 1
        self.style_box.setCurrentIndex(index)

    def set_extractors(self, ids: list[str]) -> None:
        current = self.extractor_id()
        self.extractor.blockSignals(True)
        self.extractor.clear()
        self.extractor.addItems(ids)
        if current and current not in ids:
            self.extractor.addItem(current)
        self.extractor.setCurrentText(current or (ids[0] if ids else ""))
        self.extractor.blockSignals(False)

    def set_defaults(self, style_layers: str, content_layer: str) -> None:
        """The extractor's default layers, shown greyed in the empty fields."""
        self.layers.setPlaceholderText(style_layers)
        self.content_layer.setPlaceholderText(content_layer)

    def set_content(self, text: str) -> None:
        self.content_label.setText(text)

    # --- inside -----------------------------------------------------------------------
    def _open_style(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Style Image", "", DIALOG_FILTER)
        if path:
            self.set_style(path)

    def _on_style(self) -> None:
        self.style_thumb.setPixmap(self._thumbnail(self.style()))
        self.style_thumb.setToolTip(self.style())
        self.styleChanged.emit(self.style())

    def _thumbnail(self, style: str) -> QPixmap:
        try:
            rgb = np.ascontiguousarray(load_style(style))
        except (ValueError, OSError):
            return QPixmap()
        h, w = rgb.shape[:2]
        image = QImage(rgb.data, w, h, rgb.strides[0], QImage.Format.Format_RGB888).copy()
        return QPixmap.fromImage(image).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation)

    def _on_mode(self) -> None:
        texture = self.mode() == "texture"
        self.content_layer.setEnabled(not texture)
        self.content_weight.setEnabled(not texture)
