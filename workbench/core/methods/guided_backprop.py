"""Guided backpropagation (Springenberg et al., 2015).

The input gradient where every ReLU passes back only positive gradients, and only where its
input was positive: the same rule as captum's ``GuidedBackprop``. captum overrides only
``nn.ReLU`` modules (through backward hooks); here every ReLU is guided, ``nn.ReLU`` modules
and functional ``F.relu`` / ``torch.relu`` / ``Tensor.relu`` calls alike, by intercepting the
calls for the duration of one backward pass: no module is replaced and no hook registered.
Other activations (GELU, hardswish, ReLU6, SiLU) keep their ordinary gradients.
Convention: the map is the max over channels of |gradient| (``channels="maxabs"``).
"""
from __future__ import annotations

from dataclasses import dataclass

from workbench.core.context import Context
from workbench.core.methods._gradients import (gradient_heatmap, guided_relus, input_gradients,
                                               model_input, reduction_field)
from workbench.core.registry import Method
from workbench.core.results import Heatmap


@dataclass
class Params:
    channels: str = reduction_field("maxabs")


def run(ctx: Context, p: Params) -> Heatmap:
    x = model_input(ctx)
    target = ctx.resolve_target(x)
    with guided_relus():
        grad = input_gradients(ctx.handle.module, x, target)
    return gradient_heatmap(ctx, METHOD.name, p, x, target, grad)


METHOD = Method(name="guided-backprop", kind="attribution", tasks=("classify",), params=Params, run=run,
                title="Guided backprop", description="Gradient through ReLUs that pass only positive signal.")
