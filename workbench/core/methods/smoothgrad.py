"""SmoothGrad (Smilkov et al., 2017): gradient saliency averaged over noisy copies of the input.

Equal to captum's ``NoiseTunnel(Saliency(model))`` with ``stdevs = noise * (x.max() - x.min())``
(``noise`` is a fraction of the input tensor's value range, as in the paper; captum takes the
absolute standard deviation), ``nt_samples = samples``, ``nt_samples_batch_size = batch``, and
the noise drawn from a generator seeded with ``seed``, batch by batch, on the CPU (so the noise
is the same on every device). Each sample's attribution is |gradient| (captum's Saliency
default); ``variant`` combines the samples as captum's ``nt_type``: the mean (smoothgrad), the
mean of squares (smoothgrad_sq) or the variance (vargrad).
Convention: the map is the max over channels (``channels="maxabs"``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from workbench.core.context import Context, Progress
from workbench.core.methods._gradients import (batch_field, gradient_heatmap, input_gradients,
                                               model_input, reduction_field, spans)
from workbench.core.params import param
from workbench.core.registry import Method

VARIANTS = ("smoothgrad", "smoothgrad_sq", "vargrad")


@dataclass
class Params:
    samples: int = field(default=25, metadata=param("Samples", range=(1, 1000), step=1))
    noise: float = field(default=0.15, metadata=param(
        "Noise", range=(0.0, 1.0), step=0.01,
        help="standard deviation of the noise, as a fraction of the input's value range (max - min)"))
    variant: str = field(default="smoothgrad", metadata=param("Variant", choices=VARIANTS))
    batch: int = batch_field(8)
    seed: int = field(default=0, metadata=param("Seed", range=(0, 2**31 - 1), step=1))
    channels: str = reduction_field("maxabs")


def run(ctx: Context, p: Params):
    x = model_input(ctx)
    target = ctx.resolve_target(x)
    stdev = p.noise * float(x.max() - x.min())
    generator = torch.Generator().manual_seed(p.seed)
    total = torch.zeros_like(x[0])
    total_sq = torch.zeros_like(x[0])
    for start, stop in spans(p.samples, p.batch):
        ctx.cancel.check()
        noise = torch.randn((stop - start, *x.shape[1:]), generator=generator).to(x.device) * stdev
        grads = input_gradients(ctx.handle.module, x + noise, target).abs()
        total += grads.sum(0)
        total_sq += grads.square().sum(0)
        yield Progress(stop / p.samples, f"{stop}/{p.samples} noisy samples")
    mean, mean_sq = total / p.samples, total_sq / p.samples
    combined = {"smoothgrad": mean, "smoothgrad_sq": mean_sq, "vargrad": mean_sq - mean.square()}[p.variant]
    return gradient_heatmap(ctx, METHOD.name, p, x, target, combined.unsqueeze(0))


METHOD = Method(name="smoothgrad", kind="attribution", tasks=("classify",), params=Params, run=run, title="SmoothGrad",
                description="Gradient saliency averaged over noisy copies of the input.")
