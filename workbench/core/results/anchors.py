"""The anchors of an anchor-based detector at one image location, with their matching and regression."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.base import Result

BACKGROUND, IGNORED = -1, -2    # torchvision Matcher's BELOW_LOW_THRESHOLD and BETWEEN_THRESHOLDS


def _boxes() -> np.ndarray:
    return np.zeros((0, 4), np.float32)


def _values(dtype: type = np.float32) -> np.ndarray:
    return np.zeros((0,), dtype)


@dataclass
class AnchorsAtLocation(Result):
    """Every anchor of the cell holding ``location`` on each feature level shown, in image pixels
    (``*_input``: in the pixels of the image the backbone saw, as the model computes them).

    Per anchor: ``level``, ``size`` (scale, input pixels) and ``ratio`` (height / width), ``cell``
    (row, column), ``index`` (its position among all the image's anchors), ``iou`` with the best
    ground-truth box, ``gt_index`` (the model's matcher: a ground-truth box, ``BACKGROUND`` or
    ``IGNORED``), ``score`` and ``label`` of the head there, ``deltas`` and the ``decoded`` box.
    ``shown`` lists the best-scoring anchors, whose regression is drawn."""
    family: str = ""                 # "rpn", "retinanet" or "ssd"
    location: np.ndarray = field(default_factory=lambda: np.zeros(2, np.float32))        # x, y image px
    location_input: np.ndarray = field(default_factory=lambda: np.zeros(2, np.float32))
    anchors: np.ndarray = field(default_factory=_boxes)
    anchors_input: np.ndarray = field(default_factory=_boxes)
    level: np.ndarray = field(default_factory=lambda: _values(np.int64))
    size: np.ndarray = field(default_factory=_values)
    ratio: np.ndarray = field(default_factory=_values)
    cell: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    index: np.ndarray = field(default_factory=lambda: _values(np.int64))
    iou: np.ndarray = field(default_factory=_values)
    gt_index: np.ndarray = field(default_factory=lambda: _values(np.int64))
    score: np.ndarray = field(default_factory=_values)
    label: np.ndarray = field(default_factory=lambda: _values(np.int64))
    deltas: np.ndarray = field(default_factory=_boxes)
    decoded: np.ndarray = field(default_factory=_boxes)
    decoded_input: np.ndarray = field(default_factory=_boxes)
    shown: np.ndarray = field(default_factory=lambda: _values(np.int64))
    level_strides: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))   # (y, x) per level
    level_grids: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    gt_boxes: np.ndarray = field(default_factory=_boxes)
    gt_names: list[str] = field(default_factory=list)
    positives_per_gt: np.ndarray = field(default_factory=lambda: _values(np.int64))   # over the whole image
    fg_iou: float = 0.0
    bg_iou: float = 0.0
    low_quality_matches: bool = False
    label_names: list[str] = field(default_factory=list)
    input_hw: tuple[int, int] = (0, 0)
    image_hw: tuple[int, int] = (0, 0)

    kind = "anchors"

    @property
    def matched(self) -> np.ndarray:
        return self.gt_index >= 0

    @property
    def has_ground_truth(self) -> bool:
        return len(self.gt_boxes) > 0

    @property
    def levels(self) -> list[int]:
        """The levels shown, in order."""
        return sorted(set(self.level.tolist()))

    def label_name(self, label: int) -> str:
        if self.family == "rpn":
            return "object"
        return self.label_names[label] if 0 <= label < len(self.label_names) else str(label)

    def stride(self, level: int) -> int:
        return int(round(float(self.level_strides[level].max())))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"location": self.location, "location_input": self.location_input, "anchors": self.anchors,
                "anchors_input": self.anchors_input, "level": self.level, "size": self.size, "ratio": self.ratio,
                "cell": self.cell, "index": self.index, "iou": self.iou, "gt_index": self.gt_index,
                "matched": self.matched, "score": self.score, "label": self.label, "deltas": self.deltas,
                "decoded": self.decoded, "decoded_input": self.decoded_input, "shown": self.shown,
                "level_strides": self.level_strides, "level_grids": self.level_grids, "gt_boxes": self.gt_boxes,
                "positives_per_gt": self.positives_per_gt}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "family": self.family, "fg_iou": self.fg_iou, "bg_iou": self.bg_iou,
                "low_quality_matches": self.low_quality_matches, "gt_names": self.gt_names,
                "input_hw": list(self.input_hw), "image_hw": list(self.image_hw)}
