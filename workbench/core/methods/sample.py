"""Random samples of a generator or autoencoder, decoded from seeded standard normal noise."""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.context import Context
from workbench.core.methods._generative import MAX_SEED, TASKS, decode, latent_dim, noise, to_latent
from workbench.core.params import param
from workbench.core.registry import Method
from workbench.core.results import ImageGrid


@dataclass
class Params:
    n: int = field(default=16, metadata=param("Samples", range=(1, 1024), step=1))
    seed: int = field(default=0, metadata=param("Seed", range=(0, MAX_SEED), step=1))
    truncation: float = field(default=0.0, metadata=param(
        "Truncation", range=(0.0, 4.0), step=0.1,
        help="redraw noise values beyond this magnitude (0: off); lower trades variety for fidelity"))


def run(ctx: Context, p: Params):
    eps = noise(p.n, latent_dim(ctx), p.seed, p.truncation)
    z = to_latent(ctx, eps)
    tiles = yield from decode(ctx, z)
    return ImageGrid(method="sample", model=ctx.handle.id, input=z, tiles=tiles,
                     params={"n": p.n, "seed": p.seed, "truncation": p.truncation},
                     titles=[f"seed {p.seed} #{i}" for i in range(p.n)],
                     title=f"{p.n} samples (seed {p.seed})", extra={"latents": z, "noise": eps})


METHOD = Method(name="sample", tasks=TASKS, params=Params, run=run, title="Samples", needs_image=False,
                kind="generative", description="Decode random latents from a seed into a grid of images.")
