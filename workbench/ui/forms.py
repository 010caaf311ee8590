"""A form built from a method's Params dataclass: one editor per field, typed values out."""
from __future__ import annotations

import math
from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit,
                               QSpinBox, QWidget)

from workbench.core.params import ParamSpec, specs

DEFAULT_CHOICE = "(default)"
_INT_LIMIT = 2**31 - 1
_FLOAT_LIMIT = 1e12


class ParamsForm(QWidget):
    """Editors for ``specs(params_cls)``. A model's names (its layers, classes) fill the dynamic
    choices; the form keeps those names, not the model."""

    changed = Signal()

    def __init__(self, params_cls: type | None = None, handle: Any = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._editors: dict[str, _Editor] = {}
        self._names = model_names(handle)
        self._specs: list[ParamSpec] = []
        if params_cls is not None:
            self.set_params(params_cls)

    def set_params(self, params_cls: type | None) -> None:
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self._editors.clear()
        self._specs = specs(params_cls) if params_cls is not None else []
        for spec in self._specs:
            editor = _make_editor(spec, self._names, lambda *_: self.changed.emit())
            editor.widget.setToolTip(spec.help)
            editor.widget.setObjectName(f"param_{spec.name}")
            self._layout.addRow(spec.label, editor.widget)
            self._editors[spec.name] = editor

    def set_handle(self, handle: Any) -> None:
        """Refill dynamic choices from another model, keeping current values where still valid."""
        self._names = model_names(handle)
        for spec in self._specs:
            editor = self._editors[spec.name]
            if isinstance(spec.choices, str):
                editor.refill(dynamic_choices(spec, self._names))

    def names(self) -> list[str]:
        return list(self._editors)

    def specs(self) -> list[ParamSpec]:
        return list(self._specs)

    def editor(self, name: str) -> QWidget:
        return self._editors[name].widget

    def values(self) -> dict[str, Any]:
        return {name: e.get() for name, e in self._editors.items()}

    def set_values(self, values: dict[str, Any]) -> None:
        unknown = sorted(set(values) - set(self._editors))
        if unknown:
            raise KeyError(f"unknown parameter(s): {', '.join(unknown)}")
        for name, value in values.items():
            self._editors[name].set(value)


def model_names(handle: Any) -> dict[str, list[str]]:
    """The names a model offers to forms: its layers, its conv layers and its classes."""
    if handle is None:
        return {}
    return {"layers": [l.name for l in handle.layers()], "conv_layers": list(handle.conv_layers()),
            "classes": list(handle.labels)}


def dynamic_choices(spec: ParamSpec, names: dict[str, list[str]]) -> list[tuple[str, Any]]:
    """(shown text, value) pairs for a field whose choices come from the loaded model."""
    empty = "" if spec.type is str else spec.default
    out = [(DEFAULT_CHOICE, empty)]
    if spec.choices == "classes":
        out += [(f"{i}: {n}", i if spec.type is int else n) for i, n in enumerate(names.get("classes", []))]
    else:
        out += [(n, n) for n in names.get(spec.choices, [])]
    return out


class _Editor:
    def __init__(self, widget: QWidget, get: Callable[[], Any], set: Callable[[Any], None],
                 refill: Callable[[list], None] | None = None):
        self.widget, self.get, self.set = widget, get, set
        self.refill = refill or (lambda _choices: None)


def _make_editor(spec: ParamSpec, names: dict[str, list[str]], on_change: Callable[[], None]) -> _Editor:
    if spec.choices is not None:
        items = dynamic_choices(spec, names) if isinstance(spec.choices, str) else \
            [(str(c), c) for c in spec.choices]
        return _combo(items, spec.default, on_change)
    if spec.type is bool:
        w = QCheckBox()
        w.setChecked(bool(spec.default))
        w.toggled.connect(on_change)
        return _Editor(w, w.isChecked, lambda v: w.setChecked(bool(v)))
    if spec.type is int:
        w = QSpinBox()
        lo, hi = spec.range or (-_INT_LIMIT, _INT_LIMIT)
        w.setRange(int(lo), int(hi))
        w.setSingleStep(max(1, int(spec.step or 1)))
        w.setSpecialValueText(spec.at_minimum)
        w.setValue(int(spec.default or 0))
        w.valueChanged.connect(on_change)
        return _Editor(w, w.value, lambda v: w.setValue(int(v)))
    if spec.type is float:
        w = QDoubleSpinBox()
        w.setDecimals(_decimals(spec))
        lo, hi = spec.range or (-_FLOAT_LIMIT, _FLOAT_LIMIT)
        w.setRange(float(lo), float(hi))
        w.setSingleStep(float(spec.step or _default_step(lo, hi)))
        w.setSpecialValueText(spec.at_minimum)
        w.setValue(float(spec.default or 0.0))
        w.valueChanged.connect(on_change)
        return _Editor(w, w.value, lambda v: w.setValue(float(v)))
    w = QLineEdit("" if spec.default is None else str(spec.default))
    w.editingFinished.connect(on_change)
    return _Editor(w, w.text, lambda v: w.setText(str(v)))


def _combo(items: list[tuple[str, Any]], default: Any, on_change: Callable[[], None]) -> _Editor:
    w = QComboBox()

    def fill(new_items: list[tuple[str, Any]]) -> None:
        current = w.currentData() if w.count() else default
        w.blockSignals(True)
        w.clear()
        for text, value in new_items:
            w.addItem(text, value)
        w.blockSignals(False)
        select(current)

    def select(value: Any) -> None:
        index = next((i for i in range(w.count()) if w.itemData(i) == value), -1)
        if index < 0:
            index = next((i for i in range(w.count()) if w.itemText(i) == str(value)), -1)
        if index < 0 and w.count():
            index = 0
        if index != w.currentIndex():
            w.setCurrentIndex(index)

    def set_value(value: Any) -> None:
        if value not in [w.itemData(i) for i in range(w.count())] and \
                str(value) not in [w.itemText(i) for i in range(w.count())]:
            raise ValueError(f"{value!r} is not one of the choices")
        select(value)

    fill(items)
    w.currentIndexChanged.connect(on_change)
    return _Editor(w, w.currentData, set_value, fill)


def _decimals(spec: ParamSpec) -> int:
    probes = [abs(float(x)) for x in (spec.step, spec.default) if x]
    if spec.range:
        probes += [abs(float(x)) for x in spec.range if x]
    smallest = min(probes, default=0.01)
    return int(min(8, max(2, 1 - math.floor(math.log10(smallest))))) if smallest > 0 else 2


def _default_step(lo: float, hi: float) -> float:
    span = hi - lo
    return 10 ** math.floor(math.log10(span / 100)) if 0 < span < _FLOAT_LIMIT else 0.1
