"""Attribution work the panels hand to the engine: ``fn(jc, ...)`` run on the worker thread."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.handle import ModelHandle


def topk(jc: Any, handle: "ModelHandle", image: "np.ndarray", k: int) -> list[tuple[int, str, float]]:
    """The model's ``k`` most probable classes for the image: (index, label, probability), best first."""
    from workbench.core.targets import topk as ranked   # imports torch: only on the worker

    handle.to(jc.device)
    return ranked(handle, image, k)
