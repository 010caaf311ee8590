"""Fast/Faster R-CNN's training objective on one image, region by region.

``decompose`` runs a torchvision two-stage detector the way its training step does (training
proposal counts, anchors and proposals matched to the ground truth, the balanced samplers drawing
their regions) and returns each sampled region's share of the four loss terms: the RPN's
objectness and box regression over its sampled anchors, the box head's classification and box
regression over its sampled proposals. The shares of a term sum to the value torchvision's own
forward reports for the same seed; normalisation is the model's own (the RPN divides both of its
terms by the number of sampled anchors, the head its box term by the number of sampled proposals).
Batch norm and dropout stay in inference mode, so nothing about the model changes.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.detection.rpn import concat_box_prediction_layers

from workbench.core.model_traits import is_two_stage_detector

TERMS = ("loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg")
BETA = 1 / 9        # torchvision's smooth-L1 beta for both stages


@dataclass
class RegionLosses:
    """One stage's sampled regions (input pixels) and each one's share of that stage's two terms."""
    boxes: np.ndarray          # (S, 4) the anchors (RPN) or proposals (head) the sampler drew
    labels: np.ndarray         # (S,) RPN: 1 object, 0 background; head: class index, 0 background
    predicted: np.ndarray      # (S, 4) the box each region regresses to (head: for its true class)
    matched: np.ndarray        # (S, 4) the ground-truth box it is matched to (meaningful where labels > 0)
    cls: np.ndarray            # (S,) share of the classification / objectness term
    box: np.ndarray            # (S,) share of the box-regression term (0 for background)
    prob: np.ndarray           # (S,) the probability the model gives the region's true label

    @property
    def positive(self) -> np.ndarray:
        return self.labels > 0

    def total(self) -> np.ndarray:
        return self.cls + self.box


@dataclass
class LossDecomposition:
    rpn: RegionLosses
    head: RegionLosses
    input_hw: tuple[int, int]   # the size the model's transform resized the image to

    def terms(self) -> dict[str, float]:
        return {"loss_objectness": float(self.rpn.cls.sum()), "loss_rpn_box_reg": float(self.rpn.box.sum()),
                "loss_classifier": float(self.head.cls.sum()), "loss_box_reg": float(self.head.box.sum())}


@contextmanager
def training_step_mode(model: nn.Module) -> Iterator[None]:
    """The model in training mode (its training proposal counts, samplers, transform) with batch norm
    and dropout kept as in inference; every module's mode restored after."""
    modes = {m: m.training for m in model.modules()}
    model.train()
    for m in model.modules():
        if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.Dropout)):
            m.eval()
    try:
        yield
    finally:
        for m, mode in modes.items():
            m.training = mode


def decompose(model: nn.Module, x: torch.Tensor, boxes: torch.Tensor, labels: torch.Tensor,
              seed: int = 0, masks: torch.Tensor | None = None) -> LossDecomposition:
    """``x`` (1, 3, H, W) in the model's input scale, ``boxes`` (K, 4) in its pixels, ``labels`` (K,)
    with 0 for background (torchvision's convention). ``seed`` draws the samplers' regions. A Mask
    R-CNN also needs the objects' ``masks`` (K, H, W), which its training step checks for; its
    mask term is not part of the decomposition."""
    if not is_two_stage_detector(model):
        raise ValueError(f"the multi-task loss is Fast/Faster R-CNN's; a {type(model).__name__} has no RPN "
                         f"and box head")
    if not len(boxes):
        raise ValueError("the scene has no objects, so there is nothing to match regions to")
    target = _target(model, x, boxes, labels, masks)
    with training_step_mode(model), torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        images, targets = model.transform(list(x), [target])
        features = model.backbone(images.tensors)
        if isinstance(features, torch.Tensor):
            features = {"0": features}
        proposals, rpn = _rpn(model.rpn, images, features, targets)
        head = _head(model.roi_heads, features, proposals, images.image_sizes, targets)
    return LossDecomposition(rpn, head, tuple(int(v) for v in images.image_sizes[0]))


