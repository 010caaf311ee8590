"""A path between two seeded latents, straight or along the great circle, decoded frame by frame."""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.context import Context
from workbench.core.latent.paths import lerp, slerp
from workbench.core.methods._generative import MAX_SEED, TASKS, decode, latent_dim, noise, to_latent
from workbench.core.params import param
from workbench.core.registry import Method
from workbench.core.results import Frames


@dataclass
class Params:
    steps: int = field(default=16, metadata=param("Steps", range=(2, 512), step=1))
    mode: str = field(default="spherical", metadata=param(
        "Path", choices=("spherical", "linear"),
        help="spherical keeps the noise at a typical norm; a straight line dips towards the mean"))
    seed_a: int = field(default=0, metadata=param("Seed A", range=(0, MAX_SEED), step=1))
    seed_b: int = field(default=1, metadata=param("Seed B", range=(0, MAX_SEED), step=1))


def run(ctx: Context, p: Params):
    d = latent_dim(ctx)
    a, b = noise(1, d, p.seed_a)[0], noise(1, d, p.seed_b)[0]
    path = (slerp if p.mode == "spherical" else lerp)(a, b, p.steps)
    z = to_latent(ctx, path)
    frames = yield from decode(ctx, z)
    return Frames(method="interpolate", model=ctx.handle.id, params={"steps": p.steps, "mode": p.mode,
                  "seed_a": p.seed_a, "seed_b": p.seed_b}, input=z, frames=frames,
                  title=f"{p.mode} interpolation, seed {p.seed_a} to {p.seed_b}",
                  extra={"latents": z, "noise": path.astype("float32")})


METHOD = Method(name="interpolate", tasks=TASKS, params=Params, run=run, title="Interpolate", needs_image=False,
                kind="generative", description="Frames along a linear or spherical path between two seeded latents.")
