"""f-GAN (Nowozin, Cseke and Tomioka 2016): D estimates an f-divergence by its variational bound.

For a convex f with f(1) = 0 and its conjugate f*, every function T gives

    D_f(P || Q) >= E_P[T(x)] - E_Q[f*(T(x))]

with equality at T = f'(p / q). D outputs a raw value v and T = g(v), an output activation that
keeps T in the domain of f*. D maximises the bound; G minimises it through the paper's
alternative (non-saturating) objective, maximising E_Q[g(v)]. The bound on fixed samples is the
divergence D's objective estimates, read out beside the lab's density-based KL, JS and TV.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

Tensor = torch.Tensor
LOG2 = math.log(2.0)


@dataclass(frozen=True)
class FDivergence:
    name: str
    label: str
    activation: Callable[[Tensor], Tensor]      # g: raw output -> T, inside f*'s domain
    conjugate: Callable[[Tensor], Tensor]       # f*(T)
    f: Callable[[float], float]                 # f(u), u = p / q, for the closed form by integration


# Nowozin et al., table 6 (their Jensen-Shannon is twice the usual one: f(u) = u log u - (u+1) log((u+1)/2))
F_DIVERGENCES: dict[str, FDivergence] = {d.name: d for d in (
    FDivergence("kl", "KL(P || Q)", lambda v: v, lambda t: torch.exp(t - 1), lambda u: u * math.log(u)),
    FDivergence("reverse-kl", "KL(Q || P)", lambda v: -torch.exp(-v), lambda t: -1 - torch.log(-t),
                lambda u: -math.log(u)),
    FDivergence("js", "2 JS(P, Q)", lambda v: LOG2 - F.softplus(-v), lambda t: -torch.log(2 - torch.exp(t)),
                lambda u: u * math.log(u) - (u + 1) * math.log((u + 1) / 2)),
    FDivergence("pearson", "Pearson chi^2(P || Q)", lambda v: v, lambda t: t * t / 4 + t, lambda u: (u - 1) ** 2),
    FDivergence("hellinger", "squared Hellinger", lambda v: 1 - torch.exp(-v), lambda t: t / (1 - t),
                lambda u: (math.sqrt(u) - 1) ** 2),
    FDivergence("tv", "total variation", lambda v: 0.5 * torch.tanh(v), lambda t: t, lambda u: 0.5 * abs(u - 1)),
)}


def bound(div: FDivergence, real: Tensor, fake: Tensor) -> Tensor:
    """E_P[g(v)] - E_Q[f*(g(v))] from D's raw outputs on real and generated points."""
    return div.activation(real).mean() - div.conjugate(div.activation(fake)).mean()


def d_loss(div: FDivergence) -> Callable[[Tensor, Tensor], Tensor]:
    return lambda real, fake: -bound(div, real, fake)


def g_loss(div: FDivergence) -> Callable[[Tensor], Tensor]:
    return lambda fake: -div.activation(fake).mean()


def gaussian_divergence(div: FDivergence, mean_p: float, std_p: float, mean_q: float, std_q: float) -> float:
    """D_f(P || Q) = integral of q f(p / q) for two 1-D Gaussians, by quadrature."""
    from scipy import integrate, stats
    p, q = stats.norm(mean_p, std_p), stats.norm(mean_q, std_q)
    lo = min(mean_p - 12 * std_p, mean_q - 12 * std_q)
    hi = max(mean_p + 12 * std_p, mean_q + 12 * std_q)

    def integrand(x: float) -> float:
        qx, px = q.pdf(x), p.pdf(x)
        return qx * div.f(px / qx) if qx > 0 and px > 0 else 0.0

    return float(integrate.quad(integrand, lo, hi, limit=400)[0])
