"""Latent-space geometry (numpy only): paths between latents, principal directions, grids."""
from __future__ import annotations

from statistics import NormalDist

import numpy as np

SPACINGS = ("gaussian", "linear")


def _weights(steps_or_t: int | np.ndarray) -> np.ndarray:
    if np.isscalar(steps_or_t):
        steps = int(steps_or_t)
        if steps < 2:
            raise ValueError(f"an interpolation needs at least 2 steps, got {steps}")
        return np.linspace(0.0, 1.0, steps)
    return np.asarray(steps_or_t, dtype=np.float64).reshape(-1)


def lerp(a: np.ndarray, b: np.ndarray, t: int | np.ndarray) -> np.ndarray:
    """(T, d) points on the straight line from a to b (t: a step count, or the weights)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    w = _weights(t)[:, None]
    return (1.0 - w) * a + w * b


def slerp(a: np.ndarray, b: np.ndarray, t: int | np.ndarray) -> np.ndarray:
    """(T, d) points on the great-circle arc from a to b (White 2016, "Sampling generative networks").

    The weights sin((1-t)w)/sin(w) and sin(tw)/sin(w), w the angle between a and b, are
    written with sinc so that they stay exact as w -> 0 (near-parallel vectors, where the
    path becomes the straight line). Vectors of equal norm keep that norm all along.
    Opposite vectors have no unique arc; their path is the straight line.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    w = _weights(t)[:, None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return lerp(a, b, w[:, 0])
    # the angle from the chord (stable near 0 and pi, where arccos(cos) is not)
    omega = 2.0 * np.arctan2(np.linalg.norm(a / na - b / nb), np.linalg.norm(a / na + b / nb))
    if np.pi - omega < 1e-6:
        return lerp(a, b, w[:, 0])
    s = np.sinc(omega / np.pi)  # sin(omega) / omega
    wa = (1.0 - w) * np.sinc((1.0 - w) * omega / np.pi) / s
    wb = w * np.sinc(w * omega / np.pi) / s
    return wa * a + wb * b


def principal_directions(latents: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA of sampled latents (N, d) by SVD: (directions (k, d) orthonormal rows, their
    standard deviations (k,), the mean (d,)). Each direction's sign makes its largest
    entry positive, so the result does not depend on the SVD's sign choice."""
    x = np.asarray(latents, np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"latents must be (N, d) with N >= 2, got shape {x.shape}")
    mean = x.mean(0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    k = vt.shape[0] if k is None else min(int(k), vt.shape[0])
    vt, s = vt[:k], s[:k]
    signs = np.sign(vt[np.arange(k), np.abs(vt).argmax(1)])
    return vt * signs[:, None], s / np.sqrt(len(x) - 1), mean


def grid_values(n: int, span: float, spacing: str = "gaussian") -> np.ndarray:
    """n coordinates from -span to +span. "gaussian": evenly spaced in probability, i.e. the
    inverse normal CDF of evenly spaced quantiles (Kingma & Welling 2014, fig. 4), so that
    each cell holds the same prior mass; "linear": evenly spaced values."""
    if n < 1 or span <= 0:
        raise ValueError(f"need n >= 1 and span > 0, got n={n}, span={span}")
    if spacing == "linear":
        return np.linspace(-span, span, n) if n > 1 else np.zeros(1)
    if spacing == "gaussian":
        unit = NormalDist()
        q = np.linspace(unit.cdf(-span), unit.cdf(span), n) if n > 1 else np.full(1, 0.5)
        return np.array([unit.inv_cdf(float(p)) for p in q])
    raise ValueError(f"spacing must be one of {SPACINGS}, got {spacing!r}")


def manifold_grid(dim: int, dim_x: int, dim_y: int, n: int, span: float, spacing: str = "gaussian",
                  base: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(n*n, dim) points varying coordinates dim_x and dim_y over ``grid_values`` with every
    other coordinate taken from ``base`` (default zero), and the (n,) values. Row-major:
    the top row has the largest dim_y (y points up, as in a plot), x grows to the right."""
    for name, d in (("dim_x", dim_x), ("dim_y", dim_y)):
        if not 0 <= d < dim:
            raise ValueError(f"{name}={d} is outside the latent's {dim} dimensions")
    if dim_x == dim_y:
        raise ValueError("dim_x and dim_y must differ")
    values = grid_values(n, span, spacing)
    points = np.tile(np.zeros(dim) if base is None else np.asarray(base, np.float64), (n * n, 1))
    ys, xs = np.meshgrid(values[::-1], values, indexing="ij")
    points[:, dim_x] = xs.reshape(-1)
    points[:, dim_y] = ys.reshape(-1)
    return points, values
