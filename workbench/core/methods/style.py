"""Style transfer and texture synthesis (Gatys, Ecker & Bethge 2016).

An image is optimised so that the Gram matrices of the extractor's style layers match the style
image's and, in transfer mode, so that one deeper layer's features match the content image's; a
total-variation penalty keeps neighbouring pixels close. Texture mode drops the content: the style
alone, grown from noise. The extractor is the model the method runs on; when none is given, the
one ``core.style.extractor.default_extractor`` names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from workbench.core.context import Context, Partial, Progress
from workbench.core.hooks import require_forward_hooks
from workbench.core.optimize import settings as S
from workbench.core.optimize.loop import ascend, refusing_fixed_size
from workbench.core.optimize.parametrisation import ModelInput, PixelImage
from workbench.core.optimize.probe import Probe
from workbench.core.optimize.regularise import Regularisers
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.style import TEXTURE, TRANSFER, Stylisation
from workbench.core.style.extractor import default_handle
from workbench.core.style.images import load_style
from workbench.core.style.layers import default_content_layer, format_weights, parse_weights, resolve_layer
from workbench.core.style.losses import StyleObjective, gram

MODES = (TRANSFER, TEXTURE)
CONTENT, NOISE = "content", "noise"


@dataclass
class Params:
    style: str = field(default="mosaic", metadata=param(
        "Style", help="a bundled style (brick, grass, gravel, mosaic, tissue, waves) or an image file"))
    mode: str = field(default=TRANSFER, metadata=param(
        "Mode", choices=MODES, help="transfer: the content image in the style; texture: the style alone, from noise"))
    style_layers: str = field(default="", metadata=param(
        "Style layers", help="layer:weight, ... (e.g. relu1:1, relu2:1); empty: the first activation of each stage"))
    content_layer: str = field(default="", metadata=param(
        "Content layer", choices="layers",
        help="whose features keep the content; empty: relu4_2 on a VGG, else the stage before the last"))
    content_weight: float = field(default=1.0, metadata=param("Content weight", range=(0.0, 1e6), step=0.1))
    style_weight: float = field(default=20.0, metadata=param(
        "Style weight", range=(0.0, 1e6), step=1.0, help="both losses are relative, 1 = as far as from zero"))
    tv_weight: float = field(default=0.0005, metadata=param(
        "TV weight", range=(0.0, 10.0), step=0.0001, help="total variation: differences between neighbouring pixels"))
    steps: int = field(default=300, metadata=param("Steps", range=(1, 10000), step=10))
    lr: float = field(default=0.02, metadata=param("Learning rate", range=(0.0001, 1.0), step=0.005, help="Adam's"))
    init: str = field(default=CONTENT, metadata=param(
        "Start from", choices=(CONTENT, NOISE), help="transfer mode; texture mode always starts from noise"))
    size: int = field(default=256, metadata=param("Size", range=(16, 1024), step=16, help="the long side, pixels"))
    preview_every: int = field(default=10, metadata=param("Preview every", range=(1, 10000), step=1, help="steps"))
    seed: int = field(default=0, metadata=param("Seed", range=(0, 2 ** 31 - 1), step=1))


def working_shape(shape: tuple[int, int], size: int) -> tuple[int, int]:
    """(h, w) scaled so the long side is ``size``."""
    h, w = shape
    s = size / max(h, w)
    return max(8, round(h * s)), max(8, round(w * s))


def layer_features(model, layers: list[str], x: torch.Tensor) -> dict[str, torch.Tensor]:
    modules = dict(model.named_modules())
    with Probe(model, {n: modules[n] for n in layers}, needs_output=False, method="style transfer") as probe, \
            torch.no_grad():
        found, _ = probe(x)
    for name in layers:
        if not isinstance(found[name], torch.Tensor) or found[name].dim() != 4:
            raise ValueError(f"layer {name!r} gives no (N, C, H, W) map; choose a conv layer")
    return {name: found[name].detach() for name in layers}


def run(ctx: Context, p: Params) -> Iterator[Progress | Partial]:
    return (yield from refusing_fixed_size(_run(ctx, p), f"style transfer runs {ctx.handle.id} at the working "
                                                         f"size ({p.size} px on the long side)"))


def _run(ctx: Context, p: Params) -> Iterator[Progress | Partial]:
    h, device = ctx.handle, ctx.device
    if p.mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {p.mode!r}")
    require_forward_hooks(h.module, "style transfer")
    weights = parse_weights(p.style_layers, h)
    content_layer = (resolve_layer(h, p.content_layer.strip(), "content layer") if p.content_layer.strip()
                     else default_content_layer(h))
    style_rgb = load_style(p.style)
    transfer = p.mode == TRANSFER
    if transfer and ctx.image is None:
        raise ValueError("style transfer needs a content image: open one, or choose texture mode")
    shape = working_shape(ctx.image.shape[:2] if ctx.image is not None else (p.size, p.size), p.size)
    to_input = ModelInput(h.preprocess, device)
    style = S.image_tensor(style_rgb, device, working_shape(style_rgb.shape[:2], p.size))
    grams = {n: gram(f) for n, f in layer_features(h.module, list(weights), to_input(style)).items()}
    content = S.image_tensor(ctx.image, device, shape) if transfer else None
    x = to_input(content) if content is not None else torch.zeros((0,))
    target = layer_features(h.module, [content_layer], x)[content_layer] if content is not None else None
    gen = S.seeded(p.seed + ctx.seed)
    image = PixelImage((1, 3, *shape), gen, device, init=content if transfer and p.init == CONTENT else None)
    objective = StyleObjective(grams, weights, content_layer, target, p.content_weight, p.style_weight)
    pictures = (None if content is None else _hwc(content), _hwc(style))
    result = None
    for snap in ascend(h.module, image, objective.objective(), to_input, p.steps, p.lr, Regularisers(tv=p.tv_weight),
                       gen, every=p.preview_every, check=ctx.cancel.check, method="style transfer"):
        yield Progress(snap.step / snap.steps, f"style transfer: step {snap.step}/{snap.steps}")
        result = _result(ctx, p, x, snap, objective, pictures, weights, content_layer)
        if not snap.final:
            yield Partial(result)
    return result


def _hwc(images: torch.Tensor) -> np.ndarray:
    return images[0].detach().permute(1, 2, 0).float().cpu().numpy().astype(np.float32)


def _result(ctx: Context, p: Params, x: torch.Tensor, snap, objective: StyleObjective, pictures: tuple,
            weights: dict[str, float], content_layer: str) -> Stylisation:
    h = ctx.handle
    content, style = pictures
    name = p.style.strip().replace("\\", "/").rsplit("/", 1)[-1]
    styled = objective.style_curve[-1] if objective.style_curve else float("nan")
    what = "texture synthesis" if p.mode == TEXTURE else "style transfer"
    return Stylisation(method="style", model=h.id, params={**as_dict(p), "style_layers": format_weights(weights),
                                                           "content_layer": content_layer},
                       input=x.cpu().numpy(), images=snap.images[:1], titles=[f"result: Gram loss {styled:.3g}"],
                       curve=np.asarray(snap.curve, np.float32), values=snap.values, layer=content_layer,
                       step=snap.step, steps=snap.steps, content=content, style=style,
                       style_curve=np.asarray(objective.style_curve, np.float32),
                       content_curve=np.asarray(objective.content_curve, np.float32), mode=p.mode,
                       style_name=name, style_layers=dict(weights), content_layer=content_layer,
                       title=f"{what}: {name} ({h.id})")


METHOD = Method(name="style", kind="features", tasks=("classify",), params=Params, run=run, needs_image=False,
                title="Style transfer", default_model=default_handle,
                description="Gatys et al.: the image in the style's texture (Gram matrices of the style layers), "
                            "or the texture alone from noise; --model is optional (a default extractor).")
