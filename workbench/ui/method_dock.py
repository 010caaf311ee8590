"""The Method dock: the methods for the loaded model's task, a form for the chosen one, and Run."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QDockWidget, QFormLayout, QLabel,
                               QLineEdit, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from workbench.ui.forms import ParamsForm

REGISTRY_KEY = "registry"


class MethodDock(QDockWidget):
    runRequested = Signal(object, dict, object)   # Method, param values, target index or None
    registryReady = Signal(object)
    message = Signal(str)

    def __init__(self, engine: QObject, parent: QWidget | None = None):
        super().__init__("Method", parent)
        self.setObjectName("methodDock")
        self.engine = engine
        self.registry: Any = None
        self.handle: Any = None
        self._shown_method: str | None = None

        self.combo = QComboBox()
        self.combo.setObjectName("methodCombo")
        self.combo.currentIndexChanged.connect(self._on_method_changed)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.form = ParamsForm()
        self.form.changed.connect(self._on_params_changed)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.form)
        self.target = QLineEdit()
        self.target.setObjectName("targetEdit")
        self.target.setPlaceholderText("top prediction")
        self.target.setToolTip("Class index or name; empty means the model's top prediction")
        self.auto_run = QCheckBox("Run when parameters change")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runButton")
        self.run_button.setToolTip("Run the method (Ctrl+R)")
        self.run_button.clicked.connect(self.request_run)

        target_row = QFormLayout()
        target_row.addRow("Target", self.target)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.combo)
        layout.addWidget(self.description)
        layout.addWidget(scroll, 1)
        layout.addLayout(target_row)
        layout.addWidget(self.auto_run)
        layout.addWidget(self.run_button)
        self.setWidget(body)
        self._refresh_methods()

        engine.done.connect(self._on_done)

    # --- registry and model --------------------------------------------------------
    def load_registry(self) -> None:
        """Build the registry (built-ins and plugins) on the worker: it imports torch."""
        def job(_jc):
            from workbench.plugins import default_registry, plugin_errors
            return default_registry(), plugin_errors()
        self.engine.submit(REGISTRY_KEY, job)

    def set_registry(self, registry: Any) -> None:
        self.registry = registry
        self._refresh_methods()
        self.registryReady.emit(registry)

    def set_handle(self, handle: Any) -> None:
        self.handle = handle
        if self.target.completer() is not None:
            self.target.completer().deleteLater()
        completer = QCompleter(list(handle.labels) if handle is not None else [], self.target)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.target.setCompleter(completer)
        self.form.set_handle(handle)
        self._refresh_methods()

    def method_names(self) -> list[str]:
        return [self.combo.itemData(i) for i in range(self.combo.count()) if self.combo.itemData(i)]

    def select_method(self, name: str) -> None:
        index = self.combo.findData(name)
        if index < 0:
            raise KeyError(f"method {name!r} is not available for this model")
        self.combo.setCurrentIndex(index)

    def current_method(self) -> Any:
        name = self.combo.currentData()
        return self.registry.get(name) if name and self.registry is not None else None

    # --- running -------------------------------------------------------------------
    def target_index(self) -> int | None:
        """The typed target as a class index; None for the top prediction. Raises ValueError."""
        text = self.target.text().strip()
        if not text:
            return None
        if self.handle is None:
            raise ValueError("load a model before choosing a target")
        index = self.handle.class_index(text.split(":")[0] if ":" in text else text)
        if self.handle.labels and not 0 <= index < len(self.handle.labels):
            raise ValueError(f"class {index} is out of range (the model has {len(self.handle.labels)} classes)")
        return index

    def request_run(self) -> None:
        method = self.current_method()
        if method is None or self.handle is None:
            self.message.emit("Load a model and choose a method first")
            return
        try:
            target = self.target_index()
        except ValueError as e:
            self.message.emit(str(e))
            return
        self.runRequested.emit(method, self.form.values(), target)

    # --- internals -----------------------------------------------------------------
    def _on_done(self, key: str, result: Any) -> None:
        if key == REGISTRY_KEY:
            registry, errors = result
            self.set_registry(registry)
            for error in errors:
                self.message.emit(error)

    def _refresh_methods(self) -> None:
        current = self.combo.currentData()
        task = self.handle.task if self.handle is not None else None
        methods = self.registry.for_task(task) if self.registry is not None else []
        self.combo.blockSignals(True)
        self.combo.clear()
        for m in methods:
            self.combo.addItem(m.title or m.name, m.name)
            self.combo.setItemData(self.combo.count() - 1, m.description, Qt.ItemDataRole.ToolTipRole)
        if not methods:
            self.combo.addItem("(load a model)" if self.registry is not None else "(loading methods…)", None)
        self.combo.blockSignals(False)
        index = self.combo.findData(current) if current else -1
        self.combo.setCurrentIndex(max(index, 0))
        self._on_method_changed()
        self.run_button.setEnabled(bool(methods) and self.handle is not None)

    def _on_method_changed(self, _index: int = -1) -> None:
        method = self.current_method()
        if method is not None and self._shown_method == method.name:
            return
        self._shown_method = method.name if method is not None else None
        self.form.set_params(method.params if method is not None else None)
        self.description.setText(method.description if method is not None else "")

    def _on_params_changed(self) -> None:
        if self.auto_run.isChecked():
            self.request_run()
