"""The Detection panel: the workspace's "detection" view, filtered and restyled on the canvas.

Run sends the ``detect`` method to the engine and shows the result in the workspace; a detect
result shown there by any other panel (the Method panel) lands here the same way. Everything
after that (score threshold, classes, colours, mask opacity, proposals, an NMS replay at
another IoU, boxes before NMS) redraws from the cached result through ``core.detection.view``:
the model does not run again. The panel owns its layers on the canvas and updates only those
whose drawing changed. A click on a box or a table row selects that detection in the workspace;
the highlight follows the workspace's selection.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QListWidget,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from workbench.core.detection.view import COLOR_BY, DetectionDisplay, DetectionView, ViewLayers
from workbench.core.renderers import DETECTION
from workbench.ui.detection.overlay import DetectionOverlay
from workbench.ui.detection.proposal_legend import ProposalLegend
from workbench.ui.detection.controls import (box_text, checked_classes, detections_table, fill_classes, fill_table,
                                             labelled_slider, set_scrolling_body)
from workbench.ui.panel import RIGHT, Panel

DETECTION_KEY = "detection"
STAGE_CHOICES = (("after NMS", "after"), ("before NMS", "before"), ("before + after", "both"))
DEFAULT_THRESHOLD = 0.5
DEFAULT_TOP_K = 50


class DetectionPanel(Panel):
    title = "Detection"
    area = RIGHT
    object_name = "detectionDock"
    views = (DETECTION,)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.canvas: Any = None
        self.display: DetectionDisplay | None = None   # the shown result, ready to draw
        self.overlay: DetectionOverlay | None = None    # its layers on the canvas
        self._selected: tuple[int, int] | None = None  # Row.key of the selected detection
        self._ticket: Any = None                 # the detect job run from here

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
        self.proposal_legend = ProposalLegend()   # shown while proposals are drawn
        self.proposal_legend.setVisible(False)
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
        form.addRow("Proposals", self.proposals)
        form.addRow("", top_k_row)
        form.addRow(self.proposal_legend)
        form.addRow("Classes", self.classes)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addLayout(run_row)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        set_scrolling_body(self, body)

    def bind(self, workspace, engine, canvas) -> None:
        self.workspace, self.engine, self.canvas = workspace, engine, canvas
        self.overlay = DetectionOverlay(canvas)
        workspace.view(DETECTION).changed.connect(self._on_result)
        workspace.modelChanged.connect(self._on_model)
        workspace.imageChanged.connect(self._on_image)
        workspace.selectionChanged.connect(self._on_selection)
        canvas.boxClicked.connect(self._on_box_clicked)
        if workspace.handle is not None:
            self._on_model(workspace.handle)
        if workspace.result(DETECTION) is not None:
            self._on_result(workspace.result(DETECTION))
        self._show_summary()

    # --- state ---------------------------------------------------------------------
    @property
    def result(self) -> Any:
        """The detect result shown (a DetectionPipeline, or plain Detections); None before one."""
        return self.display.result if self.display is not None else None

    @property
    def shown(self) -> ViewLayers | None:
        """The layers and table rows drawn now."""
        return self.overlay.shown if self.overlay is not None else None

    def view(self) -> DetectionView:
        return DetectionView(score_threshold=self.threshold.value() / 100, classes=checked_classes(self.classes),
                             color_by=self.color_by.currentData(), mask_opacity=self.opacity.value() / 100,
                             show_proposals=self.proposals.isChecked(), top_k=self.top_k.value(),
                             nms_iou=None if self.own_nms.isChecked() else self.iou.value() / 100,
                             stage=self.stage.currentData())

    def layer_id(self, role: str) -> int | None:
        """The canvas layer drawing ``role`` ("detections", "masks", "proposals", "pre-nms")."""
        return self.overlay.ids.get(role) if self.overlay is not None else None

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def box_text(self, layer_id: int, index: int) -> str | None:
        """A status line for a box of one of this panel's layers; None for any other layer."""
        shown, d = self.shown, self.display
        if shown is None or d is None or index < 0:
            return None
        role = next((r for r, lid in self.overlay.ids.items() if lid == layer_id), None)
        if role is None:
            return None
        if role == "detections" and index < len(shown.rows):
            r = shown.rows[index]
            return f"{r.name} {r.score:.3f} [{box_text(r.box)}]"
        if role == "proposals" and index < len(shown.proposals):
            j = shown.proposals[index]
            if d.proposal_words[0] == "rank":   # proposals from the image alone, stored best first
                return f"proposal {j}: rank {j + 1} of {len(d.proposals)} [{box_text(d.proposals[j])}]"
            return f"proposal {j}: objectness {d.proposal_scores[j]:.3f} [{box_text(d.proposals[j])}]"
        if role == "pre-nms" and index < len(shown.pre_nms):
            j = shown.pre_nms[index]
            what = f"query {j}" if d.is_set_prediction else "before NMS"
            return (f"{what}: {d.label_name(d.pre_labels[j])} {d.pre_scores[j]:.3f} "
                    f"[{box_text(d.pre_boxes[j])}]")
        return None

    def current_result(self) -> Any:
        return self.workspace.result(DETECTION) if self.workspace is not None else None

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        """The image with the detection layers as drawn on the canvas."""
        layers = self.overlay.layers() if self.overlay is not None else []
        if self.display is None or not layers or self.canvas.image() is None:
            raise ValueError("nothing to export: run a detector first")
        from workbench.figure.render import export_layers
        return export_layers(self.canvas.layers()[:1] + layers, path, scale, title=self.display.result.title)

    # --- actions -------------------------------------------------------------------
    def run(self) -> Any:
        """Run ``detect`` on the workspace's image; its result is shown in the workspace.
        Returns the job's ticket (None when there is nothing to run)."""
        ws = self.workspace
        if ws is None or ws.handle is None or ws.image is None:
            self.message.emit("Load a detector and an image first")
            return None
        if ws.handle.task != "detect":
            self.message.emit(f"{ws.handle.id} is a {ws.handle.task} model, not a detector")
            return None
        ticket = self._ticket = self.engine.run_method(DETECTION_KEY, self._method(), ws.handle, ws.image, {})
        ticket.done.connect(self._on_done)
        ticket.failed.connect(self._on_failed)
        ticket.finished.connect(self._on_finished)
        self.progress.setVisible(True)
        self.run_button.setEnabled(False)
        return ticket

    def select_row(self, row: int | None) -> None:
        """Select a detection (a row of the table, a box of the detections layer); None clears."""
        if row is None or row < 0:
            self.table.clearSelection()
        else:
            self.table.selectRow(row)

    def redraw(self, *_: Any) -> None:
        """Rebuild the layers and the table from the cached result under the current options."""
        if self.display is None:
            return
        built = self.display.build(self.view())
        before = self.shown.rows if self.shown is not None else []
        self.overlay.apply(built)
        self.proposal_legend.setVisible(len(built.proposals) > 0)
        fill_table(self.table, built.rows, before)
        self._restore_selection()
        self._show_summary()

    # --- canvas --------------------------------------------------------------------
    def _restore_selection(self) -> None:
        rows = self.shown.rows if self.shown is not None else []
        row = next((i for i, r in enumerate(rows) if r.key == self._selected), None)
        with QSignalBlocker(self.table):
            self.select_row(row)
        if row is None:
            self._selected = None
        self.overlay.select(row)

    def _on_box_clicked(self, layer_id: int, index: int) -> None:
        text = self.box_text(layer_id, index)
        if text is None:
            return
        self.statusMessage.emit(text)
        if layer_id == self.layer_id("detections"):
            self.select_row(index)

    def _on_table_selection(self) -> None:
        row = self.selected_row()
        rows = self.shown.rows if self.shown is not None else []
        if row is None or row >= len(rows):
            return
        self._selected = rows[row].key
        self.overlay.select(row)
        final = rows[row].final   # -1: a box the model itself dropped, which no other panel knows
        self.workspace.set_selection(final if final >= 0 else None)

    def _on_selection(self, index: int | None) -> None:
        """Follow the workspace's selection (made here, or by another panel)."""
        if self._selected is not None and (index is None and self._selected[0] < 0
                                           or index is not None and self._selected[0] == index):
            return   # already shown: a box the model dropped has no final index to select
        rows = self.shown.rows if self.shown is not None else []
        row = next((i for i, r in enumerate(rows) if index is not None and r.final == index), None)
        self._selected = rows[row].key if row is not None else None
        self._restore_selection()

    # --- workspace and engine ------------------------------------------------------
    def _method(self) -> Any:
        registry = self.workspace.registry
        if registry is not None and "detect" in registry:
            return registry.get("detect")
        from workbench.core.methods.detect import METHOD  # imports torch: only once a run is asked for
        return METHOD

    def _on_done(self, result: Any) -> None:
        if self.sender() is self._ticket:   # not one made for an image or model since replaced
            self.workspace.show(result)

    def _on_failed(self, text: str) -> None:
        if self.sender() is self._ticket:
            self.message.emit(f"Detection failed: {text}")

    def _on_finished(self) -> None:
        if self.sender() is self._ticket:
            self._ticket = None
            self._idle()

    def _on_result(self, result: Any) -> None:
        """A new result in the workspace's detection view (None: it was cleared). A new result
        replaces every overlay on the canvas; a cleared one takes only this panel's layers away."""
        self.overlay.clear(remove=result is None)
        self.display, self._selected = None, None
        self.table.setRowCount(0)
        if result is None:
            self.proposal_legend.setVisible(False)
            self._show_summary()
            return
        self.workspace.set_selection(None)   # an index into the previous result's boxes
        self.display = d = DetectionDisplay(result)
        if not self.classes.count():
            fill_classes(self.classes, d.names)
        self._set_nms_range()
        with QSignalBlocker(self.top_k):
            self.top_k.setRange(1, max(1, len(d.proposals)))
        self.top_k_label.setText(f"top {self.top_k.value()}")
        self.proposals.setEnabled(len(d.proposals) > 0)
        self.proposal_legend.words = d.proposal_words
        self.proposals.setChecked(self.proposals.isChecked() or (len(d.proposals) > 0 and not len(d.pre_boxes)))
        self.iou.setEnabled(len(d.pre_boxes) > 0)
        self.redraw()

    def _on_model(self, handle: Any) -> None:
        self._forget_run()
        fill_classes(self.classes, list(getattr(handle, "labels", []) or []))
        self.run_button.setEnabled(handle.task == "detect")
        self._show_summary()

    def _on_image(self, _image: Any) -> None:
        self._forget_run()
        self._show_summary()

    def _forget_run(self) -> None:
        """Stop the detect job run from here: it was asked of the previous image or model."""
        if self._ticket is not None:
            self._ticket.cancel()
            self._ticket = None
        self._idle()

    def _idle(self) -> None:
        self.progress.setVisible(False)
        handle = self.workspace.handle if self.workspace is not None else None
        self.run_button.setEnabled(handle is None or handle.task == "detect")

    # --- internals -----------------------------------------------------------------
    def _set_nms_range(self) -> None:
        """Park the IoU slider at the model's own threshold while "model's own" is on."""
        own = self.display.nms_threshold if self.display is not None else None
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

    def _show_summary(self) -> None:
        if self.display is None or self.shown is None:
            ws = self.workspace
            ready = ws is not None and ws.handle is not None and ws.image is not None
            self.summary.setText("Run to detect" if ready else "Load a detector and an image, then Run")
            return
        c, d = self.shown.counts, self.display
        if d.proposal_words[0] == "rank":   # proposals from the image alone: no model ran, nothing detected
            shown = f", the first {len(self.shown.proposals)} shown" if len(self.shown.proposals) else ""
            self.summary.setText(f"{d.result.architecture} {d.time_ms:.0f} ms · {c.proposals} proposals{shown}")
            return
        candidates = "object queries" if d.is_set_prediction else "before NMS"
        steps = ([f"{c.proposals} proposals"] if c.proposals else []) + (
            [f"{c.pre_nms} {candidates}"] if c.pre_nms else [])
        after = (f"{c.after} after NMS at {self.iou.value() / 100:.2f}" if not self.own_nms.isChecked() and c.pre_nms
                 else f"{c.final} final")
        self.summary.setText(f"model {d.time_ms:.0f} ms · {' → '.join(steps + [after])} · {c.shown} shown")
