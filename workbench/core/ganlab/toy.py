"""2-D toy target distributions with seeded samplers.

Mixtures (ring, grid, drawn points) know their mode centres and width, so coverage can be
counted; the spiral and the two moons are continuous and have no modes.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

Sampler = Callable[[int, np.random.Generator], np.ndarray]

RING_RADIUS = 2.0
RING_MODES = 8
MODE_SIGMA = 0.05
GRID_SPACING = 2.0


@dataclass(frozen=True)
class Toy:
    """A target distribution: ``sample(n, rng)`` gives (n, 2) float32 points."""
    name: str
    sampler: Sampler
    bounds: tuple[float, float, float, float]      # xmin, xmax, ymin, ymax of the view
    centres: np.ndarray | None = None               # (K, 2) mode centres for mixtures
    sigma: float = 0.0                              # per-axis std of each mixture component

    @property
    def n_modes(self) -> int | None:
        return None if self.centres is None else len(self.centres)

    def sample(self, n: int, rng: np.random.Generator | int) -> np.ndarray:
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        return np.asarray(self.sampler(int(n), rng), np.float32)


def mixture(name: str, centres: np.ndarray, sigma: float, margin: float | None = None) -> Toy:
    """Equal-weight isotropic Gaussians around ``centres``; the view is their box plus a margin."""
    centres = np.asarray(centres, np.float64).reshape(-1, 2)
    if len(centres) == 0:
        raise ValueError("a mixture needs at least one centre")

    def sampler(n: int, rng: np.random.Generator) -> np.ndarray:
        which = rng.integers(0, len(centres), n)
        return centres[which] + sigma * rng.standard_normal((n, 2))

    return Toy(name, sampler, _square_bounds(centres, margin if margin is not None else 1.0),
               centres.astype(np.float32), float(sigma))


def ring(n_modes: int = RING_MODES, radius: float = RING_RADIUS, sigma: float = MODE_SIGMA) -> Toy:
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return mixture("ring", radius * np.stack([np.cos(angles), np.sin(angles)], 1), sigma)


def grid(side: int = 5, spacing: float = GRID_SPACING, sigma: float = MODE_SIGMA) -> Toy:
    ticks = (np.arange(side) - (side - 1) / 2) * spacing
    xx, yy = np.meshgrid(ticks, ticks)
    return mixture("grid", np.stack([xx.ravel(), yy.ravel()], 1), sigma)


def spiral(turns: float = 1.5, radius: float = 2.0, noise: float = 0.05) -> Toy:
    """An Archimedean spiral, points uniform in its angle, with Gaussian noise."""

    def sampler(n: int, rng: np.random.Generator) -> np.ndarray:
        t = np.sqrt(rng.random(n)) * turns * 2 * np.pi      # sqrt: even density along the arm
        r = radius * t / (turns * 2 * np.pi)
        return np.stack([r * np.cos(t), r * np.sin(t)], 1) + noise * rng.standard_normal((n, 2))

    return Toy("spiral", sampler, (-radius - 0.8, radius + 0.8, -radius - 0.8, radius + 0.8))


def two_moons(noise: float = 0.06) -> Toy:
    """scikit-learn's two interleaved half circles, centred on the origin."""

    def sampler(n: int, rng: np.random.Generator) -> np.ndarray:
        t = np.pi * rng.random(n)
        upper = rng.random(n) < 0.5
        x = np.where(upper, np.cos(t), 1 - np.cos(t)) - 0.5
        y = np.where(upper, np.sin(t), 0.5 - np.sin(t)) - 0.25
        return np.stack([x, y], 1) * 1.6 + noise * rng.standard_normal((n, 2))

    return Toy("moons", sampler, (-2.6, 2.6, -2.6, 2.6))


DRAW_HALF_WIDTH = 3.0


def from_points(points: np.ndarray, sigma: float = 0.1) -> Toy:
    """A Gaussian mixture with one component around each user-drawn point. The view is the
    drawing area, [-3, 3] squared, grown (about the origin) to hold every point with a margin
    of 1, so it stays put while points are added inside it."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    dist = mixture("drawn", points, sigma)
    half = max(DRAW_HALF_WIDTH, float(np.abs(points).max(initial=0.0)) + 1.0)
    return replace(dist, bounds=(-half, half, -half, half))


BUILTIN: dict[str, Callable[[], Toy]] = {"ring": ring, "grid": grid, "spiral": spiral, "moons": two_moons}


def make(name: str, points: np.ndarray | None = None) -> Toy:
    """A built-in distribution by name, or "drawn" with its points."""
    if name == "drawn":
        if points is None or len(points) == 0:
            raise ValueError("the drawn distribution has no points yet: click on the plot to add some")
        return from_points(points)
    if name not in BUILTIN:
        raise ValueError(f"unknown distribution {name!r}; choose one of {', '.join([*BUILTIN, 'drawn'])}")
    return BUILTIN[name]()


def _square_bounds(points: np.ndarray, margin: float) -> tuple[float, float, float, float]:
    """A square view around the points, so the plot's aspect ratio stays 1."""
    lo, hi = points.min(0), points.max(0)
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2 + margin, 1.0)
    return (float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half))
