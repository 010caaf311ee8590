"""The GAN lab as the panel, a script or the CLI drives it: one trainer, frames of training.

A :class:`LabSession` owns one GanLab (built on first use) and the divergences measured along
its run. ``train`` adopts a config (the loss and learning rates change live, anything
structural rebuilds the networks at step 0), resets when asked, trains some steps and returns
a Snapshot of plain numpy arrays. :func:`train_steps` is the same call as an engine job.

A session is used by one thread at a time: the panel creates one on the GUI thread and then
touches it only through ``train_steps`` jobs on the engine's single worker thread. torch is
imported when the first frame is trained, so the UI can import this module.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from workbench.core.ganlab.config import LabConfig
from workbench.core.ganlab.history import DivergenceHistory
from workbench.core.ganlab.snapshot import Snapshot
from workbench.core.results import Curves

if TYPE_CHECKING:
    from workbench.core.ganlab.metrics import Metrics
    from workbench.core.ganlab.trainer import GanLab


class LabSession:
    def __init__(self, device: str = "cpu") -> None:
        # the CPU by default whatever the engine's device: networks of a few thousand weights,
        # and the lab's budgets are set and measured there
        self.device = device
        self.lab: "GanLab | None" = None
        self.divergence = DivergenceHistory()

    @property
    def steps(self) -> int:
        return 0 if self.lab is None else self.lab.steps

    def adopt(self, config: LabConfig, reset: bool = False) -> "GanLab":
        """The trainer with ``config`` applied; fresh (step 0) when the config is structural,
        when ``reset`` is asked, or on first use."""
        if self.lab is None:
            from workbench.core.ganlab.trainer import GanLab
            self.lab = GanLab(config, device=self.device)
        elif not self.lab.configure(config):
            if not reset:
                return self.lab
            self.lab.reset()
        self.divergence.clear()
        return self.lab

    def train(self, config: LabConfig, steps: int = 0, reset: bool = False, with_metrics: bool = True,
              check: Callable[[], None] | None = None, metrics_every: int = 0) -> Snapshot:
        """Adopt ``config``, train ``steps`` steps, return a snapshot (with measured metrics when
        ``with_metrics``). ``metrics_every`` > 0 also measures at every multiple of that many steps,
        for divergence curves over a long headless run. ``check`` may raise to cancel."""
        lab = self.adopt(config, reset)
        left = int(steps)
        if metrics_every > 0 and lab.steps == 0 and left > 0:
            self._record(0, lab.metrics())       # where the curves start
        while left > 0:
            n = left if metrics_every <= 0 else min(left, metrics_every - lab.steps % metrics_every)
            lab.step(n, check=check)
            left -= n
            if metrics_every > 0 and lab.steps % metrics_every == 0 and (left > 0 or not with_metrics):
                self._record(lab.steps, lab.metrics())
        snap = lab.snapshot(with_metrics)
        if snap.metrics is not None:
            self._record(snap.step, snap.metrics)
        snap.metric_steps, snap.divergence = self.divergence.series()
        return snap

    def _record(self, step: int, m: "Metrics") -> None:
        self.divergence.record(step, m.kl, m.js, m.tv, m.modes_covered)


def train_steps(jc: Any, session: LabSession, config: LabConfig, steps: int = 0, reset: bool = False,
                with_metrics: bool = True) -> Snapshot:
    """Engine job: one frame of the lab (see LabSession.train); cancellable between steps."""
    return session.train(config, steps, reset, with_metrics, check=jc.check)


def lab_curves(snap: Snapshot) -> Curves:
    """The run's curves over one step axis: D and G losses (as the snapshot holds them, block
    means on long runs), G's gradient norm and the divergences measured so far; NaN where a
    series has no value."""
    x = np.union1d(np.asarray(snap.loss_steps, np.float64), np.asarray(snap.metric_steps, np.float64))

    def on_x(steps: np.ndarray, values: np.ndarray) -> np.ndarray:
        out = np.full(len(x), np.nan)
        out[np.searchsorted(x, np.asarray(steps, np.float64))] = values
        return out

    series = {"d_loss": on_x(snap.loss_steps, snap.d_loss), "g_loss": on_x(snap.loss_steps, snap.g_loss)}
    if len(snap.grad_steps):      # G's median per-point gradient norm
        series["g_grad"] = on_x(snap.grad_steps, snap.g_grad)
    series.update({k: on_x(snap.metric_steps, v) for k, v in snap.divergence.items()})
    return Curves(method="ganlab", params=snap.config.as_dict(), title=f"GAN lab at step {snap.step}",
                  x=x, series=series)
