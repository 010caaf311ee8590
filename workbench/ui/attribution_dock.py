"""The Attribution dock: the model's top classes for the image; click one to explain it.

A method combo (attribution methods only) with its parameter form and Run, and the heatmap
display options (signed or absolute, percentile clip, one range shared across a comparison).
Work runs on the engine: the class list under key ``topk``, the explanation under
``attribution``. Finished heatmaps leave through ``heatmapReady``; with a canvas attached, the
dock also restyles the heatmap layer it put there whenever the display options change.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDockWidget, QDoubleSpinBox, QFormLayout,
                               QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.core import colormaps
from workbench.core.display import ATTRIBUTION_METHODS, DEFAULT_CLIP, MODES, DisplayOptions, display_layer
from workbench.core.scene import HeatmapLayer
from workbench.ui.forms import ParamsForm

TOPK_KEY = "topk"
ATTRIBUTION_KEY = "attribution"
TOP_K = 5
RANK, CLASS, PROBABILITY = range(3)


def attribution_methods(registry: Any, task: str | None) -> list[Any]:
    """The registry's attribution methods for a task, in ATTRIBUTION_METHODS order."""
    if registry is None:
        return []
    return [registry.get(n) for n in ATTRIBUTION_METHODS
            if n in registry and (task is None or registry.get(n).applies_to(task))]


