"""The anchors (SSD: default boxes) of an anchor-based detector at one location of the image.

Everything is read from the model's own parts: its anchor generator (``AnchorGenerator`` or
``DefaultBoxGenerator``) run on the feature maps of the current image, its head's outputs at
those anchors, its ``box_coder`` to decode them and its ``proposal_matcher`` to match anchors
to ground truth. One forward of the model is hooked at its head and its anchor generator and
stopped as soon as the anchors exist, so nothing after them (RoI heads, NMS) runs.

Three families share this: the RPN of Faster/Mask R-CNN (``model.rpn``), RetinaNet and SSD /
SSDlite (the parts on the model itself).

Coordinates: "input pixels" are those of the image the backbone saw, after the detector's own
``transform`` resized it; the anchors come in these. The cell of a level that holds a location
is the one whose span [i * stride, (i + 1) * stride) contains it. ``AnchorGenerator`` centres
that cell's anchors on the cell's top-left corner (i * stride); ``DefaultBoxGenerator`` on
its middle.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from workbench.core.hooks import require_forward_hooks
from workbench.core.model_traits import has_anchor_generator

PARTS = ("anchor_generator", "head", "box_coder", "proposal_matcher")


@dataclass
class AnchorParts:
    """Where a detector keeps its anchor machinery."""
    family: str               # "rpn", "retinanet" or "ssd"
    generator: nn.Module
    head: nn.Module
    box_coder: object
    matcher: object           # torchvision's Matcher (SSD: SSDMatcher)


def anchor_parts(model: nn.Module) -> AnchorParts:
    if not has_anchor_generator(model):
        raise ValueError(f"{type(model).__name__} has no anchor generator with an IoU matcher: anchors "
                         "are drawn for Faster/Mask R-CNN's RPN, RetinaNet and SSD/SSDlite (FCOS places "
                         "one point per cell and assigns objects by centre and size, not anchors by IoU)")
    owner = model.rpn if hasattr(model, "rpn") else model
    family = "rpn" if owner is not model else (
        "ssd" if type(model.anchor_generator).__name__ == "DefaultBoxGenerator" else "retinanet")
    return AnchorParts(family, *(getattr(owner, a) for a in PARTS))


@dataclass
class Level:
    """One feature level's grid of anchors, as the generator laid it out."""
    index: int
    grid_hw: tuple[int, int]
    pitch: tuple[float, float]   # (y, x) input pixels from one cell to the next
    per_cell: int                # anchors per cell
    first: int                   # the position of its first anchor in the full list
    sizes: np.ndarray            # (per_cell,) each anchor's scale, input pixels (sqrt of w * h)
    ratios: np.ndarray           # (per_cell,) each anchor's aspect ratio, height / width


@dataclass
class AnchorReading:
    """One image's anchors and what the head predicts at each, in input pixels."""
    parts: AnchorParts
    anchors: torch.Tensor        # (A, 4) xyxy, every anchor of every level
    levels: list[Level]
    scores: torch.Tensor         # (A,) objectness (RPN) or the best object class's probability
    labels: torch.Tensor         # (A,) that class (RPN: 1, "object")
    deltas: torch.Tensor         # (A, 4) the head's box regression
    input_hw: tuple[int, int]    # the transformed image (before padding)
    padded_hw: tuple[int, int]   # the batch tensor the generator measured
    gt_boxes: torch.Tensor | None = None   # (G, 4) the ground truth as the model's transform resized it


class _Stop(Exception):
    """Raised by the anchor generator's hook: nothing after the anchors is needed."""


