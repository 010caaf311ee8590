"""A 2-D slice of the latent space: two coordinates swept over a grid, the rest at the mean."""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.context import Context
from workbench.core.latent.paths import SPACINGS, manifold_grid
from workbench.core.methods._generative import TASKS, decode, latent_dim, to_latent
from workbench.core.params import param
from workbench.core.registry import Method
from workbench.core.results import ImageGrid


@dataclass
class Params:
    dim_x: int = field(default=0, metadata=param("X dimension", range=(0, 4095), step=1))
    dim_y: int = field(default=1, metadata=param("Y dimension", range=(0, 4095), step=1))
    n: int = field(default=10, metadata=param("Per side", range=(2, 32), step=1))
    span: float = field(default=2.0, metadata=param("Span (std)", range=(0.1, 6.0), step=0.1,
                                                    help="the outermost tiles sit at +-span standard deviations"))
    spacing: str = field(default="gaussian", metadata=param(
        "Spacing", choices=SPACINGS,
        help="gaussian: evenly spaced quantiles (equal prior mass per tile); linear: evenly spaced values"))


def run(ctx: Context, p: Params):
    eps, values = manifold_grid(latent_dim(ctx), p.dim_x, p.dim_y, p.n, p.span, p.spacing)
    z = to_latent(ctx, eps)
    tiles = yield from decode(ctx, z)
    titles = [f"x {x:+.2f}, y {y:+.2f}" for y in values[::-1] for x in values]
    return ImageGrid(method="manifold", model=ctx.handle.id, input=z, tiles=tiles, titles=titles,
                     params={"dim_x": p.dim_x, "dim_y": p.dim_y, "n": p.n, "span": p.span, "spacing": p.spacing},
                     title=f"latent dims {p.dim_x} (x) and {p.dim_y} (y)",
                     extra={"latents": z, "noise": eps.astype("float32"), "values": values})


METHOD = Method(name="manifold", tasks=TASKS, params=Params, run=run, title="Latent manifold", needs_image=False,
                kind="generative",
                description="Decode a grid over two latent dimensions (noise coordinates), the others at the mean.")
