"""Approximate occlusion: which skipped windows to compute next, and how far to follow a change.

After a coarse pass (every 2nd window position in each direction), a skipped window is left
to interpolation only if the computed windows around it agree: their score drops differ by at
most ``tolerance`` times the largest drop seen. Otherwise it is computed, and the test repeats
around the newly computed windows until nothing is left to refine. Smooth regions (often the
background) are interpolated; edges and busy regions are computed exactly.

A window's change can also be followed over only part of each feature map (Krypton's projective
field threshold, ``reach``). How far is safe depends on the model: a resnet's drops barely move
at 0.3 of each map's side, a vgg's move a lot below 0.7. So the reach is calibrated on a sample of
windows computed exactly: the smallest one whose drops stay within ``REACH_ERROR`` of theirs.
"""
from __future__ import annotations

import cv2
import numpy as np

from workbench.core.occlusion import plan as P
from workbench.core.occlusion.incremental import IncrementalModel

REACHES = (0.3, 0.5, 0.7)   # tried in this order
REACH_ERROR = 0.1           # RMS error of the drops, as a share of their RMS
CALIBRATION_WINDOWS = 24
MIN_SAVING = 1.1            # a reach that saves fewer conv multiply-adds than this is not worth its error

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


def calibration_sample(known: np.ndarray, count: int = CALIBRATION_WINDOWS, seed: int = 0) -> np.ndarray:
    """A fixed random sample of the windows not computed yet. The coarse passes sit on a
    lattice that lines up with the pooling strides, where changes spread least, so a sample
    from them would make a short reach look safer than it is."""
    unknown = np.flatnonzero(~np.asarray(known, bool))
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(unknown, min(count, len(unknown)), replace=False))


def calibrated_reach(evaluator: IncrementalModel, sample: np.ndarray, exact: np.ndarray, clean: float,
                     target: int, reaches: tuple[float, ...] = REACHES, error: float = REACH_ERROR
                     ) -> tuple[IncrementalModel, float | None]:
    """The evaluator cut at the first of ``reaches`` that saves at least ``MIN_SAVING`` of the conv
    work and whose drops on the ``sample`` windows stay within ``error`` RMS of their ``exact``
    drops; the uncut evaluator (and None) if none does."""
    scale = float(np.sqrt(np.mean(exact ** 2)))
    if scale == 0.0:
        return evaluator, None
    full = P.dirty_macs(evaluator.plan)
    for reach in reaches:
        cut = evaluator.with_reach(reach)
        if full < MIN_SAVING * P.dirty_macs(cut.plan):
            continue
        approx = clean - cut.outputs(sample)[:, target].double().cpu().numpy()
        if float(np.sqrt(np.mean((approx - exact) ** 2))) <= error * scale:
            return cut, reach
    return evaluator, None
