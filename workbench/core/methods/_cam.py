"""Shared plumbing for the CAM methods: the layer, its activations and gradients, the weighted map.

A CAM is relu(sum_k w_k A_k) over the channels A_k of a layer's output, upsampled
bilinearly to the model's input size. The values are kept raw (not min-max normalised as
pytorch-grad-cam returns them) so maps compare across layers and images.

A layer may output a (N, C, h, w) feature map or (N, L, C) transformer tokens. Tokens
become a grid as pytorch-grad-cam's ViT ``reshape_transform`` does: when L - 1 is a square
the first (class) token is dropped, and the rest is read row by row into a sqrt x sqrt grid.
"""
from __future__ import annotations

import math
from dataclasses import field, replace
from typing import Any

import torch
import torch.nn.functional as F

from workbench.core.attribution.heatmaps import heatmap_result
from workbench.core.context import Context
from workbench.core.handle import ModelHandle
from workbench.core.hooks import capture_outputs, require_forward_hooks
from workbench.core.methods._gradients import model_input
from workbench.core.params import param
from workbench.core.results import Heatmap
from workbench.core.targets import target_score

_TOKEN_LAYER_SUFFIXES = (".ln_1", ".norm1")


def layer_field() -> Any:
    return field(default="", metadata=param(
        "Layer", choices="conv_layers",
        help="empty: the last conv layer (a ViT: the last block's first layer norm); "
             "any layer giving (N, C, h, w) maps or (N, 1+h*w, C) tokens works"))


def default_layer(handle: ModelHandle) -> str:
    """The last block's input norm of a ViT (pytorch-grad-cam's choice), else the last conv layer.

    A ViT's last layers see the class token only, so their patch tokens get no gradient.
    """
    tokens = [l.name for l in handle.layers() if l.name.endswith(_TOKEN_LAYER_SUFFIXES)
              and l.output_shape is not None and len(l.output_shape) == 3 and _token_grid(l.output_shape[1])]
    if tokens:
        return tokens[-1]
    convs = handle.conv_layers()
    if not convs:
        raise ValueError(f"{handle.id} has no conv layers; choose a layer")
    return convs[-1]


def _token_grid(length: int) -> tuple[int, int] | None:
    """(first patch token, grid side) for a sequence of ``length`` tokens, or None."""
    for skip in (1, 0):
        side = math.isqrt(length - skip)
        if length - skip > 0 and side * side == length - skip:
            return skip, side
    return None


def as_feature_map(t: torch.Tensor, layer: str) -> torch.Tensor:
    """A layer output (N, C, h, w) or tokens (N, L, C) as an (N, C, h, w) map."""
    if t.dim() == 4:
        return t
    if t.dim() == 3 and _token_grid(t.shape[1]):
        skip, side = _token_grid(t.shape[1])
        return t[:, skip:, :].reshape(t.shape[0], side, side, t.shape[2]).permute(0, 3, 1, 2)
    raise ValueError(f"layer {layer!r} gives shape {tuple(t.shape)}, neither (N, C, h, w) maps nor "
                     "(N, 1+h*w, C) tokens on a square grid; choose another layer")


def layer_activations(ctx: Context, layer: str, x: torch.Tensor, target: int,
                      with_grads: bool = True, method: str = "this method") -> tuple[torch.Tensor, torch.Tensor | None]:
    """The layer's output as a (1, C, h, w) map and, optionally, d logit[target] / d output."""
    module = ctx.handle.module
    with capture_outputs(module, {layer: ctx.handle.layer(layer)}, method) as captured, \
            torch.set_grad_enabled(with_grads):
        # the input requires grad so the layer's output does even when the weights are frozen
        score = target_score(module(x.detach().requires_grad_(with_grads)), target).sum()
    act = captured.get(layer)
    if not isinstance(act, torch.Tensor):
        raise ValueError(f"layer {layer!r} did not produce a tensor during the forward pass")
    grads = None
    if with_grads:
        if not act.requires_grad:
            raise ValueError(f"layer {layer!r} gives no gradient (its output is detached); choose another layer")
        grads = torch.autograd.grad(score, act, allow_unused=True)[0]
        if grads is None:
            raise ValueError(f"the target score does not depend on layer {layer!r}; choose another layer")
    fmap = as_feature_map(act.detach(), layer)
    return fmap, (as_feature_map(grads.detach(), layer) if grads is not None else None)


def weighted_map(activations: torch.Tensor, weights: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """relu(sum_k w_k A_k) upsampled bilinearly (half-pixel centres) to ``size``: an (H, W) tensor."""
    cam = torch.relu((weights.view(1, -1, 1, 1) * activations).sum(1, keepdim=True))
    return F.interpolate(cam, size=size, mode="bilinear", align_corners=False)[0, 0]


def cam_result(ctx: Context, name: str, p: Any, x: torch.Tensor, target: int, layer: str,
               activations: torch.Tensor, weights: torch.Tensor) -> Heatmap:
    cam = weighted_map(activations, weights, tuple(x.shape[-2:]))
    label = ctx.handle.label(target)
    return heatmap_result(ctx, name, replace(p, layer=layer), x, target, cam.float().cpu().numpy(), signed=False,
                          title=f"{name} @ {layer}: {label}")


def gradient_cam(ctx: Context, name: str, p: Any, weigh) -> Heatmap:
    """A CAM whose channel weights ``weigh(activations, grads) -> (C,)`` come from one backward pass."""
    require_forward_hooks(ctx.handle.module, name)
    x = model_input(ctx)
    target = ctx.resolve_target(x)
    layer = p.layer or default_layer(ctx.handle)
    acts, grads = layer_activations(ctx, layer, x, target, method=name)
    return cam_result(ctx, name, p, x, target, layer, acts, weigh(acts, grads))
