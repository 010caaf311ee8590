"""Engine jobs of the Inpaint tab: one fill of the workspace's painted mask on a model named by id
(loaded in the job), through the ``inpaint`` method with the mask given as an array. ``fn(jc, ...)``
for ``engine.submit``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.registry import Method
    from workbench.core.results.inpaint import Inpainting


def inpaint_with(jc: Any, method: "Method", model_id: str, image: "np.ndarray", mask: "np.ndarray",
                 values: dict[str, Any]) -> "Inpainting":
    """Run ``method`` (the registry's ``inpaint``) on ``model_id`` with ``mask`` (bool, the image's size)."""
    import dataclasses
    from functools import partial

    from workbench.core import runner
    from workbench.core.inpaint.run import run_with_mask
    from workbench.core.sources import load_model
    handle = load_model(model_id)
    jc.check()
    handle.to(jc.device)
    bound = dataclasses.replace(method, run=partial(run_with_mask, mask=mask))
    ctx = runner.context(handle, image, device=jc.device, cancel=jc.cancel, chunk_scale=jc.chunk_scale)
    return runner.run_method(bound, ctx, values, on_progress=lambda p: jc.progress(p.fraction, p.message),
                             on_partial=jc.partial)
