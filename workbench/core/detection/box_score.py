"""A detector as a classifier of one detection: images in, that detection's class logits out.

The wrapped module maps a batch of input tensors (N, C, h, w) to (N, classes) logits, so
every classifier attribution method (Grad-CAM, occlusion, ...) explains a detection
unchanged, with the detection's label as the target.

- Two-stage (Faster / Mask R-CNN): the backbone, ``box_roi_pool`` on a fixed box, the box
  head and the class logits of ``box_predictor``. The fixed box is the region proposal the
  detection was refined from (found by decoding every proposal's box for the label and
  matching the final box), so the softmax of the logits is the detection's score.
- One-stage (FCOS, RetinaNet): the classification logits at the head location (anchor)
  whose decoded box and score are the detection's.

Submodules keep the detector's names (``backbone.*``, ``box_head.*``, ``head.*``), so a layer
named for the detector names the same layer here.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from workbench.core.detection.pipeline import _rpn_proposals, is_one_stage, is_two_stage
from workbench.core.detection.roi import backbone_features, pooler_level, to_input_pixels

MATCH_TOLERANCE = 1e-2  # input pixels: a final box is its source's decoded box up to rescaling


@dataclass
class BoxSource:
    """Where a detection came from: a proposal box (two-stage) or an anchor index (one-stage)."""
    proposal: np.ndarray | None  # (4,) xyxy in model-input pixels
    anchor: int | None
    level: str                   # feature level read (the pooler's, or the anchor's)
    level_shape: tuple[int, ...]  # that feature map's shape
    score: float                 # the detection score recomputed from this source
    mismatch: float              # largest |coordinate difference| of the matched box, input pixels


def _features_list(features) -> list[torch.Tensor]:
    return list(features.values()) if isinstance(features, dict) else [features]


def _closest(decoded: torch.Tensor, scores: torch.Tensor, box: torch.Tensor, score: float) -> tuple[int, float]:
    err = (decoded - box).abs().amax(1)
    # ties (the same box from two sources) go to the one whose score matches
    cost = err + (scores - score).abs()
    i = int(cost.argmin())
    return i, float(err[i])


def find_source(model: nn.Module, x: torch.Tensor, box: np.ndarray, label: int, score: float) -> BoxSource:
    """The proposal or anchor that produced the detection ``box`` (pixels of ``x``) of ``label``."""
    with torch.no_grad():
        images, features = backbone_features(model, x)
        box_in = torch.as_tensor(to_input_pixels(box, tuple(x.shape[-2:]), tuple(images.image_sizes[0]))[0],
                                 dtype=x.dtype)
        if is_two_stage(model):
            return _two_stage_source(model, images, features, box_in, label, score)
        if is_one_stage(model) and hasattr(model, "head"):
            return _one_stage_source(model, images, features, box_in, label, score)
    raise ValueError(f"cannot explain a box of {type(model).__name__}: explain_box takes two-stage "
                     "(Faster / Mask R-CNN) and one-stage FCOS / RetinaNet detectors")


def _two_stage_source(model, images, features, box, label, score) -> BoxSource:
    from torchvision.ops import boxes as box_ops
    roi = model.roi_heads
    (proposals,), _ = _rpn_proposals(model.rpn, images, features)
    pooled = roi.box_roi_pool(features, [proposals], images.image_sizes)
    logits, deltas = roi.box_predictor(roi.box_head(pooled))
    decoded = roi.box_coder.decode(deltas, [proposals])[:, label]
    decoded = box_ops.clip_boxes_to_image(decoded, images.image_sizes[0])
    scores = torch.softmax(logits, -1)[:, label]
    i, err = _closest(decoded, scores, box, score)
    level = pooler_level(roi.box_roi_pool, features, images.image_sizes, proposals[i])
    return BoxSource(proposals[i].cpu().numpy(), None, level.name, tuple(features[level.name].shape),
                     float(scores[i]), err)


def _one_stage_source(model, images, features, box, label, score) -> BoxSource:
    from torchvision.ops import boxes as box_ops
    names = list(features) if isinstance(features, dict) else ["0"]
    maps = _features_list(features)
    out = model.head(maps)
    anchors = model.anchor_generator(images, maps)[0]
    coder = model.box_coder
    decode = coder.decode_single if hasattr(coder, "decode_single") else coder.decode
    decoded = box_ops.clip_boxes_to_image(decode(out["bbox_regression"][0], anchors), images.image_sizes[0])
    probs = torch.sigmoid(out["cls_logits"][0][:, label])
    if "bbox_ctrness" in out:  # FCOS scores a location by class and centre-ness together
        probs = torch.sqrt(probs * torch.sigmoid(out["bbox_ctrness"][0][:, 0]))
    i, err = _closest(decoded, probs, box, score)
    per_cell = len(anchors) // sum(m.shape[-2] * m.shape[-1] for m in maps)
    ends = np.cumsum([m.shape[-2] * m.shape[-1] * per_cell for m in maps])
    k = int(np.searchsorted(ends, i, side="right"))
    return BoxSource(None, i, names[k], tuple(maps[k].shape), float(probs[i]), err)


class TwoStageBoxScore(nn.Module):
    """Images -> class logits of the box head on one fixed box (model-input pixels)."""

    def __init__(self, model: nn.Module, box: np.ndarray):
        super().__init__()
        roi = model.roi_heads
        self.transform, self.backbone = model.transform, model.backbone
        self.box_roi_pool, self.box_head, self.box_predictor = roi.box_roi_pool, roi.box_head, roi.box_predictor
        self.register_buffer("box", torch.as_tensor(np.asarray(box, np.float32)).reshape(1, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        images, _ = self.transform(list(x))
        features = self.backbone(images.tensors)
        if isinstance(features, torch.Tensor):
            features = OrderedDict([("0", features)])
        box = self.box.to(images.tensors.dtype)
        pooled = self.box_roi_pool(features, [box] * len(x), images.image_sizes)
        logits, _ = self.box_predictor(self.box_head(pooled))
        return logits


class OneStageBoxScore(nn.Module):
    """Images -> the classification head's logits at one location (anchor index)."""

    def __init__(self, model: nn.Module, anchor: int):
        super().__init__()
        self.transform, self.backbone, self.head = model.transform, model.backbone, model.head
        self.anchor = int(anchor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        images, _ = self.transform(list(x))
        maps = _features_list(self.backbone(images.tensors))
        return self.head.classification_head(maps)[:, self.anchor, :]


def box_score_module(model: nn.Module, source: BoxSource) -> nn.Module:
    if source.proposal is not None:
        return TwoStageBoxScore(model, source.proposal).eval()
    return OneStageBoxScore(model, source.anchor).eval()
