"""Engine jobs of the detection panels: the detectors on offer, and one detector run by id.

Each is ``fn(jc, ...)`` for ``engine.submit`` (``jc``: the engine's job context, with the
device, the cancel token and progress); torch is imported inside the jobs, off the UI's path.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.handle import ModelHandle
    from workbench.core.registry import Method
    from workbench.core.results import Detections

RUN_THRESHOLD = 0.05      # what ``detect`` drops by default; a panel filters above this itself


@dataclass
class DetectorRun:
    """A finished run: the detector as loaded (to reuse on the next image) and its detections."""
    handle: "ModelHandle"
    result: "Detections"


def catalogue_detectors(jc: Any = None) -> list[dict]:
    """The catalogue's detectors, then every other torchvision detector, each with its source
    and whether its weights are here (``status``)."""
    from torchvision import models

    from workbench.core.sources import catalogue, hub_weights_path
    rows = [row for row in catalogue() if row["task"] == "detect"]
    listed = {row["id"] for row in rows}
    for name in models.list_models(module=models.detection):
        if f"torchvision:{name}" not in listed:
            path = hub_weights_path(name)
            rows.append({"id": f"torchvision:{name}", "source": "torch hub cache",
                         "status": "available" if path.is_file() else f"missing: {path}"})
    return rows


def detect_with(jc: Any, method: "Method", model_id: str, handle: "ModelHandle | None", image: "np.ndarray",
                score_threshold: float = RUN_THRESHOLD) -> DetectorRun:
    """Run the ``detect`` method with the detector ``model_id`` (``handle``: that model already
    loaded, or None to load it here) on ``image``, on the job's device."""
    from workbench.core import runner
    from workbench.core.sources import load_model

    h = handle if handle is not None else load_model(model_id)
    if h.task != "detect":
        raise ValueError(f"{model_id} is a {h.task} model, not a detector")
    jc.check()
    h.to(jc.device)
    ctx = runner.context(h, image, device=jc.device, cancel=jc.cancel, chunk_scale=jc.chunk_scale)
    result = runner.run_method(method, ctx, {"score_threshold": score_threshold},
                               on_progress=lambda p: jc.progress(p.fraction, p.message))
    return DetectorRun(h, result)
