"""How much a first-layer filter looks like an oriented edge detector: a 2-D Gabor fit and an
orientation-selectivity index.

A filter (C, k, k) is reduced to its dominant colour axis: the first singular vector pair of
its (C, k*k) matrix gives a colour direction and a spatial profile (k, k). The profile is fit
by a Gabor (Gaussian envelope times a sinusoid, 9 parameters) by least squares from several
starts, the frequency and orientation of the first ones taken from the profile's spectral peak;
R^2 is the share of the profile's variance the best fit explains. The orientation-selectivity
index is ``|sum A(f) e^{2i theta(f)}| / sum A(f)`` over the amplitude spectrum A of the profile
above DC: a Gabor's spectrum sits in two opposite lobes and scores high, a round blob or white
noise spreads evenly over the angles and scores low. A filter counts as Gabor-like when both
pass: ``gabor_share(weights)`` is the fraction that does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

R2_MIN = 0.7
OSI_MIN = 0.3
SPECTRUM_SIZE = 32


@dataclass(frozen=True)
class FilterShape:
    """The measures of one filter; ``params`` are the Gabor's (amplitude_cos, amplitude_sin,
    x0, y0, theta, sigma_x, sigma_y, frequency in cycles per pixel, offset)."""
    r2: float
    osi: float
    colour: np.ndarray          # (C,) unit colour axis
    profile: np.ndarray         # (k, k) spatial profile on that axis
    params: np.ndarray

    def is_gabor(self, r2: float = R2_MIN, osi: float = OSI_MIN) -> bool:
        return self.r2 >= r2 and self.osi >= osi


def dominant_profile(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(C, k, k) or (k, k) -> (colour axis (C,), spatial profile (k, k)) of the best rank-1 fit."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 2:
        return np.ones(1), k.copy()
    if k.ndim != 3 or k.shape[1] != k.shape[2]:
        raise ValueError(f"a filter is (C, k, k) or (k, k), got shape {k.shape}")
    c, h, w = k.shape
    u, s, vt = np.linalg.svd(k.reshape(c, h * w), full_matrices=False)
    colour, profile = u[:, 0], s[0] * vt[0]
    if colour.sum() < 0:        # sign convention: a bright-on-all-channels axis is positive
        colour, profile = -colour, -profile
    return colour, profile.reshape(h, w)


def _basis(shape_params: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The three images a Gabor with these (x0, y0, theta, sigma_x, sigma_y, freq) is a linear
    combination of: envelope * cos, envelope * sin, and a constant; (3, h*w)."""
    x0, y0, theta, sx, sy, freq = shape_params
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    dx, dy = xx - x0, yy - y0
    xr = dx * np.cos(theta) + dy * np.sin(theta)
    yr = -dx * np.sin(theta) + dy * np.cos(theta)
    envelope = np.exp(-0.5 * ((xr / sx) ** 2 + (yr / sy) ** 2))
    phase = 2 * np.pi * freq * xr
    return np.stack([(envelope * np.cos(phase)).ravel(), (envelope * np.sin(phase)).ravel(),
                     np.ones(xx.size)])


