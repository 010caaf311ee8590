"""DeepDream (Mordvintsev et al. 2015): amplify what a layer sees in the current image.

Gradient ascent on the layer's mean squared activation, each step normalised by the gradient's mean
size, over octaves: the image is dreamt small first, and each octave's detail is carried up to the
next, larger one. The image is dreamt at its own size (its long side capped at ``max_side``), so the
layer must take any input size (a conv layer does).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from workbench.core.context import Context, Partial, Progress
from workbench.core.optimize import objectives as O
from workbench.core.optimize import settings as S
from workbench.core.optimize.loop import NORMALISED, ascend, refusing_fixed_size
from workbench.core.optimize.parametrisation import ModelInput, PixelImage
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.features import Dream


@dataclass
class Params:
    layer: str = field(default="", metadata=param(
        "Layer", choices="layers", help="whose activations to amplify; empty: the last conv layer"))
    octaves: int = field(default=3, metadata=param("Octaves", range=(1, 10), step=1))
    octave_scale: float = field(default=1.4, metadata=param(
        "Octave scale", range=(1.05, 4.0), step=0.05, help="size ratio between octaves"))
    steps: int = field(default=20, metadata=param("Steps per octave", range=(1, 10000), step=1))
    step_size: float = field(default=0.003, metadata=param(
        "Step", range=(0.0001, 1.0), step=0.001,
        help="each step moves pixels by this times gradient / mean |gradient|"))
    max_side: int = field(default=256, metadata=param(
        "Max side", range=(16, 2048), step=16, help="the image is dreamt at its size, its long side at most this"))
    preset: str = S.regulariser("preset", "none")
    decay: float = S.regulariser("decay")
    blur_every: int = S.regulariser("blur_every")
    blur_sigma: float = S.regulariser("blur_sigma")
    jitter: float = S.regulariser("jitter", 0.03)
    tv: float = S.regulariser("tv")
    scale: float = S.regulariser("scale")
    preview_every: int = field(default=5, metadata=param("Preview every", range=(1, 10000), step=1, help="steps"))
    seed: int = field(default=0, metadata=param("Seed", range=(0, 2 ** 31 - 1), step=1))


def run(ctx: Context, p: Params) -> Iterator[Progress | Partial]:
    h = ctx.handle
    layer = p.layer or (h.conv_layers() or [""])[-1]
    if not layer:
        raise ValueError(f"{h.id} has no conv layers; choose a layer")
    h.layer(layer)
    if ctx.image is None:
        raise ValueError("DeepDream needs an image; open one first")
    H, W = ctx.image.shape[:2]
    s = min(1.0, p.max_side / max(H, W))
    base = S.image_tensor(ctx.image, ctx.device, (max(8, round(H * s)), max(8, round(W * s))))
    original = base[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)
    sizes = _octave_sizes(tuple(base.shape[-2:]), p.octaves, p.octave_scale)
    to_input = ModelInput(h.preprocess, ctx.device)
    regs = S.regularisers(p)
    gen = S.seeded(p.seed + ctx.seed)
    objective = O.energy(layer)
    detail = torch.zeros(1, 3, *sizes[0], device=ctx.device)
    curve: list[float] = []
    result = None
    total = len(sizes) * p.steps
    for octave, size in enumerate(sizes):
        start = _resize(base, size)
        detail = _resize(detail, size)
        image = PixelImage(start.shape, gen, ctx.device, init=start + detail)
        octaves = ", ".join(f"{oh}x{ow}" for oh, ow in sizes)
        for snap in refusing_fixed_size(ascend(h.module, image, objective, to_input, p.steps, p.step_size, regs, gen,
                                               rule=NORMALISED, every=p.preview_every, check=ctx.cancel.check,
                                               method="DeepDream"),
                                        f"DeepDream runs {h.id} at every octave's size ({octaves})"):
            done = octave * p.steps + snap.step
            yield Progress(done / total, f"dreaming {layer}: octave {octave + 1}/{len(sizes)}, step {snap.step}")
            dreamt = _resize(torch.from_numpy(snap.images).permute(0, 3, 1, 2), base.shape[-2:])
            result = _result(ctx, p, layer, original, dreamt[0].permute(1, 2, 0).numpy(), curve + snap.curve,
                             snap.values, done, total, octave + 1, len(sizes))
            if not (snap.final and octave == len(sizes) - 1):
                yield Partial(result)
        curve += snap.curve
        detail = image.image().detach() - start
    return result


def _octave_sizes(size: tuple[int, int], octaves: int, ratio: float) -> list[tuple[int, int]]:
    """Smallest first, the image's own size last; no side under 8 pixels."""
    out = []
    for k in reversed(range(octaves)):
        h, w = (max(8, round(v / ratio ** k)) for v in size)
        if not out or out[-1] != (h, w):
            out.append((h, w))
    return out


def _resize(x: torch.Tensor, size) -> torch.Tensor:
    size = tuple(int(v) for v in size)
    if tuple(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def _result(ctx: Context, p: Params, layer: str, original: np.ndarray, dreamt: np.ndarray, curve: list[float],
            values: np.ndarray, step: int, steps: int, octave: int, octaves: int) -> Dream:
    h = ctx.handle
    return Dream(method="dream", model=h.id, params={**as_dict(p), "layer": layer},
                 input=ctx.input_tensor().cpu().numpy(), images=np.clip(dreamt, 0, 1)[None].astype(np.float32),
                 titles=[f"dream of {layer}"], curve=np.asarray(curve, np.float32),
                 values=np.asarray(values, np.float32),
                 layer=layer, step=step, steps=steps, original=original, octave=octave, octaves=octaves,
                 title=f"DeepDream of {layer} ({h.id})")


METHOD = Method(name="dream", kind="features", tasks=("classify",), params=Params, run=run, title="DeepDream",
                description="Amplify what a layer sees in the image: gradient ascent on its activations, over octaves.")
