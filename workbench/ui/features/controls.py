"""The Features tab's controls: the mode, each mode's method form, and a target picker for
activation maximisation (a class, a channel, a unit, every channel of a layer)."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QSpinBox, QStackedWidget, QWidget

from workbench.ui.forms import ParamsForm
from workbench.ui.live_controls import LiveControls

ACTMAX, INVERT, DREAM = "actmax", "invert", "dream"
MODES = {ACTMAX: "Activation maximisation", INVERT: "Feature inversion", DREAM: "DeepDream"}
TARGET_KINDS = {"class": "a class", "classes": "every class", "channel": "a channel", "unit": "a unit (centre)",
                "channels": "every channel"}


class TargetPicker(QWidget):
    """What activation maximisation aims at, written as the method's ``target`` string."""
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = QComboBox()
        for key, text in TARGET_KINDS.items():
            self.kind.addItem(text, key)
        self.kind.setToolTip("What to maximise: a class (or every class, one image each), a channel of the "
                             "layer (its mean), one unit (the channel at the map's centre), or every channel "
                             "of the layer as a grid")
        self.class_box = QComboBox()
        self.class_box.setToolTip("The class to visualise")
        self.channel = QSpinBox()
        self.channel.setRange(0, 4095)
        self.channel.setToolTip("The channel of the layer below")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.kind)
        row.addWidget(self.class_box, 1)
        row.addWidget(self.channel, 1)
        self.kind.currentIndexChanged.connect(self._on_kind)
        self.class_box.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.channel.valueChanged.connect(lambda _: self.changed.emit())
        self._on_kind()

    def set_labels(self, labels: list[str]) -> None:
        self.class_box.blockSignals(True)
        self.class_box.clear()
        for i, name in enumerate(labels):
            self.class_box.addItem(f"{i}: {name}", i)
        self.class_box.blockSignals(False)

    def set_target(self, kind: str, index: int | None = None) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))
        if index is not None:
            if kind == "class":
                self.class_box.setCurrentIndex(self.class_box.findData(index))
            else:
                self.channel.setValue(index)

    def text(self) -> str:
        kind = self.kind.currentData()
        if kind == "class":
            index = self.class_box.currentData()
            return "class" if index is None else f"class:{index}"
        return kind if kind in ("channels", "classes") else f"{kind}:{self.channel.value()}"

    def _on_kind(self, *_: Any) -> None:
        kind = self.kind.currentData()
        self.class_box.setVisible(kind == "class")
        self.channel.setVisible(kind in ("channel", "unit"))
        self.changed.emit()


class FeatureControls(LiveControls):
    modeChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.mode_box = QComboBox()
        for key, text in MODES.items():
            self.mode_box.addItem(text, key)
        self.target = TargetPicker()
        self.forms: dict[str, ParamsForm] = {}
        self.stack = QStackedWidget()
        self.run_button.setToolTip("Optimise the image; the preview updates every few steps")
        self.stop_button.setToolTip("Stop now and keep the last preview")
        top = QFormLayout()
        top.addRow("Mode", self.mode_box)
        self.target_row = QLabel("Target")
        top.addRow(self.target_row, self.target)
        self.lay_out(top, self.stack)
        self.layout().setContentsMargins(6, 6, 6, 6)
        self.mode_box.currentIndexChanged.connect(self._on_mode)
        self.target.changed.connect(self._show_target_rows)

    def follow_registry(self, registry: Any, handle: Any) -> None:
        """One form per mode whose method is registered, its layer choices from ``handle``."""
        for mode in MODES:
            if registry is None or mode not in registry:
                continue
            if mode not in self.forms:
                form = ParamsForm(registry.get(mode).params, handle)
                if mode == ACTMAX:      # the picker above writes the target
                    form.layout().setRowVisible(form.editor("target"), False)
                self.forms[mode] = form
                self.stack.addWidget(form)
        self._on_mode()
        self._show_target_rows()

    def set_handle(self, handle: Any) -> None:
        for form in self.forms.values():
            form.set_handle(handle)
        self.target.set_labels(list(handle.labels) if handle is not None else [])

    def mode(self) -> str:
        return self.mode_box.currentData()

    def set_mode(self, mode: str) -> None:
        self.mode_box.setCurrentIndex(self.mode_box.findData(mode))

    def values(self, mode: str | None = None) -> dict[str, Any]:
        mode = mode or self.mode()
        form = self.forms.get(mode)
        values = form.values() if form is not None else {}
        if mode == ACTMAX:
            values["target"] = self.target.text()
        return values

    def set_values(self, mode: str, values: dict[str, Any]) -> None:
        self.forms[mode].set_values(values)

    def pick_channel(self, layer: str, channel: int) -> None:
        """Aim activation maximisation at one channel of ``layer``."""
        self.set_mode(ACTMAX)
        form = self.forms.get(ACTMAX)
        if form is not None:
            form.set_values({"layer": layer})
        self.target.set_target("channel", channel)

    def _show_target_rows(self) -> None:
        """Only the fields the chosen target reads: the layer for channels and units, the class score for
        a class, the batch for every channel."""
        form = self.forms.get(ACTMAX)
        if form is None:
            return
        kind = self.target.kind.currentData()
        classes = kind in ("class", "classes")
        for name, shown in (("layer", not classes), ("class_score", classes),
                            ("max_channels", kind == "channels"), ("batch", kind in ("channels", "classes"))):
            if name in form.names():
                form.layout().setRowVisible(form.editor(name), shown)

    def _on_mode(self, *_: Any) -> None:
        mode = self.mode()
        if mode in self.forms:
            self.stack.setCurrentWidget(self.forms[mode])
        self.target.setVisible(mode == ACTMAX)
        self.target_row.setVisible(mode == ACTMAX)
        self.modeChanged.emit(mode)
