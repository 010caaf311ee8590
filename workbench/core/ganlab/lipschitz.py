"""How steep the discriminator is: its empirical Lipschitz constant and each layer's spectral norm.

A network of Linear layers and LeakyReLU(0.2) (slope at most 1) is Lipschitz with a constant of
at most the product of its layers' spectral norms (largest singular values). Spectral
normalisation divides each weight by a power-iteration estimate of that norm, so each layer's
becomes about 1 and the product bounds D's slope by about 1. The empirical constant is the
largest |grad_x D(x)| actually met: over the view's grid and along lines between real and
generated points (where WGAN-GP's penalty asks for exactly 1).

EBGAN's D is an energy ||Dec(Enc(x)) - x|| (models.AutoEncoderD): the norm is 1-Lipschitz and the
identity adds a slope of 1, so its bound is the product of the auto-encoder's layer norms plus 1
(the module's ``lipschitz_offset``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

LINE_POINTS = 16           # points on each real-fake line
LINES = 256                # real-fake pairs


@dataclass(frozen=True)
class LipschitzReadout:
    constant: float                  # max |grad D| over the grid and the real-fake lines
    grid_max: float
    line_norms: np.ndarray           # |grad D| at the points on the real-fake lines
    layer_norms: np.ndarray          # spectral norm of each Linear's weight as used (normalised if SN)
    raw_layer_norms: np.ndarray      # the same before spectral normalisation (equal without it)
    offset: float = 0.0              # added to the product for D's bound (1 for EBGAN's energy)

    @property
    def bound(self) -> float:
        """The product of the layers' spectral norms (plus ``offset``): an upper bound on D's
        Lipschitz constant."""
        return float(np.prod(self.layer_norms)) + self.offset


def spectral_norm_of(weight: torch.Tensor) -> float:
    """The largest singular value of a weight matrix."""
    return float(torch.linalg.matrix_norm(weight.detach().double(), ord=2))


def linear_layers(d: nn.Module) -> list[nn.Linear]:
    return [m for m in d.modules() if isinstance(m, nn.Linear)]


def layer_spectral_norms(d: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """(each Linear's spectral norm as D uses it, the same for its weight before spectral
    normalisation). Reading ``weight`` under the parametrisation (in eval mode) reuses the last
    power-iteration vectors without advancing them."""
    used, raw = [], []
    for layer in linear_layers(d):
        with torch.no_grad():
            used.append(spectral_norm_of(layer.weight))
            parametrizations = getattr(layer, "parametrizations", None)
            original = parametrizations.weight.original if parametrizations is not None else layer.weight
            raw.append(spectral_norm_of(original))
    return np.asarray(used), np.asarray(raw)


def gradient_norms(d: nn.Module, points: torch.Tensor) -> torch.Tensor:
    """|grad_x D(x)| at each point."""
    x = points.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(d(x).sum(), x)
    return grad.norm(dim=1)


def line_points(real: np.ndarray, fake: np.ndarray, n_lines: int = LINES, per_line: int = LINE_POINTS) -> np.ndarray:
    """Evenly spaced points on the segments from real[i] to fake[i] (the first ``n_lines`` pairs)."""
    n = min(len(real), len(fake), n_lines)
    t = np.linspace(0.0, 1.0, per_line)[None, :, None]
    pts = real[:n, None, :] * (1 - t) + fake[:n, None, :] * t
    return pts.reshape(-1, 2).astype(np.float32)


def lipschitz_readout(d: nn.Module, grid: torch.Tensor, real: np.ndarray, fake: np.ndarray) -> LipschitzReadout:
    """D's empirical Lipschitz constant over ``grid`` and the real-fake lines, and its layers' norms.
    D should be in eval mode (so spectral norm does not advance its power iteration)."""
    grid_norms = gradient_norms(d, grid)
    lines = torch.from_numpy(line_points(real, fake)).to(grid.device)
    line_norms = gradient_norms(d, lines).cpu().numpy()
    grid_max = float(grid_norms.max())
    used, raw = layer_spectral_norms(d)
    return LipschitzReadout(max(grid_max, float(line_norms.max(initial=0.0))), grid_max, line_norms, used, raw,
                            float(getattr(d, "lipschitz_offset", 0.0)))

