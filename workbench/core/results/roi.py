"""Results of ROI pooling: the pooled channels as a grid, and the sampling grid over the image."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.base import ActivationGrid, Heatmap, Result


def _boxes() -> np.ndarray:
    return np.zeros((0, 4), np.float32)


@dataclass
class RoiGrid(ActivationGrid):
    """Pooled channels (N, oh, ow) of one box; a channel laid over the image fills its bins."""
    bins: np.ndarray = field(default_factory=_boxes)  # (oh * ow, 4) xyxy image pixels, row-major

    kind = "roi-grid"

    def channel_heatmap(self, index: int) -> Heatmap:
        if not 0 <= index < len(self.tiles):
            raise IndexError(f"channel {index} out of range ({len(self.tiles)} shown)")
        fmap = np.asarray(self.tiles[index], np.float32)
        hm = np.zeros(self.image_hw, np.float32)
        H, W = self.image_hw
        for value, (x0, y0, x1, y1) in zip(fmap.ravel(), self.bins):
            c0, c1 = int(np.clip(np.floor(x0), 0, W)), int(np.clip(np.ceil(x1), 0, W))
            r0, r1 = int(np.clip(np.floor(y0), 0, H)), int(np.clip(np.ceil(y1), 0, H))
            hm[r0:r1, c0:c1] = value
        title = self.titles[index] if index < len(self.titles) else f"tile {index}"
        return Heatmap(method=self.method, model=self.model, input=self.input,
                       params={**self.params, "tile": index}, heatmap=hm, attribution=fmap,
                       signed=bool(fmap.min() < 0), title=f"{self.title}: {title}")


@dataclass
class RoiPooling(Result):
    """ROI Align or ROI Pool of one detection: sampling grid in image pixels, pooled features.

    ``points`` are the bilinear sample points (align) or the feature-cell centres each bin
    takes the max over (pool); ``point_bins`` says which bin each belongs to.
    """
    grid: RoiGrid | None = None
    pooled: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1), np.float32))  # (C, oh, ow)
    box: np.ndarray = field(default_factory=lambda: np.zeros((4,), np.float32))        # image px
    box_input: np.ndarray = field(default_factory=lambda: np.zeros((4,), np.float32))  # model-input px
    bins: np.ndarray = field(default_factory=_boxes)
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    point_bins: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    channels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))      # shown in the grid
    pool: str = "align"
    level: str = ""
    scale: float = 1.0
    samples: tuple[int, int] = (0, 0)
    detection: int = 0
    label: int = 0
    label_name: str = ""
    score: float = 0.0

    kind = "roi"

    def arrays(self) -> dict[str, np.ndarray]:
        return {"pooled": self.pooled, "box": self.box, "box_input": self.box_input, "bins": self.bins,
                "points": self.points, "point_bins": self.point_bins, "channels": self.channels}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "pool": self.pool, "level": self.level, "scale": self.scale,
                "samples": list(self.samples), "detection": self.detection, "label": self.label,
                "label_name": self.label_name, "score": self.score}
