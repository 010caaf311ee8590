"""A lasso over an embedding: which points a drawn polygon holds, and what they are."""
from __future__ import annotations

from typing import Any

import numpy as np


def inside(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Bool mask of the (N, 2) ``points`` inside the closed ``polygon`` (M, 2), by the even-odd rule.

    Vectorised over points, one pass per edge: 100,000 points in a 200-vertex lasso take ~0.1 s."""
    pts = np.asarray(points, np.float64)
    poly = np.asarray(polygon, np.float64)
    hit = np.zeros(len(pts), bool)
    if len(poly) < 3 or not len(pts):
        return hit
    x, y = pts[:, 0], pts[:, 1]
    lo, hi = poly.min(axis=0), poly.max(axis=0)
    box = (x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1])
    bx, by = x[box], y[box]
    crossed = np.zeros(len(bx), bool)
    x0, y0 = poly[-1]
    for x1, y1 in poly:
        if y0 != y1:
            spans = (y1 > by) != (y0 > by)
            at = x0 + (by - y0) * (x1 - x0) / (y1 - y0)
            crossed ^= spans & (bx < at)
        x0, y0 = x1, y1
    hit[np.flatnonzero(box)] = crossed
    return hit


def describe(embedding: Any, indices: np.ndarray, colour_by: str = "label", most: int = 4) -> str:
    """'N points: 62% seven, 30% one, …' by the categories the points are coloured by (``embedding``: an
    ``Embedding`` result, which imports this package)."""
    indices = np.asarray(indices, np.int64)
    if not len(indices):
        return "no points selected"
    values, names = embedding.colour_values(colour_by)
    cats, counts = np.unique(values[indices], return_counts=True)
    order = np.argsort(-counts, kind="stable")
    parts = [f"{100 * counts[i] / len(indices):.0f}% {names[c] if 0 <= c < len(names) else 'none'}"
             for i, c in ((i, int(cats[i])) for i in order[:most])]
    more = ", …" if len(cats) > most else ""
    return f"{len(indices)} point{'s' if len(indices) != 1 else ''} selected: {', '.join(parts)}{more} (by {colour_by})"
