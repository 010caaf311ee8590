"""The Detectors tab: one image through two detectors side by side, e.g. one-stage beside two-stage.

Each side runs ``detect`` on the engine under its own key (``detectors:left``, ``detectors:right``),
loading its model in the same job; loaded models are kept by id, so a new image does not reload
them. The shared score threshold only filters what is drawn: it never runs a model again. The
panels on screen are painted by ``paint_panels``, which also writes the exported figure.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QVBoxLayout,
                               QWidget)

from workbench.core.results import Detections
from workbench.core.scene import layers_for
from workbench.figure.detectors import DetectorPanel, export_panels, fit_panels, paint_panels
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.panel_canvas import PanelCanvas

KEY_PREFIX = "detectors:"
SIDES = ("left", "right")
CATALOGUE_KEY = KEY_PREFIX + "catalogue"
DEFAULT_MODELS = ("zoo:shapes-fcos", "zoo:shapes-fasterrcnn")
RUN_THRESHOLD = 0.05      # what detect itself drops; the shared slider filters above this
DEFAULT_THRESHOLD = 0.5
SLIDER_STEPS = 100


@dataclasses.dataclass
class Outcome:
    """What a side's job hands back: the loaded model (kept for the next run) and its detections."""
    handle: Any
    result: Detections


def above(result: Detections, threshold: float) -> Detections:
    """The final detections scoring at least ``threshold``, with their masks and keypoints."""
    final = result.stage_detections("final") if hasattr(result, "stage_detections") else result
    keep = np.asarray(final.scores) >= threshold

    def pick(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.asarray(a)[keep]

    return dataclasses.replace(final, boxes=np.asarray(final.boxes)[keep], scores=pick(final.scores),
                               labels=pick(final.labels), masks=pick(final.masks),
                               keypoints=pick(final.keypoints), keypoint_scores=pick(final.keypoint_scores),
                               title=f"score ≥ {threshold:.2f}")


def stats_text(result: Detections, shown: int) -> str:
    """'two-stage · 41 ms · 3 detections · 300 proposals'."""
    parts = [getattr(result, "architecture", "")]
    time_ms = getattr(result, "time_ms", 0.0)
    parts.append(f"{time_ms:.0f} ms" if time_ms >= 1 else f"{time_ms:.2f} ms")
    parts.append(f"{shown} detection" + ("" if shown == 1 else "s"))
    proposals = getattr(result, "proposals", None)
    if proposals is not None and len(proposals):
        parts.append(f"{len(proposals)} proposals")
    return " · ".join(p for p in parts if p)


def _detect_job(model_id: str, handle: Any, image: np.ndarray) -> Callable[[Any], Outcome]:
    def job(jc: Any) -> Outcome:
        from workbench.core.methods.detect import METHOD
        from workbench.core.sources import load_model
        from workbench.engine.jobs import method_job
        h = handle if handle is not None else load_model(model_id)
        if h.task != "detect":
            raise ValueError(f"{model_id} is a {h.task} model, not a detector")
        return Outcome(h, method_job(METHOD, h, image, {"score_threshold": RUN_THRESHOLD})(jc))
    return job


def _catalogue_job(_jc: Any) -> list[dict]:
    """The catalogue's detectors, then every other torchvision detector (ids can be edited)."""
    from torchvision import models

    from workbench.core.sources import catalogue, hub_weights_path
    rows = [row for row in catalogue() if row["task"] == "detect"]
    listed = {row["id"] for row in rows}
    for name in models.list_models(module=models.detection):
        if f"torchvision:{name}" not in listed:
            path = hub_weights_path(name)
            rows.append({"id": f"torchvision:{name}", "source": "torch hub cache",
                         "status": "available" if path.is_file() else f"missing: {path}"})
    return rows


class DetectorPanels(PanelCanvas):
    HINT = "Open an image and press Compare to run two detectors side by side"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panels: list[DetectorPanel] = []
        self.setMinimumSize(240, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_panels(self, image: np.ndarray | None, panels: list[DetectorPanel]) -> None:
        self.image, self.panels = image, panels
        self.update()

    def current_layout(self):
        if self.image is None or not self.panels:
            return None
        h, w = self.image.shape[:2]
        font_px = float(self.fontInfo().pixelSize())
        return fit_panels(len(self.panels), (w, h), (self.width(), self.height()), font_px)

    def paint_layout(self, painter: QPainter, layout, text: QColor) -> None:
        paint_panels(painter, layout, self.image, self.panels, text)


class DetectorCompare(QWidget):
    panelsChanged = Signal()
    message = Signal(str)

    def __init__(self, engine: QObject, image_source: Callable[[], np.ndarray | None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detectorCompare")
        self.engine = engine
        self.image_source = image_source
        self.image: np.ndarray | None = None
        self.handles: dict[str, Any] = {}                     # model id -> loaded handle
        self.results: dict[str, Detections] = {}              # side -> detections
        self.notes: dict[str, str] = {}                       # side -> what the panel says while empty
        self.ran: dict[str, str] = {}                         # side -> model id of its result or job

        self.pickers = {side: self._picker(model_id) for side, model_id in zip(SIDES, DEFAULT_MODELS)}
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("detectorCompareButton")
        self.export_button = QPushButton("Export…")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(RUN_THRESHOLD * SLIDER_STEPS), SLIDER_STEPS)
        self.slider.setValue(round(DEFAULT_THRESHOLD * SLIDER_STEPS))
        self.slider.setToolTip("Shared score threshold: filters both panels without running the models again")
        self.threshold_label = QLabel()
        self.status = QLabel()
        self.canvas = DetectorPanels()

        models = QHBoxLayout()
        models.addWidget(self.pickers["left"], 1)
        models.addWidget(QLabel("vs"))
        models.addWidget(self.pickers["right"], 1)
        models.addWidget(self.compare_button)
        models.addWidget(self.export_button)
        threshold = QHBoxLayout()
        threshold.addWidget(self.threshold_label)
        threshold.addWidget(self.slider, 1)
        threshold.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(models)
        layout.addLayout(threshold)
        layout.addWidget(self.canvas, 1)

        self.compare_button.clicked.connect(lambda: self.compare())
        self.export_button.clicked.connect(self._export_dialog)
        self.slider.valueChanged.connect(lambda _v: self._refresh())
        for side, picker in self.pickers.items():
            picker.activated.connect(lambda _i, s=side: self._rerun(s))
            picker.lineEdit().returnPressed.connect(lambda s=side: self._rerun(s))
        engine.done.connect(self._on_done)
        engine.failed.connect(lambda key, text: self._on_note(key, f"failed: {text}"))
        engine.started.connect(lambda key: self._on_note(key, "running…"))
        engine.cancelled.connect(lambda key: self._on_note(key, "cancelled"))
        self.engine.submit(CATALOGUE_KEY, _catalogue_job)
        self._refresh()

    # --- inputs --------------------------------------------------------------------
    @property
    def threshold(self) -> float:
        return self.slider.value() / SLIDER_STEPS

    def set_threshold(self, value: float) -> None:
        self.slider.setValue(round(value * SLIDER_STEPS))

    def model_id(self, side: str) -> str:
        return self.pickers[side].currentText().strip()

    def set_model(self, side: str, model_id: str) -> None:
        picker = self.pickers[side]
        if picker.findText(model_id) < 0:
            picker.addItem(model_id)
        picker.setCurrentText(model_id)

    def set_image(self, image: np.ndarray | None) -> None:
        """A new image clears both panels; while the tab is on screen it runs both models on it."""
        if image is self.image:
            return
        for side in SIDES:
            self.engine.cancel(KEY_PREFIX + side)
        self.image, self.results, self.notes, self.ran = image, {}, {}, {}
        if image is not None and self.isVisible():
            self.compare()
        self._refresh()

    def set_result(self, side: str, result: Detections) -> None:
        """Show detections on one side (what a finished run does)."""
        self.results[side] = result
        self.ran[side] = result.model or self.ran.get(side, "")
        self._refresh()

    # --- actions -------------------------------------------------------------------
    def compare(self) -> None:
        """Run both pickers' models on the image, each under its own key."""
        if self.image is None:
            self.message.emit("Open an image first")
            return
        for side in SIDES:
            self._run(side)
        self._refresh()

    def panels(self) -> list[DetectorPanel]:
        out = []
        for side in SIDES:
            model_id = self.ran.get(side) or self.model_id(side)
            result = self.results.get(side)
            if result is None:
                out.append(DetectorPanel(model_id, "", None, self.notes.get(side, "press Compare")))
                continue
            shown = above(result, self.threshold)
            out.append(DetectorPanel(model_id, stats_text(result, len(shown.boxes)), layers_for(shown)))
        return out

    def export(self, path: str | Path, scale: float = 2.0) -> Path:
        """Both panels as one figure (.png, .svg, .pdf), side by side as on screen."""
        if self.image is None or not self.results:
            raise ValueError("nothing to export: run a comparison first")
        layout = self.canvas.current_layout()
        return export_panels(path, self.image, self.panels(), scale, layout.columns if layout else None)

    # --- internals -----------------------------------------------------------------
    def _picker(self, model_id: str) -> QComboBox:
        picker = QComboBox()
        picker.setEditable(True)  # any detector id, e.g. torchvision:fcos_resnet50_fpn?weights=none
        picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        picker.setMinimumContentsLength(18)
        picker.addItem(model_id)
        return picker

    def _run(self, side: str) -> None:
        model_id = self.model_id(side)
        if not model_id:
            self.notes[side] = "choose a detector"
            return
        self.results.pop(side, None)
        self.ran[side], self.notes[side] = model_id, "waiting…"
        self.engine.submit(KEY_PREFIX + side, _detect_job(model_id, self.handles.get(model_id), self.image))

    def _rerun(self, side: str) -> None:
        if self.image is not None and self.model_id(side) != self.ran.get(side):
            self._run(side)
            self._refresh()

    def _side_of(self, key: str) -> str | None:
        side = key[len(KEY_PREFIX):] if key.startswith(KEY_PREFIX) else None
        return side if side in SIDES else None

    def _on_done(self, key: str, payload: Any) -> None:
        if key == CATALOGUE_KEY:
            self._set_catalogue(payload)
            return
        side = self._side_of(key)
        if side is not None and isinstance(payload, Outcome):
            # keep only the models a picker names, so big detectors do not pile up in memory
            picked = {self.model_id(s) for s in SIDES} | {payload.handle.id}
            self.handles = {k: h for k, h in self.handles.items() if k in picked}
            self.handles[payload.handle.id] = payload.handle
            self.set_result(side, payload.result)

    def _on_note(self, key: str, text: str) -> None:
        side = self._side_of(key)
        if side is not None and side not in self.results:
            self.notes[side] = text
            self._refresh()

    def _set_catalogue(self, rows: list[dict]) -> None:
        for picker in self.pickers.values():
            current = picker.currentText()
            for row in rows:
                if picker.findText(row["id"]) < 0:
                    picker.addItem(row["id"])
                index = picker.findText(row["id"])
                picker.setItemData(index, f"{row['source']}: {row['status']}", Qt.ItemDataRole.ToolTipRole)
            picker.setCurrentText(current)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        if self.image_source is not None:
            self.set_image(self.image_source())

    def _refresh(self) -> None:
        self.threshold_label.setText(f"Score ≥ {self.threshold:.2f}")
        self.canvas.show_panels(self.image, self.panels())
        done = sum(side in self.results for side in SIDES)
        self.status.setText(f"{done} of {len(SIDES)} detectors done" if self.ran else "")
        self.panelsChanged.emit()

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export Detectors", "detectors.png", self.export, self.message.emit)
