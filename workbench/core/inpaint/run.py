"""One inpainting run with the mask given as an array: what the ``inpaint`` method does once it has
its mask (from a file) and what the Inpaint tab runs with the canvas's painted mask."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Iterator

import numpy as np

from workbench.core.context import Context, Partial, Progress
from workbench.core.inpaint import masks as M
from workbench.core.params import as_dict
from workbench.core.results.inpaint import ENCODER, LATENT

AUTO = "auto"
PARTNERS = {LATENT: "zoo:digits-dcgan", ENCODER: "zoo:digits-inpaint"}   # the bundled model of each fill


def fill_kind(task: str, fill: str) -> str:
    """The fill to run: as asked, or (auto) the one the model does."""
    if fill not in (AUTO, LATENT, ENCODER):
        raise ValueError(f"fill must be {AUTO}, {LATENT} or {ENCODER}, not {fill!r}")
    if fill != AUTO:
        return fill
    return ENCODER if task == "inpaint" else LATENT


def run_with_mask(ctx: Context, p: Any, mask: np.ndarray) -> Iterator[Progress | Partial]:
    """Fill ``mask`` (bool, the image's size) in ``ctx.image`` with the settings ``p`` (the method's
    Params); a fill the model cannot do runs on the bundled model that can (PARTNERS)."""
    from workbench.core.inpaint import fill as F
    if ctx.image is None:
        raise ValueError("inpainting needs an image; open one first")
    mask = M.checked_mask(mask, ctx.image.shape)
    kind = fill_kind(ctx.handle.task, p.fill)
    handle = ctx.handle
    if (kind == ENCODER) != (handle.task == "inpaint"):
        from workbench.core.sources import load_model
        handle = load_model(PARTNERS[kind]).to(ctx.device)
    settings = F.FillSettings(**{k: v for k, v in asdict(p).items() if k in F.FillSettings.__dataclass_fields__})
    x, m = F.model_pictures(handle, ctx.image, mask, ctx.device)
    params = {**as_dict(p), "fill": kind}
    if kind == ENCODER:
        yield Progress(0.0, "context encoder")
        return F.encoder_fill(handle, x, m, settings, params)
    return (yield from F.latent_fill(handle, x, m, settings, params, check=ctx.cancel.check))


