"""The anchors of an anchor-based detector at a location of the image: every scale and aspect ratio
on every feature level, which of them the model's matcher gives a ground-truth box in training, and
where the head's regression moves the best-scoring ones. A click on the image sets the location."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from workbench.core.context import Context
from workbench.core.detection.scenes import NO_SCENE, scene_truth
from workbench.core.model_traits import has_anchor_generator
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.anchors import BACKGROUND, AnchorsAtLocation

CENTRE = -1.0
ALL_LEVELS = -1
OWN = 0.0      # an IoU threshold of 0 means the model's own


@dataclass
class Params:
    # the fields a click on the image sets, in image pixels (x, y)
    canvas_location: ClassVar[tuple[str, str]] = ("x", "y")

    x: float = field(default=CENTRE, metadata=param(
        "x", range=(-1.0, 100_000.0), step=1.0, at_minimum="centre",
        help="image pixels; a click on the image sets x and y"))
    y: float = field(default=CENTRE, metadata=param(
        "y", range=(-1.0, 100_000.0), step=1.0, at_minimum="centre", help="image pixels"))
    level: int = field(default=ALL_LEVELS, metadata=param(
        "Feature level", range=(-1, 15), step=1, at_minimum="all", help="0 is the finest level"))
    fg_iou: float = field(default=OWN, metadata=param(
        "Foreground IoU", range=(0.0, 1.0), step=0.05, at_minimum="model's own",
        help="an anchor whose IoU with a ground-truth box reaches this is matched to it"))
    bg_iou: float = field(default=OWN, metadata=param(
        "Background IoU", range=(0.0, 1.0), step=0.05, at_minimum="model's own",
        help="below this an anchor is background; between the two it is ignored"))
    scene: int = field(default=NO_SCENE, metadata=param(
        "Ground-truth scene", range=(-1, 10_000_000), step=1, at_minimum="none",
        help="the image is the bundled scene with this seed (sample:scene-N): match anchors to its objects"))
    regressions: int = field(default=3, metadata=param(
        "Regressions drawn", range=(0, 1000), step=1,
        help="the best-scoring anchors at the location whose predicted box is drawn"))


def location(p: Params, image_hw: tuple[int, int]) -> tuple[float, float]:
    h, w = image_hw
    x = w / 2 if p.x == CENTRE else float(p.x)
    y = h / 2 if p.y == CENTRE else float(p.y)
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"location ({x:g}, {y:g}) is outside the image ({w} x {h} pixels)")
    return x, y


def run(ctx: Context, p: Params) -> AnchorsAtLocation:
    import torch

    from workbench.core.detection import anchors as A
    h = ctx.handle
    parts = A.anchor_parts(h.module)
    image_hw = tuple(ctx.image.shape[:2])
    loc = np.array(location(p, image_hw))
    matcher = A.matcher_with(parts.matcher, p.fg_iou or None, p.bg_iou or None)
    gt_boxes, gt_names = np.zeros((0, 4), np.float32), []
    if p.scene != NO_SCENE:
        from workbench.zoo.shapes import SHAPE_CLASSES
        gt_boxes, gt_labels = scene_truth(ctx.image, p.scene)
        gt_names = [SHAPE_CLASSES[int(l)] for l in gt_labels]
    x = ctx.input_tensor()
    tensor_hw = tuple(x.shape[-2:])
    gt = None if not len(gt_boxes) else torch.as_tensor(
        A.image_to_tensor(gt_boxes, h.geometry, image_hw), dtype=x.dtype, device=x.device)
    reading = A.read_anchors(h.module, x, gt)
    loc_input = A.tensor_to_input(A.image_to_tensor(loc, h.geometry, image_hw), tensor_hw, reading.input_hw)
    index = A.anchors_at(reading, *loc_input, level=None if p.level == ALL_LEVELS else p.level)
    levels = A.level_of(reading, index)
    sizes, ratios = A.shape_of(reading, index)
    cells = np.array([A.cell_at(reading.levels[k], *loc_input) for k in levels], np.int64).reshape(-1, 2)

    gt_index = np.full(len(index), BACKGROUND, np.int64)
    iou = np.zeros(len(index), np.float32)
    positives = np.zeros(len(gt_boxes), np.int64)
    if gt is not None:
        matches, ious = A.match(reading, matcher)
        gt_index = matches[torch.as_tensor(index)].cpu().numpy().astype(np.int64)
        iou = ious[:, torch.as_tensor(index)].max(0).values.cpu().numpy().astype(np.float32)
        hits = matches[matches >= 0].cpu().numpy()
        positives = np.bincount(hits, minlength=len(gt_boxes)).astype(np.int64)

    chosen = torch.as_tensor(index)
    score = reading.scores[chosen].cpu().numpy().astype(np.float32)
    decoded_input = A.decode(reading, index).cpu().numpy().astype(np.float32)
    anchors_input = reading.anchors[chosen].cpu().numpy().astype(np.float32)
    frame = (h.geometry, image_hw, tensor_hw, reading.input_hw)
    shown = np.argsort(-score, kind="stable")[:p.regressions].astype(np.int64)
    n_matched = int((gt_index >= 0).sum())
    where = f"({loc[0]:.0f}, {loc[1]:.0f})"
    on = f"level {p.level}" if p.level != ALL_LEVELS else f"{len(reading.levels)} levels"
    truth = (f", {n_matched} matched at IoU ≥ {matcher.high_threshold:g} (background < {matcher.low_threshold:g})"
             if gt is not None else "")
    return AnchorsAtLocation(
        method=METHOD.name, model=h.id, params=as_dict(p), input=x.detach().cpu().numpy(),
        title=f"{len(index)} anchors at {where} on {on}{truth} ({h.id})",
        family=parts.family, location=loc.astype(np.float32), location_input=np.asarray(loc_input, np.float32),
        anchors=A.input_to_image(anchors_input, *frame), anchors_input=anchors_input,
        level=levels.astype(np.int64), size=sizes.astype(np.float32), ratio=ratios.astype(np.float32),
        cell=cells, index=index.astype(np.int64), iou=iou, gt_index=gt_index, score=score,
        label=reading.labels[chosen].cpu().numpy().astype(np.int64),
        deltas=reading.deltas[chosen].cpu().numpy().astype(np.float32),
        decoded=A.input_to_image(decoded_input, *frame), decoded_input=decoded_input, shown=shown,
        level_strides=np.array([lv.pitch for lv in reading.levels], np.float32),
        level_grids=np.array([lv.grid_hw for lv in reading.levels], np.int64),
        gt_boxes=np.asarray(gt_boxes, np.float32), gt_names=gt_names, positives_per_gt=positives,
        fg_iou=float(matcher.high_threshold), bg_iou=float(matcher.low_threshold),
        low_quality_matches=bool(getattr(matcher, "allow_low_quality_matches", False)),
        label_names=list(h.labels), input_hw=reading.input_hw, image_hw=image_hw)


METHOD = Method(name="anchors", kind="detection", tasks=("detect",), params=Params, run=run, title="Anchors",
                accepts=has_anchor_generator,
                accepts_what="an anchor-based detector (Faster/Mask R-CNN's RPN, RetinaNet, SSD)",
                description="The anchors (SSD: default boxes) at a clicked location: every scale and aspect "
                            "ratio per feature level, the ones the model's matcher gives a ground-truth box, "
                            "and the regression from the best-scoring anchors to their predicted boxes.")
