"""One image's features at one layer, pooled to a vector, with the model's prediction."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.core.results.base import Curves

SERIES = "features"


@dataclass
class FeatureVector(Curves):
    """``series["features"]`` over ``x`` (the channel index): the pooled features at ``layer``;
    ``predicted`` (-1: the model gives no class scores) with its label and softmax ``score``."""
    layer: str = ""
    predicted: int = -1
    predicted_label: str = ""
    score: float = float("nan")

    kind = "feature-vector"

    @property
    def vector(self):
        return self.series[SERIES]

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "layer": self.layer, "predicted": self.predicted,
                "predicted_label": self.predicted_label, "score": self.score}
