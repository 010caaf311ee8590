"""The Detection dock: run a detector on the image, then filter and restyle what it found.

Run sends the ``detect`` method to the engine under key ``detection``. Everything after that
(score threshold, classes, colours, mask opacity, proposals, an NMS replay at another IoU,
boxes before NMS) redraws from the cached result through ``core.detection_view``: the model
does not run again. The dock owns its layers on the canvas and updates only those whose
drawing changed; the table of detections and the canvas selection follow each other.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDockWidget, QFormLayout, QHBoxLayout,
                               QHeaderView, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton,
                               QSlider, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.core.detection_view import COLOR_BY, DetectionScene, DetectionView, ViewLayers
from workbench.core.scene import ImageLayer
from workbench.ui.dock_body import set_scrolling_body

DETECTION_KEY = "detection"
COLUMNS = ("#", "Class", "Score", "Box")
STAGE_CHOICES = (("after NMS", "after"), ("before NMS", "before"), ("before + after", "both"))
DEFAULT_THRESHOLD = 0.5
DEFAULT_TOP_K = 50


def labelled_slider(lo: int, hi: int, value: int, fmt) -> tuple[QSlider, QLabel, QHBoxLayout]:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(lo, hi)
    slider.setValue(value)
    label = QLabel(fmt(value))
    label.setMinimumWidth(44)
    slider.valueChanged.connect(lambda v: label.setText(fmt(v)))
    row = QHBoxLayout()
    row.addWidget(slider, 1)
    row.addWidget(label)
    return slider, label, row


def detections_table() -> QTableWidget:
    table = QTableWidget(0, len(COLUMNS))
    table.setObjectName("detectionTable")
    table.setHorizontalHeaderLabels(list(COLUMNS))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    # fixed widths: sizing columns to their contents rescans every row on each edit
    header = table.horizontalHeader()
    metrics = table.fontMetrics()
    for column, sample in enumerate(("9999", "hexagon__", "0.0000")):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, metrics.horizontalAdvance(sample) + 12)
    header.setStretchLastSection(True)
    table.setToolTip("Click a detection to select its box on the image")
    return table


def _box(box) -> str:
    return ", ".join(f"{v:.0f}" for v in box)


class DetectionDock(QDockWidget):
    detectionSelected = Signal(int)   # index into the model's final boxes; -1: a box the model dropped
    detectionsShown = Signal(object)  # the DetectionPipeline whose layers were just put on the canvas
    message = Signal(str)

    def __init__(self, engine: QObject, parent: QWidget | None = None) -> None:
        super().__init__("Detection", parent)
        self.setObjectName("detectionDock")
        self.engine = engine
        self.registry: Any = None
        self.handle: Any = None
        self.image: np.ndarray | None = None
        self.result: Any = None
        self.scene: DetectionScene | None = None
        self.shown: ViewLayers | None = None
        self._canvas: Any = None
        self._ids: dict[str, int] = {}           # role -> id of the canvas layer drawing it
        self._selected: tuple[int, int] | None = None  # Row.key of the selected detection

        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("detectionRun")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.summary = QLabel("Load a detector and an image, then Run")
        self.summary.setWordWrap(True)
        self.threshold, _, threshold_row = labelled_slider(0, 100, int(DEFAULT_THRESHOLD * 100),
                                                           lambda v: f"{v / 100:.2f}")
        self.threshold.setToolTip("Hide detections scoring below this (the model does not run again)")
        self.iou, self.iou_label, iou_row = labelled_slider(1, 100, 50, lambda v: f"{v / 100:.2f}")
        self.iou.setToolTip("Replay class-wise NMS at this IoU on the cached boxes before NMS")
        self.own_nms = QCheckBox("model's own")
        self.own_nms.setChecked(True)
        self.own_nms.setToolTip("Show the model's own final detections, with the NMS it ran")
        self.stage = QComboBox()
        self.stage.setObjectName("nmsStage")
        for text, value in STAGE_CHOICES:
            self.stage.addItem(text, value)
        self.stage.setToolTip("The boxes after NMS, the candidates that went into it, or both")
        self.color_by = QComboBox()
        for value in COLOR_BY:
            self.color_by.addItem(value, value)
        self.opacity, _, opacity_row = labelled_slider(0, 100, 50, lambda v: f"{v} %")
        self.proposals = QCheckBox("show")
        self.proposals.setToolTip("The RPN's region proposals, coloured by objectness (viridis: low to high)")
        self.top_k, self.top_k_label, top_k_row = labelled_slider(1, 1000, DEFAULT_TOP_K, lambda v: f"top {v}")
        top_k_row.insertWidget(0, self.proposals)
        self.classes = QListWidget()
        self.classes.setObjectName("detectionClasses")
        self.classes.setMaximumHeight(110)
        self.table = detections_table()
        self._build_layout(threshold_row, iou_row, opacity_row, top_k_row)

        self.run_button.clicked.connect(self.run)
        for slider in (self.threshold, self.opacity, self.top_k):
            slider.valueChanged.connect(self.redraw)
        self.iou.valueChanged.connect(self._on_iou_moved)
        self.own_nms.toggled.connect(self._on_own_nms)
        self.proposals.toggled.connect(self.redraw)
        for combo in (self.stage, self.color_by):
            combo.currentIndexChanged.connect(self.redraw)
        self.classes.itemChanged.connect(self.redraw)
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        engine.started.connect(self._on_started)
        engine.done.connect(self._on_done)
        engine.failed.connect(self._on_failed)
        engine.cancelled.connect(self._on_cancelled)

    def _build_layout(self, threshold_row, iou_row, opacity_row, top_k_row) -> None:
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.progress, 1)
        form = QFormLayout()
        form.addRow("Score ≥", threshold_row)
        form.addRow("NMS", self.own_nms)
        form.addRow("NMS IoU", iou_row)
        form.addRow("Boxes", self.stage)
        form.addRow("Colour by", self.color_by)
        form.addRow("Mask opacity", opacity_row)
        form.addRow("Proposals", top_k_row)
        form.addRow("Classes", self.classes)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addLayout(run_row)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        set_scrolling_body(self, body)

    # --- inputs --------------------------------------------------------------------
    def set_registry(self, registry: Any) -> None:
        self.registry = registry

    def set_model(self, handle: Any) -> None:
        self.handle = handle
        self._fill_classes(list(getattr(handle, "labels", []) or []))
        self._reset()
        self.run_button.setEnabled(getattr(handle, "task", None) == "detect")

    def set_image(self, image: np.ndarray | None) -> None:
        self.image = image
        self._reset()

    def attach_canvas(self, canvas: Any) -> None:
        self._canvas = canvas
        canvas.boxClicked.connect(self._on_box_clicked)

    # --- state ---------------------------------------------------------------------
    def view(self) -> DetectionView:
        checked = [self.classes.item(i) for i in range(self.classes.count())]
        shown = frozenset(int(it.data(Qt.ItemDataRole.UserRole)) for it in checked
                          if it.checkState() == Qt.CheckState.Checked)
        classes = None if len(shown) == len(checked) else shown
        return DetectionView(score_threshold=self.threshold.value() / 100, classes=classes,
                             color_by=self.color_by.currentData(), mask_opacity=self.opacity.value() / 100,
                             show_proposals=self.proposals.isChecked(), top_k=self.top_k.value(),
                             nms_iou=None if self.own_nms.isChecked() else self.iou.value() / 100,
                             stage=self.stage.currentData())

    def layer_id(self, role: str) -> int | None:
        """The canvas layer drawing ``role`` ("detections", "masks", "proposals", "pre-nms")."""
        return self._ids.get(role)

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def box_text(self, layer_id: int, index: int) -> str | None:
        """A status line for a box of one of this dock's layers; None for any other layer."""
        shown, scene = self.shown, self.scene
        role = next((r for r, lid in self._ids.items() if lid == layer_id), None)
        if shown is None or scene is None or role is None or index < 0:
            return None
        if role == "detections" and index < len(shown.rows):
            r = shown.rows[index]
            return f"{r.name} {r.score:.3f} [{_box(r.box)}]"
        if role == "proposals" and index < len(shown.proposals):
            j = shown.proposals[index]
            return f"proposal {j}: objectness {scene.proposal_scores[j]:.3f} [{_box(scene.proposals[j])}]"
        if role == "pre-nms" and index < len(shown.pre_nms):
            j = shown.pre_nms[index]
            return (f"before NMS: {scene.label_name(scene.pre_labels[j])} {scene.pre_scores[j]:.3f} "
                    f"[{_box(scene.pre_boxes[j])}]")
        return None

    # --- actions -------------------------------------------------------------------
    def run(self) -> None:
        if self.handle is None or self.image is None:
            self.message.emit("Load a detector and an image first")
            return
        if self.handle.task != "detect":
            self.message.emit(f"{self.handle.id} is a {self.handle.task} model, not a detector")
            return
        self.engine.run_method(DETECTION_KEY, self._method(), self.handle, self.image, {})

    def select_row(self, row: int | None) -> None:
        """Select a detection (a row of the table, a box of the detections layer); None clears."""
        if row is None or row < 0:
            self.table.clearSelection()
        else:
            self.table.selectRow(row)

    def redraw(self, *_: Any) -> None:
        """Rebuild the layers and the table from the cached result under the current options."""
        if self.scene is None:
            return
        built = self.scene.build(self.view())
        previous, self.shown = self.shown, built
        replaced = self._canvas is not None and self._apply(built, previous)
        self._fill_table(built.rows, previous.rows if previous is not None else [])
        self._restore_selection()
        self._show_summary()
        if replaced:  # last: a slot may change the options, which redraws again
            self.detectionsShown.emit(self.result)

    # --- canvas --------------------------------------------------------------------
    def _ours_on_canvas(self, previous: ViewLayers | None) -> bool:
        """Whether the layers last put on the canvas are all still there (other panels may
        have added theirs beside them)."""
        on_canvas = {l.id for l in self._canvas.layers()}
        return previous is not None and all(self._ids.get(r) in on_canvas for r in previous.roles)

    def _apply(self, built: ViewLayers, previous: ViewLayers | None) -> bool:
        """Update our layers in place when the same roles are on the canvas, swap them for new
        ones when the roles changed, and replace every overlay for a new result (and say so)."""
        ours = self._ours_on_canvas(previous)
        if ours and previous.roles == built.roles:
            for role, layer, key, old_key in zip(built.roles, built.layers, built.keys, previous.keys):
                if key == old_key:
                    built.layers[built.roles.index(role)] = self._canvas.layer(self._ids[role])
                    continue
                old = self._canvas.layer(self._ids[role])
                layer.id, layer.visible = old.id, old.visible
                self._canvas.update_layer(layer)
            return False
        if ours:   # the same result (a new one starts with nothing shown) under other options
            for lid in self._ids.values():
                self._canvas.remove_layer(lid)
            for layer in built.layers:
                self._canvas.add_layer(layer)
        else:
            self._canvas.replace_overlays(built.layers)
        self._ids = {role: layer.id for role, layer in zip(built.roles, built.layers)}
        return True

    def _restore_selection(self) -> None:
        rows = self.shown.rows if self.shown is not None else []
        row = next((i for i, r in enumerate(rows) if r.key == self._selected), None)
        with QSignalBlocker(self.table):
            self.select_row(row)
        if row is None:
            self._selected = None
        self._select_on_canvas(row)

    def _select_on_canvas(self, row: int | None) -> None:
        if self._canvas is None:
            return
        lid = self._ids.get("detections")
        on_canvas = lid is not None and any(l.id == lid for l in self._canvas.layers())
        want = (lid, row) if on_canvas and row is not None else None
        if self._canvas.selected_box() != want:
            self._canvas.select_box(*(want or (None,)))

    def _on_box_clicked(self, layer_id: int, index: int) -> None:
        if layer_id == self._ids.get("detections") and self.shown is not None and index < len(self.shown.rows):
            self.select_row(index)

    def _on_table_selection(self) -> None:
        row = self.selected_row()
        rows = self.shown.rows if self.shown is not None else []
        if row is None or row >= len(rows):
            return
        self._selected = rows[row].key
        self._select_on_canvas(row)
        self.detectionSelected.emit(rows[row].final)

    # --- engine --------------------------------------------------------------------
    def _method(self) -> Any:
        if self.registry is not None and "detect" in self.registry:
            return self.registry.get("detect")
        from workbench.core.methods.detect import METHOD  # imports torch: only once a run is asked for
        return METHOD

    def _on_started(self, key: str) -> None:
        if key == DETECTION_KEY:
            self.progress.setVisible(True)
            self.run_button.setEnabled(False)

    def _on_done(self, key: str, result: Any) -> None:
        if key == DETECTION_KEY:
            self._idle()
            self.show_result(result)

    def show_result(self, result: Any) -> None:
        """Show a detect result (a DetectionPipeline, or plain Detections) computed elsewhere."""
        self.result, self.scene, self.shown, self._selected = result, DetectionScene(result), None, None
        if not self.classes.count():
            self._fill_classes(self.scene.names)
        self._set_nms_range()
        with QSignalBlocker(self.top_k):
            self.top_k.setRange(1, max(1, len(self.scene.proposals)))
        self.top_k_label.setText(f"top {self.top_k.value()}")
        self.proposals.setEnabled(len(self.scene.proposals) > 0)
        self.iou.setEnabled(len(self.scene.pre_boxes) > 0)
        self.redraw()

    def _on_failed(self, key: str, text: str) -> None:
        if key == DETECTION_KEY:
            self._idle()
            self.message.emit(f"Detection failed: {text}")

    def _on_cancelled(self, key: str) -> None:
        if key == DETECTION_KEY:
            self._idle()

    def _idle(self) -> None:
        self.progress.setVisible(False)
        self.run_button.setEnabled(self.handle is None or self.handle.task == "detect")

    # --- internals -----------------------------------------------------------------
    def _reset(self) -> None:
        self.engine.cancel(DETECTION_KEY)
        if self._canvas is not None and self.shown is not None and self._ours_on_canvas(self.shown):
            for lid in self._ids.values():
                self._canvas.remove_layer(lid)
        self.result = self.scene = self.shown = self._selected = None
        self._ids = {}
        self.table.setRowCount(0)
        self._show_summary()

    def _set_nms_range(self) -> None:
        """Park the IoU slider at the model's own threshold while "model's own" is on."""
        own = self.scene.nms_threshold if self.scene is not None else None
        if own is not None and self.own_nms.isChecked():
            with QSignalBlocker(self.iou):
                self.iou.setValue(int(round(own * 100)))
            self.iou_label.setText(f"{own:.2f}")

    def _on_iou_moved(self, *_: Any) -> None:
        if self.own_nms.isChecked():
            with QSignalBlocker(self.own_nms):  # moving the slider means replaying
                self.own_nms.setChecked(False)
        self.redraw()

    def _on_own_nms(self, checked: bool) -> None:
        if checked:
            self._set_nms_range()
        self.redraw()

    def _fill_classes(self, names: list[str]) -> None:
        with QSignalBlocker(self.classes):
            self.classes.clear()
            for label, name in enumerate(names):
                if label == 0 and name.startswith("__"):
                    continue  # torchvision's background class
                item = QListWidgetItem(name)
                item.setData(Qt.ItemDataRole.UserRole, label)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked)
                self.classes.addItem(item)

    def _fill_table(self, rows: list, before: list) -> None:
        """Rewrite only the rows that differ from ``before``, the rows the table holds now."""
        table = self.table
        same = next((i for i, (a, b) in enumerate(zip(rows, before)) if a != b), min(len(rows), len(before)))
        if same == len(rows) == len(before):
            return
        table.setUpdatesEnabled(False)
        with QSignalBlocker(table):
            table.setRowCount(len(rows))
            for i in range(same, len(rows)):
                r = rows[i]
                cells = (str(i + 1), r.name, f"{r.score:.3f}", _box(r.box))
                for column, text in enumerate(cells):
                    item = table.item(i, column)
                    if item is None:
                        item = QTableWidgetItem(text)
                        if column != 1:
                            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                        table.setItem(i, column, item)
                    elif item.text() != text:
                        item.setText(text)
        table.setUpdatesEnabled(True)

    def _show_summary(self) -> None:
        if self.scene is None or self.shown is None:
            self.summary.setText("Load a detector and an image, then Run" if self.handle is None or self.image is None
                                 else "Run to detect")
            return
        c, s = self.shown.counts, self.scene
        steps = ([f"{c.proposals} proposals"] if c.proposals else []) + (
            [f"{c.pre_nms} before NMS"] if c.pre_nms else [])
        after = (f"{c.after} after NMS at {self.iou.value() / 100:.2f}" if not self.own_nms.isChecked() and c.pre_nms
                 else f"{c.final} final")
        self.summary.setText(f"model {s.time_ms:.0f} ms · {' → '.join(steps + [after])} · {c.shown} shown")
