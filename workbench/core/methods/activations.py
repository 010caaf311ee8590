"""A layer's channels as a grid; click a channel to lay it over the image."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from workbench.core.context import Context
from workbench.core.hooks import capture_outputs
from workbench.core.params import param
from workbench.core.registry import Method
from workbench.core.results import ActivationGrid


@dataclass
class Params:
    layer: str = field(default="", metadata=param("Layer", choices="layers",
                                                  help="empty: the last conv layer"))
    max_channels: int = field(default=256, metadata=param("Max channels", range=(1, 4096), step=1))


def run(ctx: Context, p: Params) -> ActivationGrid:
    h = ctx.handle
    name = p.layer or (h.conv_layers() or [""])[-1]
    if not name:
        raise ValueError(f"{h.id} has no conv layers; choose a layer")
    layer = h.layer(name)
    x = ctx.input_tensor()
    with capture_outputs(h.module, {name: layer}, "activations") as out, torch.no_grad():
        h.module(x)
    act = out.get(name)
    if not isinstance(act, torch.Tensor) or act.dim() != 4:
        shape = tuple(act.shape) if isinstance(act, torch.Tensor) else type(act).__name__
        raise ValueError(f"layer {name!r} gives {shape}, not a (1, C, h, w) map; choose a conv-like layer")
    maps = act[0, : p.max_channels].float().cpu().numpy()
    return ActivationGrid(method="activations", model=h.id, params={"layer": name, "max_channels": p.max_channels},
                          input=x.cpu().numpy(), tiles=maps.astype(np.float32),
                          titles=[f"channel {i}" for i in range(len(maps))], title=f"activations of {name}",
                          layer=name, geometry=h.geometry, image_hw=tuple(ctx.image.shape[:2]))


METHOD = Method(name="activations", kind="features", tasks=("classify", "detect", "segment", "autoencode", "attend"),
                params=Params, run=run, title="Activations",
                description="A layer's channels as a grid; click one to overlay it on the image.")
