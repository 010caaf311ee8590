"""Semantic inpainting by latent optimisation (Yeh et al. 2017) with a generator G: z -> image.

For images y with holes (mask 1 = missing), find z minimising

    context(z) + prior_weight * prior(z)

where context is the L1 (or L2) error of G(z) on the known pixels, each weighted by the share
of its 7x7 neighbourhood that lies in the hole when ``weighted`` (Yeh et al.'s weighting: the
pixels next to the hole matter most; pixels far from it count zero) or uniformly otherwise,
normalised by the weights' sum; and prior is the Gaussian prior's negative log-density per
latent coordinate, ||z||^2 / (2 d) (the bundled generators ship without their discriminator,
so the prior is on z rather than Yeh et al.'s discriminator loss). Several random starts run
as one batch; each image keeps the start with the lowest total loss. ``optimise`` yields a
:class:`LatentSteps` every ``every`` steps so a caller can show the optimisation live.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

L1, L2 = "l1", "l2"
WINDOW = 7


@dataclass
class LatentSteps:
    step: int
    steps: int
    generated: np.ndarray            # (B, 1, H, W) G(z) of each image's best start, in [0, 1]
    latents: np.ndarray              # (B, d) that z
    best: np.ndarray                 # (B,) the index of that start
    context: np.ndarray              # (B,) its context loss now
    prior: np.ndarray                # (B,) its prior loss now
    totals: np.ndarray               # (B, R) every start's total loss now
    context_curve: list[float] = field(default_factory=list)   # per step, the best starts' mean
    prior_curve: list[float] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.step >= self.steps


def context_weights(masks: torch.Tensor, weighted: bool = True, window: int = WINDOW) -> torch.Tensor:
    """(N, 1, H, W) weights of the known pixels (0 in the hole, where masks is 1)."""
    known = 1.0 - masks
    if not weighted:
        return known
    near = F.avg_pool2d(masks, window, stride=1, padding=window // 2, count_include_pad=True)
    return near * known


def context_loss(generated: torch.Tensor, images: torch.Tensor, weights: torch.Tensor, norm: str = L1) -> torch.Tensor:
    """(N,) weighted mean error on the known pixels."""
    diff = (generated - images).abs() if norm == L1 else (generated - images) ** 2
    return (weights * diff).flatten(1).sum(1) / weights.flatten(1).sum(1).clamp_min(1e-8)


def prior_loss(z: torch.Tensor) -> torch.Tensor:
    """(N,) ||z||^2 / (2 d): the standard normal prior's negative log-density per coordinate, up to a constant."""
    return 0.5 * z.pow(2).mean(1)


def optimise(generator: nn.Module, images: torch.Tensor, masks: torch.Tensor, *, latent_dim: int,
             steps: int = 300, restarts: int = 8, prior_weight: float = 0.01, weighted: bool = True,
             norm: str = L1, lr: float = 0.05, seed: int = 0, every: int = 10,
             check: Callable[[], None] | None = None) -> Iterator[LatentSteps]:
    """Fill ``images`` (B, 1, H, W) in [0, 1] where ``masks`` is 1; yields the best starts so far."""
    if steps < 1 or restarts < 1:
        raise ValueError(f"steps and restarts must be at least 1, got {steps} and {restarts}")
    if norm not in (L1, L2):
        raise ValueError(f"the context loss is {L1!r} or {L2!r}, not {norm!r}")
    b, r = len(images), restarts
    device = images.device
    y = images.repeat_interleave(r, 0)
    w = context_weights(masks, weighted).repeat_interleave(r, 0)
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(b * r, latent_dim, generator=g).to(device).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    for p in generator.parameters():
        p.requires_grad_(False)
    curves: tuple[list[float], list[float]] = ([], [])
    try:
        for step in range(1, steps + 1):
            if check is not None:
                check()
            generated = generator(z)
            context, prior = context_loss(generated, y, w, norm), prior_loss(z)
            total = context + prior_weight * prior
            opt.zero_grad(set_to_none=True)
            total.sum().backward()
            opt.step()
            best = total.detach().view(b, r).argmin(1)
            pick = torch.arange(b, device=device) * r + best
            curves[0].append(float(context.detach()[pick].mean()))
            curves[1].append(float(prior.detach()[pick].mean()))
            if step % max(1, every) == 0 or step == steps:
                yield _snapshot(generator, z, y, w, norm, prior_weight, b, r, step, steps, curves)
    finally:
        for p in generator.parameters():
            p.requires_grad_(True)


@torch.no_grad()
def _snapshot(generator, z, y, w, norm, prior_weight, b, r, step, steps, curves) -> LatentSteps:
    """The losses at the latents as they are now (after the step), and each image's best start."""
    generated = generator(z)
    context, prior = context_loss(generated, y, w, norm), prior_loss(z)
    totals = (context + prior_weight * prior).view(b, r)
    best = totals.argmin(1)
    pick = torch.arange(b, device=z.device) * r + best
    return LatentSteps(step, steps, generated[pick].cpu().numpy(), z[pick].cpu().numpy(), best.cpu().numpy(),
                       context[pick].cpu().numpy(), prior[pick].cpu().numpy(), totals.cpu().numpy(),
                       list(curves[0]), list(curves[1]))


def last(snapshots: Iterator[LatentSteps]) -> LatentSteps:
    final = None
    for final in snapshots:
        pass
    assert final is not None
    return final
