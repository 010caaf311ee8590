"""The Model panel: pick a model from the catalogue or a file, load it on the worker, see its layers.

A loaded model goes to the workspace; the layer list shows whatever model the workspace holds.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QMessageBox, QPushButton, QStyle, QStyleOptionComboBox, QStylePainter, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from workbench.core import jobs
from workbench.ui.panel import LEFT, Panel

LOAD_KEY = "model"
CATALOGUE_KEY = "catalogue"
MODEL_FILE_FILTER = "Models (*.safetensors *.pt2 *.pt *.pth *.ts *.torchscript *.jit);;All files (*)"


class ModelPanel(Panel):
    title = "Model"
    area = LEFT
    object_name = "modelDock"


    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.trust_prompt: QMessageBox | None = None
        self._loading = ""               # the model id of the latest load (only its ticket reports)

        self.combo = ModelCombo()
        self.load_button = QPushButton("Load")
        self.load_button.clicked.connect(self.load_selected)
        self.file_button = QPushButton("Open model file…")
        self.file_button.clicked.connect(self.open_file_dialog)
        self.info = QLabel("No model loaded")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layers = LayerTable()
        self.layers.itemDoubleClicked.connect(lambda item, _col: self.workspace.set_layer(item.text(0)))

        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.load_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.file_button)
        layout.addWidget(self.info)
        layout.addWidget(self.layers, 1)

    def bind(self, workspace, engine, canvas) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.modelChanged.connect(self._show_model)
        if workspace.handle is not None:
            self._show_model(workspace.handle)

    # --- catalogue -----------------------------------------------------------------
    def refresh_catalogue(self) -> Any:
        """Fetch the catalogue on the worker (building it may import torch); returns the ticket."""
        ticket = self.engine.submit(CATALOGUE_KEY, jobs.catalogue)
        ticket.done.connect(self.set_catalogue)
        return ticket

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

    def load(self, model_id: str, trust_pickle: bool = False) -> Any:
        """Load ``model_id`` on the worker; the workspace gets the model. Returns the ticket."""
        if self.combo.findData(model_id) < 0:
            self.combo.addItem(model_id, model_id)
        self.select_id(model_id)
        self.info.setText(f"Loading {model_id}…")
        ticket = self.engine.submit(LOAD_KEY, jobs.load_model, model_id, trust_pickle)
        ticket.done.connect(self._on_loaded)
        ticket.failed.connect(self._on_load_failed)
        self._loading = model_id
        return ticket

    def _on_load_failed(self, _message: str) -> None:
        # the status bar shows the message itself
        self.info.setText(f"Could not load {self._loading}")

    def _on_loaded(self, result: Any) -> None:
        if isinstance(result, jobs.NeedsTrust):
            self.info.setText(f"{result.model_id} is a pickled model")
            self.ask_trust(result.model_id, result.message)
        else:
            self.workspace.set_model(result)

    def _show_model(self, handle: Any) -> None:
        """Show the workspace's model: its id, task, classes and layers."""
        classes = f", {len(handle.labels)} classes" if handle.labels else ""
        self.info.setText(f"<b>{handle.id}</b><br>task: {handle.task}{classes}")
        self.layers.clear()
        for layer in handle.layers():
            shape = "×".join(str(d) for d in layer.output_shape) if layer.output_shape else "—"
            item = QTreeWidgetItem([layer.name, layer.type, shape])
            for column, text in enumerate((layer.name + ("  (conv layer)" if layer.is_conv else ""), layer.type,
                                           shape)):
                item.setToolTip(column, text)
            self.layers.addTopLevelItem(item)
        self.layers.fit_columns()

    def ask_trust(self, model_id: str, message: str) -> None:
        """Ask, without blocking, whether to load a pickled model file anyway."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Trust this model file?",
                          f"{message}\n\nThis file can run code when it is loaded. "
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


class ModelCombo(QComboBox):
    """The model catalogue. The open list shows each entry in full; the closed box shows the chosen
    model's id alone, elided in the middle when the dock is narrow, and the full entry as its tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelCombo")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)
        self.currentIndexChanged.connect(self._describe_current)

    def shown_text(self) -> str:
        """What the closed box shows: the chosen model's id, elided to fit."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        model_id = str(self.currentData() or self.currentText())
        return self.fontMetrics().elidedText(model_id, Qt.TextElideMode.ElideMiddle, field.width())

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt naming)
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        option.currentText = self.shown_text()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def showPopup(self) -> None:  # noqa: N802
        view = self.view()
        screen = self.screen().availableGeometry().width() if self.screen() is not None else 1200
        view.setMinimumWidth(min(view.sizeHintForColumn(0) + 2 * view.frameWidth() + 24, screen - 40))
        super().showPopup()

    def _describe_current(self, index: int) -> None:
        details = self.itemData(index, Qt.ItemDataRole.ToolTipRole) if index >= 0 else None
        text = self.itemText(index) if index >= 0 else ""
        self.setToolTip(f"{text}\n\n{details}" if details else text)


class LayerTable(QTreeWidget):
    """The model's layers: name, type and output shape, always as wide as the dock. The type and
    shape columns take what their contents need, up to a share of the width; names are elided in
    the middle; every cell's full text is its tooltip."""

    TYPE_SHARE, SHAPE_SHARE = 0.3, 0.42     # a shape reads worse cut than a type or a name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerTree")
        self.setHeaderLabels(["Layer", "Type", "Output shape"])
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)

    def fit_columns(self) -> None:
        """Each column as wide as its contents when they all fit; otherwise the shape keeps up to
        SHAPE_SHARE of the width, the type what the names leave (at least TYPE_SHARE)."""
        width, header = self.viewport().width(), self.header()
        need = [max(self.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in range(3)]
        shape = min(need[2], int(width * self.SHAPE_SHARE))
        kind = min(need[1], max(int(width * self.TYPE_SHARE), width - shape - need[0]))
        header.resizeSection(2, shape)
        header.resizeSection(1, kind)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fit_columns()


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
