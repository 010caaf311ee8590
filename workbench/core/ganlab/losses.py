"""GAN objectives, written on D's raw outputs (logits for the probabilistic ones).

Each loss gives D's loss from (real outputs, fake outputs) and G's loss from fake outputs;
WGAN-GP adds a gradient penalty on points between real and fake ones. EBGAN's D is an
auto-encoder (models.AutoEncoderD) and its outputs are energies, low on real points.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from workbench.core.ganlab import ebgan, fgan
from workbench.core.ganlab.config import LOSS_LABELS

Tensor = torch.Tensor

# WGAN-GP as in Gulrajani et al. 2017: penalty weight 10, 5 critic steps per G step (with one
# critic step per G step the lab's WGAN-GP found no mode of the ring in 1500 steps, measured)
GP_WEIGHT = 10.0
CRITIC_STEPS = 5
# WGAN as in Arjovsky et al. 2017: every critic weight clipped to [-0.01, 0.01] after each update
CLIP = 0.01


@dataclass(frozen=True)
class GanLoss:
    name: str
    label: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    probabilistic: bool = False        # D's output is a logit: show sigmoid(D) as the surface
    gradient_penalty: float = 0.0
    boundary: float | None = 0.0       # the surface value between "real" and "fake"; None: no fixed one
    d_steps: int = 1                   # D updates per G update
    weight_clip: float = 0.0           # > 0: clamp every D parameter to [-clip, clip] after its update
    divergence: str = ""               # f-GAN: the f-divergence (fgan.F_DIVERGENCES) D's objective bounds
    energy: bool = False               # EBGAN: D is an auto-encoder and its output an energy (ebgan.py)
    margin: float = 0.0                # EBGAN's margin m


def _bce_d(real: Tensor, fake: Tensor) -> Tensor:
    # -log D(x) - log(1 - D(G(z))) with D = sigmoid(logit)
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def ebgan_loss(margin: float) -> GanLoss:
    """EBGAN with margin m: L_D = D(x) + [m - D(G(z))]^+, L_G = D(G(z)), on energies D >= 0."""
    ebgan.check_margin(margin)
    return GanLoss("ebgan", LOSS_LABELS["ebgan"], ebgan.d_loss(margin), ebgan.g_loss, boundary=margin / 2,
                   energy=True, margin=float(margin))


LOSSES: dict[str, GanLoss] = {loss.name: loss for loss in (
    GanLoss("minimax", LOSS_LABELS["minimax"], _bce_d,
            lambda fake: -F.softplus(fake).mean(), probabilistic=True, boundary=0.5),        # min log(1 - D(G(z)))
    GanLoss("nonsaturating", LOSS_LABELS["nonsaturating"], _bce_d,
            lambda fake: F.softplus(-fake).mean(), probabilistic=True, boundary=0.5),        # min -log D(G(z))
    GanLoss("lsgan", LOSS_LABELS["lsgan"],
            lambda real, fake: 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean(),
            lambda fake: 0.5 * ((fake - 1) ** 2).mean(), boundary=0.5),
    GanLoss("hinge", LOSS_LABELS["hinge"],
            lambda real, fake: F.relu(1 - real).mean() + F.relu(1 + fake).mean(),
            lambda fake: -fake.mean()),
    GanLoss("wgan-gp", LOSS_LABELS["wgan-gp"],
            lambda real, fake: fake.mean() - real.mean(),
            lambda fake: -fake.mean(), gradient_penalty=GP_WEIGHT, d_steps=CRITIC_STEPS,
            boundary=None),   # a critic's offset is free
    GanLoss("wgan-clip", LOSS_LABELS["wgan-clip"],
            lambda real, fake: fake.mean() - real.mean(),
            lambda fake: -fake.mean(), weight_clip=CLIP, d_steps=CRITIC_STEPS, boundary=None),
) + tuple(GanLoss(f"fgan-{name}", LOSS_LABELS[f"fgan-{name}"], fgan.d_loss(div), fgan.g_loss(div),
                  boundary=None, divergence=name) for name, div in fgan.F_DIVERGENCES.items())
  + (ebgan_loss(ebgan.DEFAULT_MARGIN),)}


def get(name: str, margin: float | None = None) -> GanLoss:
    """The loss by name; EBGAN with ``margin`` when one is given."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    if name == "ebgan" and margin is not None and margin != LOSSES[name].margin:
        return ebgan_loss(margin)
    return LOSSES[name]


def gradient_penalty(d: torch.nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator) -> Tensor:
    """Mean of (||grad_x D(x)|| - 1)^2 at random points on the segments between real and fake."""
    alpha = torch.rand(len(real), 1, generator=generator, device=real.device)
    x = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()
