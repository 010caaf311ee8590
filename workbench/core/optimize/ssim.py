"""Structural similarity (Wang et al. 2004): an 11-tap Gaussian window of sigma 1.5, K1 = 0.01,
K2 = 0.03, data range 1, averaged over the image and its colour channels."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

C1, C2 = 0.01 ** 2, 0.03 ** 2
SIGMA, TRUNCATE = 1.5, 3.5      # 3.5 sigma: the 11-tap window of the paper


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two (H, W) or (H, W, C) images in [0, 1]; 1 for identical images."""
    return float(ssim_map(a, b).mean())


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The local SSIM at each pixel, (H, W) or (H, W, C); edges reflected."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"SSIM needs images of one shape, got {a.shape} and {b.shape}")

    def blur(v):
        return gaussian_filter(v, SIGMA, truncate=TRUNCATE, mode="reflect", axes=(0, 1))
    ma, mb = blur(a), blur(b)
    va, vb, cab = blur(a * a) - ma * ma, blur(b * b) - mb * mb, blur(a * b) - ma * mb
    return ((2 * ma * mb + C1) * (2 * cab + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2))
