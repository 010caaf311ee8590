"""Score-CAM (Wang et al., 2020), as pytorch-grad-cam's ``ScoreCAM`` computes it.

Each channel of the chosen layer is upsampled to the input (bilinear with aligned corners,
as ``nn.UpsamplingBilinear2d``), min-max normalised to [0, 1] and multiplied into the input;
the channel's weight is the softmax, over channels, of the target logits of those masked
inputs. No gradients. The map is relu(sum_k w_k A_k) upsampled bilinearly to the model input,
kept raw (not normalised). One forward pass per channel, ``batch`` at a time.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from workbench.core.context import Context, Progress
from workbench.core.methods._cam import cam_result, default_layer, layer_activations, layer_field
from workbench.core.methods._gradients import batch_field, model_input, spans
from workbench.core.registry import Method
from workbench.core.targets import target_score


@dataclass
class Params:
    layer: str = layer_field()
    batch: int = batch_field(32)


def run(ctx: Context, p: Params):
    x = model_input(ctx)
    target = ctx.resolve_target(x)
    layer = p.layer or default_layer(ctx.handle)
    acts, _ = layer_activations(ctx, layer, x, target, with_grads=False, method="scorecam")
    channels = acts.shape[1]
    scores = torch.empty(channels, device=x.device)
    for start, stop in spans(channels, p.batch):
        ctx.cancel.check()
        masks = F.interpolate(acts[0, start:stop, None], size=tuple(x.shape[-2:]), mode="bilinear",
                              align_corners=True)
        low = masks.amin(dim=(2, 3), keepdim=True)
        high = masks.amax(dim=(2, 3), keepdim=True)
        masks = (masks - low) / (high - low + 1e-8)
        with torch.no_grad():
            scores[start:stop] = target_score(ctx.handle.module(x * masks), target)
        yield Progress(stop / channels, f"{stop}/{channels} channels")
    return cam_result(ctx, METHOD.name, p, x, target, layer, acts, torch.softmax(scores, dim=0))


METHOD = Method(name="scorecam", kind="attribution", tasks=("classify",), params=Params, run=run, title="Score-CAM",
                description="A layer's channels weighted by the score of the input masked by each.")