def read_anchors(model: nn.Module, x: torch.Tensor, gt_boxes: torch.Tensor | None = None) -> AnchorReading:
    """Run ``model`` on the (1, C, h, w) tensor ``x`` up to its anchors. ``gt_boxes``: (G, 4) xyxy in
    the pixels of ``x``; they go through the model's transform as training targets do."""
    parts = anchor_parts(model)
    for m in (model.transform, parts.head, parts.generator):
        require_forward_hooks(m, "anchors")
    seen: dict[str, object] = {}

    def keep(name: str, stop: bool = False):
        def hook(_m, args, out):
            seen[name] = (args, out)
            if stop:
                raise _Stop
        return hook

    targets = None
    if gt_boxes is not None:
        targets = [{"boxes": gt_boxes.to(x), "labels": torch.ones(len(gt_boxes), dtype=torch.int64, device=x.device)}]
    handles = [model.transform.register_forward_hook(keep("transform")),
               parts.head.register_forward_hook(keep("head")),
               parts.generator.register_forward_hook(keep("generator", stop=True))]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model([x[0]], targets)
    except _Stop:
        pass
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if "generator" not in seen:
        raise ValueError(f"{type(model).__name__}'s forward never reached its anchor generator")
    (image_list, maps), anchors = seen["generator"]
    _, (_, transformed) = seen["transform"]
    scores, labels, deltas = _head_outputs(parts, seen["head"][1])
    return AnchorReading(
        parts, anchors[0], _levels(parts.generator, maps, tuple(image_list.tensors.shape[-2:])),
        scores, labels, deltas, tuple(int(v) for v in image_list.image_sizes[0]),
        tuple(int(v) for v in image_list.tensors.shape[-2:]),
        None if transformed is None else transformed[0]["boxes"])


def _head_outputs(parts: AnchorParts, out) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(scores, labels, deltas) per anchor, in the generator's order, from the head's output."""
    if parts.family == "rpn":
        from torchvision.models.detection.rpn import concat_box_prediction_layers
        objectness, deltas = concat_box_prediction_layers(*out)
        scores = objectness[:, 0].sigmoid()
        return scores, torch.ones_like(scores, dtype=torch.int64), deltas
    logits, deltas = out["cls_logits"][0], out["bbox_regression"][0]
    if parts.family == "ssd":    # softmax over classes, 0 the background
        probs = logits.softmax(-1)[:, 1:]
        scores, labels = probs.max(-1)
        return scores, labels + 1, deltas
    scores, labels = logits.sigmoid().max(-1)
    return scores, labels, deltas


def _levels(generator: nn.Module, maps: list[torch.Tensor], padded_hw: tuple[int, int]) -> list[Level]:
    levels, first = [], 0
    for k, fmap in enumerate(maps):
        gh, gw = (int(v) for v in fmap.shape[-2:])
        if type(generator).__name__ == "DefaultBoxGenerator":
            steps = generator.steps
            pitch = (float(steps[k]), float(steps[k])) if steps else (padded_hw[0] / gh, padded_hw[1] / gw)
            wh = generator._wh_pairs[k].double()
            wh = (wh.clamp(0, 1) if generator.clip else wh).numpy() * np.array([padded_hw[1], padded_hw[0]])
            sizes, ratios = np.sqrt(wh[:, 0] * wh[:, 1]), wh[:, 1] / wh[:, 0]
        else:
            pitch = (float(padded_hw[0] // gh), float(padded_hw[1] // gw))
            # generate_anchors lays them out ratio-major: for each ratio, every size
            scales = np.asarray(generator.sizes[k], np.float64)
            ar = np.asarray(generator.aspect_ratios[k], np.float64)
            sizes, ratios = np.tile(scales, len(ar)), np.repeat(ar, len(scales))
        levels.append(Level(k, (gh, gw), pitch, len(sizes), first, sizes, ratios))
        first += gh * gw * len(sizes)
    return levels


def cell_at(level: Level, x: float, y: float) -> tuple[int, int]:
    """(row, column) of the cell of ``level`` whose span holds the input-pixel location (x, y)."""
    gh, gw = level.grid_hw
    row = min(max(int(np.floor(y / level.pitch[0])), 0), gh - 1)
    col = min(max(int(np.floor(x / level.pitch[1])), 0), gw - 1)
    return row, col


def anchors_at(reading: AnchorReading, x: float, y: float, level: int | None = None) -> np.ndarray:
    """Positions in ``reading.anchors`` of every anchor of the cell holding (x, y) on each level
    (or on ``level`` only), level by level, each cell's anchors in the generator's order."""
    if level is not None and not 0 <= level < len(reading.levels):
        raise ValueError(f"level {level}: the model has {len(reading.levels)} feature levels "
                         f"(0-{len(reading.levels) - 1}; -1: all)")
    out = []
    for lv in reading.levels if level is None else [reading.levels[level]]:
        row, col = cell_at(lv, x, y)
        start = lv.first + (row * lv.grid_hw[1] + col) * lv.per_cell
        out.append(np.arange(start, start + lv.per_cell))
    return np.concatenate(out)


def level_of(reading: AnchorReading, index: np.ndarray) -> np.ndarray:
    firsts = np.array([lv.first for lv in reading.levels])
    return np.searchsorted(firsts, np.asarray(index), side="right") - 1


def shape_of(reading: AnchorReading, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sizes, ratios) of the anchors at positions ``index``."""
    sizes, ratios = [], []
    for i, k in zip(np.asarray(index), level_of(reading, index)):
        lv = reading.levels[k]
        a = (i - lv.first) % lv.per_cell
        sizes.append(lv.sizes[a])
        ratios.append(lv.ratios[a])
    return np.asarray(sizes, np.float64), np.asarray(ratios, np.float64)


