"""Fast occlusion attribution: incremental inference over a traced model, coarse to fine.

``sweep`` yields progress and maps; ``WindowGrid`` places windows as captum's Occlusion does;
``ssim`` compares maps.
"""
from workbench.core.occlusion.baselines import BASELINES, baseline_tensor
from workbench.core.occlusion.ssim import ssim
from workbench.core.occlusion.sweep import Update, make_evaluator, sweep
from workbench.core.occlusion.windows import WindowGrid

__all__ = ["BASELINES", "Update", "WindowGrid", "baseline_tensor", "make_evaluator", "ssim", "sweep"]
