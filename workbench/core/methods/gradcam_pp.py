"""Grad-CAM++ (Chattopadhay et al., 2018).

Channel weights sum relu(gradient) times the per-position alpha of the paper's eq. 19, with
the second and third derivatives approximated by powers of the first (exact for an
exponential of the logit), exactly as pytorch-grad-cam's ``GradCAMPlusPlus``; the map is
relu(sum_k w_k A_k) upsampled bilinearly to the model input, kept raw (not normalised).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.context import Context
from workbench.core.methods._cam import gradient_cam, layer_field
from workbench.core.registry import Method
from workbench.core.results import Heatmap

_EPS = 1e-6  # pytorch-grad-cam's guard against a zero denominator


@dataclass
class Params:
    layer: str = layer_field()


def weights(activations: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    g2 = grads.square()
    g3 = g2 * grads
    sum_a = activations.sum(dim=(2, 3), keepdim=True)
    alpha = g2 / (2 * g2 + sum_a * g3 + _EPS)
    alpha = torch.where(grads != 0, alpha, torch.zeros_like(alpha))
    return (grads.clamp(min=0) * alpha).sum(dim=(2, 3))[0]


def run(ctx: Context, p: Params) -> Heatmap:
    return gradient_cam(ctx, METHOD.name, p, weights)


METHOD = Method(name="gradcam-pp", kind="attribution", tasks=("classify",), params=Params, run=run, title="Grad-CAM++",
                description="Grad-CAM with per-position weights on the positive gradients.")
