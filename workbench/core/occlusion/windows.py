"""The occlusion windows, placed exactly as captum's Occlusion places them, and the map they make.

Along each axis the window starts at 0, stride, 2*stride, ... for ceil((size - window) / stride) + 1
positions; the last one may stick out and is then cut off at the border. A pixel's attribution is
the mean score drop over the windows that cover it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def axis_starts(size: int, window: int, stride: int) -> np.ndarray:
    if not 1 <= window <= size:
        raise ValueError(f"window {window} must be between 1 and the input size {size}")
    if not 1 <= stride <= window and window < size:
        raise ValueError(f"stride {stride} must be between 1 and the window {window}")
    count = math.ceil((size - window) / max(stride, 1)) + 1
    return np.arange(count, dtype=np.int64) * stride


@dataclass(frozen=True)
class WindowGrid:
    """Window rectangles [y0, y1) x [x0, x1), row-major over a (rows, cols) grid of positions."""
    height: int
    width: int
    window: int
    stride: int

    @property
    def ys(self) -> np.ndarray:
        return axis_starts(self.height, self.window, self.stride)

    @property
    def xs(self) -> np.ndarray:
        return axis_starts(self.width, self.window, self.stride)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.ys), len(self.xs)

    def __len__(self) -> int:
        return self.shape[0] * self.shape[1]

    def boxes(self) -> np.ndarray:
        """(N, 4) int64 rows of (y0, y1, x0, x1), clipped to the input."""
        ys, xs = self.ys, self.xs
        y0 = np.repeat(ys, len(xs))
        x0 = np.tile(xs, len(ys))
        return np.stack([y0, np.minimum(y0 + self.window, self.height),
                         x0, np.minimum(x0 + self.window, self.width)], axis=1)

    def coverage(self) -> np.ndarray:
        return self.accumulate(np.ones(len(self)), normalise=False)

    def accumulate(self, drops: np.ndarray, normalise: bool = True) -> np.ndarray:
        """The (H, W) map: each window's score drop spread over its pixels, averaged per pixel."""
        drops = np.asarray(drops, np.float64).reshape(self.shape)
        ys, xs = self.ys, self.xs
        # separable box sums: sum over windows = (row indicator)^T drops (column indicator)
        rows = _indicator(ys, self.window, self.height)
        cols = _indicator(xs, self.window, self.width)
        total = rows.T @ drops @ cols
        if not normalise:
            return total
        counts = rows.sum(0)[:, None] * cols.sum(0)[None, :]
        return (total / counts).astype(np.float32)


    def drops_of(self, attribution: np.ndarray) -> np.ndarray:
        """Each window's score drop, recovered from a map ``accumulate`` made (the map is a
        full-rank linear function of the drops)."""
        rows = _indicator(self.ys, self.window, self.height)
        cols = _indicator(self.xs, self.window, self.width)
        total = np.asarray(attribution, np.float64) * self.coverage()
        return (np.linalg.pinv(rows.T) @ total @ np.linalg.pinv(cols)).ravel()


def _indicator(starts: np.ndarray, window: int, size: int) -> np.ndarray:
    """(positions, size) 0/1 matrix: which pixels each window position covers along one axis."""
    pix = np.arange(size)
    return ((pix[None, :] >= starts[:, None]) & (pix[None, :] < starts[:, None] + window)).astype(np.float64)


def coarse_to_fine(shape: tuple[int, int]) -> list[np.ndarray]:
    """Window indices in passes: every 4th row/column position, then every 2nd, then the rest."""
    rows, cols = shape
    iy, ix = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    done = np.zeros(shape, bool)
    passes = []
    for step in (4, 2, 1):
        on = (iy % step == 0) & (ix % step == 0) & ~done
        if on.any():
            passes.append(np.flatnonzero(on.ravel()))
            done |= on
    return passes


def fill_missing(drops: np.ndarray, known: np.ndarray, shape: tuple[int, int],
                 lattice: np.ndarray | None = None) -> np.ndarray:
    """All windows' drops: the known ones, and the others interpolated (linearly, along rows
    then columns) from the known windows of ``lattice`` (default: all known windows)."""
    grid = np.asarray(drops, np.float64).reshape(shape)
    have = np.asarray(known, bool).reshape(shape)
    base = have if lattice is None else (np.asarray(lattice, bool).reshape(shape) & have)
    if have.all() or not base.any():
        return np.where(have, grid, 0.0).ravel()
    rows = np.flatnonzero(base.any(axis=1))
    along = np.empty((len(rows), shape[1]))
    for i, r in enumerate(rows):
        k = np.flatnonzero(base[r])
        along[i] = np.interp(np.arange(shape[1]), k, grid[r, k])
    out = np.empty(shape)
    for c in range(shape[1]):
        out[:, c] = np.interp(np.arange(shape[0]), rows, along[:, c])
    return np.where(have, grid, out).ravel()
