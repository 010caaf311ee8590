"""Grad-CAM (Selvaraju et al., 2017).

Channel weights are the spatial means of the target logit's gradient at the chosen layer;
the map is relu(sum_k w_k A_k), upsampled bilinearly to the model input, kept raw. Equal to
pytorch-grad-cam's ``GradCAM`` before its min-max normalisation.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.core.context import Context
from workbench.core.methods._cam import gradient_cam, layer_field
from workbench.core.registry import Method
from workbench.core.results import Heatmap


@dataclass
class Params:
    layer: str = layer_field()


def weights(activations: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    return grads.mean(dim=(2, 3))[0]


def run(ctx: Context, p: Params) -> Heatmap:
    return gradient_cam(ctx, METHOD.name, p, weights)


METHOD = Method(name="gradcam", kind="attribution", tasks=("classify",), params=Params, run=run, title="Grad-CAM",
                description="A layer's channels weighted by their mean gradient (ReLU, upsampled).")
