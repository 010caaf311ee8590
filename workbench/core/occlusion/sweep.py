"""Run the windows, coarse first, and report the map as it fills in.

Exact mode computes every window, in passes: every 4th window position in each direction,
then every 2nd, then the rest; after each pass the map is shown with the missing windows'
score drops interpolated from the computed ones. Approximate mode runs the first two passes,
then drills down: it computes only the skipped windows whose computed neighbours disagree
(see ``approximate``), round after round, and interpolates the rest.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from workbench.core.occlusion.approximate import drill_down
from workbench.core.occlusion.batched import BatchedModel
from workbench.core.occlusion.batches import Batcher
from workbench.core.occlusion.incremental import IncrementalModel
from workbench.core.occlusion.windows import WindowGrid, coarse_to_fine, fill_missing

log = logging.getLogger(__name__)


@dataclass
class Update:
    done: int                          # windows computed so far
    total: int                         # windows this run computes
    attribution: np.ndarray | None     # (H, W) map so far, at the end of a pass
    stage: str = ""
    final: bool = False


def make_engine(model: nn.Module, x: torch.Tensor, baseline: torch.Tensor, grid: WindowGrid,
                incremental: bool = True):
    """The incremental engine, checked on one window against a plain forward, or whole-image
    batches for a model it cannot take apart."""
    plain = BatchedModel(model, x, baseline, grid.boxes())
    if incremental:
        try:
            engine = IncrementalModel(model, x, baseline, grid.boxes())
            if _agrees(engine, plain, np.array([len(grid) // 2])):
                return engine
            log.warning("incremental occlusion disagrees with the model on %s; running whole images",
                        type(model).__name__)
        except Exception as exc:  # untraceable or unusual models still get the exact map
            log.info("incremental occlusion unavailable (%s); running whole images", exc)
    return plain


def _agrees(engine: IncrementalModel, plain: BatchedModel, idx: np.ndarray) -> bool:
    ours = (engine.clean_output - engine.outputs(idx)).double()
    ref = (plain.clean_output - plain.outputs(idx)).double()
    scale = 1e-3 * float(ref.abs().max()) + 1e-5 * float(plain.clean_output.abs().max())
    return float((ours - ref).abs().max()) <= scale


def sweep(model: nn.Module, x: torch.Tensor, target: int, grid: WindowGrid, baseline: torch.Tensor,
          mode: str = "exact", batch_size: int = 24, tolerance: float = 0.05,
          check: Callable[[], None] | None = None, incremental: bool = True) -> Iterator[Update]:
    """Yield progress per batch and a map per pass; the last update is final."""
    if mode not in ("exact", "approximate"):
        raise ValueError(f"unknown occlusion mode {mode!r}; use exact or approximate")
    engine = make_engine(model, x, baseline, grid, incremental)
    batcher = Batcher(engine.plan, grid.shape, batch_size) if isinstance(engine, IncrementalModel) else None
    clean = float(engine.clean_output[0, target])
    drops = np.zeros(len(grid))
    known = np.zeros(len(grid), bool)
    passes = coarse_to_fine(grid.shape)
    if mode == "approximate":
        passes = passes[:2]
    lattice = np.zeros(len(grid), bool)
    lattice[np.concatenate(passes)] = True
    total = int(lattice.sum())

    def run(indices: np.ndarray) -> Iterator[Update]:
        chunks = (batcher.batches(indices) if batcher
                  else np.array_split(indices, -(-len(indices) // batch_size)))
        for idx in chunks:
            if check:
                check()
            out = engine.outputs(idx)
            drops[idx] = clean - out[:, target].double().cpu().numpy()
            known[idx] = True
            yield Update(int(known.sum()), total, None)

    stage = 0
    todo = list(passes)
    while todo:
        indices = todo.pop(0)
        yield from run(indices)
        stage += 1
        if mode == "approximate" and not todo:
            more = drill_down(grid.shape, drops, known, tolerance)
            if len(more):
                todo.append(more)
                total += len(more)
        attribution = grid.accumulate(fill_missing(drops, known, grid.shape, lattice))
        yield Update(int(known.sum()), total, attribution, f"pass {stage}", not todo)
