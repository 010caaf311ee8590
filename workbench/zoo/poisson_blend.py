"""Poisson blending (Pérez et al. 2003): fill a hole with a source's gradients, not its values.

Inside the hole the result f solves the discrete Poisson equation  lap f = lap source, with f
equal to the target on the known pixels around it (4-neighbours; a neighbour outside the image
is left out, i.e. a zero-gradient border). The sparse system is solved exactly, so a source
that differs from the target by a constant gives the target back.
"""
from __future__ import annotations

import numpy as np


def poisson_blend(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(H, W) float: ``target`` outside ``mask`` (True = hole), the Poisson solution inside."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    source = np.asarray(source, np.float64)
    out = np.asarray(target, np.float64).copy()
    hole = np.asarray(mask, bool)
    if source.shape != out.shape or hole.shape != out.shape or out.ndim != 2:
        raise ValueError(f"source, target and mask must be one (H, W) shape, got "
                         f"{source.shape}, {out.shape}, {hole.shape}")
    ys, xs = np.nonzero(hole)
    if not len(ys):
        return out
    index = -np.ones(hole.shape, np.int64)
    index[ys, xs] = np.arange(len(ys))
    h, w = hole.shape
    rows, cols, vals = [], [], []
    rhs = np.zeros(len(ys))
    degree = np.zeros(len(ys))
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        ny, nx = ys + dy, xs + dx
        inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        k = np.flatnonzero(inside)
        ny, nx = ny[k], nx[k]
        degree[k] += 1
        rhs[k] += source[ys[k], xs[k]] - source[ny, nx]          # the source's gradient across this edge
        neighbour = index[ny, nx]
        unknown = neighbour >= 0
        rows += list(k[unknown])
        cols += list(neighbour[unknown])
        vals += [-1.0] * int(unknown.sum())
        rhs[k[~unknown]] += out[ny[~unknown], nx[~unknown]]      # known boundary values
    n = len(ys)
    a = coo_matrix((np.concatenate([degree, vals]), (np.concatenate([np.arange(n), rows]),
                                                     np.concatenate([np.arange(n), cols]))), shape=(n, n)).tocsr()
    out[ys, xs] = spsolve(a, rhs)
    return out
