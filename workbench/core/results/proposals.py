"""Region proposals made from the image alone (selective search): a detection pipeline with only its
first stage, so the Detection panel's proposals layer shows them as it shows an RPN's."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.detections import DetectionPipeline

RANK_DECADES = 4   # proposals' ranks 1 .. 10**4 span the colour scale; the log shows the first ones apart


@dataclass
class RankedProposals(DetectionPipeline):
    """Class-agnostic boxes ranked by the algorithm that made them, best first; no objectness,
    no classes and no detections.

    ``proposal_scores`` is each box's rank r (1 for the first) on a log scale that is the same for
    every image, ``1 - log10(r) / 4`` (1 for the first, 0.75 for the 10th, 0.5 for the 100th, 0
    from the 10 000th on): what the proposals layer orders and colours them by;
    ``priority`` is the ranking value itself (lower first), ``strategy`` indexes ``strategies``,
    the grouping run (colour space, scale, similarity) that made each box first.
    """
    priority: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float64))
    strategy: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    strategies: list[str] = field(default_factory=list)
    initial_regions: int = 0

    kind = "proposals"
    # how the proposals layer names its colour scale: what it is, its low end, its high end
    proposal_words = ("rank", f"{10 ** RANK_DECADES:,}", "1")

    def arrays(self) -> dict[str, np.ndarray]:
        return {**super().arrays(), "priority": self.priority, "strategy": self.strategy}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "strategies": self.strategies, "initial_regions": self.initial_regions}


def rank_scores(n: int) -> np.ndarray:
    """(n,) float32: ``1 - log10(r) / RANK_DECADES`` for ranks r = 1..n, at least 0."""
    return np.clip(1.0 - np.log10(np.arange(1, n + 1)) / RANK_DECADES, 0.0, 1.0).astype(np.float32)
