"""Shared plumbing for attribution methods: targets, channel reduction, the Heatmap result."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from workbench.core.attribution.notes import noted_title, zero_map_note
from workbench.core.context import Context
from workbench.core.params import as_dict
from workbench.core.results import Heatmap


def reduce_channels(attr: torch.Tensor, how: str = "sum") -> np.ndarray:
    """(1, C, h, w) or (C, h, w) attribution -> (h, w) float32: sum, abs-sum, or max-abs over channels."""
    a = attr.detach().float().cpu()
    if a.dim() == 4:
        a = a[0]
    if how == "sum":
        m = a.sum(0)
    elif how == "abs":
        m = a.abs().sum(0)
    elif how == "maxabs":
        m = a.abs().amax(0)
    else:
        raise ValueError(f"unknown channel reduction {how!r}; use sum, abs or maxabs")
    return m.numpy().astype(np.float32)


def heatmap_result(ctx: Context, method: str, params: Any, x: torch.Tensor, target: int,
                   attribution: np.ndarray, signed: bool, title: str = "") -> Heatmap:
    """A Heatmap whose ``attribution`` is at model input size and ``heatmap`` in image pixels.
    An all-zero map says why in its title (``notes.zero_map_note`` gives the whole note)."""
    attribution = np.asarray(attribution, np.float32)
    image_hw = tuple(ctx.image.shape[:2])
    hm = ctx.handle.geometry.map_to_image(attribution, image_hw)
    label = ctx.handle.label(target)
    result = Heatmap(method=method, model=ctx.handle.id, params=as_dict(params), input=x.detach().cpu().numpy(),
                     heatmap=hm, attribution=attribution, target=int(target), target_label=label, signed=signed,
                     title=title or f"{method}: {label}")
    result.title = noted_title(result.title, zero_map_note(result))
    return result
