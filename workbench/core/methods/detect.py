"""A detector's whole pipeline: final boxes, masks and keypoints, region proposals, boxes before NMS."""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.context import Context
from workbench.core.detection.pipeline import capture_pipeline, to_image_pixels
from workbench.core.results import DetectionPipeline
from workbench.core.params import as_dict, param
from workbench.core.registry import Method


@dataclass
class Params:
    score_threshold: float = field(default=0.05, metadata=param(
        "Score threshold", range=(0.0, 1.0), step=0.01,
        help="candidates scoring at or below this are dropped before NMS"))
    max_detections: int = field(default=0, metadata=param(
        "Max detections", range=(0, 1000), step=1,
        help="final boxes kept after NMS; all: as many as the model keeps",
        at_minimum="all"))


def run(ctx: Context, p: Params) -> DetectionPipeline:
    h = ctx.handle
    x = ctx.input_tensor()
    stages = capture_pipeline(h.module, x, p.score_threshold, p.max_detections)
    return to_image_pixels(stages, h.geometry, tuple(ctx.image.shape[:2]),
                           method="detect", model=h.id, params=as_dict(p), input=x.cpu().numpy(),
                           label_names=list(h.labels), title=f"{len(stages.boxes)} detections")


METHOD = Method(name="detect", kind="detection", tasks=("detect",), params=Params, run=run, title="Detect",
                description="Final detections with their masks or keypoints, the region proposals "
                            "and the boxes before NMS; replay NMS at any IoU.")
