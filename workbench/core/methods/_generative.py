"""Shared by the latent-space methods: the latent size, noise to latents, latents to pixels.

A ``generate`` model maps latents (N, d) to images (N, C, h, w) in [0, 1] with ``decode``
(or by calling it); an ``autoencode`` model must have ``decode``. A model with
``latent_from_noise`` maps standard normal noise onto its prior; otherwise noise is the latent.
"""
from __future__ import annotations

from typing import Generator

import numpy as np
import torch

from workbench.core.context import Context, Progress
from workbench.core.latent.session import MAX_SEED, latent_size
from workbench.zoo.generative import noise

TASKS = ("generate", "autoencode")

__all__ = ["TASKS", "MAX_SEED", "noise", "latent_dim", "to_latent", "decode"]


def latent_dim(ctx: Context) -> int:
    return latent_size(ctx.handle)


@torch.no_grad()
def to_latent(ctx: Context, eps: np.ndarray) -> np.ndarray:
    """Standard normal noise (N, d) -> the latents (N, d) the decoder eats."""
    prior = getattr(ctx.handle.module, "latent_from_noise", None)
    if prior is None:
        return np.asarray(eps, np.float32)
    return prior(torch.from_numpy(np.asarray(eps, np.float32)).to(ctx.device)).float().cpu().numpy()


def _decoder(ctx: Context):
    m = ctx.handle.module
    if hasattr(m, "decode"):
        return m.decode
    if ctx.handle.task == "generate":
        return m
    raise ValueError(f"{ctx.handle.id} has no decode(z); an autoencoder needs one for latent methods")


@torch.no_grad()
def decode(ctx: Context, z: np.ndarray, chunk: int = 64, share: tuple[float, float] = (0.0, 1.0),
           what: str = "decoding") -> Generator[Progress, None, np.ndarray]:
    """Latents (N, d) -> RGB images (N, h, w, 3) in [0, 1], in chunks; yields Progress over
    ``share`` of the job and stops at a cancel."""
    dec = _decoder(ctx)
    z = np.asarray(z, np.float32)
    out = []
    for start in range(0, len(z), chunk):
        ctx.cancel.check()
        x = dec(torch.from_numpy(z[start:start + chunk]).to(ctx.device)).float().clamp(0, 1).cpu()
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"{ctx.handle.id} decodes to {tuple(x.shape)}, not (N, 1 or 3, h, w) images")
        out.append(x.expand(-1, 3, -1, -1).permute(0, 2, 3, 1).numpy())
        done = min(start + chunk, len(z)) / len(z)
        yield Progress(share[0] + (share[1] - share[0]) * done, f"{what} {min(start + chunk, len(z))}/{len(z)}")
    return np.concatenate(out).astype(np.float32)
