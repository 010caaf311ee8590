"""Inpainting: fill a masked hole in the image, by latent optimisation on a generator (Yeh et al. 2017)
or with a context encoder (Pathak et al. 2016).

``mask`` is a PNG at any size (white = hole), resampled to the image; empty: a centred square 12/32
of the image's short side (the issue's 12x12 hole on a 32x32 digit). ``fill`` auto picks by the
model: latent on a generator (zoo:digits-dcgan), encoder on a context encoder (zoo:digits-inpaint);
a fill the model cannot do runs on the bundled model that can. The latent fill shows its
optimisation live; both report the context loss on the known pixels and, since the pixels that were
painted over are known here, the fill's error against them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from workbench.core.context import Context, Partial, Progress
from workbench.core.inpaint import masks as M
from workbench.core.inpaint.run import AUTO, PARTNERS, run_with_mask
from workbench.core.params import param
from workbench.core.registry import Method
from workbench.core.results.inpaint import ENCODER, LATENT

@dataclass
class Params:
    mask: str = field(default="", metadata=param(
        "Mask", help="a PNG, white = hole (resized to the image); empty: a centred square 12/32 of the image "
                     "(the Inpaint tab fills the mask painted on the canvas)"))
    fill: str = field(default=AUTO, metadata=param(
        "Fill", choices=(AUTO, LATENT, ENCODER),
        help="latent: optimise a generator's z; encoder: a context encoder; auto: as the model is"))
    steps: int = field(default=300, metadata=param("Steps", range=(1, 10000), step=50, help="latent fill"))
    restarts: int = field(default=8, metadata=param(
        "Restarts", range=(1, 256), step=1, help="latent fill: random starts, the best one kept"))
    prior_weight: float = field(default=0.03, metadata=param(
        "Prior weight", range=(0.0, 100.0), step=0.01, help="latent fill: lambda on ||z||^2 / (2 d)"))
    weighted: bool = field(default=True, metadata=param(
        "Weight by the hole", help="context loss: known pixels weighted by the hole share of their 7x7 window"))
    loss: str = field(default="l1", metadata=param("Context loss", choices=("l1", "l2")))
    lr: float = field(default=0.05, metadata=param("Learning rate", range=(0.0001, 10.0), step=0.01,
                                                   help="latent fill: Adam's"))
    blend: str = field(default="paste", metadata=param(
        "Blend", choices=("paste", "poisson"), help="paste the fill into the hole, or match its gradients (Poisson)"))
    preview_every: int = field(default=10, metadata=param("Preview every", range=(1, 10000), step=1, help="steps"))
    seed: int = field(default=0, metadata=param("Seed", range=(0, 2 ** 31 - 1), step=1))


def run(ctx: Context, p: Params) -> Iterator[Progress | Partial]:
    if ctx.image is None:
        raise ValueError("inpainting needs an image; open one first")
    shape = ctx.image.shape
    mask = M.load_mask(p.mask, shape) if p.mask.strip() else M.centre_square(shape)
    return (yield from run_with_mask(ctx, p, mask))


def accepts(module: Any) -> bool:
    """A generator with a latent size, or a context encoder (a ``predict(image, mask)``)."""
    return hasattr(module, "latent_dim") or hasattr(module, "predict")


METHOD = Method(name="inpaint", kind="generative", tasks=("generate", "inpaint"), params=Params, run=run,
                title="Inpaint", accepts=accepts, accepts_what="a generator with a latent (z) or a context encoder",
                default_model=lambda: PARTNERS[LATENT],
                description="Fill a masked hole (--set mask=PNG, white = hole): latent optimisation on a generator "
                            "(context + prior loss, several starts) or a context encoder.")