def matcher_with(matcher: object, fg_iou: float | None = None, bg_iou: float | None = None) -> object:
    """The model's own matcher (its class and rules), with other thresholds where given."""
    fg = matcher.high_threshold if fg_iou is None else float(fg_iou)
    bg = matcher.low_threshold if bg_iou is None else float(bg_iou)
    if bg > fg:
        raise ValueError(f"the background IoU ({bg}) must not exceed the foreground IoU ({fg})")
    out = copy.copy(matcher)
    out.high_threshold, out.low_threshold = fg, bg
    return out


def match(reading: AnchorReading, matcher: object) -> tuple[torch.Tensor, torch.Tensor]:
    """(matches, iou): ``matcher`` on the IoU of every ground-truth box with every anchor, as the
    model's training step calls it. matches (A,): a ground-truth index, or -1 below the background
    IoU, or -2 between the two thresholds (ignored); iou (G, A)."""
    from torchvision.ops import box_iou
    iou = box_iou(reading.gt_boxes, reading.anchors)
    return matcher(iou), iou


def decode(reading: AnchorReading, index: np.ndarray) -> torch.Tensor:
    """(K, 4) the boxes the head's deltas at anchors ``index`` decode to, by the model's box coder."""
    i = torch.as_tensor(np.asarray(index), dtype=torch.long, device=reading.anchors.device)
    return reading.parts.box_coder.decode_single(reading.deltas[i], reading.anchors[i])


def image_to_tensor(xy: np.ndarray, geometry, image_hw: tuple[int, int]) -> np.ndarray:
    """Points (P, 2) or boxes (B, 4) in image pixels -> the pixels of the tensor the model is given
    (the inverse of ``Geometry.boxes_to_image``)."""
    x0, y0, x1, y1 = geometry.crop_box(image_hw)
    h, w = geometry.input_size
    scale = np.array([w / (x1 - x0), h / (y1 - y0)])
    a = np.asarray(xy, np.float64)
    pairs = a.reshape(-1, 2)
    return ((pairs - [x0, y0]) * scale).reshape(a.shape)


def tensor_to_input(xy: np.ndarray, tensor_hw: tuple[int, int], input_hw: tuple[int, int]) -> np.ndarray:
    """Points or boxes in the pixels of the tensor given to the detector -> its transformed image's."""
    a = np.asarray(xy, np.float64)
    return (a.reshape(-1, 2) * [input_hw[1] / tensor_hw[1], input_hw[0] / tensor_hw[0]]).reshape(a.shape)


def input_to_image(boxes: np.ndarray, geometry, image_hw: tuple[int, int], tensor_hw: tuple[int, int],
                   input_hw: tuple[int, int]) -> np.ndarray:
    """xyxy boxes in the transformed image's pixels -> image pixels."""
    return geometry.boxes_to_image(tensor_to_input(boxes, input_hw, tensor_hw), image_hw)
