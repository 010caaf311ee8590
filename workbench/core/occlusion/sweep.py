"""Run the windows, coarse first, and report the map as it fills in.

Exact mode first computes every 4th window position in each direction, then all the rest;
a map is shown after the first pass and about every third of the second, with the missing
windows' score drops interpolated from the coarse ones. Approximate mode computes every 4th,
then every 2nd position, then drills down: it computes only the skipped windows whose computed
neighbours disagree (see ``approximate``), round after round, and interpolates the rest. After
the coarse pass it also stops following each window's change past part of each feature map
(``reach``), as far as a sample of the coarse windows shows the drops barely move; on the
deeper layers of resnets that is most of the saving.
"""
from __future__ import annotations

import contextlib
import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from workbench.core.occlusion.approximate import REACHES, calibrated_reach, calibration_sample, drill_down
from workbench.core.occlusion.batched import BatchedModel
from workbench.core.occlusion.batches import Batcher
from workbench.core.occlusion.incremental import IncrementalModel
from workbench.core.occlusion.windows import WindowGrid, coarse_to_fine, fill_missing

log = logging.getLogger(__name__)

SMALL_INPUT = 64 * 64     # pixels; above this, occlusion always runs incrementally
SMALL_WORK = 2e9          # multiply-adds of a whole-image sweep below which it beats the incremental one
SMALL_BATCH = 64
DRILL_ALL = 0.5       # when the drill-down asks for more than this share of the missing windows, take all


@dataclass
class Update:
    done: int                          # windows computed so far
    total: int                         # windows this run computes
    attribution: np.ndarray | None     # (H, W) map so far, at the end of a pass
    stage: str = ""
    final: bool = False
    reach: float | None = None         # approximate mode: the reach in use (None: changes followed everywhere)


