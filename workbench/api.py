"""The public surface for scripts, notebooks and plugins (stable)."""
from __future__ import annotations

from typing import Any

import numpy as np

from workbench.core.metrics import fid, inception_score, kid
from workbench.core.results import Result

__all__ = ["load_model", "load_image", "run", "fid", "kid", "inception_score"]


def load_model(model_id: str, *, trust_pickle: bool = False):
    """A ModelHandle for ``zoo:NAME``, ``torchvision:NAME[?weights=...]`` or ``file:PATH``."""
    from workbench.core.sources import load_model as _load
    return _load(model_id, trust_pickle=trust_pickle)


def load_image(path: str) -> np.ndarray:
    """An RGB uint8 HxWx3 array from a path or ``sample:NAME``."""
    from workbench.core.samples import resolve_image
    return resolve_image(str(path))


def run(method: str, model: Any, image: np.ndarray | str | None = None, target: int | str | None = None,
        device: str = "cpu", **params: Any) -> Result:
    """Run a method by name on a model (handle or id) and an image (array, path or sample:NAME)."""
    from workbench.core.runner import context, run_method
    from workbench.plugins import default_registry
    handle = load_model(model) if isinstance(model, str) else model
    if isinstance(image, str):
        image = load_image(image)
    if device == "auto":
        import torch
        device = "cuda" if torch.cuda.is_available() else "cpu"
    handle.to(device)
    index = handle.class_index(target) if target is not None else None
    method_obj = default_registry().get(method)
    return run_method(method_obj, context(handle, image, device=device, target=index), params)
