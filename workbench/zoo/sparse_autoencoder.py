"""A first conv layer learned without labels: a sparse autoencoder on ZCA-whitened patches.

Patches (already normalised the way the classifier normalises its input) are whitened by ZCA,
``z = Z (x - mu)``; the autoencoder's encoder is ``h = relu(W z + b)`` with unit-norm rows of W,
its decoder the transpose (``x_hat = W^T h``), and its loss the squared reconstruction error
plus an L1 penalty on ``h``. Every step is linear up to the ReLU, so encoder and whitening fold
into one convolution on the normalised pixels: weight ``W Z``, bias ``b - W Z mu``. That folded
layer is what a classifier's conv1 applies; nothing whitens its input elsewhere.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch


@dataclass(frozen=True)
class SparseSettings:
    units: int = 64
    zca_epsilon: float = 0.03       # added to the covariance eigenvalues (unit-variance pixels)
    sparsity: float = 1.0           # L1 weight on the hidden units
    steps: int = 20000
    batch_size: int = 256
    lr: float = 3e-3                # Adam, cosine to 0


@dataclass(frozen=True)
class FoldedLayer:
    """The encoder folded with the whitening: what conv1 applies to normalised pixels."""
    weight: np.ndarray              # (units, C, k, k)
    bias: np.ndarray                # (units,)
    reconstruction_r2: float        # share of the whitened patches' energy the decoder restores
    active_share: float             # mean share of hidden units above zero per patch
    seconds: float


def zca(x: np.ndarray, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) samples -> (mean (D,), symmetric whitening matrix Z (D, D))."""
    mu = x.mean(0)
    xc = x - mu
    eigval, eigvec = np.linalg.eigh(xc.T @ xc / len(xc))
    z = (eigvec / np.sqrt(np.maximum(eigval, 0.0) + epsilon)) @ eigvec.T
    return mu, z


def learn_first_layer(patches: np.ndarray, settings: SparseSettings, *, seed: int,
                      log: Callable[[str], None] | None = None) -> FoldedLayer:
    """Train the sparse autoencoder on (N, C, k, k) normalised patches; return the folded layer."""
    start = time.perf_counter()
    n, c, kh, kw = patches.shape
    x = patches.reshape(n, -1).astype(np.float64)
    mu, z = zca(x, settings.zca_epsilon)
    white = torch.from_numpy(((x - mu) @ z).astype(np.float32))
    gen = torch.Generator().manual_seed(seed)
    weight = torch.nn.Parameter(0.01 * torch.randn(settings.units, white.shape[1], generator=gen))
    bias = torch.nn.Parameter(torch.zeros(settings.units))
    opt = torch.optim.Adam([weight, bias], lr=settings.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / settings.steps)))
    for step in range(settings.steps):
        xb = white[torch.randint(n, (settings.batch_size,), generator=gen)]
        rows = weight / weight.norm(dim=1, keepdim=True)
        h = torch.relu(xb @ rows.T + bias)
        loss = 0.5 * ((h @ rows - xb) ** 2).sum(1).mean() + settings.sparsity * h.sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if log and (step + 1) % 5000 == 0:
            log(f"sparse autoencoder step {step + 1}/{settings.steps} loss {loss.item():.3f}")
    with torch.no_grad():
        rows = weight / weight.norm(dim=1, keepdim=True)
        h = torch.relu(white @ rows.T + bias)
        r2 = 1.0 - float(((h @ rows - white) ** 2).sum() / (white ** 2).sum())
        active = float((h > 0).float().mean())
    folded = rows.detach().double().numpy() @ z
    return FoldedLayer(weight=folded.reshape(settings.units, c, kh, kw).astype(np.float32),
                       bias=(bias.detach().double().numpy() - folded @ mu).astype(np.float32),
                       reconstruction_r2=r2, active_share=active,
                       seconds=time.perf_counter() - start)
