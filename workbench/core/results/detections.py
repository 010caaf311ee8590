"""A detector's result with its pipeline: proposals, boxes before NMS, final boxes, all in image pixels."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.base import Detections


def empty_boxes() -> np.ndarray:
    return np.zeros((0, 4), np.float32)


def _empty_scores() -> np.ndarray:
    return np.zeros((0,), np.float32)


def _empty_labels() -> np.ndarray:
    return np.zeros((0,), np.int64)


@dataclass(kw_only=True)
class PipelineStages:
    """What a detector did before its final boxes: region proposals with their objectness
    (two-stage models), the per-class candidates that went into NMS, and how it was run."""
    proposals: np.ndarray = field(default_factory=empty_boxes)
    proposal_scores: np.ndarray = field(default_factory=_empty_scores)
    pre_nms_boxes: np.ndarray = field(default_factory=empty_boxes)
    pre_nms_scores: np.ndarray = field(default_factory=_empty_scores)
    pre_nms_labels: np.ndarray = field(default_factory=_empty_labels)
    nms_threshold: float | None = None
    max_detections: int | None = None
    time_ms: float = 0.0
    architecture: str = ""   # "two-stage", "one-stage", or "" when the model shows no stages
    notes: list[str] = field(default_factory=list)


@dataclass
class DetectionPipeline(Detections, PipelineStages):
    """Final detections plus the stages that led to them, all in image pixels.

    ``masks`` are uint8 (N, H, W), one per final box. :meth:`replayed` runs NMS again on the
    pre-NMS candidates at another IoU threshold.
    """

    def arrays(self) -> dict[str, np.ndarray]:
        return {**super().arrays(), "proposals": self.proposals,
                "proposal_scores": self.proposal_scores, "pre_nms_boxes": self.pre_nms_boxes,
                "pre_nms_scores": self.pre_nms_scores, "pre_nms_labels": self.pre_nms_labels}

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "nms_threshold": self.nms_threshold,
                "max_detections": self.max_detections, "time_ms": self.time_ms,
                "architecture": self.architecture, "notes": self.notes}

    def stage_detections(self, stage: str) -> Detections:
        """One stage as plain Detections: ``"proposals"``, ``"pre-NMS"`` or ``"final"``."""
        common = dict(method=self.method, model=self.model, params=self.params, input=self.input,
                      label_names=self.label_names, stage=stage)
        if stage == "proposals":
            return Detections(**common, boxes=self.proposals, scores=self.proposal_scores,
                              labels=np.zeros(len(self.proposals), np.int64),
                              title=f"{len(self.proposals)} proposals")
        if stage == "pre-NMS":
            return Detections(**common, boxes=self.pre_nms_boxes, scores=self.pre_nms_scores,
                              labels=self.pre_nms_labels,
                              title=f"{len(self.pre_nms_boxes)} boxes before NMS")
        if stage == "final":
            return Detections(**common, boxes=self.boxes, scores=self.scores, labels=self.labels,
                              masks=self.masks, keypoints=self.keypoints,
                              keypoint_scores=self.keypoint_scores, keypoint_names=self.keypoint_names,
                              skeleton=self.skeleton, title=self.title)
        raise ValueError(f"unknown stage {stage!r}; stages: proposals, pre-NMS, final")

    def replayed(self, iou: float, max_detections: int | None = None) -> Detections:
        """The cached pre-NMS boxes after NMS at ``iou`` (no masks: the mask head is not rerun)."""
        keep = replay_nms(self.pre_nms_boxes, self.pre_nms_scores, self.pre_nms_labels, iou)
        limit = max_detections if max_detections is not None else self.max_detections
        keep = keep[:limit] if limit is not None else keep
        return Detections(method=self.method, model=self.model, input=self.input,
                          params={**self.params, "nms_iou": float(iou)},
                          boxes=self.pre_nms_boxes[keep], scores=self.pre_nms_scores[keep],
                          labels=self.pre_nms_labels[keep], label_names=self.label_names,
                          stage=f"NMS at IoU {iou:.2f}", title=f"{len(keep)} boxes after NMS at {iou:.2f}")


def replay_nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, iou: float) -> np.ndarray:
    """Indices of the boxes class-wise NMS keeps at ``iou``, highest score first."""
    import torch
    from torchvision.ops import batched_nms
    if len(boxes) == 0:
        return np.zeros((0,), np.int64)
    keep = batched_nms(torch.as_tensor(np.asarray(boxes, np.float32)),
                       torch.as_tensor(np.asarray(scores, np.float32)),
                       torch.as_tensor(np.asarray(labels, np.int64)), float(iou))
    return keep.numpy().astype(np.int64)
