"""Pieces of the bundled models' training loops that several trainers share: a cosine learning-rate
schedule, the critic's step on real and generated images, and the generator's adversarial loss.
The losses are the non-saturating logistic one (DCGAN) or, with ``hinge``, the hinge loss (SNGAN)."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def cosine_schedule(opt: torch.optim.Optimizer, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning rate from its start to 0 over ``total`` steps, along half a cosine."""
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))


def critic_step(disc: nn.Module, opt: torch.optim.Optimizer, real: torch.Tensor, fake: torch.Tensor, *,
                hinge: bool = False) -> torch.Tensor:
    """One step of ``opt`` on the critic's loss: ``real`` told from ``fake`` (not back-propagated
    into whatever made it). Returns that loss."""
    d_real, d_fake = disc(real), disc(fake.detach())
    if hinge:
        loss = F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()
    else:
        loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss


def adversarial_loss(disc: nn.Module, fake: torch.Tensor, *, hinge: bool = False) -> torch.Tensor:
    """The generator's loss for the critic's verdict on ``fake``: low when it is taken for real."""
    d_fake = disc(fake)
    return -d_fake.mean() if hinge else F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
