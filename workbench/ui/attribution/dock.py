"""The Attribution panel: the model's top classes for the image; click one to explain it.

A method list (every registered method of kind "attribution" for the model's task, plugins
included) with its parameter form and Run, and the heatmap display options (signed or
absolute, percentile clip, one range shared across a comparison), which live in the workspace.
The class list runs on the engine under key ``topk``, the explanation under ``attribution``;
a finished heatmap goes to the workspace (the Image tab draws it), and this panel restyles
that canvas layer whenever the display options change.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QHeaderView, QLabel, QProgressBar, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from workbench.core.attribution import jobs
from workbench.core.attribution.display import DEFAULT_CLIP, MODES, DisplayOptions, restyled_layer
from workbench.core.attribution.methods import attribution_methods
from workbench.core.canvas_layers import HeatmapLayer
from workbench.core.renderers import IMAGE
from workbench.ui.attribution.class_entry import ClassEntry
from workbench.ui.method_combo import MethodCombo
from workbench.ui.forms import ParamsForm
from workbench.ui.panel import RIGHT, Panel

TOPK_KEY = "topk"
ATTRIBUTION_KEY = "attribution"
TOP_K = 5
RANK, CLASS, PROBABILITY = range(3)


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


class AttributionPanel(Panel):
    title = "Attribution"
    area = RIGHT
    object_name = "attributionDock"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.canvas: Any = None
        self.classes: list[tuple[int, str, float]] = []
        self.heatmap: Any = None            # the last Heatmap computed here
        self.topk_ticket: Any = None        # the running or last class-list job
        self.ticket: Any = None             # the running or last explanation job
        self._layer_id: int | None = None   # the canvas layer showing self.heatmap
        self._shown_method: str | None = None

        self.table = class_table(TOP_K)
        self.class_entry = ClassEntry()
        self.target_label = QLabel()
        self.target_label.setWordWrap(True)
        self.method = MethodCombo("attributionMethod")
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.class_entry)
        layout.addWidget(self.target_label)
        layout.addWidget(self.method)
        layout.addWidget(self.form)
        layout.addLayout(run_row)
        layout.addLayout(display)

    def bind(self, workspace: Any, engine: Any, canvas: Any) -> None:
        self.workspace, self.engine, self.canvas = workspace, engine, canvas
        workspace.registryChanged.connect(self._on_registry)
        workspace.modelChanged.connect(self._on_model)
        workspace.imageChanged.connect(self._on_image)
        workspace.targetChanged.connect(self._on_target)
        workspace.displayChanged.connect(self._on_display)
        workspace.view(IMAGE).changed.connect(self._on_image_view)
        self.table.cellClicked.connect(lambda row, _col: self._on_row_clicked(row))
        self.class_entry.chosen.connect(self.explain)
        self.class_entry.refused.connect(self.message)
        self.class_entry.bind(workspace)
        self.method.currentIndexChanged.connect(self._on_method_changed)
        self.run_button.clicked.connect(self.run)
        self.mode.currentIndexChanged.connect(self._write_display)
        self.clip.valueChanged.connect(self._write_display)
        self.shared.toggled.connect(self._write_display)
        self.form.set_handle(workspace.handle)
        self._on_display(workspace.display)
        self._refresh_methods()
        self._reset()

    # --- state ---------------------------------------------------------------------
    @property
    def target(self) -> int | None:
        return self.workspace.target if self.workspace is not None else None

    def display_options(self) -> DisplayOptions:
        return DisplayOptions(self.mode.currentData(), self.clip.value(), self.shared.isChecked())

    def method_names(self) -> list[str]:
        return self.method.names()

    def select_method(self, name: str) -> None:
        self.method.select(name, "attribution method")

    def current_method(self) -> Any:
        return self.method.current(self.workspace.registry if self.workspace is not None else None)

    def current_result(self) -> Any:
        return self.heatmap

    # --- actions -------------------------------------------------------------------
    def explain(self, class_index: int | None) -> Any:
        """Make ``class_index`` the target (None: the top prediction) and run the method for it;
        returns the job's ticket (None when there is nothing to run)."""
        self.workspace.set_target(None if class_index is None else int(class_index))
        return self.run()

    def run(self) -> Any:
        """Explain the workspace's target with the chosen method; returns the job's ticket."""
        method = self.current_method()
        ws = self.workspace
        if method is None or ws is None or ws.handle is None or ws.image is None:
            self.message.emit("Load a model and an image first")
            return None
        ticket = self.ticket = self.engine.run_method(ATTRIBUTION_KEY, method, ws.handle, ws.image,
                                                      self.form.values(), ws.target)
        ticket.started.connect(self._on_started)
        ticket.progress.connect(self._on_progress)
        ticket.done.connect(self._on_explained)
        ticket.failed.connect(self._on_failed)
        ticket.finished.connect(self._on_finished)
        return ticket

    def _reset(self) -> None:
        """Forget what was computed for the previous model or image; ask for the new class list."""
        if self.engine is None:
            return
        for key in (TOPK_KEY, ATTRIBUTION_KEY):
            self.engine.cancel(key)
        self.progress.setVisible(False)
        self.classes, self.heatmap, self._layer_id, self.topk_ticket = [], None, None, None
        self._fill_table()
        self._show_target()
        handle, image = self.workspace.handle, self.workspace.image
        if handle is not None and image is not None and handle.task == "classify":
            self.topk_ticket = self.engine.submit(TOPK_KEY, jobs.topk, handle, image, TOP_K)
            self.topk_ticket.done.connect(self._on_classes)
            self.topk_ticket.failed.connect(self._on_classes_failed)

    # --- workspace and engine ------------------------------------------------------
    def _on_registry(self, _registry: Any) -> None:
        self._refresh_methods()

    def _on_model(self, handle: Any) -> None:
        self.form.set_handle(handle)
        self._refresh_methods()
        self._reset()

    def _on_image(self, _image: Any) -> None:
        self._reset()

    def _on_target(self, _target: Any) -> None:
        self._show_target()

    def _on_classes(self, classes: Any) -> None:
        self.classes = list(classes)
        self._fill_table()
        self._show_target()

    def _on_classes_failed(self, text: str) -> None:
        self.message.emit(f"Could not list the top classes: {text}")

    def _on_started(self) -> None:
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)

    def _on_progress(self, fraction: float, _message: str) -> None:
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(round(max(0.0, min(1.0, fraction)) * 1000)))

    def _on_failed(self, text: str) -> None:
        self.message.emit(f"Attribution failed: {text}")

    def _on_finished(self) -> None:
        self.progress.setVisible(False)

    def _on_explained(self, heatmap: Any) -> None:
        self.heatmap = heatmap
        self.workspace.show(heatmap)   # the Image tab lays it on the canvas, synchronously
        self._adopt_canvas_layer()

    def _on_image_view(self, result: Any) -> None:
        if result is not self.heatmap:   # another result replaced ours on the canvas
            self._layer_id = None

    def _on_display(self, options: DisplayOptions) -> None:
        """Show the workspace's display options in the widgets and restyle the heatmap."""
        widgets = (self.mode, self.clip, self.shared)
        for w in widgets:
            w.blockSignals(True)
        self.mode.setCurrentIndex(max(0, self.mode.findData(options.mode)))
        self.clip.setValue(options.clip_percentile)
        self.shared.setChecked(options.shared)
        for w in widgets:
            w.blockSignals(False)
        self._restyle()

    def _write_display(self, *_: Any) -> None:
        self.workspace.set_display(self.display_options())

    # --- canvas --------------------------------------------------------------------
    def _adopt_canvas_layer(self) -> None:
        if self.canvas is None:
            return
        heat = [layer for layer in self.canvas.layers() if isinstance(layer, HeatmapLayer)]
        self._layer_id = heat[-1].id if heat else None
        self._restyle()

    def _restyle(self) -> None:
        if self.canvas is None or self._layer_id is None or self.heatmap is None:
            return
        try:
            old = self.canvas.layer(self._layer_id)
        except KeyError:  # replaced by another result
            self._layer_id = None
            return
        self.canvas.update_layer(restyled_layer(old, self.heatmap.heatmap, self.workspace.display), by=self)

    # --- internals -----------------------------------------------------------------
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
        target = self.target
        wanted = target if target is not None else (self.classes[0][0] if self.classes else None)
        rows = [r for r, c in enumerate(self.classes) if c[0] == wanted]
        if rows:
            self.table.selectRow(rows[0])
        else:
            self.table.clearSelection()

    def _show_target(self) -> None:
        target = self.target
        if target is None:
            top = f": {self.classes[0][1]}" if self.classes else ""
            self.target_label.setText(f"Explaining the top prediction{top}")
        else:
            handle = self.workspace.handle
            name = handle.label(target) if handle is not None else str(target)
            self.target_label.setText(f"Explaining class {target}: {name}")
        self._select_target_row()

    def _refresh_methods(self) -> None:
        ws = self.workspace
        registry = ws.registry if ws is not None else None
        methods = attribution_methods(registry, ws.handle.task if ws is not None and ws.handle is not None else None)
        self.method.fill(methods, "(no attribution methods)" if registry is not None else "(loading methods…)")
        self.run_button.setEnabled(bool(methods))

    def _on_method_changed(self, *_: Any) -> None:
        method = self.current_method()
        name = method.name if method is not None else None
        if name != self._shown_method:  # keep the user's values when the list is only refilled
            self._shown_method = name
            self.form.set_params(method.params if method is not None else None)
