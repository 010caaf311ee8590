"""The Detectors tab: the workspace's image through three detectors side by side: by default
one-stage (FCOS), two-stage (Faster R-CNN) and set prediction (DETR).

Each side runs ``core.detection.jobs.detect_with`` on the engine under its own key
(``detectors:left``, ``detectors:middle``, ``detectors:right``), loading its model in the same job; loaded models are
kept by id, so a new image does not reload them. The shared score threshold only filters what
is drawn: it never runs a model again. The panels on screen are painted by ``paint_panels``,
which also writes the exported figure.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QVBoxLayout,
                               QWidget)

from workbench.core.detection.jobs import RUN_THRESHOLD, DetectorRun, catalogue_detectors, detect_with
from workbench.core.canvas_layers import detection_layers
from workbench.core.results import Detections
from workbench.figure.detectors import STATS_SEPARATOR, DetectorSide, export_panels, fit_panels, paint_panels
from workbench.ui.export_dialog import export_with_dialog
from workbench.ui.panel import TAB, Panel
from workbench.ui.panel_canvas import PanelCanvas

KEY_PREFIX = "detectors:"
SIDES = ("left", "middle", "right")
CATALOGUE_KEY = KEY_PREFIX + "catalogue"
DEFAULT_MODELS = ("zoo:shapes-fcos", "zoo:shapes-fasterrcnn", "zoo:shapes-detr")
DEFAULT_THRESHOLD = 0.5
SLIDER_STEPS = 100


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
    return STATS_SEPARATOR.join(p for p in parts if p)


class SideBySide(PanelCanvas):
    """The detectors' figure panels on screen, laid out and painted as the exported figure."""
    HINT = "Open an image and press Compare to run three detectors side by side"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panels: list[DetectorSide] = []
        self.setMinimumSize(240, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def current_layout(self):
        if self.base_image is None or not self.panels:
            return None
        h, w = self.base_image.shape[:2]
        font_px = float(self.fontInfo().pixelSize())
        return fit_panels(len(self.panels), (w, h), (self.width(), self.height()), font_px)

    def paint_layout(self, painter: QPainter, layout, text: QColor) -> None:
        paint_panels(painter, layout, self.base_image, self.panels, text)


class DetectorsPanel(Panel):
    title = "Detectors"
    area = TAB
    object_name = "detectorsTab"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Any = None
        self.engine: Any = None
        self.side_models: dict[str, Any] = {}                 # model id -> that detector, loaded
        self.results: dict[str, Detections] = {}              # side -> detections
        self.notes: dict[str, str] = {}                       # side -> what the panel says while empty
        self.ran: dict[str, str] = {}                         # side -> model id of its result or job
        self._tickets: dict[str, Any] = {}                    # side -> its running job
        self._stale = True                                    # the image changed since the last run

        self.pickers = {side: self._picker(model_id) for side, model_id in zip(SIDES, DEFAULT_MODELS)}
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("detectorCompareButton")
        self.export_button = QPushButton("Export…")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(RUN_THRESHOLD * SLIDER_STEPS), SLIDER_STEPS)
        self.slider.setValue(round(DEFAULT_THRESHOLD * SLIDER_STEPS))
        self.slider.setToolTip("Shared score threshold: filters every panel without running the models again")
        self.threshold_label = QLabel()
        self.status = QLabel()
        self.side_by_side = SideBySide()

        models = QHBoxLayout()
        for i, side in enumerate(SIDES):
            if i:
                models.addWidget(QLabel("vs"))
            models.addWidget(self.pickers[side], 1)
        models.addWidget(self.compare_button)
        models.addWidget(self.export_button)
        threshold = QHBoxLayout()
        threshold.addWidget(self.threshold_label)
        threshold.addWidget(self.slider, 1)
        threshold.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(models)
        layout.addLayout(threshold)
        layout.addWidget(self.side_by_side, 1)

        self.compare_button.clicked.connect(lambda: self.compare())
        self.export_button.clicked.connect(self._export_dialog)
        self.slider.valueChanged.connect(lambda _v: self._refresh())
        for side, picker in self.pickers.items():
            picker.activated.connect(lambda _i, s=side: self._rerun(s))
            picker.lineEdit().returnPressed.connect(lambda s=side: self._rerun(s))

    def bind(self, workspace, engine, canvas) -> None:
        self.workspace, self.engine = workspace, engine
        workspace.imageChanged.connect(self._on_image)
        engine.submit(CATALOGUE_KEY, catalogue_detectors).done.connect(self._set_catalogue)
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

    def set_result(self, side: str, result: Detections) -> None:
        """Show detections on one side (what a finished run does)."""
        self.results[side] = result
        self.ran[side] = result.model or self.ran.get(side, "")
        self._refresh()

    # --- actions -------------------------------------------------------------------
    def compare(self) -> None:
        """Run every picker's model on the workspace's image, each under its own key."""
        if self._image() is None:
            self.message.emit("Open an image first")
            return
        self._stale = False
        for side in SIDES:
            self._run(side)
        self._refresh()

    def sides(self) -> list[DetectorSide]:
        """What each side shows: its model, its figures and its detections above the threshold."""
        out = []
        for side in SIDES:
            model_id = self.ran.get(side) or self.model_id(side)
            result = self.results.get(side)
            if result is None:
                out.append(DetectorSide(model_id, "", None, self.notes.get(side, "press Compare")))
                continue
            shown = above(result, self.threshold)
            out.append(DetectorSide(model_id, stats_text(result, len(shown.boxes)), detection_layers(shown)))
        return out

    def export_figure(self, path: str | Path, scale: float = 1.0) -> Path:
        """Every side in one figure (.png at ``scale``, .svg, .pdf), side by side as on screen."""
        image = self._image()
        if image is None or not self.results:
            raise ValueError("nothing to export: run a comparison first")
        layout = self.side_by_side.current_layout()
        return export_panels(path, image, self.sides(), scale, layout.columns if layout else None)

    def current_result(self) -> Detections | None:
        """The first side's detections (what File ▸ Export Result saves)."""
        return next((self.results[s] for s in SIDES if s in self.results), None)

    # --- internals -----------------------------------------------------------------
    def _image(self) -> np.ndarray | None:
        return self.workspace.image if self.workspace is not None else None

    def _method(self) -> Any:
        registry = self.workspace.registry
        if registry is not None and "detect" in registry:
            return registry.get("detect")
        from workbench.core.methods.detect import METHOD  # imports torch: only once a run is asked for
        return METHOD

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
        ticket = self.engine.submit(KEY_PREFIX + side, detect_with, self._method(), model_id,
                                    self.side_models.get(model_id), self._image())
        self._tickets[side] = ticket
        ticket.started.connect(self._on_started)
        ticket.done.connect(self._on_done)
        ticket.failed.connect(self._on_failed)
        ticket.cancelled.connect(self._on_cancelled)

    def _rerun(self, side: str) -> None:
        if self._image() is not None and self.model_id(side) != self.ran.get(side):
            self._run(side)
            self._refresh()

    def _on_image(self, _image: Any) -> None:
        """A new image clears every side; while the tab is on screen it runs every model on it."""
        for ticket in self._tickets.values():
            ticket.cancel()
        self._tickets, self.results, self.notes, self.ran = {}, {}, {}, {}
        self._stale = True
        if self.isVisible():
            self.compare()
        self._refresh()

    def _side_of(self, ticket: Any) -> str | None:
        """The side a job runs for; None for a job made for an image since replaced."""
        return next((s for s, t in self._tickets.items() if t is ticket), None)

    def _on_done(self, run: DetectorRun) -> None:
        side = self._side_of(self.sender())
        if side is None:
            return
        del self._tickets[side]
        # keep only the models a picker names, so big detectors do not pile up in memory
        picked = {self.model_id(s) for s in SIDES} | {run.handle.id}
        self.side_models = {k: h for k, h in self.side_models.items() if k in picked}
        self.side_models[run.handle.id] = run.handle
        self.set_result(side, run.result)

    def _on_started(self) -> None:
        self._note(self._side_of(self.sender()), "running…")

    def _on_failed(self, text: str) -> None:
        self._note(self._side_of(self.sender()), f"failed: {text}")

    def _on_cancelled(self) -> None:
        self._note(self._side_of(self.sender()), "cancelled")

    def _note(self, side: str | None, text: str) -> None:
        """What a side's panel says while its job runs or after it ended without a result."""
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
        if self._stale and self._image() is not None:
            self.compare()

    def _refresh(self) -> None:
        self.threshold_label.setText(f"Score ≥ {self.threshold:.2f}")
        self.side_by_side.show_panels(self._image(), self.sides())
        done = sum(side in self.results for side in SIDES)
        self.status.setText(f"{done} of {len(SIDES)} detectors done" if self.ran else "")

    def _export_dialog(self) -> None:
        export_with_dialog(self, "Export Detectors", "detectors.png", self.export_figure, self.message.emit)


