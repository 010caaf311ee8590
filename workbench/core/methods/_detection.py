"""Shared plumbing for methods about one final detection: which one, and finding it again.

The detection is named by its index among the final boxes (highest score first) of a run
with the same score threshold and box limit as the ``detect`` method's, so an index read
off a detect result names the same box here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from workbench.core.context import Context
from workbench.core.detection.pipeline import ModelSpacePipeline, capture_pipeline
from workbench.core.params import param


def index_field() -> Any:
    return field(default=0, metadata=param(
        "Detection", range=(0, 10_000), step=1, help="index into the final detections, highest score first"))


def score_threshold_field() -> Any:
    return field(default=0.05, metadata=param(
        "Score threshold", range=(0.0, 1.0), step=0.01, help="as in detect: names the same detections"))


def max_detections_field() -> Any:
    return field(default=0, metadata=param(
        "Max detections", range=(0, 1000), step=1, help="as in detect; all: as many as the model keeps",
        at_minimum="all"))


@dataclass
class Picked:
    x: torch.Tensor              # the tensor given to the detector
    stages: ModelSpacePipeline   # its detections in the pixels of x
    index: int

    @property
    def box(self):
        return self.stages.boxes[self.index]

    @property
    def label(self) -> int:
        return int(self.stages.labels[self.index])

    @property
    def score(self) -> float:
        return float(self.stages.scores[self.index])


def pick_detection(ctx: Context, p: Any) -> Picked:
    x = ctx.input_tensor().contiguous()
    stages = capture_pipeline(ctx.handle.module, x, p.score_threshold, p.max_detections)
    n = len(stages.boxes)
    if not 0 <= p.index < n:
        raise ValueError(f"detection {p.index} does not exist: the model found {n} "
                         f"(score above {p.score_threshold})" if n else
                         f"the model found no detections scoring above {p.score_threshold}")
    return Picked(x, stages, int(p.index))
