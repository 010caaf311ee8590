"""An R-FCN's vote on one region: the assembled position-sensitive map over the image, the bins."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.base import Heatmap


@dataclass
class PositionSensitiveVote(Heatmap):
    """``heatmap``: inside the region, bin (i, j) shows score map (i, j) of the class; zero outside.
    ``maps`` are the k*k whole maps (feature resolution), ``bins`` the region's bins in image pixels,
    ``bin_scores`` what each bin pooled; their mean is the class's logit (``logits[label]``)."""
    maps: np.ndarray = field(default_factory=lambda: np.zeros((0, 1, 1), np.float32))
    bins: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    bin_scores: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    logits: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    probs: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    box: np.ndarray = field(default_factory=lambda: np.zeros((4,), np.float32))
    k: int = 3
    detection: int = 0
    label: int = 0
    label_name: str = ""
    score: float = 0.0

    kind = "position_sensitive_vote"

    @property
    def vote(self) -> float:
        return float(self.bin_scores.mean()) if len(self.bin_scores) else float("nan")

    def bin_title(self, index: int) -> str:
        i, j = divmod(index, self.k)
        return f"bin ({i},{j})"

    def arrays(self) -> dict[str, np.ndarray]:
        return {**super().arrays(), "maps": self.maps, "bins": self.bins, "bin_scores": self.bin_scores,
                "logits": self.logits, "probs": self.probs, "box": self.box}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "k": self.k, "detection": self.detection, "label": self.label,
                "label_name": self.label_name, "vote": round(self.vote, 5), "score": round(self.score, 5)}
