"""Feature inversion (Mahendran & Vedaldi 2015): the image whose features at a layer match the
current image's, found by gradient descent from noise with total-variation and L2 regularisers.

The closer the reconstruction is to the original (SSIM), the more of the image the layer keeps.
``every_layer`` inverts from each conv layer and the output in turn: how much survives, layer by layer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from workbench.core.context import Context, Partial, Progress
from workbench.core.optimize import objectives as O
from workbench.core.optimize import settings as S
from workbench.core.optimize.loop import ascend
from workbench.core.optimize.parametrisation import PARAMETRISATIONS, PIXEL, ModelInput, make_image
from workbench.core.optimize.probe import Probe
from workbench.core.optimize.ssim import ssim
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.features import Inversion


@dataclass
class Params:
    layer: str = field(default="", metadata=param(
        "Layer", choices="layers", help="whose features to match; empty: the last conv layer"))
    every_layer: bool = field(default=False, metadata=param(
        "Every layer", help="invert from each conv layer and the output in turn, with each one's SSIM"))
    parametrisation: str = field(default=PIXEL, metadata=param("Parametrisation", choices=PARAMETRISATIONS))
    steps: int = field(default=200, metadata=param("Steps", range=(1, 10000), step=10))
    lr: float = field(default=0.05, metadata=param("Learning rate", range=(0.0001, 10.0), step=0.01, help="Adam's"))
    preset: str = S.regulariser("preset", "none")
    decay: float = S.regulariser("decay", 0.0)
    blur_every: int = S.regulariser("blur_every")
    blur_sigma: float = S.regulariser("blur_sigma")
    jitter: float = S.regulariser("jitter")
    tv: float = S.regulariser("tv", 0.005)
    scale: float = S.regulariser("scale")
    preview_every: int = field(default=10, metadata=param("Preview every", range=(1, 10000), step=1, help="steps"))
    seed: int = field(default=0, metadata=param("Seed", range=(0, 2 ** 31 - 1), step=1))


def sweep_layers(handle) -> list[str]:
    """The layers ``every_layer`` inverts from: the conv layers, then the model's last layer."""
    layers = list(handle.conv_layers())
    last = next((info.name for info in reversed(handle.layers()) if info.output_shape), "")
    if last and last not in layers:
        layers.append(last)
    return layers


def run(ctx: Context, p: Params) -> Iterator[Progress | Partial]:
    h = ctx.handle
    if p.every_layer:
        layers = sweep_layers(h)
    else:
        layers = [p.layer or (h.conv_layers() or [""])[-1]]
    if not layers or not layers[0]:
        raise ValueError(f"{h.id} has no conv layers; choose a layer")
    for name in layers:
        h.layer(name)
    x = ctx.input_tensor()
    to_input = ModelInput(h.preprocess, ctx.device)
    original = to_input.invert(x)[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)
    targets = _features(h.module, layers, x)
    regs = S.regularisers(p)
    done: list[np.ndarray] = []
    scores: list[float] = []
    result = None
    for i, name in enumerate(layers):
        gen = S.seeded(p.seed + ctx.seed)
        image = make_image(p.parametrisation, (1, 3, *x.shape[-2:]), gen, ctx.device)
        objective = O.match(name, targets[name])
        for snap in ascend(h.module, image, objective, to_input, p.steps, p.lr, regs, gen, every=p.preview_every,
                           check=ctx.cancel.check, method="feature inversion"):
            yield Progress((i * p.steps + snap.step) / (len(layers) * p.steps), f"inverting {name}: step {snap.step}")
            now = [*scores, ssim(snap.images[0], original)]
            result = _result(ctx, p, x, original, layers[: i + 1], [*done, snap.images[0]], now, snap.curve,
                             i * p.steps + snap.step, len(layers) * p.steps)
            if not (snap.final and i == len(layers) - 1):
                yield Partial(result)
        done.append(snap.images[0])
        scores.append(now[-1])
    return result


def _features(model, layers: list[str], x: torch.Tensor) -> dict[str, torch.Tensor]:
    modules = dict(model.named_modules())
    with Probe(model, {n: modules[n] for n in layers}, needs_output=False, method="feature inversion") as probe, \
            torch.no_grad():
        found, _ = probe(x)
    out = {}
    for name in layers:
        if not isinstance(found[name], torch.Tensor):
            raise ValueError(f"layer {name!r} gives {type(found[name]).__name__}, not a tensor; choose another")
        out[name] = found[name].detach()
    return out


def _result(ctx: Context, p: Params, x: torch.Tensor, original: np.ndarray, layers: list[str], images: list,
            scores: list[float], curve: list[float], step: int, steps: int) -> Inversion:
    h = ctx.handle
    titles = [f"{name}: SSIM {s:.2f}" for name, s in zip(layers, scores)]
    what = "every layer" if p.every_layer else layers[0]
    return Inversion(method="invert", model=h.id, params={**as_dict(p), "layers": layers}, input=x.cpu().numpy(),
                     images=np.stack(images).astype(np.float32), titles=titles, curve=np.asarray(curve, np.float32),
                     values=np.asarray(scores, np.float32), layer=layers[-1], step=step, steps=steps,
                     original=original, layers=list(layers), ssim=np.asarray(scores, np.float32),
                     title=f"feature inversion from {what} ({h.id})")


METHOD = Method(name="invert", kind="features", tasks=("classify",), params=Params, run=run, title="Feature inversion",
                description="Reconstruct the image from one layer's features (Mahendran & Vedaldi); SSIM says how "
                            "much the layer keeps, layer by layer with 'every layer'.")
