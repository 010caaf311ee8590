"""Region proposals, whoever made them: how they are drawn, and how many ground-truth boxes they find.

Recall at IoU t: the share of ground-truth boxes that at least one proposal overlaps with
IoU >= t (selective search's and the RPN's papers report it at 0.5). Boxes are xyxy; IoU is
computed on the boxes as given (edges, no +1), as torchvision's ``box_iou`` does.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import numpy as np

from workbench.core.canvas_layers import Layer
from workbench.core.detection.view import DetectionView, build_layers

DRAWN = 50          # proposals drawn by the figure, as many as the Detection panel first shows
RECALL_IOU = 0.5


def proposal_layers(result: Any) -> list[Layer]:
    """A proposals-only result as the Detection panel first shows it: its best-ranked proposals."""
    return build_layers(result, DetectionView(show_proposals=True, top_k=DRAWN)).layers


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU of xyxy boxes ``a`` (N, 4) and ``b`` (M, 4)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(hi - lo, 0, None).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).clip(0).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).clip(0).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def covered(proposals: np.ndarray, gt_boxes: np.ndarray, iou: float = RECALL_IOU) -> np.ndarray:
    """(G,) bool: whether some proposal overlaps each ground-truth box with IoU >= ``iou``."""
    gt = np.asarray(gt_boxes, np.float64).reshape(-1, 4)
    if not len(gt) or not len(np.asarray(proposals).reshape(-1, 4)):
        return np.zeros(len(gt), bool)
    return box_iou(gt, proposals).max(1) >= iou


def recall_at_iou(proposals: np.ndarray | Sequence[np.ndarray], gt_boxes: np.ndarray | Sequence[np.ndarray],
                  iou: float = RECALL_IOU) -> float:
    """The share of ground-truth boxes found by a proposal at IoU >= ``iou``.

    One image: ``proposals`` (P, 4) and ``gt_boxes`` (G, 4). Several: a list of each, one per
    image, pooled over every ground-truth box. NaN when there is no ground-truth box.
    """
    if not 0.0 < iou <= 1.0:
        raise ValueError(f"iou must be in (0, 1], not {iou}")
    if isinstance(gt_boxes, np.ndarray):
        proposals, gt_boxes = [proposals], [gt_boxes]
    if len(proposals) != len(gt_boxes):
        raise ValueError(f"{len(proposals)} sets of proposals for {len(gt_boxes)} images")
    hits = [covered(p, g, iou) for p, g in zip(proposals, gt_boxes)]
    total = sum(len(h) for h in hits)
    return float(sum(int(h.sum()) for h in hits) / total) if total else float("nan")


def rpn_proposals(model: Any, x: Any, top_n: int) -> tuple[np.ndarray, np.ndarray]:
    """A two-stage detector's RPN proposals for the (1, C, h, w) tensor ``x``, highest objectness
    first, in the pixels of ``x``, with their objectness: its best ``top_n`` after the RPN's NMS.
    The model's own test-time count (post-NMS top-n) is replaced for this run only."""
    import torch
    from torchvision.models.detection.transform import resize_boxes

    from workbench.core.detection.pipeline import overridden, _rpn_proposals, is_two_stage
    if not is_two_stage(model):
        raise ValueError(f"{type(model).__name__} has no region proposal network")
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, not {top_n}")
    rpn = model.rpn
    pre, post = dict(rpn._pre_nms_top_n), dict(rpn._post_nms_top_n)
    model.eval()
    with torch.no_grad(), overridden(rpn, _post_nms_top_n={**post, "testing": int(top_n)},
                                      _pre_nms_top_n={**pre, "testing": max(int(pre["testing"]), int(top_n))}):
        images, _ = model.transform([x[0]])
        features = model.backbone(images.tensors)
        if isinstance(features, torch.Tensor):
            features = OrderedDict([("0", features)])
        (boxes,), (objectness,) = _rpn_proposals(rpn, images, features)
    boxes = resize_boxes(boxes, images.image_sizes[0], tuple(x.shape[-2:]))
    return boxes.cpu().numpy().astype(np.float32), objectness.cpu().numpy().astype(np.float32)
