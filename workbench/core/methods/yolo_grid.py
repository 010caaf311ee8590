"""A YOLO detector's grid on the image: the S x S cells, one class's probability per cell, each
box slot's confidence per cell, the candidates before NMS and the detections after it, with the
cell responsible for each detection (the one holding its centre)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from workbench.core.context import Context
from workbench.core.detection.pipeline import overridden
from workbench.core.detection.yolo_grid import cell_map
from workbench.core.model_traits import has_yolo_grid
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.yolo import YoloGridResult

BEST = ""


@dataclass
class Params:
    class_name: str = field(default=BEST, metadata=param(
        "Class", choices="classes", help="the class whose per-cell probability is mapped; "
                                         "empty: the best detection's class"))
    score_threshold: float = field(default=0.2, metadata=param(
        "Score threshold", range=(0.0, 1.0), step=0.01,
        help="a box is a candidate when its confidence x class probability is above this"))


def _to_image(boxes: torch.Tensor, scale: tuple[float, float], ctx: Context, image_hw) -> np.ndarray:
    """Boxes in the model's resized input -> image pixels (through the tensor fed to it)."""
    b = boxes.reshape(-1, 4).detach().cpu().numpy().astype(np.float64)
    b[:, [0, 2]] *= scale[1]
    b[:, [1, 3]] *= scale[0]
    return ctx.handle.geometry.boxes_to_image(b, image_hw).reshape(*boxes.shape)


def run(ctx: Context, p: Params) -> YoloGridResult:
    h = ctx.handle
    model = h.module
    x = ctx.input_tensor()
    model.eval()
    with torch.no_grad(), overridden(model, score_thresh=p.score_threshold):
        grid = model.grid([x[0]])
        final = model.detections_from_grid(grid)[0]
    image_hw = tuple(ctx.image.shape[:2])
    (rh, rw), (oh, ow) = grid.image_sizes[0], grid.original_sizes[0]
    scale = (oh / rh, ow / rw)
    s_h, s_w = grid.class_probs.shape[1:3]
    sy, sx = grid.stride
    rows, cols = torch.meshgrid(torch.arange(s_h), torch.arange(s_w), indexing="ij")
    cells = torch.stack([cols * sx, rows * sy, (cols + 1) * sx, (rows + 1) * sy], -1).float()
    cells = _to_image(cells.reshape(-1, 4), scale, ctx, image_hw)
    class_probs = grid.class_probs[0].cpu().numpy().astype(np.float32)
    result = YoloGridResult(
        method=METHOD.name, model=h.id, params=as_dict(p), input=x.detach().cpu().numpy(),
        class_probs=class_probs, confidences=grid.confidences[0].cpu().numpy().astype(np.float32),
        cell_boxes=_to_image(grid.boxes[0], scale, ctx, image_hw).astype(np.float32), cells=cells,
        boxes=ctx.handle.geometry.boxes_to_image(final["boxes"].numpy(), image_hw).reshape(-1, 4),
        scores=final["scores"].numpy().astype(np.float32), labels=final["labels"].numpy().astype(np.int64),
        detection_cells=final["cells"].numpy().astype(np.int64),
        detection_slots=final["slots"].numpy().astype(np.int64), label_names=list(h.labels),
        score_threshold=p.score_threshold, nms_threshold=float(model.nms_thresh), image_hw=image_hw)
    label = _label(result, p.class_name)
    return result.for_class(label, cell_map(class_probs[:, :, label - 1], cells, image_hw))


def _label(result: YoloGridResult, name: str) -> int:
    """The 1-based label of the class ``name`` (its name or index), or of the best detection."""
    names = result.label_names
    if name.strip() == BEST:
        if len(result.labels):
            return int(result.labels[0])
        return int(result.class_probs.reshape(-1, result.class_probs.shape[-1]).max(0).argmax()) + 1
    key = name.strip()
    if key in names[1:]:
        return names.index(key)
    if key.isdigit() and 1 <= int(key) < len(names):
        return int(key)
    raise ValueError(f"class {name!r}: {result.model} has the classes {', '.join(names[1:])}")


METHOD = Method(name="yolo-grid", kind="detection", tasks=("detect",), params=Params, run=run,
                title="YOLO grid", accepts=has_yolo_grid,
                accepts_what="a YOLO-style grid detector (cells with boxes and class probabilities)",
                description="The S x S grid of a YOLO detector: one class's probability per cell, each "
                            "box's confidence per cell, the boxes before and after NMS and the cell "
                            "responsible for each detection.")