def _rpn(rpn, images, features: dict, targets: list[dict]) -> tuple[list[torch.Tensor], RegionLosses]:
    levels = list(features.values())
    objectness, deltas = rpn.head(levels)
    anchors = rpn.anchor_generator(images, levels)
    per_level = [o[0].shape[0] * o[0].shape[1] * o[0].shape[2] for o in objectness]
    objectness, deltas = concat_box_prediction_layers(objectness, deltas)
    decoded = rpn.box_coder.decode(deltas.detach(), anchors).view(1, -1, 4)
    proposals, _scores = rpn.filter_proposals(decoded, objectness, images.image_sizes, per_level)
    labels, matched = rpn.assign_targets_to_anchors(anchors, targets)
    regression = rpn.box_coder.encode(matched, anchors)[0]
    pos, neg = rpn.fg_bg_sampler(labels)
    pos, neg = torch.where(pos[0])[0], torch.where(neg[0])[0]
    drawn = torch.cat([pos, neg])
    n = drawn.numel()
    logit, label = objectness.flatten()[drawn], labels[0][drawn]
    cls = F.binary_cross_entropy_with_logits(logit, label, reduction="none") / n
    box = torch.zeros(n)
    box[: len(pos)] = F.smooth_l1_loss(deltas[pos], regression[pos], beta=BETA, reduction="none").sum(1) / n
    prob = torch.where(label > 0, torch.sigmoid(logit), 1 - torch.sigmoid(logit))
    return proposals, RegionLosses(_np(anchors[0][drawn]), _np(label).astype(np.int64), _np(decoded[0][drawn]),
                                   _np(matched[0][drawn]), _np(cls), _np(box), _np(prob))


def _head(heads, features: dict, proposals: list[torch.Tensor], image_sizes, targets: list[dict]) -> RegionLosses:
    proposals, _matched_idx, labels, regression = heads.select_training_samples(proposals, targets)
    pooled = heads.box_roi_pool(features, proposals, image_sizes)
    logits, deltas = heads.box_predictor(heads.box_head(pooled))
    label, target = labels[0], regression[0]
    n = label.numel()
    cls = F.cross_entropy(logits, label, reduction="none") / n
    per_class = deltas.reshape(n, -1, 4)[torch.arange(n), label]
    box = F.smooth_l1_loss(per_class, target, beta=BETA, reduction="none").sum(1) / n * (label > 0)
    predicted = heads.box_coder.decode(per_class, [proposals[0]]).reshape(n, 4)
    matched = heads.box_coder.decode(target, [proposals[0]]).reshape(n, 4)
    prob = F.softmax(logits, dim=1)[torch.arange(n), label]
    return RegionLosses(_np(proposals[0]), _np(label).astype(np.int64), _np(predicted), _np(matched),
                        _np(cls), _np(box), _np(prob))


def reference_terms(model: nn.Module, x: torch.Tensor, boxes: torch.Tensor, labels: torch.Tensor,
                    seed: int = 0, masks: torch.Tensor | None = None) -> dict[str, float]:
    """torchvision's own training forward on the same image and seed: the four loss values."""
    target = _target(model, x, boxes, labels, masks)
    with training_step_mode(model), torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        losses = model(list(x), [target])
    return {k: float(losses[k]) for k in TERMS}


def _target(model: nn.Module, x: torch.Tensor, boxes: torch.Tensor, labels: torch.Tensor,
            masks: torch.Tensor | None) -> dict[str, torch.Tensor]:
    target = {"boxes": boxes.to(x.device, torch.float32), "labels": labels.to(x.device, torch.int64)}
    if getattr(model.roi_heads, "has_mask", lambda: False)():
        if masks is None:
            raise ValueError(f"a {type(model).__name__} trains on masks too: give the objects' masks")
        target["masks"] = masks.to(x.device, torch.uint8)
    return target


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()
