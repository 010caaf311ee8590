"""Results of the region classifiers' views: R-CNN's warped crops, SPPNet's pyramid bins."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.base import ImageGrid
from workbench.core.results.roi import RoiPooling


def _boxes() -> np.ndarray:
    return np.zeros((0, 4), np.float32)


@dataclass
class WarpedRegions(ImageGrid):
    """The crops R-CNN classifies: (N, s, s, 3) RGB in [0, 1], one per region, highest scoring first.

    ``boxes``: the proposals (image pixels), ``windows``: the same dilated by R-CNN's context
    padding (what is warped), ``probabilities`` (N, K) the softmax over background and classes,
    ``labels`` each crop's best class (0: background), ``proposal_index`` into ``proposals`` (every
    proposal of the image, best-ranked first); ``chosen``: the row of the region asked for.
    """
    boxes: np.ndarray = field(default_factory=_boxes)
    windows: np.ndarray = field(default_factory=_boxes)
    probabilities: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    proposal_index: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    proposals: np.ndarray = field(default_factory=_boxes)
    label_names: list[str] = field(default_factory=list)
    chosen: int = 0
    warp: int = 0
    context: int = 0
    time_ms: float = 0.0

    kind = "warped-regions"

    def arrays(self) -> dict[str, np.ndarray]:
        return {**super().arrays(), "boxes": self.boxes, "windows": self.windows,
                "probabilities": self.probabilities, "labels": self.labels,
                "proposal_index": self.proposal_index, "proposals": self.proposals}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "label_names": self.label_names, "chosen": self.chosen, "warp": self.warp,
                "context": self.context, "time_ms": self.time_ms}


@dataclass
class PyramidPooling(RoiPooling):
    """SPPNet's spatial pyramid of one region: ``bins`` (sum n*n, 4) in image pixels, level by
    level (row-major within a level), ``bin_levels`` the n of each bin, ``window`` the feature
    cells pooled (x0, y0, x1, y1 inclusive); ``pooled`` holds the finest level (C, n, n) and
    ``levels_pooled`` every level's values side by side (C, sum n*n), in the order of ``bins``."""
    bin_levels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    window: np.ndarray = field(default_factory=lambda: np.zeros((4,), np.int64))
    levels_pooled: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    levels: tuple[int, ...] = ()
    stride: int = 0
    probabilities: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    label_names: list[str] = field(default_factory=list)

    kind = "pyramid"

    def arrays(self) -> dict[str, np.ndarray]:
        return {**super().arrays(), "bin_levels": self.bin_levels, "window": self.window,
                "levels_pooled": self.levels_pooled, "probabilities": self.probabilities}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "levels": list(self.levels), "stride": self.stride,
                "label_names": self.label_names}
