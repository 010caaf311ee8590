"""Vanilla gradient saliency (Simonyan et al., 2014).

The gradient of the target logit with respect to the input. Convention: the map is the
maximum over colour channels of |gradient| (``channels="maxabs"``), as in the paper and as
captum's ``Saliency(abs=True)`` followed by a max over channels.
"""
from __future__ import annotations

from dataclasses import dataclass

from workbench.core.context import Context
from workbench.core.methods._gradients import (gradient_heatmap, input_gradients, model_input,
                                               reduction_field)
from workbench.core.registry import Method
from workbench.core.results import Heatmap


@dataclass
class Params:
    channels: str = reduction_field("maxabs")


def run(ctx: Context, p: Params) -> Heatmap:
    x = model_input(ctx)
    target = ctx.resolve_target(x)
    grad = input_gradients(ctx.handle.module, x, target)
    return gradient_heatmap(ctx, METHOD.name, p, x, target, grad)


METHOD = Method(name="saliency", tasks=("classify",), params=Params, run=run, title="Saliency (gradient)",
                kind="attribution", description="Gradient of the target logit w.r.t. the input, max |.| over channels.")
