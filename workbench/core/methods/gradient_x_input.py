"""Gradient x input (Shrikumar et al., 2016).

The input times the gradient of the target logit, elementwise, as captum's
``InputXGradient``. Convention: channels are summed (``channels="sum"``), so the map is signed.
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
    channels: str = reduction_field("sum")


def run(ctx: Context, p: Params) -> Heatmap:
    x = model_input(ctx)
    target = ctx.resolve_target(x)
    grad = input_gradients(ctx.handle.module, x, target)
    return gradient_heatmap(ctx, METHOD.name, p, x, target, grad * x)


METHOD = Method(name="gradient-x-input", kind="attribution", tasks=("classify",), params=Params, run=run,
                title="Gradient x input", description="Input times gradient, summed over channels (signed).")
