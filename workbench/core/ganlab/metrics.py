"""How close the generated points are to the target: f-divergences on a grid, and mode coverage.

Densities are estimated the same way for both samples: a 2-D histogram over the toy's view
(``BINS`` x ``BINS``, points outside are clipped into the border bins so their mass still
counts), blurred by a Gaussian of ``SMOOTH_BINS`` bins, plus a pseudo-count of ``FLOOR`` per
bin so every bin has some mass and KL stays finite; then normalised to sum to 1. On those
discrete densities P (real) and Q (generated):

    KL(P || Q) = sum p log(p / q)          (large when Q misses where P has mass: mode dropping)
    JS(P, Q)   = KL(P || M)/2 + KL(Q || M)/2,  M = (P + Q)/2, in [0, ln 2]
    TV(P, Q)   = sum |p - q| / 2           (total variation, in [0, 1])

All three are f-divergences. Natural logarithms throughout.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

BINS = 64
SMOOTH_BINS = 1.0
FLOOR = 1e-3
COVER_SIGMAS = 3.0
COVER_SHARE = 0.01           # a mode is covered by at least this share of the generated points...
COVER_FAIR_SHARE = 0.2       # ...or a fifth of its fair share 1/K, when that is smaller


@dataclass(frozen=True)
class Metrics:
    kl: float
    js: float
    tv: float
    modes_covered: int | None = None
    modes_total: int | None = None
    high_quality: float | None = None        # share of generated points within 3 sigma of some mode
    mode_counts: np.ndarray | None = None    # generated points near each mode

    def modes_text(self) -> str:
        return "n/a" if self.modes_total is None else f"{self.modes_covered}/{self.modes_total}"


def density(points: np.ndarray, bounds: tuple[float, float, float, float], bins: int = BINS) -> np.ndarray:
    """(bins, bins) probabilities, rows along y and columns along x (see the module docstring)."""
    x0, x1, y0, y1 = bounds
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    col = np.clip(((pts[:, 0] - x0) / (x1 - x0) * bins).astype(np.int64), 0, bins - 1)
    row = np.clip(((pts[:, 1] - y0) / (y1 - y0) * bins).astype(np.int64), 0, bins - 1)
    hist = np.bincount(row * bins + col, minlength=bins * bins).reshape(bins, bins).astype(np.float64)
    hist = gaussian_filter(hist, SMOOTH_BINS, mode="constant") + FLOOR
    return hist / hist.sum()


def kl(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.sum(p * np.log(p / q)))


def js(p: np.ndarray, q: np.ndarray) -> float:
    m = (p + q) / 2
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def tv(p: np.ndarray, q: np.ndarray) -> float:
    return float(0.5 * np.abs(p - q).sum())


def mode_counts(points: np.ndarray, centres: np.ndarray, sigma: float) -> tuple[np.ndarray, int]:
    """Points within 3 sigma of each centre, and the points within 3 sigma of any centre."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    d2 = ((pts[:, None, :] - np.asarray(centres, np.float64)[None]) ** 2).sum(-1)
    near = d2 <= (COVER_SIGMAS * sigma) ** 2
    return near.sum(0), int(near.any(1).sum())


def coverage_threshold(n_modes: int) -> float:
    return min(COVER_SHARE, COVER_FAIR_SHARE / n_modes)


def measure(real: np.ndarray, fake: np.ndarray, bounds: tuple[float, float, float, float],
            centres: np.ndarray | None = None, sigma: float = 0.0) -> Metrics:
    """Divergences of the generated points ``fake`` from ``real`` (points, or their ``density``
    when it is already (BINS, BINS)), and mode coverage when the target's centres are given."""
    p = real if real.shape == (BINS, BINS) else density(real, bounds)
    q = density(fake, bounds)
    if centres is None:
        return Metrics(kl(p, q), js(p, q), tv(p, q))
    counts, near_any = mode_counts(fake, centres, sigma)
    n = max(len(fake), 1)
    covered = int((counts / n >= coverage_threshold(len(centres))).sum())
    return Metrics(kl(p, q), js(p, q), tv(p, q), covered, len(centres), near_any / n, counts)
