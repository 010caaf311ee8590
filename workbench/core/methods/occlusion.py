"""Occlusion: slide a window over the input, fill it with a baseline, and see the score drop.

Same attribution as captum's Occlusion with a window covering all channels: each window's
score drop (clean minus occluded) is added to the pixels it covers, then divided by how many
windows cover each pixel. The map is one channel (it is the same for every channel). The score
is the target's logit, or its softmax probability (captum's Occlusion with a forward function
that returns probabilities).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from torch import nn

from workbench.core.attribution.heatmaps import heatmap_result
from workbench.core.context import Context, Partial, Progress
from workbench.core.occlusion import BASELINES, WindowGrid, baseline_tensor, sweep
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results import Heatmap


SCORES = ("logit", "probability")
AUTO_WINDOW_SHARE = 1 / 8   # of the input's short side: large enough to cover a part of an object
MIN_AUTO_WINDOW = 2


@dataclass
class Params:
    window: int = field(default=0, metadata=param(
        "Window", range=(0, 1024), step=1,
        help="side in input pixels; auto: 1/8 of the input's short side (8 at 64, 28 at 224)",
        at_minimum="auto"))
    stride: int = field(default=0, metadata=param(
        "Stride", range=(0, 1024), step=1, help="auto: half the window", at_minimum="auto"))
    score: str = field(default="logit", metadata=param(
        "Score", choices=SCORES, help="what a window's drop is measured on: the target's logit, or its "
                                      "softmax probability (drops then add up to at most 1)"))
    baseline: str = field(default="zero", metadata=param(
        "Baseline", choices=BASELINES, help="what fills the window: zeros, the channel means, or a blur"))
    mode: str = field(default="exact", metadata=param(
        "Mode", choices=("exact", "approximate"), help="approximate: coarse pass, then only where neighbours disagree"))
    batch_size: int = field(default=24, metadata=param("Batch size", range=(1, 512), step=1))
    tolerance: float = field(default=0.05, metadata=param(
        "Tolerance", range=(0.0, 1.0), step=0.01,
        help="approximate mode: interpolate a window when its computed neighbours differ by less than "
             "this share of the largest drop"))
    reach: float = field(default=0.0, metadata=param(
        "Reach", range=(0.0, 1.0), step=0.05,
        help="approximate mode: follow a window's change over at most this share of each feature map's "
             "side; auto: the smallest of 0.3, 0.5, 0.7 that keeps a sample of windows' drops "
             "within 10%", at_minimum="auto"))


def window_and_stride(p: Params, height: int, width: int) -> tuple[int, int]:
    """The window and stride in input pixels: as given, or (0) 1/8 of the short side and half that."""
    side = min(height, width)
    window = p.window or min(side, max(MIN_AUTO_WINDOW, round(side * AUTO_WINDOW_SHARE)))
    if window > side:
        raise ValueError(f"window {window} is larger than the input ({height}x{width})")
    stride = p.stride or max(1, window // 2)
    if stride > window:
        raise ValueError(f"stride {stride} must not exceed the window {window}")
    return window, stride


def scored_model(model: nn.Module, score: str) -> nn.Module:
    """The model whose output column ``target`` is the score that windows are measured on."""
    if score not in SCORES:
        raise ValueError(f"score must be one of {', '.join(SCORES)}, not {score!r}")
    return model if score == "logit" else nn.Sequential(model, nn.Softmax(dim=1))


def run(ctx: Context, p: Params) -> Iterator[Progress | Partial]:
    model = scored_model(ctx.handle.module, p.score)
    x = ctx.input_tensor()
    target = ctx.resolve_target(x)
    height, width = x.shape[-2:]
    window, stride = window_and_stride(p, height, width)
    grid = WindowGrid(height, width, window, stride)
    used = {**as_dict(p), "window": window, "stride": stride}
    base = baseline_tensor(x, p.baseline, window)
    result: Heatmap | None = None
    kind = p.mode if p.score == "logit" else f"{p.mode}, {p.score}"
    for update in sweep(model, x, target, grid, base, p.mode, p.batch_size, p.tolerance,
                        check=ctx.cancel.check, reach=p.reach):
        yield Progress(update.done / max(update.total, 1), f"occlusion: {update.done}/{update.total} windows")
        if update.attribution is not None:
            if p.mode == "approximate":   # the reach in use: 1 means changes are followed everywhere
                used["reach"] = update.reach if update.reach is not None else 1.0
            result = heatmap_result(ctx, "occlusion", used, x, target, update.attribution, signed=True,
                                    title=f"occlusion ({kind}): {ctx.handle.label(target)}")
            if not update.final:
                yield Partial(result)
    return result


METHOD = Method(name="occlusion", kind="attribution", tasks=("classify",), params=Params, run=run, title="Occlusion",
                description="Score drop when a sliding window is covered (as captum's Occlusion), coarse first.")
