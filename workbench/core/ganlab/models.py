"""The lab's networks: small MLPs, G from a latent vector to a 2-D point, D from a point to a score,
or (EBGAN) D an auto-encoder on the points whose score is its reconstruction error, an energy."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

LATENT_DIMS = range(1, 9)


def mlp(sizes: list[int], spectral: bool = False) -> nn.Sequential:
    """Linear layers with LeakyReLU between them; ``spectral`` wraps every Linear in spectral norm."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(a, b)
        layers.append(spectral_norm(linear) if spectral else linear)
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def generator(latent_dim: int, hidden: int = 64, depth: int = 3) -> nn.Sequential:
    if latent_dim not in LATENT_DIMS:
        raise ValueError(f"latent_dim must be in 1..8, got {latent_dim}")
    return mlp([latent_dim] + [hidden] * depth + [2])


def discriminator(hidden: int = 64, depth: int = 3, spectral: bool = False) -> nn.Sequential:
    return mlp([2] + [hidden] * depth + [1], spectral)


CODE_DIM = 16      # the auto-encoder's code: wider than the points, narrower than its hidden layers


class AutoEncoderD(nn.Module):
    """EBGAN's discriminator (Zhao et al. 2017): an auto-encoder whose energy is the Euclidean
    reconstruction error D(x) = ||Dec(Enc(x)) - x|| (not squared: the norm is 1-Lipschitz, so the
    energy's slope is at most the auto-encoder's plus 1), shape (N, 1) like the MLP's score."""

    lipschitz_offset = 1.0       # |grad D| <= Lip(Dec o Enc) + 1 (see lipschitz.py)

    def __init__(self, hidden: int = 64, depth: int = 2, spectral: bool = False, code: int = CODE_DIM) -> None:
        super().__init__()
        layers = max(1, depth - 1)
        self.encoder = mlp([2] + [hidden] * layers + [code], spectral)
        self.decoder = mlp([code] + [hidden] * layers + [2], spectral)

    def energy_and_codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        codes = self.encoder(x)
        energy = torch.linalg.vector_norm(self.decoder(codes) - x, dim=1, keepdim=True)
        return energy, codes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.energy_and_codes(x)[0]


def build(latent_dim: int, hidden: int, depth: int, spectral: bool, seed: int,
          autoencoder: bool = False) -> tuple[nn.Module, nn.Module]:
    """G and D (an auto-encoder when ``autoencoder``) initialised from ``seed`` without
    disturbing torch's global random state (spectral norm draws its power-iteration vector from
    the global generator)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        g = generator(latent_dim, hidden, depth)
        return g, AutoEncoderD(hidden, depth, spectral) if autoencoder else discriminator(hidden, depth, spectral)
