"""The Region panel: what the box head saw of the detection selected in the workspace.

On every selection (a click on a detection's box, or a row of the Detection panel) it runs
``roi_align`` for that detection of the workspace's detection result: the bins and sample
points go on the canvas over the detections; "Pooled features ▸ Grid" shows the pooled
channels in the Grid tab. Two buttons explain the detection's class score with
``explain_box`` (Grad-CAM or occlusion); the map goes on the canvas under the sampling grid.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from workbench.core.canvas_layers import HeatmapLayer, Layer
from workbench.core.renderers import DETECTION, layers_for
from workbench.core.results import Detections, Heatmap
from workbench.core.results.roi import RoiPooling
from workbench.ui.detection.controls import set_scrolling_body
from workbench.ui.panel import RIGHT, Panel

ROI_KEY = "region"
EXPLAIN_KEY = "region-explain"
POOLINGS = (("ROI Align", "align"), ("ROI Pool", "pool"))
HINT = "Select a detection: click its box, or its row in the Detection panel"


class RegionPanel(Panel):
    title = "Region"
    area = RIGHT
    object_name = "regionDock"

    roiShown = Signal(object)        # the RoiPooling now drawn
    explained = Signal(object)       # the finished Heatmap of the selected detection, now drawn

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.canvas: Any = None
        self.index: int | None = None          # the final detection shown
        self.roi: RoiPooling | None = None
        self.heatmap: Heatmap | None = None
        self._roi_layers: list[Layer] = []
        self._heat_layer: Layer | None = None
        self._roi_ticket: Any = None
        self._explain_ticket: Any = None

        self.summary = QLabel(HINT)
        self.summary.setWordWrap(True)
        self.pooling = QComboBox()
        for text, value in POOLINGS:
            self.pooling.addItem(text, value)
        self.pooling.setToolTip("ROI Align: bilinear samples averaged per bin, what the box head gets; "
                                "ROI Pool: the max over whole feature cells")
        self.channels = QSpinBox()
        self.channels.setRange(0, 4096)
        self.channels.setValue(16)
        self.channels.setToolTip("Pooled channels shown in the Grid tab, strongest first (0: all)")
        self.show_grid = QCheckBox("Sampling grid on the image")
        self.show_grid.setChecked(True)
        self.to_grid = QPushButton("Pooled features ▸ Grid")
        self.gradcam = QPushButton("Grad-CAM")
        self.gradcam.setObjectName("explainGradcam")
        self.gradcam.setToolTip("Explain the detection's class score with Grad-CAM")
        self.occlusion = QPushButton("Occlusion")
        self.occlusion.setObjectName("explainOcclusion")
        self.occlusion.setToolTip("Explain the detection's class score by occluding patches")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self._build_layout()
        self._enable()

        self.pooling.currentIndexChanged.connect(self.run_roi)
        self.channels.editingFinished.connect(self.run_roi)
        self.show_grid.toggled.connect(self._set_grid_visible)
        self.to_grid.clicked.connect(self.show_pooled)
        self.gradcam.clicked.connect(lambda: self.explain("gradcam"))
        self.occlusion.clicked.connect(lambda: self.explain("occlusion"))

    def _build_layout(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.summary)
        form = QFormLayout()
        form.addRow("Pooling", self.pooling)
        form.addRow("Channels", self.channels)
        layout.addLayout(form)
        layout.addWidget(self.show_grid)
        layout.addWidget(self.to_grid)
        layout.addWidget(QLabel("Explain the class score with"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.gradcam)
        buttons.addWidget(self.occlusion)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addStretch(1)
        set_scrolling_body(self, body)

    def bind(self, workspace, engine, canvas) -> None:
        self.workspace, self.engine, self.canvas = workspace, engine, canvas
        workspace.selectionChanged.connect(self._on_selection)
        workspace.view(DETECTION).changed.connect(self._on_detections)

    # --- state ---------------------------------------------------------------------
    def detections(self) -> Detections | None:
        """The workspace's detection result when it is a detector's own (``detect``) result."""
        r = self.workspace.result(DETECTION) if self.workspace is not None else None
        return r if isinstance(r, Detections) and r.method == "detect" else None

    def two_stage(self) -> bool:
        module = getattr(self.workspace.handle, "module", None)
        return hasattr(getattr(module, "roi_heads", None), "box_roi_pool")

    def current_result(self) -> Any:
        return self.heatmap if self.heatmap is not None else self.roi

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        """The canvas as it shows the selected detection: the image, the detections, the
        sampling grid and the explanation."""
        if not self._own_layers() or self.canvas.image() is None:
            raise ValueError("nothing to export: select a detection first")
        from workbench.figure.render import export_layers
        title = self.summary.text().split("\n")[0]
        return export_layers(self.canvas.layers(), path, scale, title=title)

    # --- actions -------------------------------------------------------------------
    def reset(self) -> None:
        for ticket in (self._roi_ticket, self._explain_ticket):
            if ticket is not None:
                ticket.cancel()
        self._roi_ticket = self._explain_ticket = None
        self.progress.setVisible(False)
        self._clear_layers()
        self.index, self.roi, self.heatmap = None, None, None
        self.summary.setText(HINT)
        self._enable()

    def select(self, index: int) -> None:
        """Show the region of final detection ``index`` of the workspace's detection result."""
        dets = self.detections()
        self.reset()
        if dets is None:
            return
        if not 0 <= index < len(dets.boxes):
            self.summary.setText("That box is not one of the model's final detections")
            return
        self.index = int(index)
        label = int(dets.labels[index])
        name = dets.label_names[label] if 0 <= label < len(dets.label_names) else str(label)
        self.summary.setText(f"Box {index}: {name} {dets.scores[index]:.2f}")
        self._enable()
        self.run_roi()

    def run_roi(self, *_: Any) -> Any:
        """ROI pooling of the selected detection; returns the job's ticket (None: nothing to run)."""
        if not self._ready():
            return None
        if not self.two_stage():
            self.summary.setText(self.summary.text().split("\n")[0] + "\nROI pooling needs a two-stage detector "
                                 "(Faster / Mask R-CNN); Explain works on this one")
            return None
        values = {**self._values(), "pool": self.pooling.currentData(), "channels": self.channels.value()}
        ws = self.workspace
        ticket = self._roi_ticket = self.engine.run_method(ROI_KEY, self._method("roi_align"), ws.handle,
                                                           ws.image, values)
        ticket.done.connect(self._on_roi)
        ticket.failed.connect(self._on_failed)
        return ticket

    def explain(self, explainer: str) -> Any:
        """Explain the selected detection's score ("gradcam" or "occlusion"); returns the ticket."""
        if not self._ready():
            self.message.emit("Select a detection first")
            return None
        ws = self.workspace
        ticket = self._explain_ticket = self.engine.run_method(
            EXPLAIN_KEY, self._method("explain_box"), ws.handle, ws.image, {**self._values(), "explainer": explainer})
        ticket.progress.connect(self._on_progress)
        ticket.partial.connect(self._on_explain_partial)
        ticket.done.connect(self._on_explained)
        ticket.failed.connect(self._on_failed)
        ticket.finished.connect(self._on_explain_finished)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        return ticket

    def show_pooled(self) -> None:
        """The pooled channels of the shown ROI in the Grid tab."""
        if self.roi is not None and self.roi.grid is not None:
            self.workspace.show(self.roi.grid)

    # --- jobs ----------------------------------------------------------------------
    def _method(self, name: str) -> Any:
        registry = self.workspace.registry
        if registry is not None and name in registry:
            return registry.get(name)
        from workbench.plugins import default_registry  # imports torch: only once asked for
        return default_registry().get(name)

    def _values(self) -> dict[str, Any]:
        dets = self.detections()
        p = dets.params if dets is not None else {}
        return {"index": self.index, "score_threshold": p.get("score_threshold", 0.05),
                "max_detections": p.get("max_detections", 0)}

    def _ready(self) -> bool:
        ws = self.workspace
        return self.index is not None and ws is not None and ws.handle is not None and ws.image is not None

    def _on_detections(self, _result: Any) -> None:
        self.reset()   # a new result (or none): the selection was an index into the previous one

    def _on_selection(self, index: int | None) -> None:
        if index is None:
            self.reset()
        else:
            self.select(index)

    def _on_roi(self, result: Any) -> None:
        if self.sender() is self._roi_ticket and isinstance(result, RoiPooling):
            self._show_roi(result)

    def _on_progress(self, fraction: float, _text: str) -> None:
        if self.sender() is self._explain_ticket:
            self.progress.setValue(int(round(100 * fraction)))

    def _on_explain_partial(self, result: Any) -> None:
        if self.sender() is self._explain_ticket and isinstance(result, Heatmap):
            self._show_heatmap(result)

    def _on_explained(self, result: Any) -> None:
        if self.sender() is self._explain_ticket and isinstance(result, Heatmap):
            self.heatmap = result
            self._show_heatmap(result)
            self.statusMessage.emit(result.title)
            self.explained.emit(result)

    def _on_explain_finished(self) -> None:
        if self.sender() is self._explain_ticket:
            self.progress.setVisible(False)

    def _on_failed(self, text: str) -> None:
        if self.sender() in (self._roi_ticket, self._explain_ticket):
            self.summary.setText(self.summary.text().split("\n")[0] + "\n" + text)
            self.message.emit(text)

    # --- canvas --------------------------------------------------------------------
    def _show_roi(self, result: RoiPooling) -> None:
        self.roi = result
        self._remove(self._roi_layers)
        self._roi_layers = layers_for(result)
        self._add(self._roi_layers)
        self._set_grid_visible(self.show_grid.isChecked())
        rows, cols = result.samples
        what = "sample points" if result.pool == "align" else "feature cells at most"
        oh, ow = result.pooled.shape[-2:]
        self.summary.setText(
            f"Box {result.detection}: {result.label_name} {result.score:.2f}\n"
            f"{'ROI Align' if result.pool == 'align' else 'ROI Pool'} on level {result.level} "
            f"(1/{round(1 / result.scale)} of the input): {oh}×{ow} bins, {rows}×{cols} {what} per bin; "
            f"{len(result.pooled)} channels, {len(result.channels)} strongest for the Grid tab")
        self._enable()
        self.roiShown.emit(result)

    def _show_heatmap(self, result: Heatmap) -> None:
        self._remove([self._heat_layer] if self._heat_layer is not None else [])
        self._remove(self._roi_layers)
        self._heat_layer = HeatmapLayer.auto(result.title, result.heatmap, signed=result.signed, opacity=0.55)
        self._add([self._heat_layer] + self._roi_layers)   # the sampling grid stays on top

    def _own_layers(self) -> list[Layer]:
        present = {l.id for l in self.canvas.layers()} if self.canvas is not None else set()
        ours = self._roi_layers + ([self._heat_layer] if self._heat_layer is not None else [])
        return [l for l in ours if l.id in present]

    def _add(self, layers: list) -> None:
        for layer in layers:
            self.canvas.add_layer(layer)

    def _remove(self, layers: list) -> None:
        present = {l.id for l in self.canvas.layers()}
        for layer in layers:
            if layer.id in present:
                self.canvas.remove_layer(layer.id)

    def _clear_layers(self) -> None:
        if self.canvas is not None:
            self._remove(self._own_layers())
        self._roi_layers, self._heat_layer = [], None

    def _set_grid_visible(self, visible: bool) -> None:
        present = {l.id for l in self.canvas.layers()}
        for layer in self._roi_layers:
            if layer.id in present and layer.visible != visible:
                layer.visible = visible
                self.canvas.update_layer(layer)

    def _enable(self) -> None:
        selected = self.index is not None
        for button in (self.gradcam, self.occlusion):
            button.setEnabled(selected)
        self.to_grid.setEnabled(self.roi is not None)
