"""ROI Align and ROI Pool of one box, as a two-stage detector's box head sees it.

``box_roi_pool`` (torchvision's ``MultiScaleRoIAlign``) picks one feature level per box
with the FPN paper's rule (its ``LevelMapper``) and runs ``roi_align`` there with
``aligned=False``: the box, scaled to that level, is cut into ``output_size`` bins and each
bin averages ``sampling_ratio`` x ``sampling_ratio`` bilinear samples (for a ratio <= 0,
ceil(bin size) per axis). ROI Pool instead rounds the box to whole feature cells and takes
the max over the cells of each (integer) bin.

Coordinates: "model-input pixels" are those of the tensor the backbone eats, after the
detector's own ``transform`` resized it. Feature cell ``i`` of a level with scale ``s``
(feature pixels per input pixel) sits at input coordinate ``i / s``, as ``roi_align`` and
``roi_pool`` place it.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from workbench.core.geometry import Geometry

POOL_KINDS = ("align", "pool")


@dataclass(frozen=True)
class RoiLevel:
    name: str       # the feature map's key in the backbone's output
    index: int      # its position among the pooler's levels
    scale: float    # feature pixels per model-input pixel


@dataclass
class RoiView:
    """One box pooled on its level, everything in model-input pixels."""
    box: np.ndarray           # (4,) xyxy
    level: RoiLevel
    kind: str                 # "align" or "pool"
    output_size: tuple[int, int]
    samples: tuple[int, int]  # sample points per bin (rows, columns); ROI Pool: most cells in a bin
    bins: np.ndarray          # (oh * ow, 4) xyxy, row-major
    points: np.ndarray        # (P, 2) x, y: sample points (align) or feature-cell centres (pool)
    point_bins: np.ndarray    # (P,) the bin of each point
    pooled: torch.Tensor      # (C, oh, ow)
    input_hw: tuple[int, int]   # the transformed image the backbone saw
    tensor_hw: tuple[int, int]  # the tensor given to the detector


def pooler_level(pooler: nn.Module, features: "OrderedDict[str, torch.Tensor]",
                 image_sizes: list[tuple[int, int]], box: torch.Tensor) -> RoiLevel:
    """The level ``pooler`` (a MultiScaleRoIAlign) pools ``box`` (xyxy, input pixels) from."""
    from torchvision.ops.poolers import _setup_scales
    names = [k for k in features if k in pooler.featmap_names]
    if not names:
        raise ValueError(f"the pooler reads levels {pooler.featmap_names}, the backbone gives {list(features)}")
    scales, mapper = _setup_scales([features[k] for k in names], image_sizes,
                                   pooler.canonical_scale, pooler.canonical_level)
    index = 0 if len(names) == 1 else int(mapper([box.reshape(1, 4)])[0])
    return RoiLevel(names[index], index, float(scales[index]))


def align_grid(box: np.ndarray, scale: float, output_size: tuple[int, int], sampling_ratio: int,
               aligned: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """(bins, points, point_bins, (rows, cols) per bin) of ``roi_align`` in input pixels."""
    offset = 0.5 if aligned else 0.0
    x0, y0, x1, y1 = (float(v) * scale - offset for v in box)
    w, h = x1 - x0, y1 - y0
    if not aligned:
        w, h = max(w, 1.0), max(h, 1.0)
    oh, ow = output_size
    bw, bh = w / ow, h / oh
    gh = sampling_ratio if sampling_ratio > 0 else max(1, math.ceil(h / oh))
    gw = sampling_ratio if sampling_ratio > 0 else max(1, math.ceil(w / ow))
    by, bx = np.meshgrid(np.arange(oh), np.arange(ow), indexing="ij")
    bins = np.stack([x0 + bx * bw, y0 + by * bh, x0 + (bx + 1) * bw, y0 + (by + 1) * bh], -1).reshape(-1, 4)
    iy, ix = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
    px = bins[:, None, 0] + (ix.reshape(1, -1) + 0.5) * bw / gw
    py = bins[:, None, 1] + (iy.reshape(1, -1) + 0.5) * bh / gh
    points = np.stack([px, py], -1).reshape(-1, 2)
    point_bins = np.repeat(np.arange(oh * ow), gh * gw)
    return (bins + offset) / scale, (points + offset) / scale, point_bins, (gh, gw)


def pool_grid(box: np.ndarray, scale: float, output_size: tuple[int, int],
              feature_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """(bins, cell centres, point_bins, largest bin in cells) of ``roi_pool`` in input pixels.

    A bin covers feature cells [start, end) on each axis; drawn, it spans those cells' extent.
    """
    x0, y0, x1, y1 = (_round_half_away(float(v) * scale) for v in box)
    oh, ow = output_size
    H, W = feature_hw
    bh, bw = max(y1 - y0 + 1, 1) / oh, max(x1 - x0 + 1, 1) / ow
    bins, points, owners = [], [], []
    most = (0, 0)
    for i in range(oh):
        ys = min(max(math.floor(i * bh) + y0, 0), H), min(max(math.ceil((i + 1) * bh) + y0, 0), H)
        for j in range(ow):
            xs = min(max(math.floor(j * bw) + x0, 0), W), min(max(math.ceil((j + 1) * bw) + x0, 0), W)
            bins.append([xs[0] - 0.5, ys[0] - 0.5, max(xs) - 0.5, max(ys) - 0.5])
            cy, cx = np.meshgrid(np.arange(*ys), np.arange(*xs), indexing="ij")
            points.append(np.stack([cx.ravel(), cy.ravel()], -1))
            owners.append(np.full(cx.size, i * ow + j))
            most = (max(most[0], ys[1] - ys[0]), max(most[1], xs[1] - xs[0]))
    return (np.asarray(bins, np.float64) / scale, np.concatenate(points).astype(np.float64) / scale,
            np.concatenate(owners), most)


def _round_half_away(v: float) -> int:
    # roi_pool's kernels use C's round(), which rounds halves away from zero
    return int(math.floor(abs(v) + 0.5) * (1 if v >= 0 else -1))


def pool_box(feature: torch.Tensor, box: torch.Tensor, scale: float, output_size: tuple[int, int],
             sampling_ratio: int, kind: str = "align") -> torch.Tensor:
    """(C, oh, ow): ``roi_align`` (aligned=False, as MultiScaleRoIAlign) or ``roi_pool`` of one box."""
    from torchvision.ops import roi_align, roi_pool
    rois = torch.cat([box.new_zeros(1, 1), box.reshape(1, 4)], 1)
    if kind == "align":
        return roi_align(feature, rois, output_size, scale, sampling_ratio, aligned=False)[0]
    if kind == "pool":
        return roi_pool(feature, rois, output_size, scale)[0]
    raise ValueError(f"unknown pooling {kind!r}; use one of {', '.join(POOL_KINDS)}")


def backbone_features(model: nn.Module, x: torch.Tensor):
    """(transformed images, the backbone's feature maps as an ordered dict) for the (1, C, h, w) ``x``."""
    images, _ = model.transform([x[0]])
    features = model.backbone(images.tensors)
    if isinstance(features, torch.Tensor):
        features = OrderedDict([("0", features)])
    return images, features


def to_input_pixels(box: np.ndarray, tensor_hw: tuple[int, int], input_hw: tuple[int, int]) -> np.ndarray:
    """xyxy boxes in the pixels of the tensor given to the detector -> the transformed image's."""
    sy, sx = input_hw[0] / tensor_hw[0], input_hw[1] / tensor_hw[1]
    return np.asarray(box, np.float64).reshape(-1, 4) * np.array([sx, sy, sx, sy])


def roi_view(model: nn.Module, x: torch.Tensor, box: np.ndarray, kind: str = "align") -> RoiView:
    """Pool ``box`` (xyxy in the pixels of ``x``, as the detector's final boxes come) as the
    two-stage ``model``'s ``box_roi_pool`` does, with the sampling grid that produced it."""
    if kind not in POOL_KINDS:
        raise ValueError(f"unknown pooling {kind!r}; use one of {', '.join(POOL_KINDS)}")
    pooler = getattr(getattr(model, "roi_heads", None), "box_roi_pool", None)
    if pooler is None or not hasattr(pooler, "featmap_names"):
        raise ValueError(f"{type(model).__name__} has no box_roi_pool: ROI pooling needs a two-stage "
                         "detector (Faster / Mask R-CNN)")
    with torch.no_grad():
        images, features = backbone_features(model, x)
        input_hw = tuple(int(v) for v in images.image_sizes[0])
        tensor_hw = tuple(int(v) for v in x.shape[-2:])
        box_in = to_input_pixels(box, tensor_hw, input_hw)[0]
        box_t = torch.as_tensor(box_in, dtype=x.dtype, device=x.device)
        level = pooler_level(pooler, features, images.image_sizes, box_t)
        feature = features[level.name]
        output_size = tuple(pooler.output_size)
        pooled = pool_box(feature, box_t, level.scale, output_size, pooler.sampling_ratio, kind)
    if kind == "align":
        bins, points, owners, samples = align_grid(box_in, level.scale, output_size, pooler.sampling_ratio)
    else:
        bins, points, owners, samples = pool_grid(box_in, level.scale, output_size, tuple(feature.shape[-2:]))
    return RoiView(box=box_in.astype(np.float32), level=level, kind=kind, output_size=output_size,
                   samples=samples, bins=bins.astype(np.float32), points=points.astype(np.float32),
                   point_bins=owners.astype(np.int64), pooled=pooled.detach(), input_hw=input_hw,
                   tensor_hw=tensor_hw)


def input_to_image(xy: np.ndarray, view: RoiView, geometry: Geometry, image_hw: tuple[int, int]) -> np.ndarray:
    """Points (P, 2) or boxes (B, 4) in model-input pixels -> image pixels."""
    a = np.asarray(xy, np.float64)
    points = a.shape[-1] == 2
    boxes = np.concatenate([a, a], -1) if points else a.reshape(-1, 4)
    sy, sx = view.tensor_hw[0] / view.input_hw[0], view.tensor_hw[1] / view.input_hw[1]
    out = geometry.boxes_to_image(boxes * np.array([sx, sy, sx, sy]), image_hw)
    return out[:, :2] if points else out
