"""Fill an image's hole with a model: by latent optimisation on a generator, or with a context encoder.

Both work at the model's resolution on grey values in [0, 1]: the image goes through the model's
preprocess (and back through its mean and std), the mask is resampled to the same size
(``masks.to_size``). Each is a generator of Progress and Partial items returning an
:class:`Inpainting`, as a live method's run is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np
import torch

from workbench.core.context import Partial, Progress
from workbench.core.inpaint.masks import to_size
from workbench.core.results.inpaint import ENCODER, LATENT, Inpainting
from workbench.zoo import latent_inpaint as L
from workbench.zoo.inpaint import blend as paste
from workbench.zoo.poisson_blend import poisson_blend

PASTE, POISSON = "paste", "poisson"


@dataclass
class FillSettings:
    steps: int = 300
    restarts: int = 8
    prior_weight: float = 0.03
    weighted: bool = True
    loss: str = L.L1
    lr: float = 0.05
    blend: str = PASTE
    preview_every: int = 10
    seed: int = 0


def model_pictures(handle: Any, image: np.ndarray, mask: np.ndarray, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(image, mask) as (1, 1, h, w) float tensors at the model's input size: grey in [0, 1], 1 = hole."""
    x = handle.preprocess(image)
    pre = handle.preprocess
    mean = torch.tensor(pre.mean[: x.shape[1]], dtype=x.dtype).view(1, -1, 1, 1)
    std = torch.tensor(pre.std[: x.shape[1]], dtype=x.dtype).view(1, -1, 1, 1)
    x = (x * std + mean).clamp(0, 1)
    if x.shape[1] != 1:
        x = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    m = torch.from_numpy(to_size(mask, tuple(x.shape[-2:])).astype(np.float32))[None, None]
    if not m.any():
        raise ValueError("the mask has no hole: paint one (or load a mask PNG, white = hole)")
    if bool(m.all()):
        raise ValueError("the mask covers the whole image: nothing is left to fill it from")
    return x.to(device), m.to(device)


def blended(generated: torch.Tensor, x: torch.Tensor, m: torch.Tensor, how: str) -> torch.Tensor:
    """Known pixels of ``x``, the hole from ``generated``: pasted, or Poisson-blended (its gradients)."""
    if how == PASTE:
        return paste(x, generated, m)
    if how != POISSON:
        raise ValueError(f"blend must be {PASTE!r} or {POISSON!r}, not {how!r}")
    out = [poisson_blend(g[0], t[0], k[0] > 0.5) for g, t, k in
           zip(generated.detach().cpu().double().numpy(), x.cpu().double().numpy(), m.cpu().numpy())]
    return torch.from_numpy(np.clip(np.stack(out), 0, 1)[:, None]).to(x.dtype).to(x.device)


def _hole_mse(filled: torch.Tensor, x: torch.Tensor, m: torch.Tensor) -> float:
    return float(((filled - x) ** 2 * m).sum() / m.sum().clamp_min(1.0))


def _picture(t: torch.Tensor) -> np.ndarray:
    return t.detach()[0, 0].float().cpu().numpy().astype(np.float32)


def _result(fill: str, model_id: str, params: dict, x, m, generated, filled, title: str, **extra) -> Inpainting:
    return Inpainting(method="inpaint", model=model_id, params=params, input=x.cpu().numpy(), title=title,
                      fill=fill, original=_picture(x), mask=_picture(m) > 0.5, masked=_picture(x * (1 - m)),
                      generated=_picture(generated), filled=_picture(filled), hole_mse=_hole_mse(filled, x, m),
                      **extra)


def latent_fill(handle: Any, x: torch.Tensor, m: torch.Tensor, s: FillSettings, params: dict,
                check: Callable[[], None] | None = None) -> Iterator[Progress | Partial]:
    """Yeh et al.'s latent optimisation on the generator ``handle``; partial results every few steps."""
    dim = handle.latent_dim or getattr(handle.module, "latent_dim", None)
    if not dim:
        raise ValueError(f"{handle.id} is no generator with a latent size; latent fill needs one (zoo:digits-dcgan)")
    with torch.no_grad():
        side = tuple(handle.module(torch.zeros(1, dim, device=x.device)).shape[-2:])
    if side != tuple(x.shape[-2:]):
        raise ValueError(f"{handle.id} makes {side[1]}x{side[0]} images but eats {x.shape[-1]}x{x.shape[-2]}")
    result = None
    for snap in L.optimise(handle.module, x, m, latent_dim=dim, steps=s.steps, restarts=s.restarts,
                           prior_weight=s.prior_weight, weighted=s.weighted, norm=s.loss, lr=s.lr, seed=s.seed,
                           every=s.preview_every, check=check):
        yield Progress(snap.step / snap.steps, f"latent fill: step {snap.step}/{snap.steps}")
        generated = torch.from_numpy(snap.generated).to(x.device)
        filled = blended(generated, x, m, s.blend) if snap.final else paste(x, generated, m)
        result = _result(LATENT, handle.id, params, x, m, generated, filled,
                         f"inpainting by latent optimisation ({handle.id})",
                         context_curve=np.asarray(snap.context_curve, np.float32),
                         prior_curve=np.asarray(snap.prior_curve, np.float32), latent=snap.latents[0],
                         context_loss=float(snap.context[0]), prior_loss=float(snap.prior[0]), step=snap.step,
                         steps=snap.steps, restarts=s.restarts, best_restart=int(snap.best[0]),
                         blend=s.blend if snap.final else PASTE)
        if not snap.final:
            yield Partial(result)
    return result


@torch.no_grad()
def encoder_fill(handle: Any, x: torch.Tensor, m: torch.Tensor, s: FillSettings, params: dict) -> Inpainting:
    """The context encoder ``handle`` (zoo:digits-inpaint) fills the hole in one forward pass."""
    if not hasattr(handle.module, "predict"):
        raise ValueError(f"{handle.id} is no context encoder; encoder fill needs one (zoo:digits-inpaint)")
    generated = handle.module.predict(x, m)
    weights = L.context_weights(m, s.weighted)
    context = float(L.context_loss(generated, x, weights, s.loss)[0])
    return _result(ENCODER, handle.id, params, x, m, generated, blended(generated, x, m, s.blend),
                   f"inpainting by a context encoder ({handle.id})", context_loss=context, step=1, steps=1,
                   blend=s.blend)
