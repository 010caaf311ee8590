"""The Region dock: follows the selected detection and shows what the box head saw of it.

On every selection (a click on a detection's box, or a row of the Detection dock) it runs
``roi_align`` for that detection: the bins and sample points go on the canvas over the
detections, the pooled channels into the Grid tab (without leaving the image). Two buttons
explain the detection's class score with ``explain_box`` (Grad-CAM or occlusion); the map
goes on the canvas under the sampling grid. Work runs on the engine under its own keys.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QFormLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from workbench.core import scene
from workbench.core.results import Detections, Heatmap
from workbench.core.roi_results import RoiPooling
from workbench.ui.dock_body import set_scrolling_body

ROI_KEY = "region"
EXPLAIN_KEY = "region-explain"
POOLINGS = (("ROI Align", "align"), ("ROI Pool", "pool"))
MATCH_PX = 1e-3


def final_index(detections: Detections, box: np.ndarray) -> int | None:
    """The index of ``box`` among the final detections (the same coordinates), or None."""
    if detections is None or not len(detections.boxes):
        return None
    err = np.abs(np.asarray(detections.boxes, np.float64) - np.asarray(box, np.float64).reshape(1, 4)).max(1)
    i = int(err.argmin())
    return i if err[i] <= MATCH_PX else None


class RegionDock(QDockWidget):
    message = Signal(str)
    roiShown = Signal(object)        # the RoiPooling now drawn
    explained = Signal(object)       # the finished Heatmap of the selected detection, now drawn

    def __init__(self, engine: Any, window: Any) -> None:
        super().__init__("Region", window)
        self.setObjectName("regionDock")
        self.engine, self.window = engine, window
        self.registry: Any = None
        self.detections: Detections | None = None
        self.index: int | None = None
        self.roi: RoiPooling | None = None
        self._roi_layers: list[scene.Layer] = []
        self._heat_layer: scene.Layer | None = None
        self._job_image: np.ndarray | None = None

        self.summary = QLabel("Select a detection: click its box, or its row in the Detection dock")
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
        self.gradcam = QPushButton("Explain: Grad-CAM")
        self.gradcam.setObjectName("explainGradcam")
        self.occlusion = QPushButton("Explain: occlusion")
        self.occlusion.setObjectName("explainOcclusion")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self._build_layout()
        self._enable()

        self.pooling.currentIndexChanged.connect(self.run_roi)
        self.channels.editingFinished.connect(self.run_roi)
        self.show_grid.toggled.connect(self._set_grid_visible)
        self.to_grid.clicked.connect(self._show_grid_tab)
        self.gradcam.clicked.connect(lambda: self.explain("gradcam"))
        self.occlusion.clicked.connect(lambda: self.explain("occlusion"))
        engine.progress.connect(self._on_progress)
        engine.partial.connect(lambda key, result: self._on_result(key, result, final=False))
        engine.done.connect(self._on_done)
        engine.failed.connect(self._on_failed)
        engine.cancelled.connect(self._on_cancelled)
        window.canvas.boxClicked.connect(self._on_box_clicked)
        window.resultShown.connect(self._on_result_shown)
        window.model_dock.modelLoaded.connect(lambda _h: self.reset())
        window.method_dock.registryReady.connect(self.set_registry)

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
        buttons = QHBoxLayout()
        buttons.addWidget(self.gradcam)
        buttons.addWidget(self.occlusion)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addStretch(1)
        set_scrolling_body(self, body)

    # --- inputs --------------------------------------------------------------------
    def set_registry(self, registry: Any) -> None:
        self.registry = registry

    def follow(self, detection_dock: Any) -> None:
        """Follow the Detection dock's selection (its table rows as well as its boxes)."""
        self._detection_dock = detection_dock
        detection_dock.detectionSelected.connect(self._on_detection_selected)

    def reset(self) -> None:
        self.engine.cancel(ROI_KEY)
        self.engine.cancel(EXPLAIN_KEY)
        self._clear_layers()
        self.detections, self.index, self.roi = None, None, None
        self.summary.setText("Select a detection: click its box, or its row in the Detection dock")
        self._enable()

    def select(self, detections: Detections, index: int) -> None:
        """Show the region of final detection ``index`` of ``detections`` (a detect result)."""
        self.detections, self.index = detections, int(index)
        self._clear_layers()
        self.roi = None
        name = _label(detections, index)
        self.summary.setText(f"Box {index}: {name} {detections.scores[index]:.2f}")
        self._enable()
        self.run_roi()

    def _current_detections(self) -> Detections | None:
        r = self.window.image_result
        if isinstance(r, Detections) and r.method == "detect" and r.stage == "final":
            return r
        return self.detections

    def _on_result_shown(self, result: Any) -> None:
        if isinstance(result, Detections) and result.method == "detect" and result is not self.detections:
            self.reset()
            self.detections = result

    def _on_detection_selected(self, index: int) -> None:
        dets = self._current_detections()
        if dets is None:
            return
        if not 0 <= index < len(dets.boxes):
            self.summary.setText("That box is not one of the model's final detections")
            return
        self.select(dets, index)

    def _on_box_clicked(self, layer_id: int, index: int) -> None:
        if any(l.id == layer_id for l in self._roi_layers):
            return
        dock = getattr(self, "_detection_dock", None)
        if dock is not None and layer_id in {dock.layer_id(r) for r in ("detections", "proposals", "pre-nms")}:
            return  # the Detection dock reports its own selections
        try:
            layer = self.window.canvas.layer(layer_id)
        except KeyError:
            return
        dets = self._current_detections()
        i = final_index(dets, layer.boxes[index]) if isinstance(layer, scene.BoxesLayer) else None
        if i is not None:
            self.select(dets, i)

    # --- jobs ----------------------------------------------------------------------
    def _method(self, name: str) -> Any:
        if self.registry is not None and name in self.registry:
            return self.registry.get(name)
        from workbench.plugins import default_registry  # imports torch: only once asked for
        return default_registry().get(name)

    def _values(self) -> dict[str, Any]:
        p = self.detections.params if self.detections is not None else {}
        return {"index": self.index, "score_threshold": p.get("score_threshold", 0.05),
                "max_detections": p.get("max_detections", 0)}

    def _ready(self) -> bool:
        w = self.window
        return self.index is not None and w.handle is not None and w.image is not None

    def two_stage(self) -> bool:
        module = getattr(self.window.handle, "module", None)
        return hasattr(getattr(module, "roi_heads", None), "box_roi_pool")

    def run_roi(self, *_: Any) -> None:
        if not self._ready():
            return
        if not self.two_stage():
            self.summary.setText(self.summary.text().split("\n")[0] + "\nROI pooling needs a two-stage detector "
                                 "(Faster / Mask R-CNN); Explain works on this one")
            return
        values = {**self._values(), "pool": self.pooling.currentData(), "channels": self.channels.value()}
        self._job_image = self.window.image
        self.engine.run_method(ROI_KEY, self._method("roi_align"), self.window.handle, self.window.image, values)

    def explain(self, explainer: str) -> None:
        if not self._ready():
            self.message.emit("Select a detection first")
            return
        self._job_image = self.window.image
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.engine.run_method(EXPLAIN_KEY, self._method("explain_box"), self.window.handle, self.window.image,
                               {**self._values(), "explainer": explainer})

    def _on_progress(self, key: str, fraction: float, _text: str) -> None:
        if key == EXPLAIN_KEY:
            self.progress.setValue(int(round(100 * fraction)))

    def _on_done(self, key: str, result: Any) -> None:
        if key == EXPLAIN_KEY:
            self.progress.setVisible(False)
        self._on_result(key, result)

    def _on_result(self, key: str, result: Any, final: bool = True) -> None:
        if self.window.image is not self._job_image:
            return  # made for an image no longer shown
        if key == ROI_KEY and isinstance(result, RoiPooling):
            self._show_roi(result)
        elif key == EXPLAIN_KEY and isinstance(result, Heatmap):
            self._show_heatmap(result, final)

    def _on_failed(self, key: str, text: str) -> None:
        if key in (ROI_KEY, EXPLAIN_KEY):
            self.progress.setVisible(False)
            self.summary.setText(self.summary.text().split("\n")[0] + "\n" + text)
            self.message.emit(text)

    def _on_cancelled(self, key: str) -> None:
        if key == EXPLAIN_KEY:
            self.progress.setVisible(False)

    # --- canvas --------------------------------------------------------------------
    def _show_roi(self, result: RoiPooling) -> None:
        self.roi = result
        self._remove(self._roi_layers)
        self._roi_layers = scene.layers_for(result)
        self._add(self._roi_layers)
        self._set_grid_visible(self.show_grid.isChecked())
        self.window.grid_result = result.grid
        self.window.grid_view.set_grid(result.grid)
        rows, cols = result.samples
        what = "sample points" if result.pool == "align" else "feature cells at most"
        oh, ow = result.pooled.shape[-2:]
        self.summary.setText(
            f"Box {result.detection}: {result.label_name} {result.score:.2f}\n"
            f"{'ROI Align' if result.pool == 'align' else 'ROI Pool'} on level {result.level} "
            f"(1/{round(1 / result.scale)} of the input): {oh}×{ow} bins, {rows}×{cols} {what} per bin; "
            f"{len(result.pooled)} channels, {len(result.channels)} strongest in the Grid tab")
        self._enable()
        self.roiShown.emit(result)

    def _show_heatmap(self, result: Heatmap, final: bool = True) -> None:
        self._remove([self._heat_layer] if self._heat_layer is not None else [])
        self._remove(self._roi_layers)
        self._heat_layer = scene.HeatmapLayer.auto(result.title, result.heatmap, signed=result.signed, opacity=0.55)
        self._add([self._heat_layer] + self._roi_layers)   # the sampling grid stays on top
        if final:
            self.window.statusBar().showMessage(result.title, 4000)
            self.explained.emit(result)

    def _add(self, layers: list) -> None:
        for layer in layers:
            self.window.canvas.add_layer(layer)

    def _remove(self, layers: list) -> None:
        present = {l.id for l in self.window.canvas.layers()}
        for layer in layers:
            if layer.id in present:
                self.window.canvas.remove_layer(layer.id)

    def _clear_layers(self) -> None:
        self._remove(self._roi_layers + ([self._heat_layer] if self._heat_layer is not None else []))
        self._roi_layers, self._heat_layer = [], None

    def _set_grid_visible(self, visible: bool) -> None:
        canvas = self.window.canvas
        present = {l.id for l in canvas.layers()}
        for layer in self._roi_layers:
            if layer.id in present and layer.visible != visible:
                layer.visible = visible
                canvas.update_layer(layer)

    def _show_grid_tab(self) -> None:
        if self.roi is not None:
            self.window.views.setCurrentWidget(self.window.grid_view)

    def _enable(self) -> None:
        selected = self.index is not None
        for button in (self.gradcam, self.occlusion):
            button.setEnabled(selected)
        self.to_grid.setEnabled(self.roi is not None)


def _label(detections: Detections, index: int) -> str:
    label = int(detections.labels[index])
    names = detections.label_names
    return names[label] if 0 <= label < len(names) else str(label)
