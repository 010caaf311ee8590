"""A conv layer's kernels: the first layer as normalised RGB tiles, any other as grey tiles."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.context import Context
from workbench.core.params import param
from workbench.core.registry import Method
from workbench.core.results import ImageGrid


@dataclass
class Params:
    layer: str = field(default="", metadata=param("Layer", choices="conv_layers",
                                                  help="empty: the first conv layer"))
    max_tiles: int = field(default=256, metadata=param("Max tiles", range=(1, 4096), step=1))


def run(ctx: Context, p: Params) -> ImageGrid:
    convs = ctx.handle.conv_layers()
    if not convs:
        raise ValueError(f"{ctx.handle.id} has no conv layers")
    name = p.layer or convs[0]
    if name not in convs:
        raise ValueError(f"{name!r} is not a conv layer; conv layers: {', '.join(convs)}")
    w = ctx.handle.layer(name).weight.detach().float().cpu().numpy()  # (out, in, kh, kw)
    if w.shape[1] == 3:
        tiles = np.stack([_normalise(k) for k in w[: p.max_tiles]]).transpose(0, 2, 3, 1)
        titles = [f"filter {i}" for i in range(len(tiles))]
    else:
        flat = w.reshape(-1, *w.shape[2:])[: p.max_tiles]
        tiles = np.stack([_normalise(k) for k in flat])
        titles = [f"{i // w.shape[1]}, in {i % w.shape[1]}" for i in range(len(tiles))]
    return ImageGrid(method="filters", model=ctx.handle.id, params={"layer": name, "max_tiles": p.max_tiles},
                     tiles=tiles.astype(np.float32), titles=titles, title=f"filters of {name}",
                     extra={"weights": w})


def _normalise(k: np.ndarray) -> np.ndarray:
    """Map a kernel symmetrically around zero to [0, 1], so 0.5 is a zero weight."""
    m = float(np.abs(k).max())
    return 0.5 + 0.5 * k / m if m > 0 else np.full_like(k, 0.5)


METHOD = Method(name="filters", kind="features", tasks=("classify", "detect", "segment", "autoencode", "attend"),
                params=Params, run=run, title="Filters", needs_image=False,
                description="The kernels of a conv layer as tiles (first layer in RGB).")
