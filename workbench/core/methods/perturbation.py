"""Perturbation saliency: how much the target logit moves when a pixel (or block) is nudged.

For every ``block`` x ``block`` square of the model input (1 = every pixel), all channels
of the square are increased by ``epsilon`` (in the units of the model's input tensor, after
normalisation) and the map there is logit(x + perturbation) - logit(x). Signed: positive
where brightening helps the target. For a linear model the map at a pixel is epsilon times
the weights of that pixel summed over channels (over the block for larger blocks). Each
block costs one forward pass, ``batch`` at a time; blocks at the right and bottom edges may
be smaller.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from workbench.core.attribution.heatmaps import heatmap_result
from workbench.core.context import Context, Progress
from workbench.core.methods._gradients import batch_field, model_input, spans
from workbench.core.params import param
from workbench.core.registry import Method
from workbench.core.targets import target_score


@dataclass
class Params:
    block: int = field(default=4, metadata=param("Block", range=(1, 256), step=1,
                                                 help="side of the perturbed square in input pixels; 1 = per pixel"))
    epsilon: float = field(default=0.1, metadata=param(
        "Epsilon", range=(-10.0, 10.0), step=0.01, help="added to every channel, in input-tensor units"))
    batch: int = batch_field(64)


def block_ids(height: int, width: int, block: int, device) -> torch.Tensor:
    """(H, W) index of the block every input pixel belongs to, row by row."""
    rows = torch.arange(height, device=device) // block
    cols = torch.arange(width, device=device) // block
    return rows[:, None] * (-(-width // block)) + cols[None, :]


def run(ctx: Context, p: Params):
    x = model_input(ctx)
    target = ctx.resolve_target(x)
    module = ctx.handle.module
    ids = block_ids(*x.shape[-2:], p.block, x.device)
    count = int(ids.max()) + 1
    change = torch.empty(count, device=x.device)
    with torch.no_grad():
        base = target_score(module(x), target)[0]
        for start, stop in spans(count, p.batch):
            ctx.cancel.check()
            chosen = torch.arange(start, stop, device=x.device)
            masks = (ids[None] == chosen[:, None, None]).to(x.dtype).unsqueeze(1)
            change[start:stop] = target_score(module(x + p.epsilon * masks), target) - base
            yield Progress(stop / count, f"{stop}/{count} blocks")
    amap = change[ids].float().cpu().numpy()
    return heatmap_result(ctx, METHOD.name, p, x, target, amap, signed=True)


METHOD = Method(name="perturbation", tasks=("classify",), params=Params, run=run, title="Perturbation",
                kind="attribution",
                description="Change of the target logit when each pixel or block is nudged by epsilon.")
