"""GAN Lab: train a small GAN live on 2-D toy distributions and measure what it learns (Qt-free).

Importing the package does not import torch: the settings, the snapshot, the session and the
toy distributions are plain Python and numpy, so the UI can name them. The trainer, the losses
and the metrics (torch, scipy) load when first used.
"""
from __future__ import annotations

import importlib
from typing import Any

from workbench.core.ganlab.config import LOSS_LABELS, LabConfig
from workbench.core.ganlab.presets import PRESETS, Preset
from workbench.core.ganlab.session import LabSession, lab_curves, train_steps
from workbench.core.ganlab.snapshot import Snapshot
from workbench.core.ganlab.toy import BUILTIN as DISTRIBUTIONS

_LAZY = {"GanLab": "trainer", "DEFAULT_BUDGET": "trainer", "LOSSES": "losses", "Metrics": "metrics"}

__all__ = ["DEFAULT_BUDGET", "DISTRIBUTIONS", "GanLab", "LOSSES", "LOSS_LABELS", "LabConfig", "LabSession",
           "Metrics", "PRESETS", "Preset", "Snapshot", "lab_curves", "train_steps"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
