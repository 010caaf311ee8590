"""GAN Lab: train a small GAN live on 2-D toy distributions and measure what it learns (Qt-free)."""
from workbench.core.ganlab.losses import LOSSES
from workbench.core.ganlab.metrics import Metrics
from workbench.core.ganlab.trainer import DEFAULT_BUDGET, GanLab, LabConfig, Snapshot
from workbench.core.ganlab.toy import BUILTIN as DISTRIBUTIONS

__all__ = ["DEFAULT_BUDGET", "DISTRIBUTIONS", "GanLab", "LOSSES", "LabConfig", "Metrics", "Snapshot"]
