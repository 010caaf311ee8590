"""Integrated gradients (Sundararajan et al., 2017).

(x - baseline) times the path integral of the target logit's gradient from the baseline to the
input, with captum's ``IntegratedGradients`` quadrature rules (default ``gausslegendre``).
Baselines: ``zero`` (the zero tensor, captum's default: in a normalised input that is the
dataset-mean colour), ``black`` (a black image through the model's preprocessing), ``blurred``
(the input under a Gaussian blur of ``blur_sigma`` input pixels) and ``mean`` (every pixel
the input's per-channel mean). Convention: channels are summed (``channels="sum"``), so the map
is signed and sums to about logit(x) - logit(baseline) (completeness).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from workbench.core.context import Context, Progress
from workbench.core.methods._gradients import (batch_field, gradient_heatmap, input_gradients,
                                               model_input, reduction_field, spans)
from workbench.core.params import param
from workbench.core.registry import Method

BASELINES = ("zero", "black", "blurred", "mean")
RULES = ("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle")


@dataclass
class Params:
    steps: int = field(default=50, metadata=param("Steps", range=(2, 1000), step=1))
    baseline: str = field(default="zero", metadata=param("Baseline", choices=BASELINES))
    blur_sigma: float = field(default=5.0, metadata=param(
        "Blur sigma", range=(0.1, 100.0), step=0.5, help="for the blurred baseline, in model-input pixels"))
    method: str = field(default="gausslegendre", metadata=param(
        "Quadrature", choices=RULES, help="captum's integral approximation methods"))
    internal_batch: int = batch_field(16, "Internal batch")
    channels: str = reduction_field("sum")


def quadrature(rule: str, n: int) -> tuple[list[float], list[float]]:
    """(alphas, weights) along the path, as captum's approximation methods define them."""
    if rule == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return list(0.5 * (nodes + 1)), list(0.5 * weights)
    kind = rule.split("_")[-1]
    weights = [1 / n] * n
    if kind == "trapezoid":
        weights[0] /= 2
        weights[-1] /= 2
    ends = {"trapezoid": (0, 1), "left": (0, 1 - 1 / n), "right": (1 / n, 1),
            "middle": (1 / (2 * n), 1 - 1 / (2 * n))}[kind]
    return torch.linspace(*ends, n).tolist(), weights


def make_baseline(ctx: Context, x: torch.Tensor, p: Params) -> torch.Tensor:
    if p.baseline == "zero":
        return torch.zeros_like(x)
    if p.baseline == "black":
        return ctx.handle.preprocess(np.zeros_like(ctx.image)).to(x.device)
    if p.baseline == "mean":
        return x.mean(dim=(2, 3), keepdim=True).expand_as(x).clone()
    from torchvision.transforms.functional import gaussian_blur
    # reflect padding needs the kernel to stay smaller than twice the image
    size = min(2 * math.ceil(3 * p.blur_sigma) + 1, 2 * (min(x.shape[-2:]) // 2) - 1)
    return gaussian_blur(x, [max(size, 1)] * 2, [p.blur_sigma] * 2)


def run(ctx: Context, p: Params):
    x = model_input(ctx)
    target = ctx.resolve_target(x)
    baseline = make_baseline(ctx, x, p)
    alphas, weights = quadrature(p.method, p.steps)
    delta = x - baseline
    total = torch.zeros_like(x)
    for start, stop in spans(p.steps, p.internal_batch):
        ctx.cancel.check()
        a = torch.tensor(alphas[start:stop], dtype=x.dtype, device=x.device).view(-1, 1, 1, 1)
        w = torch.tensor(weights[start:stop], dtype=x.dtype, device=x.device).view(-1, 1, 1, 1)
        grads = input_gradients(ctx.handle.module, baseline + a * delta, target)
        total += (grads * w).sum(0, keepdim=True)
        yield Progress(stop / p.steps, f"{stop}/{p.steps} steps")
    return gradient_heatmap(ctx, METHOD.name, p, x, target, total * delta)


METHOD = Method(name="integrated-gradients", kind="attribution", tasks=("classify",), params=Params, run=run,
                title="Integrated gradients",
                description="Gradients integrated along a path from a baseline to the input (signed).")
