"""Approximate occlusion by adaptive drill-down: which skipped windows to compute next.

After a coarse pass (every 2nd window position in each direction), a skipped window is left
to interpolation only if the computed windows around it agree: their score drops differ by at
most ``tolerance`` times the largest drop seen. Otherwise it is computed, and the test repeats
around the newly computed windows until nothing is left to refine. Smooth regions (often the
background) are interpolated; edges and busy regions are computed exactly.
"""
from __future__ import annotations

import cv2
import numpy as np

_NEIGHBOURS = np.ones((3, 3), np.uint8)


def drill_down(shape: tuple[int, int], drops: np.ndarray, known: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of unknown windows whose known 3x3 neighbours spread more than tolerance x max|drop|
    (or that have fewer than two known neighbours to compare)."""
    have = np.asarray(known, bool).reshape(shape)
    if have.all() or not have.any():
        return np.flatnonzero(~have.ravel())
    grid = np.asarray(drops, np.float64).reshape(shape).astype(np.float32)
    big = float(np.finfo(np.float32).max)
    hi = cv2.dilate(np.where(have, grid, -big).astype(np.float32), _NEIGHBOURS, borderType=cv2.BORDER_CONSTANT, borderValue=-big)
    lo = cv2.erode(np.where(have, grid, big).astype(np.float32), _NEIGHBOURS, borderType=cv2.BORDER_CONSTANT, borderValue=big)
    count = cv2.filter2D(have.astype(np.float32), -1, _NEIGHBOURS.astype(np.float32), borderType=cv2.BORDER_CONSTANT)
    scale = float(np.abs(grid[have]).max())
    unsure = (count < 1.5) | (hi.astype(np.float64) - lo > tolerance * scale)
    return np.flatnonzero((~have & unsure).ravel())
