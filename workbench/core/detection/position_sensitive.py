"""How an R-FCN scores one region: its k x k position-sensitive score maps for a class, the bin of
the region each map is pooled into, and the vote (the bins' mean) that becomes the class logit."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torchvision.ops import ps_roi_align

from workbench.core.model_traits import has_position_sensitive_head


@dataclass
class Vote:
    maps: np.ndarray         # (K*K, H, W) class c's score map of each bin, row-major, feature resolution
    bins: np.ndarray         # (K*K, 4) the region's bins in the model's input pixels
    bin_scores: np.ndarray   # (K*K,) what each bin pools from its own map
    logits: np.ndarray       # (C+1,) every class's vote
    k: int
    stride: float            # input pixels per feature cell

    @property
    def vote(self) -> float:
        return float(self.bin_scores.mean())


def read_vote(model: nn.Module, x: torch.Tensor, box: np.ndarray, label: int) -> Vote:
    """R-FCN ``model``'s vote for class ``label`` on ``box`` (x0, y0, x1, y1 in the pixels of ``x``)."""
    if not has_position_sensitive_head(model):
        raise ValueError(f"a {type(model).__name__} has no position-sensitive score maps (R-FCN)")
    pool = model.roi_heads.box_roi_pool
    with torch.no_grad():
        images, _ = model.transform(list(x))
        scale = np.array([images.image_sizes[0][1] / x.shape[-1], images.image_sizes[0][0] / x.shape[-2]] * 2)
        region = torch.as_tensor(np.asarray(box, np.float64) * scale, dtype=torch.float32)[None]
        features = model.backbone(images.tensors)
        scores, _ = pool.score_maps(features)
        stride = images.tensors.shape[-1] / scores.shape[-1]
        pooled = ps_roi_align(scores, [region], pool.k, spatial_scale=1 / stride, sampling_ratio=2)[0]
    k, kk = pool.k, pool.k * pool.k
    if not 0 <= label < pooled.shape[0]:
        raise ValueError(f"class {label}: the model scores classes 0-{pooled.shape[0] - 1}")
    maps = scores[0, label * kk:(label + 1) * kk].numpy()
    x0, y0, x1, y1 = (float(v) for v in region[0])
    w, h = (x1 - x0) / k, (y1 - y0) / k
    bins = np.array([[x0 + j * w, y0 + i * h, x0 + (j + 1) * w, y0 + (i + 1) * h]
                     for i in range(k) for j in range(k)], np.float32) / np.asarray(scale, np.float32)
    return Vote(maps=maps.astype(np.float32), bins=bins, bin_scores=pooled[label].reshape(-1).numpy(),
                logits=pooled.mean(dim=(1, 2)).numpy(), k=k, stride=float(stride / scale[0]))
