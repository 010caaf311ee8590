"""The Model dock: pick a model from the catalogue or a file, load it on the worker, see its layers."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDockWidget, QFileDialog, QHBoxLayout, QLabel, QMessageBox,
                               QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

LOAD_KEY = "model"
CATALOGUE_KEY = "catalogue"
MODEL_FILE_FILTER = "Models (*.safetensors *.pt *.pth *.ts *.torchscript *.jit);;All files (*)"


class ModelDock(QDockWidget):
    modelLoaded = Signal(object)     # the ModelHandle
    layerActivated = Signal(str)     # a layer name the user double-clicked
    message = Signal(str)            # something to tell the user (non-modal)

    def __init__(self, engine: QObject, parent: QWidget | None = None):
        super().__init__("Model", parent)
        self.setObjectName("modelDock")
        self.engine = engine
        self.handle: Any = None
        self._pending: tuple[str, bool] | None = None
        self.trust_prompt: QMessageBox | None = None

        self.combo = QComboBox()
        self.combo.setObjectName("modelCombo")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(16)
        self.load_button = QPushButton("Load")
        self.load_button.clicked.connect(self.load_selected)
        self.file_button = QPushButton("Open model file…")
        self.file_button.clicked.connect(self.open_file_dialog)
        self.info = QLabel("No model loaded")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layers = QTreeWidget()
        self.layers.setObjectName("layerTree")
        self.layers.setHeaderLabels(["Layer", "Type", "Output shape"])
        self.layers.setRootIsDecorated(False)
        self.layers.setAlternatingRowColors(True)
        self.layers.itemDoubleClicked.connect(lambda item, _col: self.layerActivated.emit(item.text(0)))

        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.load_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addLayout(row)
        layout.addWidget(self.file_button)
        layout.addWidget(self.info)
        layout.addWidget(self.layers, 1)
        self.setWidget(body)

        engine.done.connect(self._on_done)
        engine.failed.connect(self._on_failed)

    # --- catalogue -----------------------------------------------------------------
    def refresh_catalogue(self) -> None:
        """Fetch the catalogue on the worker (building it may import torch)."""
        def job(_jc):
            from workbench.core.sources import catalogue
            return catalogue()
        self.engine.submit(CATALOGUE_KEY, job)

    def set_catalogue(self, entries: list[dict]) -> None:
        current = self.combo.currentData()
        self.combo.clear()
        for entry in entries:
            self.combo.addItem(describe_entry(entry), entry["id"])
            self.combo.setItemData(self.combo.count() - 1, _tooltip(entry), Qt.ItemDataRole.ToolTipRole)
        self.select_id(current)

    def model_ids(self) -> list[str]:
        return [self.combo.itemData(i) for i in range(self.combo.count())]

    def select_id(self, model_id: str | None) -> None:
        index = self.combo.findData(model_id) if model_id else -1
        if index >= 0:
            self.combo.setCurrentIndex(index)

    # --- loading -------------------------------------------------------------------
    def load_selected(self) -> None:
        model_id = self.combo.currentData()
        if model_id:
            self.load(model_id)

    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Model File", "", MODEL_FILE_FILTER)
        if path:
            self.load(f"file:{Path(path).resolve()}")

    def load(self, model_id: str, trust_pickle: bool = False) -> None:
        if self.combo.findData(model_id) < 0:
            self.combo.addItem(model_id, model_id)
        self.select_id(model_id)
        self._pending = (model_id, trust_pickle)
        self.info.setText(f"Loading {model_id}…")
        self.engine.submit(LOAD_KEY, _load_job(model_id, trust_pickle))

    def set_handle(self, handle: Any) -> None:
        """Show a loaded model: its id, task, classes and layers."""
        self.handle = handle
        self._pending = None
        classes = f", {len(handle.labels)} classes" if handle.labels else ""
        self.info.setText(f"<b>{handle.id}</b><br>task: {handle.task}{classes}")
        self.layers.clear()
        for layer in handle.layers():
            shape = "×".join(str(d) for d in layer.output_shape) if layer.output_shape else "—"
            item = QTreeWidgetItem([layer.name, layer.type, shape])
            if layer.is_conv:
                item.setToolTip(0, "conv layer")
            self.layers.addTopLevelItem(item)
        for col in range(3):
            self.layers.resizeColumnToContents(col)
        self.modelLoaded.emit(handle)

    # --- engine --------------------------------------------------------------------
    def _on_done(self, key: str, result: Any) -> None:
        if key == CATALOGUE_KEY:
            self.set_catalogue(result)
        elif key == LOAD_KEY and isinstance(result, NeedsTrust):
            self.info.setText(f"{result.model_id} is a pickled model")
            self.ask_trust(result.model_id, result.message)
        elif key == LOAD_KEY:
            self.set_handle(result)

    def _on_failed(self, key: str, _message: str) -> None:
        if key == LOAD_KEY and self._pending is not None:
            self.info.setText(f"Could not load {self._pending[0]}")

    def ask_trust(self, model_id: str, message: str) -> None:
        """Ask, without blocking, whether to load a pickled model file anyway."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Trust this model file?",
                          f"{message}\n\nA pickled model can run any code when it is loaded. "
                          "Load it only if you trust where it came from.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.button(QMessageBox.StandardButton.Yes).setText("Trust and load")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(lambda answer: self._on_trust_answer(model_id, answer))
        self.trust_prompt = box
        box.open()

    def _on_trust_answer(self, model_id: str, answer: int) -> None:
        self.trust_prompt = None
        if answer == QMessageBox.StandardButton.Yes:
            self.load(model_id, trust_pickle=True)
        else:
            self.message.emit(f"{model_id} was not loaded")


class NeedsTrust:
    """What a load job returns when the loader refused a pickled file it was not told to trust."""

    def __init__(self, model_id: str, message: str):
        self.model_id, self.message = model_id, message


def _load_job(model_id: str, trust_pickle: bool):
    def job(_jc):
        from workbench.core.sources import load_model
        try:
            handle = load_model(model_id, trust_pickle=trust_pickle)
        except Exception as e:
            # only a file: id can be retried with trust; a ?weights= file must hold weights only
            if not trust_pickle and model_id.startswith("file:") and is_pickle_refusal(e):
                return NeedsTrust(model_id, str(e))
            raise
        handle.layers()  # computed here so that the GUI thread never runs the model
        return handle
    return job


def is_pickle_refusal(error: Exception) -> bool:
    return bool(getattr(error, "needs_trust", False))


def describe_entry(entry: dict) -> str:
    """"id  (task, where the weights come from, whether they are here)"; details go in the tooltip."""
    if "available" in entry:
        state = "ready" if entry["available"] else "weights missing"
    else:
        state = str(entry.get("status", ""))
    extra = ", ".join(str(x) for x in (entry.get("task"), entry.get("source"), state) if x)
    return f"{entry['id']}  ({extra})" if extra else str(entry["id"])


def _tooltip(entry: dict) -> str:
    return "\n".join(f"{k}: {v}" for k, v in entry.items())
