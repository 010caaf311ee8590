"""Engine jobs of the Style tab: the extractors on offer with their default layers, and one style
run on an extractor named by id (loaded in the job and kept for the next run), so the tab needs no
model loaded in the workspace. Each is ``fn(jc, ...)`` for ``engine.submit``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.registry import Method
    from workbench.core.results.style import Stylisation


@dataclass(frozen=True)
class ExtractorInfo:
    """What the tab shows of an extractor before a run: its default style and content layers."""
    model_id: str
    style_layers: str          # "layer:weight, ..." as the method reads it
    content_layer: str
    layers: tuple[str, ...]    # every activation of a conv stage, for the user to choose from


def extractor_choices(jc: Any = None) -> list[str]:
    """The extractors that can be loaded here, the default first."""
    from workbench.core.style.extractor import extractor_choices as choices
    return choices()


def describe_extractor(jc: Any, model_id: str) -> ExtractorInfo:
    from workbench.core.style.extractor import load_extractor
    from workbench.core.style.layers import default_content_layer, default_style_layers, format_weights, stages
    handle = load_extractor(model_id)
    return ExtractorInfo(handle.id, format_weights(default_style_layers(handle)), default_content_layer(handle),
                         tuple(name for stage in stages(handle) for name in stage))


def stylise_with(jc: Any, method: "Method", model_id: str, image: "np.ndarray | None",
                 values: dict[str, Any]) -> "Stylisation":
    """Run the ``style`` method on the extractor ``model_id`` ("" for the default) and ``image``."""
    from workbench.core import runner
    from workbench.core.style.extractor import load_extractor
    handle = load_extractor(model_id)
    jc.check()
    handle.to(jc.device)
    ctx = runner.context(handle, image, device=jc.device, cancel=jc.cancel, chunk_scale=jc.chunk_scale)
    return runner.run_method(method, ctx, values, on_progress=lambda p: jc.progress(p.fraction, p.message),
                             on_partial=jc.partial)
