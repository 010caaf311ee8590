"""Run > Batch…: which method over which images, into which folder, on how many Ray workers."""
from __future__ import annotations

import importlib.util
import os
from typing import Any

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QWidget)

from workbench.core.batch.jobs import BatchRequest

DATASETS = ("dataset:digits", "dataset:shapes:500")


class BatchDialog(QDialog):
    """``methods``: the names offered, ``chosen`` first selected; ``values``: the parameters each method
    takes from the Method panel (a method not there runs with its defaults)."""

    def __init__(self, model_id: str, methods: dict[str, Any], chosen: str, values: dict[str, dict[str, Any]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.methods = methods
        self.setWindowTitle("Run a Batch")
        self.setObjectName("batchDialog")
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("x") * 70)     # room for a folder's path
        self.model_id, self.values = model_id, values
        self.method = QComboBox()
        self.method.setObjectName("batchMethod")
        self.method.addItems(list(methods))
        if chosen in methods:
            self.method.setCurrentText(chosen)
        self.params = QLabel()
        self.params.setWordWrap(True)
        self.method.currentTextChanged.connect(self._show_params)
        self.images = QComboBox()
        self.images.setObjectName("batchImages")
        self.images.setEditable(True)
        self.images.addItems(DATASETS)
        self.images.setToolTip("a folder (every image under it), a glob such as /data/*.png, "
                               "or dataset:digits / dataset:shapes:N")
        self.out = QLineEdit()
        self.out.setObjectName("batchOut")
        self.out.setPlaceholderText("a new or empty folder, or a batch to resume")
        self.workers = QSpinBox()
        self.workers.setObjectName("batchWorkers")
        self.workers.setRange(0, max(1, os.cpu_count() or 1) * 4)
        self.workers.setSpecialValueText("this process")
        has_ray = importlib.util.find_spec("ray") is not None
        self.workers.setEnabled(has_ray)
        self.workers.setToolTip("Ray workers, each holding the model" if has_ray else
                                'Ray is not installed: pip install -e ".[cluster]"')
        form = QFormLayout(self)
        form.addRow("Model", QLabel(model_id))
        form.addRow("Method", self.method)
        form.addRow("", self.params)
        form.addRow("Images", _with_button(self.images, "Folder…", self._choose_images))
        form.addRow("Output", _with_button(self.out, "Folder…", self._choose_out))
        form.addRow("Workers", self.workers)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.problem = QLabel()
        self.problem.setObjectName("batchProblem")
        self.problem.setStyleSheet("color: #c0392b")
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self._show_params(self.method.currentText())

    def request(self) -> BatchRequest:
        method = self.method.currentText()
        return BatchRequest(self.methods.get(method), self.model_id, self.images.currentText().strip(), self.out.text().strip(),
                            dict(self.values.get(method, {})), self.workers.value())

    def _accept(self) -> None:
        r = self.request()
        missing = [what for what, value in (("a method", r.method), ("the images", r.images),
                                            ("an output folder", r.out)) if not value]
        if missing:
            self.problem.setText(f"Choose {' and '.join(missing)}")
            return
        self.accept()

    def _show_params(self, method: str) -> None:
        given = self.values.get(method)
        self.params.setText("Parameters from the Method panel: " + ", ".join(f"{k}={v}" for k, v in given.items())
                            if given else "Parameters: the method's defaults")

    def _choose_images(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Images to run the batch over")
        if folder:
            self.images.setCurrentText(folder)

    def _choose_out(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the batch's results")
        if folder:
            self.out.setText(folder)


def _with_button(field: QWidget, text: str, slot) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(field, 1)
    button = QPushButton(text)
    button.clicked.connect(slot)
    row.addWidget(button)
    return box


def run_batch_dialog(window: Any) -> BatchRequest | None:
    """Ask for a batch of the window's model, its Method panel's method and parameters first; start it
    on the Batch dock. Returns the request, None when there is no model or the user cancelled."""
    ws = window.workspace
    if ws.handle is None or ws.registry is None:
        window.status.show_note("Load a model first: a batch runs one model's method over many images")
        return None
    methods = {m.name: m for m in ws.registry.for_model(ws.handle.task, ws.handle.module) if m.needs_image}
    dock = window.panel("methodDock")
    current = dock.current_method()
    values = {current.name: dock.form.values()} if current is not None else {}
    dialog = BatchDialog(ws.handle.id, methods, current.name if current is not None else "", values, window)
    if not dialog.exec():
        return None
    request = dialog.request()
    window.panel("batchDock").start(request)
    return request