def make_evaluator(model: nn.Module, x: torch.Tensor, baseline: torch.Tensor, grid: WindowGrid,
                incremental: bool | None = None) -> tuple[IncrementalModel | BatchedModel, torch.Tensor]:
    """The incremental evaluator, checked on one window against a plain forward (or whole-image
    batches for a model it cannot take apart), and the model's own scores for the clean image.
    ``incremental``: None decides by the sweep's size (whole images for small sweeps), True
    always takes the model apart when it can, False never does.

    Score drops are taken from the model's own clean forward, as captum takes them: a clean
    score computed another way would shift every drop by its rounding error.
    """
    plain = BatchedModel(model, x, baseline, grid.boxes())
    if incremental is None and _small_sweep(model, x, len(grid)):
        plain.batch = SMALL_BATCH
        return plain, plain.clean_output
    if incremental is not False:
        try:
            evaluator = IncrementalModel(model, x, baseline, grid.boxes())
            if _agrees(evaluator, plain, np.array([len(grid) // 2])):
                return evaluator, plain.clean_output
            log.warning("incremental occlusion disagrees with the model on %s; running whole images",
                        type(model).__name__)
        except Exception as exc:  # untraceable or unusual models still get the exact map
            log.info("incremental occlusion unavailable (%s); running whole images", exc)
    return plain, plain.clean_output


def _small_sweep(model: nn.Module, x: torch.Tensor, windows: int) -> bool:
    """Whether whole images cost under SMALL_WORK multiply-adds for all windows. Counted only
    for small inputs (counting costs about a forward pass); large ones never qualify."""
    if x.shape[-2] * x.shape[-1] > SMALL_INPUT:
        return False
    try:
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            model(x)
    except Exception as exc:  # an op the counter cannot follow: the ordinary path decides
        log.info("could not count the model's work (%s)", exc)
        return False
    return counter.get_total_flops() / 2 * windows < SMALL_WORK


def _agrees(evaluator: IncrementalModel, plain: BatchedModel, idx: np.ndarray) -> bool:
    ours = (evaluator.clean_output - evaluator.outputs(idx)).double()
    ref = (plain.clean_output - plain.outputs(idx)).double()
    scale = 1e-3 * float(ref.abs().max()) + 1e-5 * float(plain.clean_output.abs().max())
    return float((ours - ref).abs().max()) <= scale


class _Sweep:
    """The state of one sweep: the evaluator, which windows are known, and their score drops."""

    def __init__(self, evaluator: IncrementalModel | BatchedModel, clean: float, target: int, grid: WindowGrid,
                 x: torch.Tensor, batch_size: int, check: Callable[[], None] | None) -> None:
        self.clean, self.target, self.grid = clean, target, grid
        self.batch_size, self.check = batch_size, check
        self.drops = np.zeros(len(grid))
        self.known = np.zeros(len(grid), bool)
        self.lattice = np.zeros(len(grid), bool)   # the regular grid that missing windows are interpolated from
        self.total = 0
        self.reach: float | None = None
        self.workers = _workers(evaluator, x)
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="occlusion") if self.workers > 1 else None
        self.use(evaluator)

    def use(self, evaluator: IncrementalModel | BatchedModel) -> None:
        self.evaluator = evaluator
        self.batcher = (Batcher(evaluator.plan, self.grid.shape, self.batch_size)
                        if isinstance(evaluator, IncrementalModel) else None)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def current_map(self) -> np.ndarray:
        return self.grid.accumulate(fill_missing(self.drops, self.known, self.grid.shape, self.lattice))

    def update(self, stage: str, with_map: bool, final: bool = False) -> Update:
        return Update(int(self.known.sum()), self.total, self.current_map() if with_map else None, stage, final,
                      self.reach)

    def calibrate(self, reaches: tuple[float, ...]) -> Iterator[Update]:
        """Compute a sample of the remaining windows exactly (they count as done), then go on
        with the evaluator cut at the reach that sample allows."""
        sample = calibration_sample(self.known)
        self.total += len(sample)
        yield from self.run(sample, False)
        if self.check:
            self.check()
        cut, self.reach = calibrated_reach(self.evaluator, sample, self.drops[sample], self.clean, self.target, reaches)
        self.use(cut)

    def run(self, indices: np.ndarray, show_midway: bool) -> Iterator[Update]:
        """Compute these windows, yielding progress per batch (and a map about every third of
        the pass when ``show_midway``, once the coarse lattice is there to fill in from)."""
        size = getattr(self.evaluator, "batch", None) or self.batch_size
        chunks = (self.batcher.batches(indices) if self.batcher
                  else np.array_split(indices, -(-len(indices) // size)))
        every = -(-len(chunks) // 3) if show_midway else len(chunks) + 1
        results = _pipelined(self.evaluator, chunks, self.pool, self.workers, self.batcher is not None, self.check)
        for j, (idx, out) in enumerate(results, start=1):
            self.drops[idx] = self.clean - out[:, self.target].double().cpu().numpy()
            self.known[idx] = True
            yield self.update("computing", j < len(chunks) and j % every == 0)


def sweep(model: nn.Module, x: torch.Tensor, target: int, grid: WindowGrid, baseline: torch.Tensor,
          mode: str = "exact", batch_size: int = 24, tolerance: float = 0.05,
          check: Callable[[], None] | None = None, incremental: bool | None = None,
          reach: float = 0.0) -> Iterator[Update]:
    """Yield progress per batch and a map per pass; the last update is final.

    ``reach`` applies to approximate mode only: how far (as a share of each feature map's side)
    a window's change is followed through the layers, after the coarse pass; 0 picks it from a
    sample of windows (see ``approximate.calibrated_reach``), 1 follows changes everywhere.
    """
    if mode not in ("exact", "approximate"):
        raise ValueError(f"unknown occlusion mode {mode!r}; use exact or approximate")
    if not 0.0 <= reach <= 1.0:
        raise ValueError(f"reach {reach} must be between 0 (automatic) and 1")
    evaluator, clean_scores = make_evaluator(model, x, baseline, grid, incremental)
    state = _Sweep(evaluator, float(clean_scores[0, target]), target, grid, x, batch_size, check)
    levels = coarse_to_fine(grid.shape)
    if mode == "approximate":
        passes = levels[:2]
    else:   # the coarsest windows, then all the rest in one pass (batches group best that way)
        passes = [levels[0]] + ([np.concatenate(levels[1:])] if len(levels) > 1 else [])
    state.lattice[np.concatenate(passes if mode == "approximate" else passes[:1])] = True
    state.total = sum(len(p) for p in passes)
    try:
        todo = list(passes)
        first = True
        while todo:
            yield from state.run(todo.pop(0), not first)
            if mode == "approximate" and first and todo and isinstance(evaluator, IncrementalModel) and reach < 1.0:
                if reach == 0.0:
                    yield from state.calibrate(REACHES)
                    todo = [p[~state.known[p]] for p in todo]
                    state.total = int(state.known.sum()) + sum(len(p) for p in todo)
                else:
                    state.use(evaluator.with_reach(reach))
                    state.reach = reach
            first = False
            if mode == "approximate" and not todo:
                more = drill_down(grid.shape, state.drops, state.known, tolerance)
                unknown = np.flatnonzero(~state.known)
                if len(more) > DRILL_ALL * len(unknown):   # nearly all: one pass batches better
                    more = unknown
                if len(more):
                    todo.append(more)
                    state.total += len(more)
            yield state.update("done" if not todo else "pass", True, not todo)
    finally:
        state.close()


def _workers(evaluator: IncrementalModel | BatchedModel, x: torch.Tensor) -> int:
    """Batches computed side by side. The incremental evaluator runs many small ops, which split
    poorly across threads (and very poorly on a busy machine), so its batches run one per
    thread instead; whole-image batches are large enough for the ops' own threads."""
    if not isinstance(evaluator, IncrementalModel) or x.device.type != "cpu":
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


def _pipelined(evaluator: IncrementalModel | BatchedModel, chunks: list[np.ndarray], pool: ThreadPoolExecutor | None,
               workers: int, small_ops: bool, check: Callable[[], None] | None
               ) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """(indices, outputs) per chunk, in order. With a pool, ``workers`` chunks are in flight at
    any time, so no thread waits for another's batch to finish; ``check`` runs before each
    chunk starts, and a cancelled run waits for the chunks already running."""
    if pool is None:
        with _op_threads(1) if small_ops else contextlib.nullcontext():
            for idx in chunks:
                if check:
                    check()
                yield idx, evaluator.outputs(idx)
        return
    pending: deque[tuple[np.ndarray, Future]] = deque()
    with _op_threads(1):
        try:
            for idx in chunks:
                if len(pending) >= workers:
                    done_idx, fut = pending.popleft()
                    yield done_idx, fut.result()
                if check:
                    check()
                pending.append((idx, pool.submit(evaluator.outputs, idx)))
            while pending:
                done_idx, fut = pending.popleft()
                yield done_idx, fut.result()
        finally:
            for _, fut in pending:
                fut.cancel()
            wait([fut for _, fut in pending])
