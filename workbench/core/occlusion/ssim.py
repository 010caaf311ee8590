"""Structural similarity of two maps (Wang et al. 2004), Gaussian-weighted.

Matches skimage.metrics.structural_similarity(a, b, data_range=..., gaussian_weights=True,
sigma=1.5, use_sample_covariance=True): an 11x11 Gaussian window (truncated at 3.5 sigma),
reflected borders, K1 = 0.01, K2 = 0.03, and the mean over the map minus a 5-pixel border.
"""
from __future__ import annotations

import cv2
import numpy as np

SIGMA = 1.5
TRUNCATE = 3.5


def _gaussian_filter(a: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    # scipy's "reflect" mode (d c b a | a b c d) is OpenCV's BORDER_REFLECT
    return cv2.sepFilter2D(a, cv2.CV_64F, kernel, kernel, borderType=cv2.BORDER_REFLECT)


def ssim(a: np.ndarray, b: np.ndarray, data_range: float | None = None) -> float:
    """Mean SSIM of two same-shape 2-D maps; ``data_range`` defaults to the range of ``a``."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"ssim needs two 2-D maps of one shape, got {a.shape} and {b.shape}")
    if data_range is None:
        data_range = float(a.max() - a.min())
    if data_range <= 0:
        return 1.0 if np.array_equal(a, b) else 0.0
    radius = int(TRUNCATE * SIGMA + 0.5)
    win = 2 * radius + 1
    if min(a.shape) < win:
        raise ValueError(f"maps must be at least {win}x{win} for SSIM, got {a.shape}")
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / SIGMA) ** 2)
    kernel /= kernel.sum()
    cov_norm = win * win / (win * win - 1.0)
    ux, uy = _gaussian_filter(a, kernel), _gaussian_filter(b, kernel)
    uxx, uyy, uxy = (_gaussian_filter(a * a, kernel), _gaussian_filter(b * b, kernel),
                     _gaussian_filter(a * b, kernel))
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return float(s[radius:-radius, radius:-radius].mean())
