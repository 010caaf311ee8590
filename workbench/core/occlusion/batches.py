"""Which windows to run together, so that each batch's boxes waste little work.

A batch computes, at every feature map, a box as tall as its tallest dirty region and as wide as
its widest. Dirty heights depend only on a window's row (widths only on its column), and near the
borders they shrink, so rows are grouped with rows of similar heights (columns likewise), by a
small dynamic programme over rows sorted by cost, and a batch is a group of rows x a group of
columns. A sparse set of windows (a coarse pass) leaves few windows per block; neighbouring
blocks are then merged up to the batch size, since many tiny batches cost more than a looser box.
"""
from __future__ import annotations

import math

import numpy as np

from workbench.core.occlusion import plan as P


def _weights(plan: P.Plan) -> tuple[list[str], np.ndarray]:
    steps = [st for st in plan.steps if st.kind == P.SPATIAL and st.spatial.macs]
    return [st.name for st in steps], np.array([st.spatial.macs for st in steps], np.float64)


def axis_groups(lengths: np.ndarray, weights: np.ndarray, k: int) -> list[np.ndarray]:
    """Split positions (rows of ``lengths``: dirty length per map) into at most k groups
    minimising sum over groups of size x weighted sum of the group's largest lengths."""
    n = len(lengths)
    k = max(1, min(k, n))
    order = np.argsort((lengths * weights).sum(1), kind="stable")
    sl = lengths[order].astype(np.float64)
    seg = np.full((n, n + 1), np.inf)
    for i in range(n):
        top = np.maximum.accumulate(sl[i:], axis=0) @ weights      # largest lengths of [i, j)
        seg[i, i + 1:] = np.arange(1, n - i + 1) * top
    best = np.full((k + 1, n + 1), np.inf)
    best[0, 0] = 0.0
    cut = np.zeros((k + 1, n + 1), np.int64)
    for g in range(1, k + 1):
        for j in range(1, n + 1):
            c = best[g - 1, :j] + seg[:j, j]
            cut[g, j] = int(np.argmin(c))
            best[g, j] = c[cut[g, j]]
    g = int(np.argmin(best[:, n]))
    groups, j = [], n
    while g > 0 and j > 0:
        i = cut[g, j]
        groups.append(order[i:j])
        j, g = i, g - 1
    return groups[::-1]


class Batcher:
    """Splits any set of window indices into batches of at most ``max_batch`` windows."""

    def __init__(self, plan: P.Plan, grid_shape: tuple[int, int], max_batch: int) -> None:
        self.shape = grid_shape
        self.max_batch = max(1, int(max_batch))
        rows, cols = grid_shape
        names, w = _weights(plan)
        if not names:
            self.row_groups = [np.arange(rows)]
            self.col_groups = [np.arange(cols)]
            return
        d = np.stack([plan.dirty[n] for n in names], axis=1)     # (windows, maps, 4)
        heights = (d[:, :, 1] - d[:, :, 0])[::cols][:rows]        # one window per row
        widths = (d[:, :, 3] - d[:, :, 2])[:cols]                 # the first row's windows
        # about max_batch windows per (row group x column group) block
        k = max(1, round(math.sqrt(rows * cols / self.max_batch)))
        self.row_groups = axis_groups(heights, w * widths.mean(0), k)
        self.col_groups = axis_groups(widths, w * heights.mean(0), k)

    def batches(self, indices: np.ndarray) -> list[np.ndarray]:
        indices = np.asarray(indices, np.int64)
        cols = self.shape[1]
        row_of = np.empty(self.shape[0], np.int64)
        for g, r in enumerate(self.row_groups):
            row_of[r] = g
        col_of = np.empty(cols, np.int64)
        for g, c in enumerate(self.col_groups):
            col_of[c] = g
        block = row_of[indices // cols] * len(self.col_groups) + col_of[indices % cols]
        out: list[np.ndarray] = []
        pending: list[np.ndarray] = []
        for b in np.unique(block):
            members = indices[block == b]
            if pending and sum(map(len, pending)) + len(members) > self.max_batch:
                out.append(np.concatenate(pending))
                pending = []
            if len(members) >= self.max_batch:
                pieces = math.ceil(len(members) / self.max_batch)
                out += list(np.array_split(members, pieces))
            else:
                pending.append(members)
        if pending:
            out.append(np.concatenate(pending))
        return out
