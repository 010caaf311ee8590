"""A YOLO detector's grid on one image: every cell's class probabilities and box confidences
before NMS, and the final detections with the cell and box slot each came from.

The map shown (``heatmap``) is one class's per-cell probability P(class | object), constant
over each cell; ``for_class`` shows another class without running the model again. Boxes and
cells are in image pixels; a candidate's score is its box confidence times its cell's class
probability, the number the detector thresholds and NMS ranks.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from workbench.core.results.base import Heatmap


def _zeros(*shape: int) -> np.ndarray:
    return np.zeros(shape, np.float32)


@dataclass
class YoloGridResult(Heatmap):
    """``class_probs`` (S, S, C) per cell; ``confidences`` (S, S, B) per box; ``cell_boxes``
    (S, S, B, 4) every box before NMS; ``cells`` (S * S, 4) each cell's rectangle, row-major;
    the final detections ``boxes``/``scores``/``labels`` (1-based) with ``detection_cells``
    (row * S + column) and ``detection_slots`` (which of the B boxes)."""
    class_probs: np.ndarray = field(default_factory=lambda: _zeros(0, 0, 0))
    confidences: np.ndarray = field(default_factory=lambda: _zeros(0, 0, 0))
    cell_boxes: np.ndarray = field(default_factory=lambda: _zeros(0, 0, 0, 4))
    cells: np.ndarray = field(default_factory=lambda: _zeros(0, 4))
    boxes: np.ndarray = field(default_factory=lambda: _zeros(0, 4))
    scores: np.ndarray = field(default_factory=lambda: _zeros(0))
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    detection_cells: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    detection_slots: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    label_names: list[str] = field(default_factory=list)
    score_threshold: float = 0.05
    nms_threshold: float = 0.5
    image_hw: tuple[int, int] = (0, 0)

    kind = "yolo-grid"

    @property
    def grid_hw(self) -> tuple[int, int]:
        return tuple(int(s) for s in self.class_probs.shape[:2])

    @property
    def boxes_per_cell(self) -> int:
        return int(self.confidences.shape[2])

    def label_name(self, label: int) -> str:
        return self.label_names[label] if 0 <= label < len(self.label_names) else str(label)

    def candidate_scores(self) -> np.ndarray:
        """(S, S, B, C) confidence x class probability of every box for every class."""
        return self.confidences[..., None] * self.class_probs[:, :, None, :]

    def pre_nms(self) -> dict[str, np.ndarray]:
        """The candidates NMS sees: every (box, class) scoring above ``score_threshold``, best
        first, with ``cells`` and ``slots`` as for the detections."""
        scores = self.candidate_scores()
        s_h, s_w, b, c = scores.shape
        flat = scores.reshape(-1)
        keep = np.flatnonzero(flat > self.score_threshold)
        keep = keep[np.argsort(-flat[keep], kind="stable")]
        cell_box, label = keep // c, keep % c
        return {"boxes": self.cell_boxes.reshape(-1, 4)[cell_box], "scores": flat[keep],
                "labels": label + 1, "cells": cell_box // b, "slots": cell_box % b}

    def cell_of(self, detection: int) -> tuple[int, int]:
        """(row, column) of the cell responsible for final detection ``detection``."""
        return divmod(int(self.detection_cells[detection]), self.grid_hw[1])

    def for_class(self, label: int, heatmap: np.ndarray) -> "YoloGridResult":
        return replace(self, target=int(label), target_label=self.label_name(int(label)), heatmap=heatmap)

    def arrays(self) -> dict[str, np.ndarray]:
        pre = self.pre_nms()
        return {**super().arrays(), "class_probs": self.class_probs, "confidences": self.confidences,
                "cell_boxes": self.cell_boxes, "cells": self.cells, "boxes": self.boxes,
                "scores": self.scores, "labels": self.labels, "detection_cells": self.detection_cells,
                "detection_slots": self.detection_slots,
                **{f"pre_nms_{k}": v for k, v in pre.items()}}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "label_names": self.label_names, "grid": list(self.grid_hw),
                "boxes_per_cell": self.boxes_per_cell, "score_threshold": self.score_threshold,
                "nms_threshold": self.nms_threshold}
