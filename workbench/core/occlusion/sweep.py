"""Run the windows, coarse first, and report the map as it fills in.

Exact mode first computes every 4th window position in each direction, then all the rest;
a map is shown after the first pass and about every third of the second, with the missing
windows' score drops interpolated from the coarse ones. Approximate mode computes every 4th,
then every 2nd position, then drills down: it computes only the skipped windows whose computed
neighbours disagree (see ``approximate``), round after round, and interpolates the rest. It
also follows each window's change only over part of each feature map (``reach``), so a window
costs less; on the deeper layers of resnets that is most of the saving.
"""
from __future__ import annotations

import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
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

APPROXIMATE_REACH = 0.7
DRILL_ALL = 0.5       # when the drill-down asks for more than this share of the missing windows, take all


@dataclass
class Update:
    done: int                          # windows computed so far
    total: int                         # windows this run computes
    attribution: np.ndarray | None     # (H, W) map so far, at the end of a pass
    stage: str = ""
    final: bool = False


def make_engine(model: nn.Module, x: torch.Tensor, baseline: torch.Tensor, grid: WindowGrid,
                incremental: bool = True, reach: float | None = None
                ) -> tuple[IncrementalModel | BatchedModel, torch.Tensor]:
    """The incremental engine, checked on one window against a plain forward (or whole-image
    batches for a model it cannot take apart), and the model's own scores for the clean image.
    With ``reach`` (approximate), the engine that passed the check is rebuilt with changes cut
    off at that share of each map's side.

    Score drops are taken from the model's own clean forward, as captum takes them: a clean
    score computed another way would shift every drop by its rounding error.
    """
    plain = BatchedModel(model, x, baseline, grid.boxes())
    if incremental:
        try:
            engine = IncrementalModel(model, x, baseline, grid.boxes())
            if _agrees(engine, plain, np.array([len(grid) // 2])):
                if reach is not None and reach < 1.0:
                    engine = IncrementalModel(model, x, baseline, grid.boxes(), reach=reach)
                return engine, plain.clean_output
            log.warning("incremental occlusion disagrees with the model on %s; running whole images",
                        type(model).__name__)
        except Exception as exc:  # untraceable or unusual models still get the exact map
            log.info("incremental occlusion unavailable (%s); running whole images", exc)
    return plain, plain.clean_output


def _agrees(engine: IncrementalModel, plain: BatchedModel, idx: np.ndarray) -> bool:
    ours = (engine.clean_output - engine.outputs(idx)).double()
    ref = (plain.clean_output - plain.outputs(idx)).double()
    scale = 1e-3 * float(ref.abs().max()) + 1e-5 * float(plain.clean_output.abs().max())
    return float((ours - ref).abs().max()) <= scale


def sweep(model: nn.Module, x: torch.Tensor, target: int, grid: WindowGrid, baseline: torch.Tensor,
          mode: str = "exact", batch_size: int = 24, tolerance: float = 0.05,
          check: Callable[[], None] | None = None, incremental: bool = True,
          reach: float = APPROXIMATE_REACH) -> Iterator[Update]:
    """Yield progress per batch and a map per pass; the last update is final.

    ``reach`` applies to approximate mode only: how far (as a share of each feature map's side)
    a window's change is followed through the layers.
    """
    if mode not in ("exact", "approximate"):
        raise ValueError(f"unknown occlusion mode {mode!r}; use exact or approximate")
    engine, clean_scores = make_engine(model, x, baseline, grid, incremental,
                                       reach if mode == "approximate" else None)
    batcher = Batcher(engine.plan, grid.shape, batch_size) if isinstance(engine, IncrementalModel) else None
    clean = float(clean_scores[0, target])
    drops = np.zeros(len(grid))
    known = np.zeros(len(grid), bool)
    levels = coarse_to_fine(grid.shape)
    if mode == "approximate":
        passes = levels[:2]
    else:   # the coarsest windows, then all the rest in one pass (batches group best that way)
        passes = [levels[0]] + ([np.concatenate(levels[1:])] if len(levels) > 1 else [])
    lattice = np.zeros(len(grid), bool)     # the regular grid that missing windows are interpolated from
    lattice[np.concatenate(passes if mode == "approximate" else passes[:1])] = True
    total = sum(len(p) for p in passes)

    def current_map() -> np.ndarray:
        return grid.accumulate(fill_missing(drops, known, grid.shape, lattice))

    workers = _workers(engine, x)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="occlusion") if workers > 1 else None

    def run(indices: np.ndarray, show_midway: bool) -> Iterator[Update]:
        chunks = (batcher.batches(indices) if batcher
                  else np.array_split(indices, -(-len(indices) // batch_size)))
        # a map about every third of a pass, once the coarse lattice is there to fill in from
        every = -(-len(chunks) // 3) if show_midway else len(chunks) + 1
        for start in range(0, len(chunks), workers):
            if check:
                check()
            group = chunks[start:start + workers]
            for j, (idx, out) in enumerate(zip(group, _compute(engine, group, pool, batcher is not None)),
                                           start=start + 1):
                drops[idx] = clean - out[:, target].double().cpu().numpy()
                known[idx] = True
                midway = j < len(chunks) and j % every == 0
                yield Update(int(known.sum()), total, current_map() if midway else None, "computing")

    try:
        todo = list(passes)
        first = True
        while todo:
            yield from run(todo.pop(0), not first)
            first = False
            if mode == "approximate" and not todo:
                more = drill_down(grid.shape, drops, known, tolerance)
                unknown = np.flatnonzero(~known)
                if len(more) > DRILL_ALL * len(unknown):   # nearly all: one pass batches better
                    more = unknown
                if len(more):
                    todo.append(more)
                    total += len(more)
            yield Update(int(known.sum()), total, current_map(), "done" if not todo else "pass", not todo)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def _workers(engine: IncrementalModel | BatchedModel, x: torch.Tensor) -> int:
    """Batches computed side by side. The incremental engine runs many small ops, which split
    poorly across threads (and very poorly on a busy machine), so its batches run one per
    thread instead; whole-image batches are large enough for the ops' own threads."""
    if not isinstance(engine, IncrementalModel) or x.device.type != "cpu":
        return 1
    return max(1, min(torch.get_num_threads(), 8))


@contextlib.contextmanager
def _op_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != before:
            torch.set_num_threads(before)


def _compute(engine: IncrementalModel | BatchedModel, group: list[np.ndarray],
             pool: ThreadPoolExecutor | None, small_ops: bool) -> list[torch.Tensor]:
    if not small_ops:
        return [engine.outputs(idx) for idx in group]
    with _op_threads(1):
        if pool is None or len(group) == 1:
            return [engine.outputs(idx) for idx in group]
        return list(pool.map(engine.outputs, group))
