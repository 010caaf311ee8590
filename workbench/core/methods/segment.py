"""Semantic segmentation: each image pixel's class, from a segmenter's per-class logits.

Works on torchvision's segmentation models (their forward returns ``{"out": logits}``) and on
any module that returns an (N, C, h, w) logit tensor, such as the bundled shapes segmenter.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from workbench.core.context import Context
from workbench.core.geometry import Geometry
from workbench.core.registry import Method
from workbench.core.results import SegMask


@dataclass
class Params:
    pass


def segmentation_logits(output: Any) -> torch.Tensor:
    """The (N, C, h, w) logits out of a segmenter's forward."""
    if isinstance(output, Mapping):
        output = output["out"]
    if not isinstance(output, torch.Tensor) or output.ndim != 4:
        raise TypeError(f"expected (N, C, h, w) segmentation logits or a dict with 'out', got "
                        f"{type(output).__name__}{tuple(getattr(output, 'shape', ()))}")
    return output


def logits_to_mask(logits: np.ndarray, geometry: Geometry, image_hw: tuple[int, int]) -> np.ndarray:
    """(C, h, w) logits at model-input resolution -> (H, W) class indices in image pixels.

    Every class map is resized bilinearly onto the image before the argmax, so class edges fall
    between pixels where the scores cross, not on the model's pixel grid. Pixels the model did
    not see (outside a centre crop) are background, class 0.
    """
    # a running argmax keeps one class map in image pixels at a time, not all C of them
    best = mask = None
    for i, c in enumerate(np.asarray(logits, np.float32)):
        score = geometry.map_to_image(c, image_hw, fill=0.0 if i == 0 else -np.inf)
        if best is None:
            best, mask = score, np.zeros(score.shape, np.int64)
        else:
            better = score > best
            best[better], mask[better] = score[better], i
    return mask


def run(ctx: Context, p: Params) -> SegMask:
    h = ctx.handle
    x = ctx.input_tensor()
    with torch.no_grad():
        logits = segmentation_logits(h.module(x))
    if logits.shape[-2:] != x.shape[-2:]:
        logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
    image_hw = tuple(ctx.image.shape[:2])
    mask = logits_to_mask(logits[0].float().cpu().numpy(), h.geometry, image_hw)
    names = [h.label(i) for i in range(logits.shape[1])]
    present = [names[c] for c in np.unique(mask) if c != 0]
    return SegMask(method="segment", model=h.id, params={}, input=x.cpu().numpy(), mask=mask,
                   label_names=names, title=f"segmentation: {', '.join(present) or 'background only'}")


METHOD = Method(name="segment", kind="segmentation", tasks=("segment",), params=Params, run=run, title="Segment",
                description="Each pixel's class (argmax of the segmenter's logits, resized onto "
                            "the image), shown as a class-coloured overlay with a legend.")
