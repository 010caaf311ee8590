"""What a region classifier sees of one region: R-CNN's warped crops, SPPNet's pyramid bins.

R-CNN (``zoo:shapes-rcnn``): the crops it classifies, warped with their context padding, as a grid
headed by the chosen region, then the proposals it scores highest, each titled with its best class
and probability. SPPNet (``zoo:shapes-sppnet``): the chosen region's window on the conv map and the
bins of each pyramid level over the image, with the max-pooled values of the strongest channels.
The region is the proposal behind a final detection (``index``, highest score first); when ``proposal``
is set, that proposal (best-ranked first); when a click on the image set ``x`` and ``y``, the
proposal behind the smallest detection there, else the best-ranked proposal there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch

from workbench.core.context import Context
from workbench.core.detection.region_classifier import pyramid_of, run_regions, top_regions, warped_crops
from workbench.core.methods._detection import index_field, score_threshold_field
from workbench.core.methods.roi_align import strongest
from workbench.core.model_traits import is_region_classifier
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.region_classifier import PyramidPooling, WarpedRegions
from workbench.core.results.roi import RoiGrid
from workbench.zoo.rcnn import CONTEXT


NOWHERE = -1.0


@dataclass
class Params:
    # the fields a click on the image sets, in image pixels (x, y)
    canvas_location: ClassVar[tuple[str, str]] = ("x", "y")

    index: int = index_field()
    proposal: int = field(default=-1, metadata=param(
        "Proposal", range=(-1, 100_000), step=1, help="a proposal by rank instead of a detection's",
        at_minimum="the detection's"))
    crops: int = field(default=12, metadata=param(
        "Crops", range=(1, 256), step=1, help="R-CNN: warped regions shown, the chosen one first"))
    channels: int = field(default=8, metadata=param(
        "Channels", range=(1, 512), step=1, help="SPPNet: pooled channels shown, strongest first"))
    score_threshold: float = score_threshold_field()
    x: float = field(default=NOWHERE, metadata=param(
        "x", range=(-1.0, 100_000.0), step=1.0, at_minimum="the detection's",
        help="image pixels; a click on the image sets x and y and chooses the region there"))
    y: float = field(default=NOWHERE, metadata=param(
        "y", range=(-1.0, 100_000.0), step=1.0, at_minimum="the detection's", help="image pixels"))


def _chosen(run, p: Params, to_image) -> int:
    n = len(run.proposals)
    if p.proposal >= 0:
        if p.proposal >= n:
            raise ValueError(f"proposal {p.proposal} does not exist: selective search found {n}")
        return int(p.proposal)
    if p.x >= 0 and p.y >= 0:
        return _at(run, p.x, p.y, to_image)
    found = len(run.detections["boxes"])
    if not 0 <= p.index < found:
        raise ValueError(f"detection {p.index} does not exist: the model found {found} scoring above "
                         f"{p.score_threshold}" if found else
                         f"the model found no detections scoring above {p.score_threshold}; choose a proposal")
    return int(run.detections["proposal_index"][p.index])


def _at(run, x: float, y: float, to_image) -> int:
    """The proposal behind the smallest detection holding (x, y), else the best-ranked proposal holding it."""
    def holding(boxes: np.ndarray) -> np.ndarray:
        return np.flatnonzero((boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3]))
    found = to_image(run.detections["boxes"].cpu().numpy()) if len(run.detections["boxes"]) else np.zeros((0, 4))
    hit = holding(found)
    if len(hit):
        area = (found[hit, 2] - found[hit, 0]) * (found[hit, 3] - found[hit, 1])
        return int(run.detections["proposal_index"][int(hit[np.argmin(area)])])
    hit = holding(to_image(run.proposals.cpu().numpy()))
    if not len(hit):
        raise ValueError(f"no proposal holds the point ({x:.0f}, {y:.0f}); click inside an object")
    return int(hit[0])


def _title(names: list[str], probs: torch.Tensor) -> tuple[int, str]:
    best = int(probs.argmax())
    name = names[best] if best < len(names) else str(best)
    return best, f"{'background' if best == 0 else name} {float(probs[best]):.2f}"


def run(ctx: Context, p: Params):
    h = ctx.handle
    x = ctx.input_tensor()
    image_hw = tuple(ctx.image.shape[:2])
    regions = run_regions(h.module, x, p.score_threshold)

    def to_image(b) -> np.ndarray:
        b = np.asarray(b, np.float64).reshape(-1, 4)
        return h.geometry.boxes_to_image(b, image_hw).astype(np.float32)
    chosen = _chosen(regions, p, to_image)

    common = dict(method=METHOD.name, model=h.id, params=as_dict(p), input=x.detach().cpu().numpy())
    view = _crops if hasattr(h.module, "warp") else _pyramid
    return view(h.module, x, regions, chosen, p, to_image, list(h.labels), image_hw, common)


def _crops(model, x, regions, chosen, p, to_image, names, _image_hw, common) -> WarpedRegions:
    rows = top_regions(regions.probabilities, chosen, p.crops)
    boxes = regions.proposals[rows]
    crops, windows = warped_crops(model, x, boxes)
    probs = regions.probabilities[rows]
    titled = [_title(names, pr) for pr in probs]
    return WarpedRegions(
        **common, tiles=crops, titles=[f"#{r} {t}" for r, (_, t) in zip(rows, titled)],
        title=f"R-CNN's warped crops ({crops.shape[1]}x{crops.shape[2]}, {CONTEXT} px context): "
              f"proposal {chosen} first, then the highest scoring of {len(regions.proposals)}",
        boxes=to_image(boxes), windows=to_image(windows), probabilities=probs.cpu().numpy().astype(np.float32),
        labels=np.asarray([b for b, _ in titled], np.int64), proposal_index=np.asarray(rows, np.int64),
        proposals=to_image(regions.proposals), label_names=names, chosen=0, warp=int(crops.shape[1]),
        context=CONTEXT, time_ms=regions.time_ms)


def _pyramid(model, x, regions, chosen, p, to_image, names, image_hw, common) -> PyramidPooling:
    box = regions.proposals[chosen]
    pyr = pyramid_of(model, x, box)
    finest = max(model.levels)
    fine = pyr.bin_levels == finest
    pooled = pyr.pooled[:, fine].reshape(-1, finest, finest)
    shown = strongest(pooled, p.channels)
    label, text = _title(names, regions.probabilities[chosen])
    title = (f"SPPNet's pyramid of proposal {chosen} ({text}): window cells {pyr.window}, "
             f"levels {'+'.join(f'{n}x{n}' for n in model.levels)}")
    bins = to_image(pyr.bins)
    grid = RoiGrid(**common, tiles=pooled[shown], titles=[f"ch {c}" for c in shown], title=title,
                   layer=f"{finest}x{finest} level", image_hw=image_hw, bins=bins[fine],
                   extra={"channels": shown.astype(np.int64)})
    return PyramidPooling(
        **common, title=title, grid=grid, pooled=pooled, box=to_image(box)[0], box_input=box.cpu().numpy(),
        bins=bins, points=to_image(np.tile(pyr.cell_centres, (1, 2)))[:, :2], point_bins=pyr.cell_bins,
        channels=shown.astype(np.int64), pool="spp", level="conv", scale=1.0 / pyr.stride,
        detection=p.index if p.proposal < 0 else -1, label=label, label_name=text.rsplit(" ", 1)[0],
        score=float(regions.probabilities[chosen].max()), bin_levels=pyr.bin_levels,
        window=np.asarray(pyr.window, np.int64), levels_pooled=pyr.pooled, levels=tuple(model.levels),
        stride=int(pyr.stride), probabilities=regions.probabilities[chosen].cpu().numpy().astype(np.float32),
        label_names=names)


METHOD = Method(name="rcnn-regions", kind="detection", tasks=("detect",), params=Params, run=run,
                title="R-CNN regions", accepts=is_region_classifier,
                accepts_what="a region classifier over proposals (R-CNN or SPPNet)",
                description="R-CNN: the warped crops it classifies, with their class scores; SPPNet: a "
                            "region's spatial-pyramid bins over the image and the pooled values.")
