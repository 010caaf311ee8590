"""Fast/Faster R-CNN's multi-task loss on one image, region by region (``core.detection.multitask_loss``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.results.base import Result

STAGES = ("rpn", "head")
REGION_FIELDS = ("boxes", "labels", "predicted", "matched", "cls", "box", "prob")
TERM_NAMES = {"loss_objectness": "RPN objectness", "loss_rpn_box_reg": "RPN box regression",
              "loss_classifier": "head classification", "loss_box_reg": "head box regression"}


def _none() -> dict[str, np.ndarray]:
    return {f: np.zeros((0, 4) if f in ("boxes", "predicted", "matched") else (0,), np.float32) for f in REGION_FIELDS}


@dataclass
class TrainingLoss(Result):
    """For each stage, the regions its sampler drew (image pixels) and each one's share of the stage's
    classification (``cls``) and box-regression (``box``) terms; ``terms`` are the four sums."""
    rpn: dict[str, np.ndarray] = field(default_factory=_none)
    head: dict[str, np.ndarray] = field(default_factory=_none)
    terms: dict[str, float] = field(default_factory=dict)
    gt_boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    gt_labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))   # the model's class ids
    label_names: list[str] = field(default_factory=list)
    show: str = "head"          # which stage's regions are drawn: "rpn", "head" or "both"
    top: int = 5                # the costliest regions of a stage get a label
    kind = "training_loss"

    def stage(self, name: str) -> dict[str, np.ndarray]:
        if name not in STAGES:
            raise ValueError(f"stage {name!r}? one of {', '.join(STAGES)}")
        return self.rpn if name == "rpn" else self.head

    def total(self) -> float:
        return float(sum(self.terms.values()))

    def costliest(self, name: str, count: int | None = None) -> np.ndarray:
        """Indices of a stage's regions by their share of its two terms, largest first."""
        s = self.stage(name)
        order = np.argsort(-(s["cls"] + s["box"]), kind="stable")
        return order if count is None else order[:count]

    def label_name(self, label: int) -> str:
        if label == 0:
            return "background"
        return self.label_names[label] if 0 <= label < len(self.label_names) else str(label)

    def summary(self) -> str:
        return " · ".join(f"{TERM_NAMES[k]} {v:.4f}" for k, v in self.terms.items())

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"gt_boxes": self.gt_boxes, "gt_labels": self.gt_labels}
        for name in STAGES:
            out.update({f"{name}_{f}": v for f, v in self.stage(name).items()})
        return out

    def meta(self) -> dict[str, Any]:
        return {**super().meta(), "terms": {k: round(v, 6) for k, v in self.terms.items()},
                "label_names": self.label_names, "show": self.show}
