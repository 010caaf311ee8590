"""What a region classifier (R-CNN, SPPNet) does with one region, in the pixels of its input tensor.

R-CNN: every proposal warped to a square crop with context (``model.warp``) and classified; the
crops are shown as the network sees them (de-normalised). SPPNet: the region's window of the conv
map, the bins of each pyramid level over it, and the max-pooled values of every bin.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from workbench.core.detection.pipeline import overridden
from workbench.zoo.rcnn import bin_edges, context_windows, feature_windows, pyramid_pool


@dataclass
class RegionRun:
    """One image through a region classifier: its proposals, their class probabilities and the
    final detections (``proposal_index`` names the proposal each came from)."""
    proposals: torch.Tensor      # (P, 4) best-ranked first
    probabilities: torch.Tensor  # (P, K)
    detections: dict[str, torch.Tensor]
    time_ms: float


@torch.no_grad()
def run_regions(model, x: torch.Tensor, score_threshold: float) -> RegionRun:
    import time
    model.eval()
    proposals = model.proposals(x[0])
    start = time.perf_counter()
    probs, decoded = model.classify(x[0], proposals)
    with overridden(model, score_thresh=score_threshold):
        detections = model.select(x[0], probs, decoded)
    return RegionRun(proposals, probs, detections, (time.perf_counter() - start) * 1000)


def top_regions(probabilities: torch.Tensor, chosen: int, count: int) -> list[int]:
    """``chosen`` first, then the other proposals by their best class probability (background
    excluded), highest first; ``count`` in all (0: every proposal)."""
    order = probabilities[:, 1:].max(1).values.argsort(descending=True, stable=True).tolist()
    rows = [chosen] + [i for i in order if i != chosen]
    return rows[:count] if count else rows


@torch.no_grad()
def warped_crops(model, x: torch.Tensor, boxes: torch.Tensor) -> tuple[np.ndarray, torch.Tensor]:
    """(N, s, s, 3) RGB in [0, 1] of the crops R-CNN classifies, and the windows they were cut from."""
    crops = model.warp(model.normalise(x[0]), boxes)
    rgb = (crops * model.std + model.mean).clamp(0, 1)
    return rgb.permute(0, 2, 3, 1).cpu().numpy().astype(np.float32), context_windows(boxes)


@dataclass
class Pyramid:
    window: list[int]               # feature cells x0, y0, x1, y1 (inclusive)
    bins: np.ndarray                # (sum n*n, 4) input pixels, level by level, row-major
    bin_levels: np.ndarray          # (sum n*n,) n of each bin
    pooled: np.ndarray              # (C, sum n*n) in the order of ``bins``
    cell_centres: np.ndarray        # (M, 2) centres of the window's cells, input pixels
    cell_bins: np.ndarray           # (M,) the finest-level bin each cell falls in (first, when shared)
    stride: float                   # input pixels per feature cell


@torch.no_grad()
def pyramid_of(model, x: torch.Tensor, box: torch.Tensor) -> Pyramid:
    fmap = model.features(model.normalise(x[0]))
    stride = x.shape[-1] / fmap.shape[-1]
    window = feature_windows(box.reshape(1, 4), tuple(fmap.shape[-2:]), int(round(stride)))
    x0, y0, x1, y1 = window[0].tolist()
    # the model's vector is level by level, each (C, n, n) flattened: regroup it per channel
    flat, channels, parts, start = pyramid_pool(fmap, window, model.levels)[0], fmap.shape[0], [], 0
    for n in model.levels:
        parts.append(flat[start:start + channels * n * n].reshape(channels, n * n))
        start += channels * n * n
    pooled = torch.cat(parts, 1)
    bins, levels = [], []
    for n in model.levels:
        for r0, r1 in bin_edges(y0, y1, n):
            for c0, c1 in bin_edges(x0, x1, n):
                bins.append([c0 * stride, r0 * stride, c1 * stride, r1 * stride])
                levels.append(n)
    finest = max(model.levels)
    cols, rows = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1))
    centres = np.stack([(cols.ravel() + 0.5) * stride, (rows.ravel() + 0.5) * stride], 1)
    col_bin = [next(i for i, (a, b) in enumerate(bin_edges(x0, x1, finest)) if a <= c < b) for c in cols.ravel()]
    row_bin = [next(i for i, (a, b) in enumerate(bin_edges(y0, y1, finest)) if a <= r < b) for r in rows.ravel()]
    return Pyramid(window=[x0, y0, x1, y1], bins=np.asarray(bins, np.float32), bin_levels=np.asarray(levels, np.int64),
                   pooled=pooled.cpu().numpy().astype(np.float32), cell_centres=centres.astype(np.float32),
                   cell_bins=np.asarray(row_bin, np.int64) * finest + np.asarray(col_bin, np.int64), stride=stride)

