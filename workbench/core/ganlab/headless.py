"""A GAN lab run without a window (the ``workbench ganlab`` command): a preset, or the default
setting, trained for some steps with the divergences measured along the way."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from workbench.core.atomic import atomic_open
from workbench.core.ganlab.config import LabConfig
from workbench.core.ganlab.presets import get, warnings
from workbench.core.ganlab.session import LabSession, lab_curves
from workbench.core.ganlab.snapshot import Snapshot

MEASUREMENTS = 20          # divergence measurements along a run


def run_lab(preset: str | None = None, steps: int | None = None, seed: int | None = None,
            check: Callable[[], None] | None = None) -> tuple[Snapshot, list[str]]:
    """Train a preset's setting (the default setting without one) for ``steps`` steps (the
    preset's own count, or 2500); returns the last snapshot and the setting's warnings."""
    config, default_steps = (LabConfig(), 2500) if preset is None else (get(preset).config, get(preset).steps)
    if seed is not None:
        config = config.replace(seed=int(seed))
    steps = default_steps if steps is None else int(steps)
    if steps < 0:
        raise ValueError(f"steps must be 0 or more, got {steps}")
    session = LabSession()
    every = max(1, -(-steps // MEASUREMENTS)) if steps else 0
    snap = session.train(config, steps, check=check, metrics_every=every)
    return snap, warnings(config)


def save_lab_npz(snap: Snapshot, path: str | Path) -> Path:
    """The run's curves (x, series_d_loss, series_g_loss, series_g_grad, series_kl, ...) and the
    last frame's arrays (real, fake, fake_grad, surface, layer_norms, same_d_*, ...) in one .npz."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise ValueError(f"the arrays file must end in .npz, got {path.name}")
    curves = lab_curves(snap)
    data = {k: np.asarray(v) for k, v in snap.arrays().items()}
    data.update({k: np.asarray(v) for k, v in curves.arrays().items()})
    data["params"] = np.asarray(curves.params_json())
    with atomic_open(path) as fh:
        np.savez_compressed(fh, **data)
    return path