def class_table(rows: int) -> QTableWidget:
    """An empty rank / class / probability table, tall enough for ``rows`` rows."""
    table = QTableWidget(0, 3)
    table.setObjectName("classTable")
    table.setHorizontalHeaderLabels(["#", "Class", "Probability"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    header = table.horizontalHeader()
    header.setSectionResizeMode(RANK, QHeaderView.ResizeMode.ResizeToContents)
    for column in (CLASS, PROBABILITY):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    table.setToolTip("Click a class to explain it with the chosen method")
    table.setMinimumHeight(table.verticalHeader().defaultSectionSize() * rows + header.sizeHint().height()
                           + 2 * table.frameWidth())
    return table


def topk_job(handle: Any, image: np.ndarray, k: int):
    def job(jc):
        from workbench.core.targets import topk
        handle.to(jc.device)
        return topk(handle, image, k)
    return job


class AttributionDock(QDockWidget):
    heatmapReady = Signal(object)      # a Heatmap for the class chosen here
    targetChanged = Signal(object)     # class index, or None for the top prediction
    displayChanged = Signal(object)    # DisplayOptions
    modelChanged = Signal(object)
    imageChanged = Signal(object)
    registryChanged = Signal(object)
    message = Signal(str)

    def __init__(self, engine: QObject, parent: QWidget | None = None) -> None:
        super().__init__("Attribution", parent)
        self.setObjectName("attributionDock")
        self.engine = engine
        self.registry: Any = None
        self.handle: Any = None
        self.image: np.ndarray | None = None
        self.target: int | None = None
        self.classes: list[tuple[int, str, float]] = []
        self.heatmap: Any = None            # the last Heatmap computed here
        self._canvas: Any = None
        self._layer_id: int | None = None   # the canvas layer showing self.heatmap
        self._shown_method: str | None = None

        self.table = class_table(TOP_K)
        self.target_label = QLabel()
        self.method = QComboBox()
        self.method.setObjectName("attributionMethod")
        self.form = ParamsForm()
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("attributionRun")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.mode = QComboBox()
        for mode in MODES:
            self.mode.addItem(mode, mode)
        self.mode.setToolTip("signed: values as they are; absolute: their magnitude")
        self.clip = QDoubleSpinBox()
        self.clip.setRange(50.0, 100.0)
        self.clip.setDecimals(1)
        self.clip.setSingleStep(0.5)
        self.clip.setSuffix(" %")
        self.clip.setValue(DEFAULT_CLIP)
        self.clip.setToolTip("Values above this percentile of magnitudes get the end colour")
        self.shared = QCheckBox("shared range")
        self.shared.setToolTip("One value range for all compare panels")
        self.shared.setChecked(DisplayOptions().shared)
        self._build_layout()

        self.table.cellClicked.connect(lambda row, _col: self._on_row_clicked(row))
        self.method.currentIndexChanged.connect(self._on_method_changed)
        self.run_button.clicked.connect(self.run)
        self.mode.currentIndexChanged.connect(self._on_display_changed)
        self.clip.valueChanged.connect(self._on_display_changed)
        self.shared.toggled.connect(self._on_display_changed)
        engine.started.connect(self._on_started)
        engine.progress.connect(self._on_progress)
        engine.done.connect(self._on_done)
        engine.failed.connect(self._on_failed)
        engine.cancelled.connect(self._on_cancelled)
        self._refresh_methods()
        self._show_target()

    def _build_layout(self) -> None:
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.progress, 1)
        display = QFormLayout()
        display.addRow("Values", self.mode)
        display.addRow("Clip at", self.clip)
        display.addRow("Compare", self.shared)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.target_label)
        layout.addWidget(self.method)
        layout.addWidget(self.form)
        layout.addLayout(run_row)
        layout.addLayout(display)
        self.setWidget(body)

    # --- inputs --------------------------------------------------------------------
    def set_registry(self, registry: Any) -> None:
        self.registry = registry
        self._refresh_methods()
        self.registryChanged.emit(registry)

    def set_model(self, handle: Any) -> None:
        self.handle = handle
        self.target = None
        self.form.set_handle(handle)
        self._refresh_methods()
        self._reset()
        self.modelChanged.emit(handle)
        self.targetChanged.emit(None)

    def set_image(self, image: np.ndarray | None) -> None:
        self.image = image
        self._reset()
        self.imageChanged.emit(image)

    def attach_canvas(self, canvas: Any) -> None:
        """Restyle, on display changes, the heatmap layer that a heatmapReady put on this canvas."""
        self._canvas = canvas

    # --- state ---------------------------------------------------------------------
    def display_options(self) -> DisplayOptions:
        return DisplayOptions(self.mode.currentData(), self.clip.value(), self.shared.isChecked())

    def method_names(self) -> list[str]:
        return [self.method.itemData(i) for i in range(self.method.count()) if self.method.itemData(i)]

    def select_method(self, name: str) -> None:
        index = self.method.findData(name)
        if index < 0:
            raise KeyError(f"attribution method {name!r} is not available for this model")
        self.method.setCurrentIndex(index)

    def current_method(self) -> Any:
        name = self.method.currentData()
        return self.registry.get(name) if name and self.registry is not None else None

    # --- actions -------------------------------------------------------------------
    def explain(self, class_index: int | None) -> None:
        """Make ``class_index`` the target (None: the top prediction) and run the method for it."""
        self.target = None if class_index is None else int(class_index)
        self._show_target()
        self.targetChanged.emit(self.target)
        self.run()

    def run(self) -> None:
        method = self.current_method()
        if method is None or self.handle is None or self.image is None:
            self.message.emit("Load a model and an image first")
            return
        self.engine.run_method(ATTRIBUTION_KEY, method, self.handle, self.image, self.form.values(), self.target)

    def _reset(self) -> None:
        """Forget what was computed for the previous model or image; ask for the new class list."""
        for key in (TOPK_KEY, ATTRIBUTION_KEY):
            self.engine.cancel(key)
        self.classes, self.heatmap, self._layer_id = [], None, None
        self._fill_table()
        self._show_target()
        if self.handle is not None and self.image is not None and self.handle.task == "classify":
            self.engine.submit(TOPK_KEY, topk_job(self.handle, self.image, TOP_K))

    # --- engine --------------------------------------------------------------------
    def _on_started(self, key: str) -> None:
        if key == ATTRIBUTION_KEY:
            self.progress.setRange(0, 0)
            self.progress.setVisible(True)

    def _on_progress(self, key: str, fraction: float, _message: str) -> None:
        if key == ATTRIBUTION_KEY:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(round(max(0.0, min(1.0, fraction)) * 1000)))

    def _on_done(self, key: str, result: Any) -> None:
        if key == TOPK_KEY:
            self.classes = list(result)
            self._fill_table()
            self._show_target()
        elif key == ATTRIBUTION_KEY:
            self.progress.setVisible(False)
            self.heatmap = result
            self.heatmapReady.emit(result)
            self._adopt_canvas_layer()

    def _on_failed(self, key: str, text: str) -> None:
        if key == ATTRIBUTION_KEY:
            self.progress.setVisible(False)
            self.message.emit(f"Attribution failed: {text}")
        elif key == TOPK_KEY:
            self.message.emit(f"Could not list the top classes: {text}")

    def _on_cancelled(self, key: str) -> None:
        if key == ATTRIBUTION_KEY:
            self.progress.setVisible(False)

    # --- canvas --------------------------------------------------------------------
    def _adopt_canvas_layer(self) -> None:
        if self._canvas is None:
            return
        heat = [l for l in self._canvas.layers() if isinstance(l, HeatmapLayer)]
        self._layer_id = heat[-1].id if heat else None
        self._restyle()

    def _restyle(self) -> None:
        if self._canvas is None or self._layer_id is None or self.heatmap is None:
            return
        try:
            old = self._canvas.layer(self._layer_id)
        except KeyError:  # replaced by another result
            self._layer_id = None
            return
        custom = old.colormap not in (colormaps.SIGNED_DEFAULT, colormaps.UNSIGNED_DEFAULT)
        layer = display_layer(old.name, self.heatmap.heatmap, self.display_options(),
                              colormap=old.colormap if custom else None, id=old.id, visible=old.visible,
                              opacity=old.opacity, show_colorbar=old.show_colorbar)
        self._canvas.update_layer(layer)

    # --- internals -----------------------------------------------------------------
    def _on_display_changed(self, *_: Any) -> None:
        self._restyle()
        self.displayChanged.emit(self.display_options())

    def _on_row_clicked(self, row: int) -> None:
        item = self.table.item(row, CLASS)
        if item is not None:
            self.explain(int(item.data(Qt.ItemDataRole.UserRole)))

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.classes))
        for row, (index, label, prob) in enumerate(self.classes):
            rank = QTableWidgetItem(str(row + 1))
            rank.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            name = QTableWidgetItem(label if label == str(index) else f"{label}  ({index})")
            name.setData(Qt.ItemDataRole.UserRole, index)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(int(round(prob * 1000)))
            bar.setFormat(f"{prob * 100:.1f}%")
            bar.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.setItem(row, RANK, rank)
            self.table.setItem(row, CLASS, name)
            self.table.setCellWidget(row, PROBABILITY, bar)
        self._select_target_row()

    def _select_target_row(self) -> None:
        wanted = self.target if self.target is not None else (self.classes[0][0] if self.classes else None)
        rows = [r for r, c in enumerate(self.classes) if c[0] == wanted]
        if rows:
            self.table.selectRow(rows[0])
        else:
            self.table.clearSelection()

    def _show_target(self) -> None:
        if self.target is None:
            top = f": {self.classes[0][1]}" if self.classes else ""
            self.target_label.setText(f"Explaining the top prediction{top}")
        else:
            name = self.handle.label(self.target) if self.handle is not None else str(self.target)
            self.target_label.setText(f"Explaining class {self.target}: {name}")
        self._select_target_row()

    def _refresh_methods(self) -> None:
        current = self.method.currentData()
        methods = attribution_methods(self.registry, self.handle.task if self.handle is not None else None)
        self.method.blockSignals(True)
        self.method.clear()
        for m in methods:
            self.method.addItem(m.title or m.name, m.name)
            self.method.setItemData(self.method.count() - 1, m.description, Qt.ItemDataRole.ToolTipRole)
        if not methods:
            self.method.addItem("(no attribution methods)" if self.registry is not None else "(loading methods…)")
        index = self.method.findData(current) if current else -1
        self.method.setCurrentIndex(max(index, 0))
        self.method.blockSignals(False)
        self._on_method_changed()
        self.run_button.setEnabled(bool(methods))

    def _on_method_changed(self, *_: Any) -> None:
        method = self.current_method()
        name = method.name if method is not None else None
        if name != self._shown_method:  # keep the user's values when the list is only refilled
            self._shown_method = name
            self.form.set_params(method.params if method is not None else None)