def gabor(params: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    a, b, x0, y0, theta, sx, sy, freq, offset = params
    return (np.array([a, b, offset]) @ _basis(np.array([x0, y0, theta, sx, sy, freq]), shape)).reshape(shape)


def spectrum(profile: np.ndarray, size: int = SPECTRUM_SIZE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Amplitude spectrum of the mean-free profile, zero-padded to size x size, with the
    frequency (cycles per pixel) and orientation of every bin; DC is centred."""
    p = profile - profile.mean()
    amp = np.abs(np.fft.fftshift(np.fft.fft2(p, s=(size, size))))
    f = np.fft.fftshift(np.fft.fftfreq(size))
    fy, fx = np.meshgrid(f, f, indexing="ij")
    return amp, np.hypot(fx, fy), np.arctan2(fy, fx)


def orientation_selectivity(profile: np.ndarray, size: int = SPECTRUM_SIZE) -> float:
    amp, radius, angle = spectrum(profile, size)
    keep = radius > 0
    total = amp[keep].sum()
    if total <= 0:
        return 0.0
    return float(np.abs((amp[keep] * np.exp(2j * angle[keep])).sum()) / total)


def _starts(profile: np.ndarray) -> list[np.ndarray]:
    """Initial (x0, y0, theta, sigma, sigma, freq): the two strongest spectral peaks, half
    their frequency, a blob, and four orientations at a mid frequency."""
    h, w = profile.shape
    amp, radius, angle = spectrum(profile)
    amp = np.where((radius > 0) & (angle > -np.pi / 2) & (angle <= np.pi / 2), amp, 0.0)
    order = np.argsort(amp.ravel())[::-1]
    peaks = [(float(radius.flat[i]), float(angle.flat[i])) for i in order[:2]]
    energy = profile ** 2
    mass = energy.sum() or 1.0
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = float((energy * yy).sum() / mass), float((energy * xx).sum() / mass)
    guesses = peaks + [(peaks[0][0] / 2, peaks[0][1]), (0.0, 0.0)]
    guesses += [(0.15, t) for t in (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)]
    return [np.array([cx, cy, theta, sigma, sigma, freq])
            for freq, theta in guesses for sigma in (w / 6, w / 3)]


def fit_gabor(profile: np.ndarray) -> tuple[float, np.ndarray]:
    """Best least-squares Gabor over several starts -> (R^2, params). The amplitudes and the
    offset enter linearly and are solved exactly for every envelope and carrier tried."""
    p = np.asarray(profile, dtype=np.float64)
    h, w = p.shape
    target = p.ravel()
    sst = float(((target - target.mean()) ** 2).sum())
    if sst <= 0:
        return 0.0, np.zeros(9)
    lo = np.array([-1.0, -1.0, -np.inf, 0.7, 0.7, 0.0])
    hi = np.array([w, h, np.inf, 2.0 * w, 2.0 * h, 0.5])

    def linear(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        basis = _basis(q, p.shape)
        coef = np.linalg.lstsq(basis.T, target, rcond=None)[0]
        return coef, coef @ basis - target

    def solve(q0: np.ndarray, evaluations: int) -> tuple[float, np.ndarray]:
        res = least_squares(lambda q: linear(q)[1], np.clip(q0, lo + 1e-6, hi - 1e-6),
                            bounds=(lo, hi), method="trf", max_nfev=evaluations)
        return float((res.fun ** 2).sum()), res.x

    # a short run from every start, then the two best run to convergence
    rough = sorted((solve(q0, 8) for q0 in _starts(p)), key=lambda r: r[0])
    best_sse, best_q = min((solve(q, 100) for _, q in rough[:2]), key=lambda r: r[0])
    coef, _ = linear(best_q)
    best = np.array([coef[0], coef[1], *best_q, coef[2]])
    return max(0.0, 1.0 - best_sse / sst), best


def measure(kernel: np.ndarray) -> FilterShape:
    colour, profile = dominant_profile(kernel)
    r2, params = fit_gabor(profile)
    return FilterShape(r2=r2, osi=orientation_selectivity(profile), colour=colour,
                       profile=profile, params=params)


def measure_all(weights: np.ndarray) -> list[FilterShape]:
    w = np.asarray(weights)
    if w.ndim != 4:
        raise ValueError(f"conv weights are (out, in, k, k), got shape {w.shape}")
    return [measure(k) for k in w]


def gabor_share(weights: np.ndarray, r2: float = R2_MIN, osi: float = OSI_MIN) -> float:
    """The fraction of filters in ``weights`` (out, in, k, k) that a Gabor fits with R^2 >= r2
    and whose orientation-selectivity index is >= osi."""
    shapes = measure_all(weights)
    return sum(s.is_gabor(r2, osi) for s in shapes) / len(shapes) if shapes else 0.0
