"""EBGAN (Zhao, Mathieu and LeCun 2017): D an auto-encoder whose reconstruction error is an energy.

D assigns each point an energy D(x) >= 0 (models.AutoEncoderD: ||Dec(Enc(x)) - x||), low on real
points. With a margin m,

    L_D = E_data[D(x)] + E_G[[m - D(G(z))]^+],        L_G = E_G[D(G(z))]

and optionally the pulling-away term on the encoder's codes of a generated batch added to L_G.

What D's objective estimates. Pointwise, a p D + q [m - D]^+ over D >= 0 (p the data density,
q the generator's) is at least m min(p, q), with equality at D = 0 where p > q and D = m where
q > p (the paper's Lemma 1; any D in [0, m] where p = q). So for a fixed G

    min_D L_D = m * integral of min(p, q) = m (1 - TV(p_data, p_G)),   TV = (1/2) integral |p - q|

(the paper's Theorem 1 is the case p_G = p_data: V(D*, G*) = m). Every D therefore gives the
lower bound TV(p_data, p_G) >= 1 - L_D / m, tight at the optimal D: the lab reads it out beside
its density-based TV. (G's own loss at that D, m * P_G(q > p), is not a divergence.)
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

Tensor = torch.Tensor

DEFAULT_MARGIN = 1.0
PULL_AWAY_WEIGHT = 0.1       # the paper's weight on the pulling-away term
TV_LABEL = "TV >= 1 - L_D/m"


def check_margin(margin: float) -> None:
    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin > 0):
        raise ValueError(f"the EBGAN margin must be a positive number, got {margin!r}")


def d_loss(margin: float) -> Callable[[Tensor, Tensor], Tensor]:
    return lambda real, fake: real.mean() + F.relu(margin - fake).mean()


def g_loss(fake: Tensor) -> Tensor:
    return fake.mean()


def tv_bound(real: Tensor, fake: Tensor, margin: float) -> Tensor:
    """1 - L_D / m from D's energies on real and generated points: a lower bound on
    TV(p_data, p_G) for any D >= 0, equal to it at the optimal D."""
    return 1 - d_loss(margin)(real.reshape(-1), fake.reshape(-1)) / margin


def pulling_away(codes: Tensor) -> Tensor:
    """The mean squared cosine similarity between the codes of different points of a batch
    (the paper's f_PT): small when the generated points' codes point in different directions."""
    s = F.normalize(codes, dim=1)
    n = len(s)
    if n < 2:
        return codes.new_zeros(())
    sim = (s @ s.T) ** 2
    return (sim.sum() - sim.diagonal().sum()) / (n * (n - 1))


TIE = 0.05     # density estimates within 5% of each other count as equal


def optimal_energy(p: np.ndarray, q: np.ndarray, margin: float) -> np.ndarray:
    """The energy that minimises L_D against the densities p (data) and q (G) cell by cell: 0 where
    p > q, m where q > p, and m/2 where they agree within ``TIE`` (there any energy in [0, m] is
    optimal; it is so wherever neither sample puts mass, as both estimates are at their floor)."""
    out = np.where(q > p, float(margin), 0.0)
    out[np.abs(p - q) <= TIE * np.maximum(p, q)] = margin / 2
    return out


def gaussian_tv(mean_p: float, mean_q: float, std: float) -> float:
    """TV between two Gaussians of one std (any dimension): 2 Phi(|mu_p - mu_q| / (2 std)) - 1."""
    return math.erf(abs(mean_p - mean_q) / (2 * std) / math.sqrt(2))
