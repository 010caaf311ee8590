"""The lab's networks: small MLPs, G from a latent vector to a 2-D point, D from a point to a score."""
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


def build(latent_dim: int, hidden: int, depth: int, spectral: bool, seed: int) -> tuple[nn.Module, nn.Module]:
    """G and D initialised from ``seed`` without disturbing torch's global random state
    (spectral norm draws its power-iteration vector from the global generator)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return generator(latent_dim, hidden, depth), discriminator(hidden, depth, spectral)
